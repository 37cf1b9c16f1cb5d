package report

import "testing"

func TestSummaryLine(t *testing.T) {
	cases := []struct {
		name string
		s    Summary
		want string
	}{
		{"design example", Summary{Total: 200, OK: 198, Timeout: 2, WallMS: 110, SumMS: 20400},
			"200 targets · 198 ok · 2 timeout · 0.11 s (sequential ≈ 20.4 s, 185×)"},
		{"every state, duplicates", Summary{Total: 10, OK: 2, Fail: 1, Error: 2, Timeout: 3, NotRun: 2, Duplicates: 3, WallMS: 1500, SumMS: 12000},
			"10 targets · 2 ok · 1 fail · 2 error · 3 timeout · 2 not_run · 1.5 s (sequential ≈ 12.0 s, 8.0×) · 3 duplicates skipped"},
		{"ok always listed", Summary{Total: 1, Fail: 1, WallMS: 4, SumMS: 3.2, Duplicates: 1},
			"1 target · 0 ok · 1 fail · 0.004 s (sequential ≈ 0.003 s, 0.8×) · 1 duplicate skipped"},
		{"no targets", Summary{}, "0 targets · 0 ok · 0 s"},
		{"wall zero", Summary{Total: 2, OK: 2, SumMS: 5}, "2 targets · 2 ok · 0 s"},
		{"nothing ran", Summary{Total: 3, NotRun: 3, WallMS: 600000}, "3 targets · 0 ok · 3 not_run · 10m00s"},
		{"long", Summary{Total: 100000, OK: 100000, WallMS: 125000, SumMS: 10_000_000},
			"100000 targets · 100000 ok · 2m05s (sequential ≈ 2h46m40s, 80×)"},
		{"seconds", Summary{Total: 5, OK: 5, WallMS: 12000, SumMS: 99940}, "5 targets · 5 ok · 12.0 s (sequential ≈ 99.9 s, 8.3×)"},
		{"rounding up to 1 s", Summary{Total: 5, OK: 5, WallMS: 999, SumMS: 99960}, "5 targets · 5 ok · 1.0 s (sequential ≈ 1m40s, 100×)"},
	}
	for _, c := range cases {
		if got := SummaryLine(c.s); got != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestLatencyLine(t *testing.T) {
	cases := []struct {
		s    Summary
		want string
	}{
		{Summary{Total: 3, OK: 3, LatencyMS: Latency{P50: 101, P95: 105.4, Max: 2000}}, "latency p50 101ms · p95 105ms · max 2.0s"},
		{Summary{Total: 3, OK: 3, LatencyMS: Latency{P50: 0.42, P95: 9.99, Max: 150000}}, "latency p50 0.4ms · p95 10ms · max 2m30s"},
		{Summary{Total: 2, NotRun: 2}, ""},
		{Summary{}, ""},
	}
	for _, c := range cases {
		if got := LatencyLine(c.s); got != c.want {
			t.Errorf("LatencyLine(%+v) = %q, want %q", c.s.LatencyMS, got, c.want)
		}
	}
}

func TestReasonsLine(t *testing.T) {
	cases := []struct {
		reasons map[string]int
		want    string
	}{
		{map[string]int{"http_status": 1, "timeout": 2}, "failures by reason: timeout 2 · http_status 1"},
		{map[string]int{"refused": 1, "dns": 1, "deadline": 5}, "failures by reason: deadline 5 · dns 1 · refused 1"},
		{map[string]int{"refused": 0}, ""},
		{nil, ""},
	}
	for _, c := range cases {
		if got := ReasonsLine(Summary{Reasons: c.reasons}); got != c.want {
			t.Errorf("ReasonsLine(%v) = %q, want %q", c.reasons, got, c.want)
		}
	}
}
