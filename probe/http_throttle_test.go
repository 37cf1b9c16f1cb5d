package probe_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

// statusServer answers /{code} with that status and, from the query, the
// headers Retry-After (retry-after), RateLimit-Reset (reset) and
// RateLimit-Remaining (remaining). /date/{code} sends a Retry-After
// HTTP-date 3 s ahead.
func statusServer(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/{code}", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for param, header := range map[string]string{
			"retry-after": "Retry-After", "reset": "RateLimit-Reset", "remaining": "RateLimit-Remaining",
		} {
			if q.Has(param) {
				w.Header().Set(header, q.Get(param))
			}
		}
		writeStatus(w, r)
	})
	mux.HandleFunc("/date/{code}", func(w http.ResponseWriter, r *http.Request) {
		// An HTTP-date has whole seconds: wait out the end of a second
		// so that the date is more than 2.1 s ahead, at most 3 s.
		now := time.Now()
		if ns := now.Nanosecond(); ns > 900_000_000 {
			time.Sleep(time.Second - time.Duration(ns) + time.Millisecond)
			now = time.Now()
		}
		w.Header().Set("Retry-After", now.Add(3*time.Second).UTC().Format(http.TimeFormat))
		writeStatus(w, r)
	})
	return newServer(t, mux).URL
}

func writeStatus(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(code)
}

func TestHTTPThrottleAndRetryable(t *testing.T) {
	base := statusServer(t)
	env := newEnv(t, probe.Options{})
	const noHint = time.Duration(-1) // no retry_after_ms in the detail

	tests := []struct {
		path      string
		state     fanout.State
		reason    fanout.Reason
		throttled bool
		retryable bool
		// The hint wanted in RetryAfter and retry_after_ms: exactly,
		// or within (minHint, hint] when minHint is set.
		hint, minHint time.Duration
		detailHint    time.Duration
		errText       string
	}{
		{"/200", fanout.StateOK, fanout.ReasonNone, false, false, 0, 0, noHint, ""},
		{"/200?reset=30&remaining=0", fanout.StateOK, fanout.ReasonNone, false, false, 0, 0, noHint, ""},
		{"/304?retry-after=5", fanout.StateOK, fanout.ReasonNone, false, false, 0, 0, noHint, ""},

		{"/429?retry-after=1", fanout.StateFail, fanout.ReasonRateLimited, true, false,
			time.Second, 0, time.Second, "status 429, throttled (retry after 1s)"},
		{"/date/429", fanout.StateFail, fanout.ReasonRateLimited, true, false,
			3 * time.Second, 2 * time.Second, 0, ""},
		{"/429", fanout.StateFail, fanout.ReasonRateLimited, true, false,
			0, 0, noHint, "status 429, throttled (no retry-after)"},
		{"/429?retry-after=soon", fanout.StateFail, fanout.ReasonRateLimited, true, false,
			0, 0, noHint, "status 429, throttled (no retry-after)"},
		{"/429?retry-after=0", fanout.StateFail, fanout.ReasonRateLimited, true, false,
			0, 0, 0, "status 429, throttled (retry after 0s)"},
		{"/429?reset=7&remaining=0", fanout.StateFail, fanout.ReasonRateLimited, true, false,
			7 * time.Second, 0, 7 * time.Second, "status 429, throttled (retry after 7s)"},
		{"/429?reset=7&remaining=3", fanout.StateFail, fanout.ReasonRateLimited, true, false,
			0, 0, noHint, "status 429, throttled (no retry-after)"},

		{"/503?retry-after=2", fanout.StateFail, fanout.ReasonRateLimited, true, false,
			2 * time.Second, 0, 2 * time.Second, "status 503, throttled (retry after 2s)"},
		{"/date/503", fanout.StateFail, fanout.ReasonRateLimited, true, false,
			3 * time.Second, 2 * time.Second, 0, ""},
		{"/503", fanout.StateFail, fanout.ReasonHTTPStatus, false, true, 0, 0, noHint, "status 503, want 2xx or 3xx"},
		{"/503?retry-after=soon", fanout.StateFail, fanout.ReasonHTTPStatus, false, true, 0, 0, noHint, ""},
		{"/502", fanout.StateFail, fanout.ReasonHTTPStatus, false, true, 0, 0, noHint, "status 502, want 2xx or 3xx"},
		{"/504", fanout.StateFail, fanout.ReasonHTTPStatus, false, true, 0, 0, noHint, "status 504, want 2xx or 3xx"},
		{"/408", fanout.StateFail, fanout.ReasonHTTPStatus, false, true, 0, 0, noHint, "status 408, want 2xx or 3xx"},

		{"/404", fanout.StateFail, fanout.ReasonHTTPStatus, false, false, 0, 0, noHint, "status 404, want 2xx or 3xx"},
		{"/500", fanout.StateFail, fanout.ReasonHTTPStatus, false, false, 0, 0, noHint, "status 500, want 2xx or 3xx"},
		// Only 429 and 503 are throttles.
		{"/500?retry-after=5", fanout.StateFail, fanout.ReasonHTTPStatus, false, false, 0, 0, noHint, ""},
		{"/403?retry-after=5", fanout.StateFail, fanout.ReasonHTTPStatus, false, false, 0, 0, noHint, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			o := run(t, mustCheck(t, base+tt.path), env, 10*time.Second)
			o.want(t, tt.state, tt.reason)
			if tt.state == fanout.StateOK {
				if o.err != nil {
					t.Errorf("error %v, want nil", o.err)
				}
			} else {
				checkFlags(t, o.err, tt.state, tt.reason, tt.throttled, tt.retryable, tt.minHint, tt.hint)
			}
			if tt.errText != "" && o.err.Error() != tt.errText {
				t.Errorf("error %q, want %q", o.err, tt.errText)
			}
			ms, ok := o.detail["retry_after_ms"].(float64)
			switch {
			case tt.detailHint == noHint && ok:
				t.Errorf("retry_after_ms %v, want none", ms)
			case tt.detailHint == noHint:
			case !ok:
				t.Errorf("retry_after_ms missing or not a float64: %#v", o.detail["retry_after_ms"])
			case tt.minHint == 0 && ms != float64(tt.detailHint.Milliseconds()):
				t.Errorf("retry_after_ms %v, want %d", ms, tt.detailHint.Milliseconds())
			case tt.minHint != 0 && (ms <= float64(tt.minHint.Milliseconds()) || ms > float64(tt.hint.Milliseconds())):
				t.Errorf("retry_after_ms %v, want within (%d, %d]", ms, tt.minHint.Milliseconds(), tt.hint.Milliseconds())
			}
		})
	}
}

// checkFlags asserts that errors.As finds, first in err's chain, a
// *fanout.Error with the given class and flags, and a RetryAfter of
// exactly hint (minHint 0) or within (minHint, hint].
func checkFlags(t *testing.T, err error, state fanout.State, reason fanout.Reason,
	throttled, retryable bool, minHint, hint time.Duration) {
	t.Helper()
	var fe *fanout.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) holds no *fanout.Error", err, err)
	}
	if fe.State != state || fe.Reason != reason {
		t.Errorf("outer *fanout.Error is %s/%s, want %s/%s", fe.State, fe.Reason, state, reason)
	}
	if fe.Throttled != throttled || fe.Retryable != retryable {
		t.Errorf("Throttled %v Retryable %v, want %v %v", fe.Throttled, fe.Retryable, throttled, retryable)
	}
	if minHint == 0 && fe.RetryAfter != hint ||
		minHint != 0 && (fe.RetryAfter <= minHint || fe.RetryAfter > hint) {
		t.Errorf("RetryAfter %v, want %v (from %v)", fe.RetryAfter, hint, minHint)
	}
}
