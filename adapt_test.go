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
	l.steady(36, 40, steadyCeiling*50)
	l.resume(t0, fullBucket)
	if r := l.current(t0.Add(time.Second)); math.Abs(r-(36+steadyGrowth*40)) > 0.01 {
		t.Errorf("steady rate a second later %.2f, want %.2f (growth by %g of 40 a second)", r, 36+steadyGrowth*40, steadyGrowth)
	}
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
	if l.allowance != 2*learnedAllowance {
		t.Errorf("allowance %s, want %s", l.allowance, 2*learnedAllowance)
	}
	// 20/s ran; 6 ms of allowance at burst 1 leaves 1/(50ms+6ms).
	later := now.Add(time.Minute)
	if r, want := l.current(later), steadyCeiling*20/1.12; math.Abs(r-want) > 0.1 {
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
		wantBurst   float64 // A·P/(T+P), P = 1 s
	}{
		{"throttled in the first wave", 0, 1, 50 * time.Millisecond, 10, 10 / 1.05},
		{"throttled after 20 s", 0, 1, 20 * time.Second, 100, 100 / 21.0},
		{"our burst caps it", 5, 1, 50 * time.Millisecond, 10, 1},
		{"right after the ramp", 0, 1, 400 * time.Millisecond, 21, 15},
	} {
		l := newRateLearner(tc.rate, tc.burst)
		t0 := time.Now()
		l.firstThrottle(t0, time.Second, t0.Add(-tc.before))
		l.measureFirst(tc.accepted)
		if math.Abs(l.burst-tc.wantBurst) > 0.01 {
			t.Errorf("%s: burst %.2f, want %.2f", tc.name, l.burst, tc.wantBurst)
		}
	}
}

// rampSends returns the offsets of a key's first n attempts at the ramp's
// pace, each leaving when the ramp allows.
func rampSends(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := 1; i < n; i++ {
		out[i] = out[i-1] + rampGaps[i-1]
	}
	return out
}

// firstTooFast returns the index of the ramp's first attempt that a key of
// perSecond with no burst throttles: the first gap shorter than 1/rate.
func firstTooFast(sends []time.Duration, perSecond float64) int {
	for i := 1; i < len(sends); i++ {
		if (sends[i]-sends[i-1]).Seconds()*perSecond < 1 {
			return i
		}
	}
	return -1
}

// A key of 50/s that lets no burst through throttles the ramp's first gap
// under 20 ms: the ramp's last two gaps bracket its rate, and the key runs
// under it with room for jitter, not at a guess a throttle must correct.
func TestRampBracketsARateWithoutBurst(t *testing.T) {
	for _, rate := range []float64{20, 50, 120} {
		sends := rampSends(16)
		i := firstTooFast(sends, rate)
		l := newRateLearner(0, 1)
		t0 := time.Now()
		if !l.fromRamp(t0, sends[:i+1], sends[i], time.Second) {
			t.Fatalf("%g/s: the ramp's throttle taught nothing", rate)
		}
		lo, hi := 1/(sends[i-1]-sends[i-2]).Seconds(), 1/(sends[i]-sends[i-1]).Seconds()
		if math.Abs(l.guess.lo-lo)/lo > 0.01 || math.Abs(l.guess.hi-hi)/hi > 0.01 {
			t.Errorf("%g/s: bracket [%.2f, %.2f), want [%.2f, %.2f): the last accepted and the throttled gap", rate, l.guess.lo, l.guess.hi, lo, hi)
		}
		// Room for jitter over the slowest rate the bracket allows: at
		// least half the allowance, at most all of it.
		a := learnedAllowance.Seconds()
		if gap := 1 / l.current(t0.Add(time.Minute)); gap < 1/lo+a/2-1e-9 || gap > 1/lo+a+1e-9 {
			t.Errorf("%g/s: held at a gap of %.2f ms, want within [%.2f, %.2f] ms", rate, gap*1000, (1/lo+a/2)*1000, (1/lo+a)*1000)
		}
	}
}

// A key slower than the ramp's first pace throttles its first paced
// attempt: the ramp knows no lower bound, and the learner starts as after a
// first wave.
func TestRampThrottledAtOnceTeachesNothing(t *testing.T) {
	sends := rampSends(2)
	if l := newRateLearner(0, 1); l.fromRamp(time.Now(), sends, sends[1], time.Second) {
		t.Errorf("a throttle of the first paced attempt gave a bracket [%.2f, %.2f)", l.guess.lo, l.guess.hi)
	}
}

// The ramp's guess (no burst) is tested at the next throttle. A key of 5/s
// with a burst of 2 throttles the ramp early and looks like a faster key
// without burst; after the pause it lets 2 through and throttles the third,
// at a pace the guess says it allows: it has a burst, and the ramp replayed
// with a burst of 2 tells its rate.
func TestRampGuessRefutedByABurst(t *testing.T) {
	const rate, burst = 5.0, 2.0
	sends := rampSends(16)
	level, i := burst, 0
	for i = range sends {
		if i > 0 {
			level = math.Min(burst, level+rate*(sends[i]-sends[i-1]).Seconds())
		}
		if level < 1 {
			break
		}
		level--
	}
	l := newRateLearner(0, 1)
	t0 := time.Now()
	if !l.fromRamp(t0, sends[:i+1], sends[i], time.Second) {
		t.Fatal("the ramp's throttle taught nothing")
	}
	guess := l.current(t0.Add(time.Second))
	resume := t0.Add(time.Second)
	gap := time.Duration(float64(time.Second) / guess)
	for j := range 3 {
		l.sent(resume.Add(time.Duration(j) * gap))
	}
	third := resume.Add(2 * gap)
	l.throttle(third.Add(time.Millisecond), third, time.Second)
	if l.guess.lo != 0 || l.burst != 2 {
		t.Errorf("after the refuting throttle: ramp guess %+v, burst %.0f; want the guess dropped and a burst of 2", l.guess, l.burst)
	}
	if r := l.current(third.Add(time.Hour)); r > 1.1*rate || r >= guess {
		t.Errorf("rate %.2f/s after the refutation (guess was %.2f/s), want about the key's %g/s", r, guess, rate)
	}
}

// A throttle after many attempts at the held pace is no burst (no bucket of
// that many explains the ramp's throttle): it was timing jitter, so the
// allowance doubles and the ramp's bracket stands.
func TestJitterThrottleAfterTheRampWidensTheAllowance(t *testing.T) {
	sends := rampSends(16)
	i := firstTooFast(sends, 50)
	l := newRateLearner(0, 1)
	t0 := time.Now()
	l.fromRamp(t0, sends[:i+1], sends[i], time.Second)
	held := l.current(t0.Add(time.Second))
	resume := t0.Add(time.Second)
	gap := time.Duration(float64(time.Second) / held)
	var last time.Time
	for j := range 30 {
		last = resume.Add(time.Duration(j) * gap)
		l.sent(last)
	}
	l.throttle(last.Add(time.Millisecond), last, time.Second)
	if l.guess.lo == 0 || l.allowance != 2*learnedAllowance {
		t.Errorf("ramp guess %+v, allowance %s: want the bracket kept and the allowance doubled", l.guess, l.allowance)
	}
	if r := l.current(last.Add(time.Hour)); r >= held {
		t.Errorf("held at %.2f/s after a jitter throttle, was %.2f/s: want more room", r, held)
	}
}

// Sends that leave in one dispatch reach the key in any order: whichever
// the key throttled, the replay takes it for the last of them. Four at once
// after a 300 ms pause, the fourth throttled, tell a key of 10 to 13.3/s.
func TestSimultaneousSendsThrottleTheLast(t *testing.T) {
	sends := []time.Duration{0, 0, 0, 0}
	lo, hi, ok := bracketRates(sends, 0, 6, 300*time.Millisecond)
	if !ok || math.Abs(lo-10) > 0.01 || math.Abs(hi-40.0/3) > 0.01 {
		t.Errorf("bracket [%.2f, %.2f) ok %v, want [10, 13.33)", lo, hi, ok)
	}
}
