package probe

import (
	"net/http"
	"time"

	"github.com/fanout-dev/fanout"
)

// statusOutcome classes the status of resp, received at now, for the
// engine:
//
//   - 2xx and 3xx: nil.
//   - 429, and 503 with a hint ([retryHint]): a throttle
//     ([fanout.Throttle]) carrying the hint, 0 if none; the detail d gets
//     retry_after_ms when a hint was given. The engine pauses the host and
//     re-queues; if the throttle outlasts that, the result is
//     fail/rate_limited.
//   - 408, 502, 504 and 503 without a hint: fail/http_status, marked
//     retryable.
//   - any other status: fail/http_status.
func statusOutcome(resp *http.Response, d Detail, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code < 400 {
		return nil
	}
	hint, hinted := retryHint(resp.Header, now)
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable && hinted:
		if hinted {
			d["retry_after_ms"] = millis(hint)
		}
		return throttled(code, hint, hinted)
	case retryableStatus(code):
		return fanout.Retryable(statusError(code))
	}
	return statusError(code)
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

// statusError fails a status outside 2xx and 3xx.
func statusError(code int) error {
	return fanout.Failf(fanout.ReasonHTTPStatus, "status %d, want 2xx or 3xx", code)
}
