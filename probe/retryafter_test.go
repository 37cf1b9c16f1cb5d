package probe

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"
)

func TestThrottleHint(t *testing.T) {
	// Monday, 30 November 2026, 10:00:00 UTC.
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	epoch := func(d time.Duration) string { return fmt.Sprint(now.Add(d).Unix()) }
	const maxDur = time.Duration(math.MaxInt64)
	type hdr = map[string]string

	tests := []struct {
		name   string
		header hdr
		want   time.Duration
		given  bool // whether a hint was given, even one of 0
	}{
		{"none", hdr{}, 0, false},

		// Retry-After, delta seconds.
		{"retry-after seconds", hdr{"Retry-After": "120"}, 120 * time.Second, true},
		{"retry-after zero", hdr{"Retry-After": "0"}, 0, true},
		{"retry-after spaces trimmed", hdr{"Retry-After": "  7 "}, 7 * time.Second, true},
		{"retry-after leading zeroes", hdr{"Retry-After": "007"}, 7 * time.Second, true},
		{"retry-after 100 years", hdr{"Retry-After": "3153600000"}, 3153600000 * time.Second, true},
		{"retry-after beyond Duration", hdr{"Retry-After": "9223372037"}, maxDur, true},
		{"retry-after beyond uint64", hdr{"Retry-After": "99999999999999999999999"}, maxDur, true},

		// Retry-After, the three HTTP-date forms.
		{"retry-after IMF-fixdate", hdr{"Retry-After": "Mon, 30 Nov 2026 10:00:30 GMT"}, 30 * time.Second, true},
		{"retry-after RFC 850", hdr{"Retry-After": "Monday, 30-Nov-26 10:01:00 GMT"}, time.Minute, true},
		{"retry-after asctime", hdr{"Retry-After": "Mon Nov 30 10:00:05 2026"}, 5 * time.Second, true},
		{"retry-after date spaces trimmed", hdr{"Retry-After": " Mon, 30 Nov 2026 10:00:30 GMT "}, 30 * time.Second, true},
		{"retry-after date now", hdr{"Retry-After": "Mon, 30 Nov 2026 10:00:00 GMT"}, 0, true},
		{"retry-after date past", hdr{"Retry-After": "Sun, 29 Nov 2026 10:00:00 GMT"}, 0, true},
		{"retry-after date far future", hdr{"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, maxDur, true},

		// Retry-After, malformed: ignored.
		{"retry-after word", hdr{"Retry-After": "soon"}, 0, false},
		{"retry-after negative", hdr{"Retry-After": "-5"}, 0, false},
		{"retry-after plus", hdr{"Retry-After": "+5"}, 0, false},
		{"retry-after fraction", hdr{"Retry-After": "1.5"}, 0, false},
		{"retry-after empty", hdr{"Retry-After": ""}, 0, false},
		{"retry-after blank", hdr{"Retry-After": "   "}, 0, false},
		{"retry-after unit", hdr{"Retry-After": "120s"}, 0, false},
		{"retry-after exponent", hdr{"Retry-After": "1e3"}, 0, false},
		{"retry-after inner space", hdr{"Retry-After": "1 20"}, 0, false},
		{"retry-after bad date", hdr{"Retry-After": "Mon, 30 Nov 2026 25:00:00 GMT"}, 0, false},
		{"retry-after ISO date", hdr{"Retry-After": "2026-11-30T10:00:30Z"}, 0, false},

		// RateLimit-Reset: delta seconds, digits only.
		{"ratelimit-reset", hdr{"RateLimit-Reset": "10"}, 10 * time.Second, true},
		{"ratelimit-reset trimmed", hdr{"RateLimit-Reset": " 10 "}, 10 * time.Second, true},
		{"ratelimit-reset quota spent", hdr{"RateLimit-Reset": "10", "RateLimit-Remaining": "0"}, 10 * time.Second, true},
		{"ratelimit-reset quota left", hdr{"RateLimit-Reset": "10", "RateLimit-Remaining": "5"}, 0, false},
		{"ratelimit-reset fraction", hdr{"RateLimit-Reset": "1.5"}, 0, false},
		{"ratelimit-reset negative", hdr{"RateLimit-Reset": "-1"}, 0, false},
		{"ratelimit-reset huge", hdr{"RateLimit-Reset": "99999999999999999999"}, maxDur, true},
		// Not read as a timestamp: the draft has deltas only.
		{"ratelimit-reset large", hdr{"RateLimit-Reset": "2000000000"}, 2000000000 * time.Second, true},

		// X-RateLimit-Reset: delta seconds below 1e9, else a Unix timestamp.
		{"x-ratelimit-reset delta", hdr{"X-RateLimit-Reset": "30"}, 30 * time.Second, true},
		{"x-ratelimit-reset delta fraction", hdr{"X-RateLimit-Reset": "1.5"}, 1500 * time.Millisecond, true},
		{"x-ratelimit-reset largest delta", hdr{"X-RateLimit-Reset": "999999999"}, 999999999 * time.Second, true},
		{"x-ratelimit-reset epoch", hdr{"X-RateLimit-Reset": epoch(time.Minute)}, time.Minute, true},
		{"x-ratelimit-reset epoch fraction", hdr{"X-RateLimit-Reset": epoch(time.Minute) + ".5"}, 60500 * time.Millisecond, true},
		{"x-ratelimit-reset epoch nanoseconds", hdr{"X-RateLimit-Reset": epoch(0) + ".0000000019"}, time.Nanosecond, true},
		{"x-ratelimit-reset epoch now", hdr{"X-RateLimit-Reset": epoch(0)}, 0, true},
		{"x-ratelimit-reset epoch past", hdr{"X-RateLimit-Reset": epoch(-time.Hour)}, 0, true},
		{"x-ratelimit-reset smallest epoch", hdr{"X-RateLimit-Reset": "1000000000"}, 0, true},
		{"x-ratelimit-reset epoch far future", hdr{"X-RateLimit-Reset": "9223372036854775807"}, maxDur, true},
		{"x-ratelimit-reset beyond uint64", hdr{"X-RateLimit-Reset": "99999999999999999999999"}, maxDur, true},
		{"x-ratelimit-reset quota spent", hdr{"X-RateLimit-Reset": "30", "X-RateLimit-Remaining": "0"}, 30 * time.Second, true},
		{"x-ratelimit-reset quota left", hdr{"X-RateLimit-Reset": epoch(time.Hour), "X-RateLimit-Remaining": "4999"}, 0, false},
		{"x-ratelimit-reset remaining unreadable", hdr{"X-RateLimit-Reset": "30", "X-RateLimit-Remaining": "n/a"}, 30 * time.Second, true},
		{"x-ratelimit-reset empty fraction", hdr{"X-RateLimit-Reset": "30."}, 0, false},
		{"x-ratelimit-reset only fraction", hdr{"X-RateLimit-Reset": ".5"}, 0, false},
		{"x-ratelimit-reset two dots", hdr{"X-RateLimit-Reset": "1.2.3"}, 0, false},
		{"x-ratelimit-reset negative", hdr{"X-RateLimit-Reset": "-30"}, 0, false},
		{"x-ratelimit-reset date", hdr{"X-RateLimit-Reset": "Mon, 30 Nov 2026 10:00:30 GMT"}, 0, false},

		// Precedence: the first header present and well-formed wins.
		{"retry-after over the others",
			hdr{"Retry-After": "1", "RateLimit-Reset": "2", "X-RateLimit-Reset": "3"}, time.Second, true},
		{"ratelimit-reset over x-ratelimit-reset",
			hdr{"RateLimit-Reset": "2", "X-RateLimit-Reset": "3"}, 2 * time.Second, true},
		{"retry-after zero still wins", hdr{"Retry-After": "0", "RateLimit-Reset": "2"}, 0, true},
		{"retry-after past date still wins",
			hdr{"Retry-After": "Sun, 29 Nov 2026 10:00:00 GMT", "X-RateLimit-Reset": "3"}, 0, true},
		{"malformed retry-after falls through", hdr{"Retry-After": "soon", "RateLimit-Reset": "2"}, 2 * time.Second, true},
		{"malformed ratelimit-reset falls through",
			hdr{"Retry-After": "-1", "RateLimit-Reset": "1.5", "X-RateLimit-Reset": "3"}, 3 * time.Second, true},
		{"quota left falls through",
			hdr{"RateLimit-Reset": "2", "RateLimit-Remaining": "1", "X-RateLimit-Reset": "3"}, 3 * time.Second, true},
		{"all malformed", hdr{"Retry-After": "soon", "RateLimit-Reset": "x", "X-RateLimit-Reset": "y"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := throttleHint(h, now); got != tt.want {
				t.Errorf("throttleHint(%v) = %v, want %v", tt.header, got, tt.want)
			}
			if got, given := retryHint(h, now); got != tt.want || given != tt.given {
				t.Errorf("retryHint(%v) = %v, %v, want %v, %v", tt.header, got, given, tt.want, tt.given)
			}
		})
	}
}

func TestThrottleHintFirstValue(t *testing.T) {
	// Of a repeated header, the first value counts.
	h := http.Header{"Retry-After": {"5", "60"}}
	if got := throttleHint(h, time.Now()); got != 5*time.Second {
		t.Errorf("throttleHint(%v) = %v, want 5s", h, got)
	}
}
