package fanout

import (
	"math"
	"testing"
	"time"
)

// sendsAt returns offsets of sends paced at perSecond, n of them.
func sendsAt(perSecond float64, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(float64(i) / perSecond * float64(time.Second))
	}
	return out
}

func TestEstimateRateBracketsTheKeysRate(t *testing.T) {
	// A key of 20/s and burst 5 was sent to at 30/s after a full bucket:
	// it throttles the first send that finds it empty.
	const rate, burst = 20.0, 5.0
	sends := sendsAt(30, 40)
	level, throttled := burst, -1
	for i := range sends {
		if i > 0 {
			level = math.Min(burst, level+rate*(sends[i]-sends[i-1]).Seconds())
		}
		if level < 1 {
			throttled = i
			break
		}
		level--
	}
	lower, middle, tight, ok := estimateRate(sends, sends[throttled], burst, fullBucket)
	if !ok || tight || lower > rate || middle < lower || math.Abs(middle-rate)/rate > 0.15 {
		t.Errorf("lower %.2f middle %.2f tight %v ok %v, want lower ≤ %g and middle within 15%% of it", lower, middle, tight, ok, rate)
	}
}

func TestEstimateRateAfterAShortPause(t *testing.T) {
	// A pause of 0.4s refills a 2/s key by 0.8 token: the first send after
	// it is throttled. Only an upper bound (2.5/s) is known; half of it is
	// the guess.
	lower, middle, tight, ok := estimateRate([]time.Duration{0}, 0, 4, 400*time.Millisecond)
	if !ok || tight || math.Abs(lower-1.25) > 0.01 || math.Abs(middle-1.25) > 0.01 {
		t.Errorf("lower %.3f middle %.3f tight %v ok %v, want 1.25 and 1.25, not tight", lower, middle, tight, ok)
	}
}

func TestLearnerSlowStartDoublesThenHolds(t *testing.T) {
	l := newRateLearner(0, 1)
	t0 := time.Now()
	l.firstThrottle(t0, time.Second, t0.Add(-100*time.Millisecond))
	l.measureFirst(11) // 11 accepted over 0.1s + a 1s pause: 10/s
	if r := l.current(t0.Add(time.Second)); math.Abs(r-10) > 0.01 {
		t.Errorf("rate at resume %.2f, want 10", r)
	}
	if r := l.current(t0.Add(time.Second + slowStartDoubling)); math.Abs(r-20) > 0.01 {
		t.Errorf("rate one doubling later %.2f, want 20", r)
	}
	l.estimate, l.ceiling, l.rate, l.slowStart = 40, 50, 36, false
	l.resume(t0)
	if r := l.current(t0.Add(time.Hour)); math.Abs(r-steadyCeiling*50) > 0.01 {
		t.Errorf("steady rate an hour later %.2f, want %.2f", r, steadyCeiling*50)
	}
}

func TestLearnerNeverExceedsTheConfiguredRate(t *testing.T) {
	l := newRateLearner(5, 1)
	t0 := time.Now()
	l.firstThrottle(t0, time.Second, t0.Add(-time.Second))
	l.measureFirst(100)
	// At burst 1 the configured rate is paced: 5 ms more between attempts.
	if r := l.current(t0.Add(time.Minute)); r != PacedRate(5, 1) || r > 5 {
		t.Errorf("rate %.3f, want the configured 5/s paced to %.3f", r, PacedRate(5, 1))
	}
}

// Evenly spaced sends, one throttled: only the rate that ran explains it,
// so it is taken for jitter (or a key at exactly that rate). The allowance
// doubles, and the rate settles a little under the one that ran.
func TestThrottleAtTheRateThatRanWidensTheAllowance(t *testing.T) {
	l := newRateLearner(0, 1)
	t0 := time.Now()
	l.firstThrottle(t0, time.Second, t0.Add(-10*time.Millisecond))
	l.measureFirst(1)
	resume := t0.Add(time.Second)
	var last time.Time
	for i := range 10 {
		last = resume.Add(time.Duration(i) * 50 * time.Millisecond)
		l.sent(last)
	}
	now := last.Add(10 * time.Millisecond)
	l.throttle(now, last, time.Second)
	if l.allowance != 2*jitterAllowance {
		t.Errorf("allowance %s, want %s", l.allowance, 2*jitterAllowance)
	}
	// 20/s ran; 10 ms of allowance at burst 1 leaves 1/(50ms+10ms).
	later := now.Add(time.Minute)
	if r, want := l.current(later), steadyCeiling*20/1.2; math.Abs(r-want) > 0.1 {
		t.Errorf("rate %.2f a minute later, want %.2f", r, want)
	}
}

// A first throttle after a long steady run says the key lets about A per
// T through, not that its burst is A: the replay must not assume a bucket
// of everything accepted so far.
func TestFirstThrottleLateInARunIsNoBurst(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rate, burst float64
		before      time.Duration
		accepted    int
		wantBurst   float64
	}{
		{"throttled in the first wave", 0, 1, 50 * time.Millisecond, 10, 10},
		{"throttled after 20 s", 0, 1, 20 * time.Second, 100, 5},
		{"our burst caps it", 5, 1, 50 * time.Millisecond, 10, 1},
	} {
		l := newRateLearner(tc.rate, tc.burst)
		t0 := time.Now()
		l.firstThrottle(t0, time.Second, t0.Add(-tc.before))
		l.measureFirst(tc.accepted)
		if l.burst != tc.wantBurst {
			t.Errorf("%s: burst %.2f, want %.2f", tc.name, l.burst, tc.wantBurst)
		}
	}
}
