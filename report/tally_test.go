package report

import (
	"maps"
	"testing"
	"time"
)

func TestTallyPercentiles(t *testing.T) {
	var tl Tally
	// 1..20 ms, added out of order, plus a never-started record that must
	// not count.
	for _, i := range []int{20, 3, 1, 19, 2, 18, 4, 17, 5, 16, 6, 15, 7, 14, 8, 13, 9, 12, 10, 11} {
		tl.Add(Record{State: "ok", Attempts: 1, Duration: time.Duration(i) * time.Millisecond})
	}
	tl.Add(Record{State: "not_run", Reason: "deadline"})
	s := tl.Summary(10*time.Millisecond, 0)
	// Nearest rank over 20 values: p50 is the 10th, p95 the 19th.
	if want := (Latency{P50: 10, P95: 19, Max: 20}); s.LatencyMS != want {
		t.Errorf("latency = %+v, want %+v", s.LatencyMS, want)
	}
	if s.SumMS != 210 || s.Speedup != 21 || s.WallMS != 10 {
		t.Errorf("sum %v speedup %v wall %v", s.SumMS, s.Speedup, s.WallMS)
	}
}

func TestNearestRank(t *testing.T) {
	one := []time.Duration{7}
	if nearestRank(one, 50) != 7 || nearestRank(one, 95) != 7 {
		t.Error("single value")
	}
	five := []time.Duration{15, 20, 35, 40, 50} // the Wikipedia example
	for p, want := range map[int]time.Duration{5: 15, 30: 20, 40: 20, 50: 35, 100: 50} {
		if got := nearestRank(five, p); got != want {
			t.Errorf("p%d = %v, want %v", p, got, want)
		}
	}
}

func TestTallyCountsAndReasons(t *testing.T) {
	var tl Tally
	for _, r := range fixture() {
		tl.Add(r)
	}
	tl.Add(Record{State: "error"}) // no reason
	if tl.Done() != 9 || tl.OK() != 2 || tl.Failed() != 7 {
		t.Errorf("done %d ok %d failed %d", tl.Done(), tl.OK(), tl.Failed())
	}
	s := tl.Summary(0, 3)
	if s.Total != 9 || s.OK != 2 || s.Fail != 2 || s.Error != 2 || s.Timeout != 2 || s.NotRun != 1 || s.Duplicates != 3 {
		t.Errorf("counts = %+v", s)
	}
	want := map[string]int{"http_status": 1, "refused": 1, "timeout": 1, "deadline": 2, "exit_code": 1, "unknown": 1}
	if !maps.Equal(s.Reasons, want) {
		t.Errorf("reasons = %v, want %v", s.Reasons, want)
	}
	if s.Speedup != 0 || s.WallMS != 0 {
		t.Errorf("wall 0: speedup %v", s.Speedup)
	}
	// retries 2 (refused) + 1 (slow); throttled 2 (api.example)
	if s.Retries != 3 || s.Throttled != 2 {
		t.Errorf("retries %d throttled %d", s.Retries, s.Throttled)
	}
	s.Reasons["http_status"] = 99
	if tl.Summary(0, 0).Reasons["http_status"] != 1 {
		t.Error("Summary shares its Reasons map with the Tally")
	}
}

func TestTallySpeedupRounding(t *testing.T) {
	var tl Tally
	for range 200 {
		tl.Add(Record{State: "ok", Attempts: 1, Duration: 102 * time.Millisecond})
	}
	s := tl.Summary(110*time.Millisecond, 0)
	if s.SumMS != 20400 || s.Speedup != 185.5 {
		t.Errorf("sum %v speedup %v", s.SumMS, s.Speedup)
	}
}

func TestTallyEmpty(t *testing.T) {
	var tl Tally
	s := tl.Summary(time.Second, 0)
	if s.Total != 0 || s.LatencyMS != (Latency{}) || s.Reasons == nil || len(s.Reasons) != 0 || s.Speedup != 0 {
		t.Errorf("empty summary = %+v", s)
	}
}
