package fanout

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// keyState is what the dispatcher knows of one key: its queue, its limits
// (configured and adaptive), its rate limiter and its cooldown.
type keyState struct {
	configured Limits
	limit      float64 // adaptive concurrency limit, 1 ≤ limit ≤ configured
	running    int
	queue      deque[int]
	inReady    bool

	limiter  *rate.Limiter // nil: no rate limit
	learner  *rateLearner  // nil until the key first throttles (adaptive runs)
	adaptive bool

	cooldownUntil   time.Time
	consecThrottles int
	lastCut         time.Time // of the concurrency, on timeouts and overload

	// ramping: the key's first attempts are paced (see rampWait);
	// rampSends are their offsets from firstSent, but the first's (0).
	ramping                        bool
	rampSends                      []time.Duration
	firstSent                      time.Time
	lastSent                       time.Time     // start of the key's latest attempt
	fastest                        time.Duration // the shortest round trip seen
	holdUntil                      time.Time     // no attempt before: see finished
	attempts, throttled, cooldowns int
	acceptedN                      int // answers that were not throttles
}

func newKeyState(l Limits, adaptive bool) *keyState {
	k := &keyState{configured: l, limit: float64(l.Concurrency), adaptive: adaptive}
	k.ramping = l.Ramps(adaptive)
	if l.Rate > 0 {
		k.limiter = rate.NewLimiter(rate.Limit(PacedRate(l.Rate, l.Burst)), l.Burst)
	}
	return k
}

// runnable reports whether one of the key's tasks may start now, rate
// aside (the dispatcher asks the limiter when it gets to the key).
func (k *keyState) runnable(now time.Time) bool {
	return k.queue.len() > 0 && k.running < int(k.limit) && !now.Before(k.cooldownUntil)
}

// rateWait returns how long until the key's rate admits an attempt.
func (k *keyState) rateWait(now time.Time) time.Duration {
	return max(k.tokenRateWait(now), k.holdUntil.Sub(now), k.rampWait(now))
}

// rampWait paces a key's first attempts: attempt n+1 leaves at least
// rampGaps[n-1] after attempt n, until the gaps run out. The key that
// throttles during the ramp did so at a known pace (see learn).
func (k *keyState) rampWait(now time.Time) time.Duration {
	if !k.ramping || k.attempts == 0 {
		return 0
	}
	if k.attempts > len(rampGaps) {
		k.ramping = false
		return 0
	}
	return k.lastSent.Add(rampGaps[k.attempts-1]).Sub(now)
}

func (k *keyState) tokenRateWait(now time.Time) time.Duration {
	if k.learner == nil {
		return tokenWait(k.limiter, now)
	}
	if k.learner.pending {
		k.learner.measureFirst(k.acceptedN)
		// The key's bucket refilled during the pause, and ours does
		// too: a new limiter starts full (SetBurst adds no tokens).
		k.limiter = rate.NewLimiter(rate.Limit(k.learner.current(now)), k.learner.limiterBurst())
	}
	k.learner.apply(now, k.limiter)
	w := tokenWait(k.limiter, now)
	if k.learner.slowStart {
		// The rate grows while the key waits: look again soon rather
		// than at the token time of the rate in force now.
		w = min(w, slowStartDoubling/5)
	}
	return w
}

// tokenWait is how long until lim has a token at now; 0 if it has one or
// lim is nil (no limit).
func tokenWait(lim *rate.Limiter, now time.Time) time.Duration {
	if lim == nil {
		return 0
	}
	missing := 1 - lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(lim.Limit()) * float64(time.Second))
}

// started records an attempt of the key starting at now.
func (k *keyState) started(now time.Time) {
	if k.attempts == 0 {
		k.firstSent = now
	}
	k.running++
	k.attempts++
	k.lastSent = now
	if k.ramping && k.attempts > 1 { // a key of one task allocates nothing
		k.rampSends = append(k.rampSends, now.Sub(k.firstSent))
	}
	if k.limiter != nil {
		k.limiter.AllowN(now, 1)
	}
	if k.learner != nil {
		k.learner.sent(now)
	}
}

// finished notes the round trip of an answered attempt (not a throttle,
// which comes back faster) that started at start. At burst 1 an attempt
// slower than the key's fastest may have reached the key late by as much,
// and the next one, leaving on time, early: a key that lets no burst
// through throttles two attempts that arrive closer than its rate allows.
// So the next attempt leaves that much later too, at most a quarter of the
// interval (a key of varied latency is not slowed much more). The key's
// first attempt has nothing to compare with, and it dialled: all of it may
// have been late.
func (k *keyState) finished(start, end time.Time) {
	rtt := end.Sub(start)
	late := rtt
	if k.fastest > 0 {
		late = rtt - k.fastest
	}
	if k.fastest == 0 || rtt < k.fastest {
		k.fastest = rtt
	}
	if late <= 0 || k.limiter == nil || k.limiter.Burst() > 1 || !start.Equal(k.lastSent) ||
		(k.learner != nil && (k.learner.pending || k.learner.slowStart)) {
		return // not late, or no steady rate to keep the next attempt's distance at
	}
	limit := float64(k.limiter.Limit())
	if limit <= 0 || math.IsInf(limit, 1) {
		return
	}
	interval := time.Duration(float64(time.Second) / limit)
	if hold := start.Add(interval + min(late, interval/4)); hold.After(k.holdUntil) {
		k.holdUntil = hold
	}
}

// accepted records an answer that was not a throttle; saturated says the
// key was running at its limit, so the limit was what held it back.
func (k *keyState) accepted(now time.Time, saturated bool) {
	k.consecThrottles = 0
	k.acceptedN++
	if k.adaptive && saturated && k.limit < float64(k.configured.Concurrency) {
		// Additive increase: one more slot per limit's worth of answers.
		k.limit = min(float64(k.configured.Concurrency), k.limit+1/k.limit)
	}
}

// overloaded cuts the concurrency (multiplicative decrease) on a timeout
// or an overload status, at most once per attempt timeout: the answers of
// the attempts already in flight are the same event.
func (k *keyState) overloaded(now time.Time, timeout time.Duration) {
	if !k.adaptive || now.Sub(k.lastCut) < timeout {
		return
	}
	k.lastCut = now
	k.limit = math.Max(1, math.Floor(k.limit/2))
	if k.learner != nil {
		// Only a learned rate is cut: a key that never throttled has
		// no rate of ours to lower.
		k.learner.cut(now)
		k.learner.apply(now, k.limiter)
	}
}

// throttle puts the key in cooldown for pause after a throttled answer to
// an attempt started at sentAt. It returns false if the key was in cooldown
// already: the throttle is part of the same event, and nothing is cut twice.
func (k *keyState) throttle(now, sentAt time.Time, hint time.Duration) (pause time.Duration, fresh bool) {
	k.throttled++
	if now.Before(k.cooldownUntil) {
		if end := now.Add(hint); hint > 0 && end.After(k.cooldownUntil) {
			k.cooldownUntil = end
		}
		return k.cooldownUntil.Sub(now), false
	}
	k.consecThrottles++
	pause = hint
	if pause <= 0 {
		// No hint: the pause doubles with consecutive throttles.
		pause = time.Second << min(k.consecThrottles-1, 6)
	}
	pause = min(pause, MaxCooldown)
	k.cooldownUntil = now.Add(pause)
	k.cooldowns++
	if k.adaptive {
		k.limit = math.Max(1, math.Floor(k.limit/2))
		k.lastCut = now
		k.learn(now, sentAt, pause)
	}
	return pause, true
}

// learn updates the key's learned rate after a fresh throttle.
func (k *keyState) learn(now, sentAt time.Time, pause time.Duration) {
	k.ramping = false
	switch {
	case k.learner == nil:
		k.learner = newRateLearner(k.configured.Rate, float64(k.configured.Burst))
		// The ramp may have ended since the throttled attempt left: what
		// counts is whether the ramp paced it (fromRamp finds it among
		// the ramp's attempts, or learns nothing).
		sends := append([]time.Duration{0}, k.rampSends...)
		if !k.learner.fromRamp(now, sends, sentAt.Sub(k.firstSent), pause) {
			k.learner.firstThrottle(now, pause, k.firstSent)
		}
		k.rampSends = nil
	case k.learner.pending:
		// Throttled again before the first pause was measured: measure
		// it now, then as any later throttle.
		k.learner.measureFirst(k.acceptedN)
		k.learner.throttle(now, sentAt, pause)
	default:
		k.learner.throttle(now, sentAt, pause)
	}
	if k.limiter == nil {
		k.limiter = rate.NewLimiter(rate.Limit(k.learner.rate), 1)
	}
	if !k.learner.pending {
		k.learner.apply(now, k.limiter)
	}
}

func (k *keyState) stats(name string) KeyStats {
	ks := KeyStats{
		Key: name, Attempts: k.attempts, Throttled: k.throttled, Cooldowns: k.cooldowns,
		Concurrency: k.configured.Concurrency, ConcurrencyEnd: int(k.limit), Rate: k.configured.Rate,
	}
	if k.limiter != nil {
		ks.RateEnd = float64(k.limiter.Limit())
	}
	return ks
}
