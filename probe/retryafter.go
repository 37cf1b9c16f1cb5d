package probe

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// epochMin is where X-RateLimit-Reset values stop being delta seconds and
// become Unix timestamps: 1e9 s is almost 32 years as a delta, and
// September 2001 as a timestamp.
const epochMin = 1_000_000_000

// maxDuration is what a hint too large for a time.Duration becomes.
const maxDuration = time.Duration(math.MaxInt64)

// throttleHint returns how long the target asked us to wait before the
// next request, as said by the response headers h at time now; 0 if it
// gave no usable hint or asked for no wait at all. The headers are tried
// in this order, and the first one present with a well-formed value wins
// (a malformed one is skipped, as if absent):
//
//   - Retry-After (RFC 9110): delta seconds, digits only ("120"; never
//     read as a date), or an HTTP-date in any of the three forms
//     [http.ParseTime] accepts. A date in the past means "now": 0, but it
//     still wins over the headers below. "soon", "-5", "1.5" and "" are
//     malformed.
//   - RateLimit-Reset (IETF draft): delta seconds, digits only.
//   - X-RateLimit-Reset (GitHub and many others): digits with an optional
//     decimal fraction ("30", "1700000000.5"). Values of at least 1e9 are
//     Unix timestamps in seconds, the wait being their distance from now
//     (0 when past); smaller values are delta seconds.
//
// A reset header is a hint only when its quota is spent: it is skipped
// when the matching RateLimit-Remaining or X-RateLimit-Remaining says
// requests are left, since then it dates the end of a quota window and not
// the end of this throttle (GitHub sends both on every response).
//
// Leading and trailing spaces are trimmed. A huge value is returned
// as is, saturating at the largest time.Duration: capping a hint is the
// engine's business. Leading zeroes are allowed; a sign is not.
func throttleHint(h http.Header, now time.Time) time.Duration {
	d, _ := retryHint(h, now)
	return d
}

// retryHint is [throttleHint] that also reports whether a hint was given,
// even one asking for no wait ("Retry-After: 0", a date in the past).
func retryHint(h http.Header, now time.Time) (time.Duration, bool) {
	if d, ok := retryAfter(h.Get("Retry-After"), now); ok {
		return d, true
	}
	if quotaSpent(h.Get("RateLimit-Remaining")) {
		if sec, nsec, ok := parseSeconds(h.Get("RateLimit-Reset"), false); ok {
			return toDuration(sec, nsec), true
		}
	}
	if quotaSpent(h.Get("X-RateLimit-Remaining")) {
		if sec, nsec, ok := parseSeconds(h.Get("X-RateLimit-Reset"), true); ok {
			return resetIn(sec, nsec, now), true
		}
	}
	return 0, false
}

// retryAfter reads a Retry-After value: delta seconds or an HTTP-date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if sec, nsec, ok := parseSeconds(v, false); ok {
		return toDuration(sec, nsec), true
	}
	if v == "" || isDigit(v[0]) {
		// Digits followed by junk are no date.
		return 0, false
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// resetIn reads an X-RateLimit-Reset value of sec seconds and nsec
// nanoseconds: a Unix timestamp from epochMin on, else delta seconds.
func resetIn(sec uint64, nsec int64, now time.Time) time.Duration {
	switch {
	case sec < epochMin:
		return toDuration(sec, nsec)
	case sec > math.MaxInt64/2:
		// So far ahead that time.Unix would overflow.
		return maxDuration
	}
	return max(time.Unix(int64(sec), nsec).Sub(now), 0)
}

// quotaSpent reports whether a Remaining header allows reading its reset
// header as a throttle hint: it is absent, unreadable or zero.
func quotaSpent(remaining string) bool {
	n, _, ok := parseSeconds(remaining, false)
	return !ok || n == 0
}

// parseSeconds parses v, spaces trimmed, as digits, with a fraction of
// digits after a "." when frac is set, into whole seconds (saturating at
// the largest uint64) and nanoseconds (digits past the ninth dropped).
func parseSeconds(v string, frac bool) (sec uint64, nsec int64, ok bool) {
	v = strings.TrimSpace(v)
	whole, fraction, dotted := strings.Cut(v, ".")
	if !allDigits(whole) || dotted && (!frac || !allDigits(fraction)) {
		return 0, 0, false
	}
	// Digits only: the one possible error is the range, and then sec is
	// the largest uint64.
	sec, _ = strconv.ParseUint(whole, 10, 64)
	fraction = (fraction + "000000000")[:9]
	n, _ := strconv.ParseInt(fraction, 10, 64)
	return sec, n, true
}

// toDuration returns sec seconds and nsec nanoseconds as a Duration,
// saturating at the largest one.
func toDuration(sec uint64, nsec int64) time.Duration {
	if sec > uint64((math.MaxInt64-nsec)/int64(time.Second)) {
		return maxDuration
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec)
}

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
