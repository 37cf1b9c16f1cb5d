package report

import (
	"maps"
	"slices"
	"time"
)

// Tally accumulates records one at a time, for live progress counters and
// for the run's Summary. The zero Tally is empty and ready to use. A Tally
// is meant to be used from one goroutine; guard it with a mutex otherwise.
type Tally struct {
	total, ok, fail, errs, timeout, notRun int
	reasons                                map[string]int
	sum                                    time.Duration
	ran                                    []time.Duration // durations of records with Attempts > 0
	retries, throttled                     int
}

// unknownReason is the reasons key of a non-ok record without a reason.
const unknownReason = "unknown"

// Add counts one record. A record whose state is none of the five of
// DESIGN.md counts in the total and as failed, but in no state.
func (t *Tally) Add(r Record) {
	t.total++
	t.countState(r.State)
	if r.State != stateOK {
		reason := r.Reason
		if reason == "" {
			reason = unknownReason
		}
		if t.reasons == nil {
			t.reasons = map[string]int{}
		}
		t.reasons[reason]++
	}
	t.sum += r.Duration
	if r.Attempts > 0 {
		t.ran = append(t.ran, r.Duration)
	}
	t.retries += r.Retries
	t.throttled += r.Throttled
}

// countState bumps the counter of one state.
func (t *Tally) countState(state string) {
	switch state {
	case stateOK:
		t.ok++
	case stateFail:
		t.fail++
	case stateError:
		t.errs++
	case stateTimeout:
		t.timeout++
	case stateNotRun:
		t.notRun++
	}
}

// Done is the number of records added.
func (t *Tally) Done() int { return t.total }

// OK is the number of records whose state is ok.
func (t *Tally) OK() int { return t.ok }

// Failed is the number of records whose state is anything but ok
// (not_run included).
func (t *Tally) Failed() int { return t.total - t.ok }

// Summary sums up the records added so far. wall is the run's wall-clock
// time and duplicates the number of targets skipped as duplicates.
//
// SumMS is what the checks would have cost one after another and Speedup
// is SumMS ÷ WallMS (0 when wall is 0). LatencyMS holds nearest-rank
// percentiles over the records that ran (Attempts > 0). Retries and
// Throttled sum the records' error retries and throttled attempts; Hosts
// and RetryBudgetExhausted are the caller's to fill in.
//
// Summary can be called any number of times, also between calls to Add.
func (t *Tally) Summary(wall time.Duration, duplicates int) Summary {
	s := Summary{
		Total: t.total, OK: t.ok, Fail: t.fail, Error: t.errs,
		Timeout: t.timeout, NotRun: t.notRun, Duplicates: duplicates,
		WallMS: msOf(wall), SumMS: msOf(t.sum), LatencyMS: t.latency(),
		Retries: t.retries, Throttled: t.throttled, Reasons: maps.Clone(t.reasons),
	}
	if wall > 0 {
		s.Speedup = roundTo(float64(t.sum)/float64(wall), 1)
	}
	if s.Reasons == nil {
		s.Reasons = map[string]int{}
	}
	s.Hosts = []Host{}
	return s
}

// latency computes the percentiles of the durations of the records that ran.
func (t *Tally) latency() Latency {
	if len(t.ran) == 0 {
		return Latency{}
	}
	slices.Sort(t.ran)
	return Latency{
		P50: msOf(nearestRank(t.ran, 50)),
		P95: msOf(nearestRank(t.ran, 95)),
		Max: msOf(t.ran[len(t.ran)-1]),
	}
}

// nearestRank returns the p-th percentile of sorted (not empty) by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it.
func nearestRank(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ⌈p·n/100⌉ without floating point
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
