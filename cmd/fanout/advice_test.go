package main

import (
	"testing"

	"github.com/fanout-dev/fanout/report"
)

func TestHostLineCountsInWords(t *testing.T) {
	for _, tc := range []struct {
		host report.Host
		want string
	}{
		{report.Host{Requests: 1, PerHost: 8, PerHostEnd: 4},
			"1 attempt, limits cut after timeouts or overload; per-host 8 → 4"},
		{report.Host{Requests: 40, Throttled: 8, ThrottleRate: 0.2, Pauses: 2, PerHost: 8, PerHostEnd: 2, RateEnd: 18.24},
			"throttled 8 of 40 attempts (20%), paused twice; per-host 8 → 2; rate learned 18.2/s"},
		{report.Host{Requests: 10, Throttled: 1, ThrottleRate: 0.1, Pauses: 1, PerHost: 8, PerHostEnd: 8, Rate: 20, RateEnd: 9},
			"throttled 1 of 10 attempts (10%), paused once; rate 20/s → 9.0/s"},
	} {
		if got := hostLine(tc.host); got != tc.want {
			t.Errorf("hostLine(%+v)\n got %q\nwant %q", tc.host, got, tc.want)
		}
	}
}
