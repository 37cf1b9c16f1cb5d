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
	lower, middle, ok := estimateRate(sends, sends[throttled], burst, fullBucket)
	if !ok || lower > rate || middle < lower || math.Abs(middle-rate)/rate > 0.15 {
		t.Errorf("lower %.2f middle %.2f ok %v, want lower ≤ %g and middle within 15%% of it", lower, middle, ok, rate)
	}
}

func TestEstimateRateAfterAShortPause(t *testing.T) {
	// A pause of 0.4s refills a 2/s key by 0.8 token: the first send after
	// it is throttled. Only an upper bound (2.5/s) is known; half of it is
	// the guess.
	lower, middle, ok := estimateRate([]time.Duration{0}, 0, 4, 400*time.Millisecond)
	if !ok || math.Abs(lower-1.25) > 0.01 || math.Abs(middle-1.25) > 0.01 {
		t.Errorf("lower %.3f middle %.3f ok %v, want 1.25 and 1.25", lower, middle, ok)
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
	if r := l.current(t0.Add(time.Minute)); r != 5 {
		t.Errorf("rate %.2f above the configured 5/s", r)
	}
}

func TestPausesAreCapped(t *testing.T) {
	k := newKeyState(Limits{Concurrency: 8, Burst: 1}, true)
	now := time.Now()
	pause, fresh := k.throttle(now, now, 24*time.Hour)
	if !fresh || pause != MaxCooldown || !k.cooldownUntil.Equal(now.Add(MaxCooldown)) {
		t.Errorf("pause %s (fresh %v), want the cap %s", pause, fresh, MaxCooldown)
	}
	// Without a hint the pause doubles from 1s with consecutive throttles.
	k = newKeyState(Limits{Concurrency: 8, Burst: 1}, false)
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		now = k.cooldownUntil
		if pause, _ := k.throttle(now, now, 0); pause != want {
			t.Errorf("throttle %d without a hint: pause %s, want %s", i+1, pause, want)
		}
	}
	k.accepted(k.cooldownUntil, false)
	if pause, _ := k.throttle(k.cooldownUntil, k.cooldownUntil, 0); pause != time.Second {
		t.Errorf("after an answer the pause starts again from 1s, got %s", pause)
	}
}
