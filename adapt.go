package fanout

import (
	"math"
	"slices"
	"sort"
	"time"

	"golang.org/x/time/rate"
)

// Learning a throttling key's rate. Concurrency alone cannot protect a fast
// key (at 20 ms a single connection sends 50 requests a second), so once a
// key throttles its rate is learned and enforced too. No library fits: the
// adaptive limiters we know (Netflix's, failsafe-go's) watch latency, not
// throttles, and none models the token bucket most APIs run.
//
//  0. Ramp: a key with no configured rate starts paced (keyState.rampWait).
//     A key that lets no burst through throttles the first gap its rate
//     does not allow, which brackets its rate for one throttle (fromRamp);
//     the key then runs at that rate, and the next throttle tests the
//     guess (fitBurst). A key that throttles only after the ramp, or whose
//     ramp no bucket of one explains, goes through 1 to 4.
//  1. First throttle: the key accepted A attempts over T before it, and asks
//     for a pause P. Its rate is at least about A/(T+P) (exact for a limiter
//     that allows A per window of P) and its burst what A holds beyond that
//     rate over T: A·P/(T+P). A is counted when the pause ends, so that the
//     answers still in flight when the throttle came back (throttles come
//     back fast) are counted too.
//  2. Slow start: after the pause the rate starts there and doubles every
//     slowStartDoubling, with a burst of 80% of that (the key's bucket, and
//     ours, refilled during the pause), until the key throttles again.
//  3. The second throttle pins the rate: replaying the attempts sent since
//     the pause against a token bucket of the learned burst (empty at the
//     throttle before the pause, refilled during it) gives the range of
//     rates under which they all passed but the throttled one did not. The
//     key then runs at steadyMargin of the lower end, growing by
//     steadyGrowth of it a second up to steadyCeiling of the middle (a key
//     that lets no burst through throttles on mere timing jitter at 100%,
//     so for such a key both leave learnedAllowance between requests);
//     each later throttle re-measures.
//  4. A throttle only the rate that ran explains (evenly spaced sends, as
//     under a configured rate or a learned one held steady) is timing
//     jitter or a key at exactly that rate: the key's jitter allowance
//     doubles, up to maxJitterAllowance, and the rate is kept (less that
//     allowance).
const (
	slowStartDoubling  = 250 * time.Millisecond
	steadyMargin       = 0.9
	steadyGrowth       = 0.1                  // of the lower bound, per second
	steadyCeiling      = 0.95                 // of the estimate
	minLearnedRate     = 0.05                 // attempts per second: one each 20 s
	burstShare         = 0.8                  // of the burst the key let through
	maxLearnedRate     = 1e6                  // attempts per second, to keep numbers finite
	overloadCut        = 0.7                  // of the rate, on a timeout or an overload status
	jitterAllowance    = 5 * time.Millisecond // under a configured rate (PacedRate)
	learnedAllowance   = 3 * time.Millisecond // under a learned rate, which has a margin of its own
	maxJitterAllowance = 40 * time.Millisecond
	tightBracket       = 0.001 // a bracket of rates this narrow is the rate that ran

	// The ramp (keyState.rampWait): a key's first attempts leave
	// rampFirstGap apart, each gap rampFactor of the last while the gap is
	// at least rampFineGap (up to 50/s, where keys that allow no burst are
	// common, a throttle brackets the rate within 15%), then rampFastFactor
	// of the last (above it, within 30%: such keys mostly allow bursts)
	// until the gap is under rampEndGap. That is 19 attempts over 0.33 s,
	// from 16.7/s to 2,000/s.
	rampFirstGap   = 60 * time.Millisecond
	rampFactor     = 0.85
	rampFineGap    = 20 * time.Millisecond
	rampFastFactor = 0.7
	rampEndGap     = 500 * time.Microsecond
)

// rampGaps are the least gaps between a ramping key's first attempts:
// rampGaps[n-1] between attempts n and n+1.
var rampGaps = func() []time.Duration {
	var gaps []time.Duration
	for gap := float64(rampFirstGap); gap >= float64(rampEndGap); {
		gaps = append(gaps, time.Duration(gap))
		if gap >= float64(rampFineGap) {
			gap *= rampFactor
		} else {
			gap *= rampFastFactor
		}
	}
	return gaps
}()

// RampOffset is the least time from a ramping key's first attempt to its
// n-th (see Adaptive): the sum of the ramp's gaps before it. Attempts past
// the ramp's last paced one are not paced at all. --plan counts with it.
func RampOffset(n int) time.Duration {
	var d time.Duration
	for _, gap := range rampGaps[:max(0, min(n-1, len(rampGaps)))] {
		d += gap
	}
	return d
}

// RampAttempts is how many of a ramping key's first attempts the ramp
// paces, the first included.
func RampAttempts() int { return len(rampGaps) + 1 }

// fullBucket as a refill time means the key's bucket was full at resume.
const fullBucket = time.Duration(math.MaxInt64)

type rateLearner struct {
	maxRate  float64 // configured (0: none): never exceeded
	maxBurst float64 // configured burst when a rate is configured, else +Inf
	// allowance is the slack kept between attempts to a key of burst 1
	// (see jitterMargin); it doubles on each throttle nothing but timing
	// explains.
	allowance time.Duration

	pending    bool      // the first throttle is not measured yet
	epochStart time.Time // first attempt of the key
	throttleAt time.Time // first throttle

	slowStart bool
	rate      float64         // at resumeAt
	estimate  float64         // steady: a lower bound of the key's rate, the base of growth
	top       float64         // steady: the most the rate grows to
	burst     float64         // the key's burst, as measured
	resumeAt  time.Time       // end of the last pause
	refill    time.Duration   // how long the key's bucket refilled before resumeAt
	sends     []time.Duration // attempts started since resumeAt, as offsets
	guess     rampGuess       // the ramp's guess, until a throttle refutes it
}

func newRateLearner(maxRate, maxBurst float64) *rateLearner {
	l := &rateLearner{maxRate: maxRate, maxBurst: math.Inf(1), allowance: learnedAllowance}
	if maxRate > 0 {
		l.maxBurst = maxBurst
	}
	return l
}

// firstThrottle starts learning: the key's first attempt was at
// epochStart, its first throttle at now, and it asked for pause.
func (l *rateLearner) firstThrottle(now time.Time, pause time.Duration, epochStart time.Time) {
	l.pending = true
	l.epochStart, l.throttleAt = epochStart, now
	l.rate = minLearnedRate
	l.resume(now.Add(pause), pause)
}

// measureFirst sets the starting rate and burst once the first pause is
// over, from the number of attempts the key accepted by then.
func (l *rateLearner) measureFirst(accepted int) {
	a := math.Max(1, float64(accepted))
	span := l.resumeAt.Sub(l.epochStart).Seconds()
	l.rate = math.Max(minLearnedRate, a/span)
	// Over the T before the throttle the key let through its burst and
	// what it regained at that rate: A − T·A/(T+P) = A·P/(T+P). That is
	// about A when the first wave throttled at once, and much less when
	// the throttle came after a ramp or a long run. Never more than our
	// own configured burst: the replay models the bucket our attempts
	// met, and they never came faster.
	pause := l.refill.Seconds()
	l.burst = math.Max(1, a*pause/span)
	l.burst = math.Min(l.burst, l.maxBurst)
	l.slowStart = true
	l.pending = false
}

// fromRamp learns from a throttle during the key's paced start (see
// keyState.rampWait): the key, its bucket full at its first attempt, let
// every paced attempt through but the one sent at throttledAt. A key that
// lets no burst through does exactly that at the first gap shorter than
// its rate allows, so its rate lies between the last two gaps, 15% apart.
// The key then runs at that rate (see holdRamp). A key with a burst can
// throttle during the ramp too: the next throttle tests the guess (see
// throttle). fromRamp returns false, and learns nothing, if no bucket of
// one explains the throttle or the first paced attempt was throttled (the
// key is slower than the ramp's first pace).
func (l *rateLearner) fromRamp(now time.Time, sends []time.Duration, throttledAt, pause time.Duration) bool {
	lo, hi, ok := bracketRates(sends, throttledAt, 1, fullBucket)
	if !ok || lo <= minLearnedRate {
		return false
	}
	l.guess = rampGuess{sends: slices.Clone(sends), throttledAt: throttledAt, lo: lo, hi: hi}
	l.burst = 1
	l.holdRamp()
	l.resume(now.Add(pause), pause)
	return true
}

// rampGuess is what the ramp's attempts told, until a throttle refutes it.
type rampGuess struct {
	sends       []time.Duration // from the key's first attempt
	throttledAt time.Duration
	lo, hi      float64 // the rates of a bucket of one that explain them
}

// holdRamp runs the key at one attempt per max(1/lo + allowance/2, 1/middle
// + allowance) of the ramp's bracket: room for timing jitter over its
// middle, and at least half of it over the slowest rate it allows. The rate
// is held, not grown: the ramp measured it.
func (l *rateLearner) holdRamp() {
	a := l.allowance.Seconds()
	middle := (l.guess.lo + l.guess.hi) / 2
	held := 1 / math.Max(1/l.guess.lo+a/2, 1/middle+a)
	l.steady(held, held, held)
}

// steady runs the key from rate, growing by steadyGrowth of estimate a
// second up to top.
func (l *rateLearner) steady(rate, estimate, top float64) {
	l.rate, l.estimate, l.top = rate, estimate, top
	l.slowStart, l.pending = false, false
}

// slowDown cuts the key's rate in force at now by overloadCut and holds it.
func (l *rateLearner) slowDown(now time.Time) {
	r := math.Max(minLearnedRate, l.current(now)*overloadCut)
	l.steady(r, r, steadyCeiling*r)
}

// fitBurst tests the ramp's guess (no burst) on the key's next throttle,
// which came at a pace the guess says the key allows, after the key
// accepted the n attempts sent since the pause. A key with a burst b ≤ n
// does that: it refilled during the pause and ran dry (n also holds what it
// regained meanwhile). If some rate explains both the ramp and the run since
// the pause under a bucket of b, the key runs as after any replay, with the
// largest such b (the safe choice: one token more explains the same
// attempts with a lower rate). It reports false, and changes nothing, if no
// b of two or more explains both: the guess stands.
func (l *rateLearner) fitBurst(throttledAt time.Duration) bool {
	n := sort.Search(len(l.sends), func(i int) bool { return l.sends[i] >= throttledAt })
	// A bucket as large as the ramp let every attempt of it through.
	for b := min(n, len(l.guess.sends)-1); b >= 2; b-- {
		lo1, hi1, ok1 := bracketRates(l.guess.sends, l.guess.throttledAt, float64(b), fullBucket)
		lo2, hi2, ok2 := bracketRates(l.sends, throttledAt, float64(b), l.refill)
		lo, hi := math.Max(lo1, lo2), math.Min(hi1, hi2)
		if !ok1 || !ok2 || lo >= hi {
			continue
		}
		l.guess = rampGuess{}
		l.burst = math.Min(float64(b), l.maxBurst)
		lower, middle := guesses(lo, hi)
		l.steady(steadyMargin*lower, lower, steadyCeiling*middle)
		return true
	}
	return false
}

// throttle re-measures the rate after a throttle of the attempt sent at
// sentAt.
func (l *rateLearner) throttle(now, sentAt time.Time, pause time.Duration) {
	throttledAt := sentAt.Sub(l.resumeAt)
	if l.guess.lo > 0 {
		if !l.fitBurst(throttledAt) {
			// The ramp's guess (no burst) stands: no bucket of two or
			// more explains its throttle and this one. This one was
			// jitter.
			l.allowance = min(2*l.allowance, maxJitterAllowance)
			l.holdRamp()
		}
		l.resume(now.Add(pause), pause)
		return
	}
	lower, middle, tight, ok := estimateRate(l.sends, throttledAt, l.burst, l.refill)
	if !ok {
		// No token bucket of our burst explains the throttle: assume
		// less burst and a slower key.
		l.burst = math.Max(1, l.burst/2)
		l.slowDown(now)
		l.resume(now.Add(pause), pause)
		return
	}
	margin := steadyMargin
	if tight {
		// Only the rate that ran explains the throttle: the sends met
		// the key's rate exactly, or timing jitter moved one. Keep the
		// rate; leave more room between attempts.
		l.allowance = min(2*l.allowance, maxJitterAllowance)
		margin = 1
	}
	j := jitterMargin(l.burst, middle, l.allowance)
	l.steady(margin*lower*j, lower*j, steadyCeiling*middle*j)
	l.resume(now.Add(pause), pause)
}

// jitterMargin is the share of a key's rate that leaves room for timing
// jitter. A key that lets no burst through throttles any request arriving
// early by a hair: keep allowance of slack between requests. A burst of two
// or more absorbs jitter.
func jitterMargin(burst, rate float64, allowance time.Duration) float64 {
	if burst >= 2 {
		return 1
	}
	return 1 / (1 + allowance.Seconds()*rate)
}

// PacedRate is the rate at which a key with a configured rate and burst
// is actually run: with a burst of one, attempts leave 5 ms more than
// 1/rate apart, since a key whose own bucket lets no burst through
// throttles an attempt that arrives a hair early (attempts leave on time;
// the network and the key's scheduling move them). So a key rate at or
// under what the key allows draws no throttle. A burst of two or more
// absorbs the jitter and runs at the rate itself.
func PacedRate(configured float64, burst int) float64 {
	if configured <= 0 {
		return configured
	}
	return configured * jitterMargin(float64(burst), configured, jitterAllowance)
}

// cut lowers the rate after a timeout or an overload status.
func (l *rateLearner) cut(now time.Time) {
	l.slowDown(now)
	l.resume(now, fullBucket)
}

// resume starts a new run of attempts at the end of a pause, over which
// the key's bucket refilled for refill.
func (l *rateLearner) resume(at time.Time, refill time.Duration) {
	l.resumeAt, l.refill = at, refill
	l.sends = l.sends[:0]
}

func (l *rateLearner) sent(now time.Time) {
	if !now.Before(l.resumeAt) {
		l.sends = append(l.sends, now.Sub(l.resumeAt))
	}
}

// current is the learned rate in force at now.
func (l *rateLearner) current(now time.Time) float64 {
	elapsed := max(0, now.Sub(l.resumeAt).Seconds())
	r := l.rate
	if l.slowStart {
		r *= math.Exp2(elapsed / slowStartDoubling.Seconds())
	} else if l.estimate > 0 {
		r = math.Min(l.top, r+steadyGrowth*l.estimate*elapsed)
	}
	if l.maxRate > 0 {
		r = math.Min(r, l.maxRate*jitterMargin(l.maxBurst, l.maxRate, max(l.allowance, jitterAllowance)))
	}
	return math.Min(r, maxLearnedRate)
}

// apply sets lim to the rate and burst in force at now.
func (l *rateLearner) apply(now time.Time, lim *rate.Limiter) {
	r := rate.Limit(l.current(now))
	if old := lim.Limit(); math.Abs(float64(r-old)) > 0.005*float64(old) {
		lim.SetLimitAt(now, r)
	}
	if b := l.limiterBurst(); lim.Burst() != b {
		lim.SetBurstAt(now, b)
	}
}

// limiterBurst is the burst our limiter allows the key: burstShare of the
// key's, never more than configured.
func (l *rateLearner) limiterBurst() int {
	return int(math.Max(1, math.Min(l.maxBurst, math.Floor(burstShare*l.burst))))
}

// estimateRate replays sends (offsets since the end of a pause) against
// token buckets of size burst and different rates (see bracketRates). It
// returns two points of the range of rates it finds: a safe guess (the
// lower end, or half the upper end if more) and the middle. tight says the
// range is a single rate (the sends were evenly spaced at it). ok is false
// if no rate explains the throttle.
func estimateRate(sends []time.Duration, throttledAt time.Duration, burst float64, refill time.Duration) (lower, middle float64, tight, ok bool) {
	lo, hi, ok := bracketRates(sends, throttledAt, burst, refill)
	if !ok {
		return 0, 0, false, false
	}
	tight = lo > minLearnedRate && hi <= lo*(1+tightBracket)
	lower, middle = guesses(lo, hi)
	return lower, middle, tight, true
}

// guesses are two points of a range [lo, hi) of a key's rates: a safe
// guess and the middle. The lower end is exact when the sends were dense,
// and 0 when the throttled send was the first: then half the upper end is
// the safe guess.
func guesses(lo, hi float64) (lower, middle float64) {
	return math.Max(minLearnedRate, math.Max(lo, hi/2)), math.Max(minLearnedRate, (lo+hi)/2)
}

// bracketRates replays sends (offsets from a start) against token buckets
// of size burst and different rates. The bucket was empty at the start and
// refilled for refill before it (fullBucket: it was full). It returns the
// range [lo, hi) of rates under which every send before the one at
// throttledAt found a token and that one did not; ok is false if there is
// none.
func bracketRates(sends []time.Duration, throttledAt time.Duration, burst float64, refill time.Duration) (lo, hi float64, ok bool) {
	// Sends that left together (one dispatch) reach the key in any order:
	// the throttled one is taken for the last of them.
	idx := sort.Search(len(sends), func(i int) bool { return sends[i] > throttledAt }) - 1
	if idx < 0 || sends[idx] != throttledAt {
		// Not among the sends: the first one after it stands in.
		if idx++; idx == len(sends) {
			return 0, 0, false
		}
	}
	passes := func(r float64) (earlierOK, throttledOK bool) {
		level, last := burst, time.Duration(0)
		if refill != fullBucket {
			level = math.Min(burst, r*refill.Seconds())
		}
		for i := 0; i <= idx; i++ {
			level = math.Min(burst, level+r*(sends[i]-last).Seconds())
			last = sends[i]
			if level < 1 {
				return i == idx, false
			}
			level--
		}
		return true, true
	}
	if _, throttledOK := passes(0); throttledOK {
		return 0, 0, false // the burst alone let the throttled send through
	}
	lo = bisect(func(r float64) bool { ok, _ := passes(r); return ok })
	hi = bisect(func(r float64) bool { _, ok := passes(r); return ok })
	if lo > hi || hi >= maxLearnedRate {
		return 0, 0, false
	}
	return lo, hi, true
}

// bisect returns the least rate in [0, maxLearnedRate] at which pred, false
// below it and true above, becomes true.
func bisect(pred func(float64) bool) float64 {
	lo, hi := 0.0, maxLearnedRate
	if !pred(hi) {
		return hi
	}
	for range 80 {
		mid := (lo + hi) / 2
		if pred(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
