package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
)

// bucket is a token-bucket rate limiter standing in for a throttling API:
// rate tokens a second, at most burst, one per request.
type bucket struct {
	mu                 sync.Mutex
	rate, burst, level float64
	last               time.Time
	accepted, rejected int
	starts             []time.Time
}

func newBucket(rate, burst float64) *bucket {
	return &bucket{rate: rate, burst: burst, level: burst, last: time.Now()}
}

func (b *bucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.starts = append(b.starts, now)
	b.level = min(b.burst, b.level+b.rate*now.Sub(b.last).Seconds())
	b.last = now
	if b.level < 1 {
		b.rejected++
		return false
	}
	b.level--
	b.accepted++
	return true
}

// api returns a task body for b: throttled with retryAfter when the bucket
// is empty, else answered after latency.
func (b *bucket) api(latency, retryAfter time.Duration, inflight *gauge) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		if inflight != nil {
			inflight.enter()
			defer inflight.leave()
		}
		if !b.take() {
			return 429, fanout.Throttle(retryAfter, errors.New("status 429"))
		}
		select {
		case <-time.After(latency):
			return 200, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func tasksFor(n int, key string, do func(context.Context) (int, error)) []fanout.Task[int] {
	tasks := make([]fanout.Task[int], n)
	for i := range tasks {
		tasks[i] = fanout.Task[int]{Key: key, Do: do}
	}
	return tasks
}

func allOK(t *testing.T, results []fanout.Result[int]) {
	t.Helper()
	for _, r := range results {
		if r.State != fanout.StateOK {
			t.Fatalf("task %d: %s/%s after %d attempts: %v", r.Index, r.State, r.Reason, r.Attempts, r.Err)
		}
	}
}

func TestThrottlePausesTheKeyForEveryTask(t *testing.T) {
	b := newBucket(10, 4) // 4 at once, then 10 a second
	const pause = 400 * time.Millisecond
	results := fanout.Collect(context.Background(), tasksFor(12, "api", b.api(5*time.Millisecond, pause, nil)), noRamp)
	allOK(t, results)
	// The first wave: 8 at once (the per-key limit), 4 accepted, 4
	// throttled. Nothing may start during the pause that followed.
	b.mu.Lock()
	defer b.mu.Unlock()
	firstThrottle := b.starts[4]
	for _, s := range b.starts[8:] {
		if d := s.Sub(firstThrottle); d < pause-20*time.Millisecond {
			t.Errorf("a request started %s after the first throttle, inside the %s pause", d, pause)
		}
	}
	if b.rejected > 8 {
		t.Errorf("%d throttled requests: the pause should hold every worker back", b.rejected)
	}
	throttled := 0
	for _, r := range results {
		throttled += r.Throttled
		if r.Attempts != 1+r.Throttled || r.Retries != 0 {
			t.Errorf("task %d: %d attempts, %d throttled, %d retries", r.Index, r.Attempts, r.Throttled, r.Retries)
		}
	}
	if throttled != b.rejected {
		t.Errorf("results count %d throttles, the server sent %d", throttled, b.rejected)
	}
}

func TestLearnedRateKeepsThrottlesFew(t *testing.T) {
	// A key that allows 40 a second with a burst of 10 and asks for a
	// pause of 1s: after its ramp and a throttle, the engine learns its
	// rate.
	b := newBucket(40, 10)
	var st fanout.Stats
	results := fanout.Collect(context.Background(), tasksFor(120, "api", b.api(5*time.Millisecond, time.Second, nil)),
		fanout.WithStats(&st))
	allOK(t, results)
	if b.rejected > 10 {
		t.Errorf("the key throttled %d requests, want at most 10", b.rejected)
	}
	if len(st.Keys) != 1 || st.Keys[0].RateEnd <= 0 || st.Keys[0].RateEnd > 60 {
		t.Errorf("key stats %+v: want a learned rate near 40/s", st.Keys)
	}
	if st.Throttled != b.rejected {
		t.Errorf("stats count %d throttles, the server sent %d", st.Throttled, b.rejected)
	}
}

// A key's first attempts are paced: 60 ms apart, each gap 15% shorter,
// until the gap is under 5 ms; then the key runs at its concurrency limit.
// NoRamp starts the key at full speed.
func TestRampPacesAKeysFirstAttempts(t *testing.T) {
	b := newBucket(1e6, 1e6) // never throttles
	allOK(t, fanout.Collect(context.Background(), tasksFor(40, "api", b.api(20*time.Millisecond, time.Second, nil))))
	want := 60 * time.Millisecond
	for i := 1; i <= 8; i++ {
		// 5 ms of slack: the gap is measured inside the tasks, whose
		// goroutines start a little after the dispatcher let them.
		if gap := b.starts[i].Sub(b.starts[i-1]); gap < want-5*time.Millisecond {
			t.Errorf("attempt %d started %s after the one before, want ≥ %s", i+1, gap, want)
		}
		want = want * 85 / 100
	}
	if span := b.starts[len(b.starts)-1].Sub(b.starts[19]); span > 300*time.Millisecond {
		t.Errorf("after the ramp 20 tasks of 20 ms at 8 a time took %s: the ramp should be over", span)
	}

	fast := newBucket(1e6, 1e6)
	allOK(t, fanout.Collect(context.Background(), tasksFor(8, "api", fast.api(20*time.Millisecond, time.Second, nil)), noRamp))
	if span := fast.starts[7].Sub(fast.starts[0]); span > 15*time.Millisecond {
		t.Errorf("without a ramp the first 8 starts spanned %s, want them at once", span)
	}
}

// A key that lets no burst through throttles the ramp once, at the first
// gap its rate does not allow; the engine then holds a rate under it with
// room for jitter, and the key throttles no more.
func TestRampTellsTheRateOfAKeyWithoutBurst(t *testing.T) {
	b := newBucket(40, 1)
	var st fanout.Stats
	allOK(t, fanout.Collect(context.Background(), tasksFor(50, "api", b.api(5*time.Millisecond, 300*time.Millisecond, nil)),
		fanout.WithStats(&st)))
	if b.rejected > 2 {
		t.Errorf("the key throttled %d requests, want the ramp's one (two with a jitter throttle)", b.rejected)
	}
	if r := st.Keys[0].RateEnd; r < 0.7*40 || r > 40 {
		t.Errorf("learned rate %.2f/s, want within 30%% under the key's 40/s", r)
	}
}

// After a first throttle the key's bucket has refilled during the pause, and
// so has ours: the first attempts after it start at once, up to 80% of what
// the key accepted before, rather than paced from an empty bucket.
func TestFirstPauseRefillsTheLearnedBurst(t *testing.T) {
	b := newBucket(10, 6)
	const pause = 300 * time.Millisecond
	allOK(t, fanout.Collect(context.Background(), tasksFor(16, "api", b.api(5*time.Millisecond, pause, nil)), noRamp))
	b.mu.Lock()
	defer b.mu.Unlock()
	// The first wave: 8 at once, 6 accepted. After the pause, 4 (80%)
	// start together.
	after := -1
	for i := 1; i < len(b.starts); i++ {
		if b.starts[i].Sub(b.starts[i-1]) > pause-20*time.Millisecond {
			after = i
			break
		}
	}
	if after < 0 || after+4 > len(b.starts) {
		t.Fatalf("no pause in the starts")
	}
	if span := b.starts[after+3].Sub(b.starts[after]); span > 20*time.Millisecond {
		t.Errorf("the first 4 attempts after the pause spanned %s, want them at once", span)
	}
}

func TestKeyRateBelowTheLimitMeansNoThrottle(t *testing.T) {
	b := newBucket(50, 1)
	start := time.Now()
	results := fanout.Collect(context.Background(), tasksFor(20, "api", b.api(time.Millisecond, time.Second, nil)),
		fanout.KeyRate(40))
	allOK(t, results)
	if b.rejected != 0 {
		t.Errorf("%d throttles at a rate below the key's", b.rejected)
	}
	if d := time.Since(start); d < 19*time.Second/40-50*time.Millisecond {
		t.Errorf("20 requests at 40/s took %s, faster than the rate allows", d)
	}
}

// A key rate with a burst of 1 runs a little under the rate: a key whose own
// bucket lets no burst through throttles an attempt that arrives a hair
// early, so attempts leave 5 ms more than 1/rate apart.
func TestKeyRateOfBurstOneLeavesRoomForJitter(t *testing.T) {
	b := newBucket(1000, 1000)
	allOK(t, fanout.Collect(context.Background(), tasksFor(21, "api", b.api(0, time.Second, nil)),
		fanout.KeyRate(50)))
	// 20 gaps of 20 ms at exactly 50/s would span 400 ms; of 25 ms, 500 ms.
	if span := b.starts[20].Sub(b.starts[0]); span < 480*time.Millisecond {
		t.Errorf("21 starts at 50/s, burst 1, spanned %s, want ≥ 480ms (20 gaps of 20 ms + 5 ms)", span)
	}
}

// At burst 1 an answer slower than the key's fastest may have reached the
// key late, so the next attempt leaves as much later (up to a quarter of the
// interval): two attempts must not reach a no-burst key closer than its rate.
func TestSlowAnswerPushesTheNextAttemptAtBurstOne(t *testing.T) {
	var mu sync.Mutex
	var starts []time.Time
	var slow []bool
	do := func(ctx context.Context) (int, error) {
		mu.Lock()
		n := len(starts)
		starts = append(starts, time.Now())
		slow = append(slow, n%2 == 1)
		mu.Unlock()
		d := 2 * time.Millisecond
		if n%2 == 1 {
			d = 80 * time.Millisecond
		}
		time.Sleep(d)
		return 1, nil
	}
	allOK(t, fanout.Collect(context.Background(), tasksFor(9, "api", do), fanout.KeyRate(5)))
	// 5/s at burst 1 is an attempt each 205 ms; after an 80 ms answer (78
	// ms late) the next waits 51 ms more (a quarter of the interval). The
	// bound leaves 26 ms for a slow start of the slow task's goroutine.
	for i := 1; i+1 < len(starts); i++ {
		gap := starts[i+1].Sub(starts[i])
		if slow[i] && gap < 230*time.Millisecond {
			t.Errorf("attempt %d came %s after a slow one, want ≥ 230ms (205 + 51, less slack)", i+1, gap)
		}
	}
}

func TestGlobalRate(t *testing.T) {
	var mu sync.Mutex
	var starts []time.Time
	do := func(context.Context) (int, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return 1, nil
	}
	var tasks []fanout.Task[int]
	for i := range 10 {
		tasks = append(tasks, fanout.Task[int]{Key: fmt.Sprint(i), Do: do})
	}
	allOK(t, fanout.Collect(context.Background(), tasks, fanout.Rate(20)))
	if span := starts[len(starts)-1].Sub(starts[0]); span < 400*time.Millisecond {
		t.Errorf("10 starts at 20/s spanned %s, want ≥ 450ms", span)
	}
}

func TestThrottleWithoutHintBacksOffExponentially(t *testing.T) {
	var starts []time.Time
	var mu sync.Mutex
	do := func(context.Context) (int, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return 429, fanout.Throttle(0, errors.New("status 429"))
	}
	results := fanout.Collect(context.Background(), tasksFor(1, "api", do), fanout.Deadline(4*time.Second))
	// Pauses of 1s then 2s fit; the next (4s) would outlast the run.
	r := results[0]
	if r.State != fanout.StateFail || r.Reason != fanout.ReasonRateLimited || r.Attempts != 3 {
		t.Fatalf("%s/%s after %d attempts: %v", r.State, r.Reason, r.Attempts, r.Err)
	}
	if g1, g2 := starts[1].Sub(starts[0]), starts[2].Sub(starts[1]); g1 < 950*time.Millisecond || g2 < 1950*time.Millisecond || g2 > 3*time.Second {
		t.Errorf("pauses %s and %s, want 1s then 2s", g1, g2)
	}
}

func TestPauseBeyondTheDeadlineEndsTheKeyAtOnce(t *testing.T) {
	var calls atomic.Int32
	do := func(context.Context) (int, error) {
		calls.Add(1)
		return 429, fanout.Throttle(time.Hour, errors.New("status 429"))
	}
	start := time.Now()
	results := fanout.Collect(context.Background(), tasksFor(30, "api", do), fanout.PerKey(1), fanout.Deadline(time.Minute))
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s: a pause past the deadline should end the key's tasks at once", d)
	}
	if r := results[0]; r.State != fanout.StateFail || r.Reason != fanout.ReasonRateLimited {
		t.Errorf("throttled task: %s/%s", r.State, r.Reason)
	}
	for _, r := range results[1:] {
		if r.State != fanout.StateNotRun || r.Reason != fanout.ReasonRateLimited || r.Attempts != 0 {
			t.Errorf("task %d: %s/%s, %d attempts", r.Index, r.State, r.Reason, r.Attempts)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("%d requests sent to a key paused for an hour", calls.Load())
	}
}

func TestRequeuesAreCapped(t *testing.T) {
	do := func(context.Context) (int, error) {
		return 429, fanout.Throttle(time.Millisecond, errors.New("status 429"))
	}
	r := fanout.Collect(context.Background(), tasksFor(1, "api", do))[0]
	if r.State != fanout.StateFail || r.Reason != fanout.ReasonRateLimited ||
		r.Attempts != fanout.MaxRequeues+1 || r.Throttled != fanout.MaxRequeues+1 || r.Retries != 0 {
		t.Errorf("%s/%s, %d attempts, %d throttled, %d retries", r.State, r.Reason, r.Attempts, r.Throttled, r.Retries)
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	refused := &fanout.Error{State: fanout.StateError, Reason: fanout.ReasonRefused, Err: syscall.ECONNREFUSED}
	var mu sync.Mutex
	var starts []time.Time
	do := func(context.Context) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		starts = append(starts, time.Now())
		if len(starts) <= 2 {
			return 0, refused
		}
		return 1, nil
	}
	r := fanout.Collect(context.Background(), tasksFor(1, "db", do))[0]
	if r.State != fanout.StateOK || r.Attempts != 3 || r.Retries != 2 {
		t.Fatalf("%s after %d attempts (%d retries): %v", r.State, r.Attempts, r.Retries, r.Err)
	}
	// Full jitter: the n-th wait is in [0, 200ms × 2^(n-1)].
	for n, max := range []time.Duration{fanout.BackoffBase, 2 * fanout.BackoffBase} {
		if gap := starts[n+1].Sub(starts[n]); gap > max+100*time.Millisecond {
			t.Errorf("wait before retry %d was %s, above %s", n+1, gap, max)
		}
	}
}

func TestOnlyErrorsWorthRetryingAreRetried(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int // attempts
	}{
		{"refused", &fanout.Error{State: fanout.StateError, Reason: fanout.ReasonRefused, Err: errors.New("refused")}, 3},
		{"timeout", &fanout.Error{State: fanout.StateTimeout, Reason: fanout.ReasonTimeout, Err: errors.New("slow")}, 3},
		{"502 marked retryable", fanout.Retryable(fanout.Failf(fanout.ReasonHTTPStatus, "status 502")), 3},
		{"404", fanout.Failf(fanout.ReasonHTTPStatus, "status 404"), 1},
		{"failed condition", fanout.Failf(fanout.ReasonCondition, "body lacks UP"), 1},
		{"dns", &fanout.Error{State: fanout.StateError, Reason: fanout.ReasonDNS, Err: errors.New("no such host")}, 1},
		{"tls", &fanout.Error{State: fanout.StateError, Reason: fanout.ReasonTLS, Err: errors.New("bad cert")}, 1},
		{"unclassed", errors.New("mystery"), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			do := func(context.Context) (int, error) { return 0, tc.err }
			r := fanout.Collect(context.Background(), tasksFor(1, "k", do))[0]
			if r.Attempts != tc.want || r.Retries != tc.want-1 {
				t.Errorf("%d attempts (%d retries), want %d", r.Attempts, r.Retries, tc.want)
			}
		})
	}
	do := func(context.Context) (int, error) { panic("boom") }
	if r := fanout.Collect(context.Background(), tasksFor(1, "k", do))[0]; r.Attempts != 1 {
		t.Errorf("a panic was retried: %d attempts", r.Attempts)
	}
}

func TestNoRetryThatCannotFinishBeforeTheDeadline(t *testing.T) {
	refused := &fanout.Error{State: fanout.StateError, Reason: fanout.ReasonRefused, Err: errors.New("refused")}
	do := func(context.Context) (int, error) { return 0, refused }
	start := time.Now()
	r := fanout.Collect(context.Background(), tasksFor(1, "db", do),
		fanout.Timeout(2*time.Second), fanout.Deadline(time.Second))[0]
	if r.Attempts != 1 || r.State != fanout.StateError || r.Reason != fanout.ReasonRefused {
		t.Errorf("%s/%s after %d attempts: a retry needing 2s cannot fit in a 1s run", r.State, r.Reason, r.Attempts)
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("the run waited %s instead of ending", time.Since(start))
	}
}

func TestRetryBudget(t *testing.T) {
	refused := &fanout.Error{State: fanout.StateError, Reason: fanout.ReasonRefused, Err: errors.New("refused")}
	var calls atomic.Int32
	do := func(context.Context) (int, error) { calls.Add(1); return 0, refused }
	var st fanout.Stats
	var tasks []fanout.Task[int]
	for i := range 200 {
		tasks = append(tasks, fanout.Task[int]{Key: fmt.Sprint(i), Do: do})
	}
	fanout.Collect(context.Background(), tasks, fanout.WithStats(&st))
	// 10% of 200 tasks: 20 retries in the whole run, not 2 × 200.
	if st.RetryBudget != 20 || st.Retries != 20 || !st.RetryBudgetExhausted || calls.Load() != 220 {
		t.Errorf("budget %d, retries %d, exhausted %v, calls %d", st.RetryBudget, st.Retries, st.RetryBudgetExhausted, calls.Load())
	}
}

func TestAdaptiveConcurrencyDropsAndRecovers(t *testing.T) {
	// The key throttles for a moment (a deploy, say), then never again.
	var once sync.Once
	var t0 time.Time
	var inflight gauge
	var mu sync.Mutex
	var samples []int64 // in flight, every 5 ms
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-tk.C:
				mu.Lock()
				samples = append(samples, inflight.now.Load())
				mu.Unlock()
			case <-stop:
				return
			}
		}
	}()
	do := func(ctx context.Context) (int, error) {
		once.Do(func() { t0 = time.Now() })
		if since := time.Since(t0); since > 150*time.Millisecond && since < 250*time.Millisecond {
			return 429, fanout.Throttle(200*time.Millisecond, errors.New("status 429"))
		}
		inflight.enter()
		defer inflight.leave()
		time.Sleep(50 * time.Millisecond)
		return 1, nil
	}
	// No ramp: the throttle comes at full speed, as after a ramp that a
	// key let through (a throttle during the ramp holds a rate instead).
	allOK(t, fanout.Collect(context.Background(), tasksFor(300, "api", do), fanout.PerKey(8), noRamp))
	close(stop)
	<-sampled
	// Find the pause (nothing in flight after 8 were), then look at the
	// first 30 ms after it and at what follows.
	pause, resumed := -1, -1
	for i, n := range samples {
		switch {
		case pause < 0 && i > 0 && n == 0 && slices.Max(samples[:i]) == 8:
			pause = i
		case pause >= 0 && resumed < 0 && n > 0:
			resumed = i
		}
	}
	if pause < 0 || resumed < 0 || resumed+6 >= len(samples) {
		t.Fatalf("no pause then resumption in the samples %v", samples)
	}
	if after := slices.Max(samples[resumed : resumed+6]); after > 4 {
		t.Errorf("%d in flight just after the throttle: the limit of 8 should have halved; samples %v", after, samples)
	}
	if later := slices.Max(samples[resumed+6:]); later != 8 {
		t.Errorf("the limit never grew back to 8 (peak %d later); samples %v", later, samples)
	}
}

func TestLocalResourcesAreWaitedOut(t *testing.T) {
	var calls atomic.Int32
	do := func(context.Context) (int, error) {
		if calls.Add(1) <= 3 {
			return 0, fmt.Errorf("dial tcp: socket: %w", syscall.EMFILE)
		}
		return 1, nil
	}
	var st fanout.Stats
	r := fanout.Collect(context.Background(), tasksFor(1, "k", do), fanout.WithStats(&st))[0]
	if r.State != fanout.StateOK || r.Attempts != 1 || r.Retries != 0 || st.LocalWaits != 3 {
		t.Errorf("%s after %d attempts, %d retries, %d local waits: %v", r.State, r.Attempts, r.Retries, st.LocalWaits, r.Err)
	}
	always := func(context.Context) (int, error) { return 0, fmt.Errorf("socket: %w", syscall.EMFILE) }
	r = fanout.Collect(context.Background(), tasksFor(1, "k", always), fanout.Deadline(300*time.Millisecond))[0]
	if r.State != fanout.StateError || r.Reason != fanout.ReasonLocalResources {
		t.Errorf("descriptors exhausted to the end: %s/%s, want error/local_resources", r.State, r.Reason)
	}
}

func TestABackoffHoldsNoSlot(t *testing.T) {
	// One slot for the key: while the first task waits to retry, the
	// second one runs.
	refused := &fanout.Error{State: fanout.StateError, Reason: fanout.ReasonRefused, Err: errors.New("refused")}
	var mu sync.Mutex
	var order []string
	var first atomic.Int32
	tasks := []fanout.Task[int]{
		{Key: "db", Do: func(context.Context) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, "a")
			if first.Add(1) == 1 {
				return 0, refused
			}
			return 1, nil
		}},
		{Key: "db", Do: func(context.Context) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, "b")
			return 1, nil
		}},
	}
	// No ramp, which would hold b back 60 ms, longer than some backoffs.
	allOK(t, fanout.Collect(context.Background(), tasks, fanout.PerKey(1), noRamp))
	if strings.Join(order, "") != "aba" {
		t.Errorf("order %v: the second task should run while the first waits to retry", order)
	}
}

// noRamp starts every key at full speed (see fanout.Adaptive), for tests
// of what comes after a key's first attempts.
var noRamp = fanout.KeyLimits(func(string) fanout.Limits { return fanout.Limits{NoRamp: true} })
