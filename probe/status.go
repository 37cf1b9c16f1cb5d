package probe

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fanout-dev/fanout"
)

// statusRange is one item of an HTTP check's expected statuses: a code
// (lo == hi), a class ("3xx": 300 to 399) or a range ("500-502").
type statusRange struct {
	lo, hi int
	// text is the item as messages show it: 200, 3xx, 500-502.
	text string
}

// statusSet is the statuses an HTTP check expects. The zero value expects
// 2xx and 3xx.
type statusSet []statusRange

// defaultStatuses are 2xx and 3xx: a 3xx is the answer when redirects are
// not followed.
var defaultStatuses = statusSet{{200, 299, "2xx"}, {300, 399, "3xx"}}

// parseStatuses reads the `status:` list: each item an integer code (100 to
// 599), or a string holding a code ("200"), a class ("3xx", 1xx to 5xx) or
// an inclusive range ("500-502"). An empty list is the default. A bad item
// is a *FieldError at ["status", index].
func parseStatuses(items []any) (statusSet, error) {
	if len(items) == 0 {
		return nil, nil
	}
	set := make(statusSet, 0, len(items))
	for i, item := range items {
		r, err := parseStatus(item)
		if err != nil {
			return nil, fieldErr(err, "status", strconv.Itoa(i))
		}
		set = append(set, r)
	}
	return set, nil
}

// parseStatus reads one item of the status list, as YAML decodes it into
// an any (uint64, int64, string) or as Go code writes it (int, ...).
func parseStatus(item any) (statusRange, error) {
	switch v := item.(type) {
	case string:
		return parseStatusString(v)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		n, ok := asInt(v)
		if !ok {
			return statusRange{}, fmt.Errorf("status %v out of range (want 100 to 599)", v)
		}
		return statusCode(n)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e6 {
			return statusCode(int(v))
		}
	}
	return statusRange{}, fmt.Errorf("bad status %v: %s", describeItem(item), statusWant)
}

const statusWant = `want a code like 200, a class like "3xx" or a range like "500-502"`

// describeItem shows a status item that is neither a number nor a string.
func describeItem(item any) string {
	if item == nil {
		return "null"
	}
	return fmt.Sprint(item)
}

// asInt converts an integer of any Go type to int, if it fits.
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int8:
		return int(n), true
	case int16:
		return int(n), true
	case int32:
		return int(n), true
	case int64:
		return int(n), int64(int(n)) == n
	case uint:
		return int(n), n <= math.MaxInt32
	case uint8:
		return int(n), true
	case uint16:
		return int(n), true
	case uint32:
		return int(n), true
	case uint64:
		return int(n), n <= math.MaxInt32
	}
	return 0, false
}

func statusCode(n int) (statusRange, error) {
	if n < 100 || n > 599 {
		return statusRange{}, fmt.Errorf("status %d out of range (want 100 to 599)", n)
	}
	return statusRange{n, n, strconv.Itoa(n)}, nil
}

func parseStatusString(s string) (statusRange, error) {
	t := strings.TrimSpace(s)
	if len(t) == 3 && (t[1] == 'x' || t[1] == 'X') && (t[2] == 'x' || t[2] == 'X') && t[0] >= '0' && t[0] <= '9' {
		if t[0] < '1' || t[0] > '5' {
			return statusRange{}, fmt.Errorf("unknown status class %q (want 1xx to 5xx)", s)
		}
		lo := int(t[0]-'0') * 100
		return statusRange{lo, lo + 99, strings.ToLower(t)}, nil
	}
	if a, b, ok := strings.Cut(t, "-"); ok {
		lo, err1 := strictAtoi(strings.TrimSpace(a))
		hi, err2 := strictAtoi(strings.TrimSpace(b))
		if err1 != nil || err2 != nil {
			return statusRange{}, fmt.Errorf("bad status %q: %s", s, statusWant)
		}
		for _, n := range []int{lo, hi} {
			if _, err := statusCode(n); err != nil {
				return statusRange{}, fmt.Errorf("bad range %q: %w", s, err)
			}
		}
		if lo > hi {
			return statusRange{}, fmt.Errorf("bad range %q: %d is above %d", s, lo, hi)
		}
		return statusRange{lo, hi, fmt.Sprintf("%d-%d", lo, hi)}, nil
	}
	n, err := strictAtoi(t)
	if err != nil {
		return statusRange{}, fmt.Errorf("bad status %q: %s", s, statusWant)
	}
	return statusCode(n)
}

// strictAtoi accepts only decimal digits, at most 6 of them.
func strictAtoi(s string) (int, error) {
	if s == "" || len(s) > 6 || strings.Trim(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(s)
}

// has reports whether code is expected.
func (s statusSet) has(code int) bool {
	for _, r := range s.orDefault() {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// names reports whether s lists code itself, not merely within a class or
// range.
func (s statusSet) names(code int) bool {
	for _, r := range s {
		if r.lo == code && r.hi == code {
			return true
		}
	}
	return false
}

func (s statusSet) orDefault() statusSet {
	if len(s) == 0 {
		return defaultStatuses
	}
	return s
}

// String lists the set as messages show it: "200, 204 or 3xx".
func (s statusSet) String() string {
	items := s.orDefault()
	texts := make([]string, len(items))
	for i, r := range items {
		texts[i] = r.text
	}
	if len(texts) == 1 {
		return texts[0]
	}
	return strings.Join(texts[:len(texts)-1], ", ") + " or " + texts[len(texts)-1]
}

// statusOutcome classes the status of resp, received at now, against the
// expected set want, for the engine:
//
//   - a 429, or a 503 with a hint ([retryHint]), unless want names that
//     code itself (a class or range covering it is not enough: a check
//     expecting "4xx" still backs off when throttled): a throttle
//     ([fanout.Throttle]) carrying the hint, 0 if none; the detail d gets
//     retry_after_ms when a hint was given. The engine pauses the host and
//     re-queues; if the throttle outlasts that, the result is
//     fail/rate_limited.
//   - an expected status: nil.
//   - 408, 502, 504 and 503 without a hint: fail/http_status, marked
//     retryable.
//   - any other status: fail/http_status.
func statusOutcome(resp *http.Response, d Detail, now time.Time, want statusSet) error {
	code := resp.StatusCode
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		if hint, hinted := retryHint(resp.Header, now); (hinted || code == http.StatusTooManyRequests) && !want.names(code) {
			if hinted {
				d["retry_after_ms"] = millis(hint)
			}
			return throttled(code, hint, hinted)
		}
	}
	if want.has(code) {
		return nil
	}
	if retryableStatus(code) {
		return fanout.Retryable(statusError(code, want))
	}
	return statusError(code, want)
}

// throttled returns the throttle of a response with the given status and
// hint.
func throttled(code int, hint time.Duration, hinted bool) error {
	after := "no retry-after"
	if hinted {
		after = "retry after " + hint.Round(time.Millisecond).String()
	}
	return fanout.Throttle(hint, fanout.Failf(fanout.ReasonRateLimited, "status %d, throttled (%s)", code, after))
}

// retryableStatus reports whether a status (a 503 without a hint among
// them) is worth another attempt: the target or a gateway before it may
// answer the next one.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// statusError fails a status outside the expected set: "status 503, want
// 200 or 3xx".
func statusError(code int, want statusSet) error {
	return fanout.Failf(fanout.ReasonHTTPStatus, "status %d, want %s", code, want)
}
