package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gauge counts tasks in flight and remembers the peak.
type gauge struct{ now, peak atomic.Int64 }

func (g *gauge) enter() {
	n := g.now.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
}
func (g *gauge) leave() { g.now.Add(-1) }

// sleepTask sleeps d (or until ctx ends) inside the gauges.
func sleepTask(d time.Duration, gs ...*gauge) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		for _, g := range gs {
			g.enter()
			defer g.leave()
		}
		select {
		case <-time.After(d):
			return 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// checkExactlyOnce fails unless results hold each index of n exactly once.
func checkExactlyOnce[T any](t *testing.T, n int, results []fanout.Result[T]) {
	t.Helper()
	seen := make([]int, n)
	for _, r := range results {
		seen[r.Index]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("task %d reported %d times, want once", i, c)
		}
	}
}

func runAll[T any](ctx context.Context, tasks []fanout.Task[T], opts ...fanout.Option) []fanout.Result[T] {
	var out []fanout.Result[T]
	for r := range fanout.Run(ctx, tasks, opts...) {
		out = append(out, r)
	}
	return out
}

func TestLimitsAreHonouredAndReached(t *testing.T) {
	cases := []struct {
		name              string
		keys, global, per int
		wantPeak          int64 // the binding limit
	}{
		{"global binds", 10, 20, 3, 20},
		{"per-key binds", 4, 50, 5, 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var all gauge
			perKey := make([]gauge, tc.keys)
			tasks := make([]fanout.Task[int], 500)
			for i := range tasks {
				k := i % tc.keys
				tasks[i] = fanout.Task[int]{Key: fmt.Sprint("host", k), Do: sleepTask(2*time.Millisecond, &all, &perKey[k])}
			}
			results := runAll(context.Background(), tasks, fanout.Concurrency(tc.global), fanout.PerKey(tc.per))
			checkExactlyOnce(t, len(tasks), results)
			for _, r := range results {
				if r.State != fanout.StateOK {
					t.Fatalf("task %d: %s %s %v", r.Index, r.State, r.Reason, r.Err)
				}
			}
			if p := all.peak.Load(); p != tc.wantPeak {
				t.Errorf("global peak in flight = %d, want exactly %d", p, tc.wantPeak)
			}
			for k := range perKey {
				if p := perKey[k].peak.Load(); p > int64(tc.per) {
					t.Errorf("key %d peak in flight = %d, above the per-key limit %d", k, p, tc.per)
				}
			}
		})
	}
}

func TestKeyLimitOverridesPerKey(t *testing.T) {
	var slow, other gauge
	var tasks []fanout.Task[int]
	for range 40 {
		tasks = append(tasks, fanout.Task[int]{Key: "slow", Do: sleepTask(2*time.Millisecond, &slow)})
		tasks = append(tasks, fanout.Task[int]{Key: "other", Do: sleepTask(2*time.Millisecond, &other)})
	}
	limit := func(key string) fanout.Limits {
		if key == "slow" {
			return fanout.Limits{Concurrency: 1}
		}
		return fanout.Limits{}
	}
	runAll(context.Background(), tasks, fanout.PerKey(4), fanout.KeyLimits(limit))
	if slow.peak.Load() != 1 || other.peak.Load() != 4 {
		t.Errorf("peaks: slow %d (want 1), other %d (want 4)", slow.peak.Load(), other.peak.Load())
	}
}

func TestHeadOfLineBlocking(t *testing.T) {
	// One host with 1,000 slow tasks at per-key 2 next to 100 hosts with one
	// task each: the others must finish in about one round trip, not wait
	// behind the queue.
	const rtt = 50 * time.Millisecond
	var tasks []fanout.Task[int]
	for range 1000 {
		tasks = append(tasks, fanout.Task[int]{Key: "busy", Do: sleepTask(rtt)})
	}
	for i := range 100 {
		tasks = append(tasks, fanout.Task[int]{Key: fmt.Sprint("host", i), Do: sleepTask(rtt)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	var othersDone time.Duration
	left := 100
	for r := range fanout.Run(ctx, tasks, fanout.PerKey(2), fanout.Concurrency(256)) {
		if r.Key != "busy" {
			if r.State != fanout.StateOK {
				t.Fatalf("%s: %s %v", r.Key, r.State, r.Err)
			}
			if left--; left == 0 {
				othersDone = time.Since(start)
				cancel() // the busy host would take 25 s; we have our answer
			}
		}
	}
	// One round trip is 50 ms; behind the busy host's queue it would be 25 s.
	if othersDone > 10*rtt {
		t.Errorf("the 100 other hosts took %s, want about one round trip (%s)", othersDone, rtt)
	}
}

func TestDeadlineReportsNotRunAndAbandonsIgnoringTask(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ignoring := func(context.Context) (int, error) { <-release; return 0, nil }
	tasks := []fanout.Task[int]{{Key: "a", Do: ignoring}, {Key: "a", Do: sleepTask(time.Hour)}}
	for range 20 {
		tasks = append(tasks, fanout.Task[int]{Key: "a", Do: sleepTask(time.Hour)})
	}
	start := time.Now()
	results := fanout.Collect(context.Background(), tasks,
		fanout.PerKey(2), fanout.Deadline(300*time.Millisecond), fanout.Timeout(time.Hour),
		fanout.Grace(100*time.Millisecond))
	elapsed := time.Since(start)
	if elapsed > 2*time.Second {
		t.Fatalf("Run took %s with a 300ms deadline and a 100ms grace", elapsed)
	}
	checkExactlyOnce(t, len(tasks), results)
	want := func(i int, s fanout.State, r fanout.Reason) {
		t.Helper()
		if results[i].State != s || results[i].Reason != r {
			t.Errorf("task %d: %s/%s (%v), want %s/%s", i, results[i].State, results[i].Reason, results[i].Err, s, r)
		}
	}
	want(0, fanout.StateTimeout, fanout.ReasonDeadline) // ignored ctx: abandoned
	want(1, fanout.StateTimeout, fanout.ReasonDeadline) // honoured ctx
	for i := 2; i < len(tasks); i++ {
		want(i, fanout.StateNotRun, fanout.ReasonDeadline)
		if results[i].Attempts != 0 || !results[i].StartedAt.IsZero() {
			t.Errorf("task %d never ran but has %d attempts", i, results[i].Attempts)
		}
	}
	if !strings.Contains(results[0].Err.Error(), "abandoned") {
		t.Errorf("abandoned task's error %q does not say so", results[0].Err)
	}
}

func TestAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var ignoringDone atomic.Bool
	tasks := []fanout.Task[int]{
		{Key: "h", Do: sleepTask(time.Hour)}, // honours ctx
		{Key: "h", Do: func(context.Context) (int, error) { <-release; ignoringDone.Store(true); return 0, nil }},
		{Key: "h", Do: sleepTask(time.Millisecond)},
	}
	start := time.Now()
	results := fanout.Collect(context.Background(), tasks,
		fanout.PerKey(2), fanout.Timeout(100*time.Millisecond), fanout.Grace(50*time.Millisecond), fanout.Retries(0), fanout.Adaptive(false))
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("run took %s", el)
	}
	for i, r := range results[:2] {
		if r.State != fanout.StateTimeout || r.Reason != fanout.ReasonTimeout {
			t.Errorf("task %d: %s/%s, want timeout/timeout", i, r.State, r.Reason)
		}
	}
	// The abandoned attempt keeps its slot, so task 2 ran after task 0 freed one.
	if results[2].State != fanout.StateOK {
		t.Errorf("task 2: %s %v", results[2].State, results[2].Err)
	}
	if ignoringDone.Load() {
		t.Error("the ignoring task was not still running when the run ended")
	}
}

func TestCallerCancel(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	tasks := make([]fanout.Task[int], 50)
	var started atomic.Int32
	for i := range tasks {
		tasks[i] = fanout.Task[int]{Key: fmt.Sprint(i % 5), Do: func(ctx context.Context) (int, error) {
			if started.Add(1) == 5 {
				cancel(errors.New("interrupted"))
			}
			<-ctx.Done()
			return 0, ctx.Err()
		}}
	}
	results := fanout.Collect(ctx, tasks, fanout.PerKey(1))
	checkExactlyOnce(t, len(tasks), results)
	var running, notRun int
	for _, r := range results {
		switch {
		case r.State == fanout.StateError && r.Reason == fanout.ReasonCancelled:
			running++
		case r.State == fanout.StateNotRun && r.Reason == fanout.ReasonCancelled:
			notRun++
		default:
			t.Errorf("task %d: %s/%s", r.Index, r.State, r.Reason)
		}
	}
	if running != 5 || notRun != 45 {
		t.Errorf("running %d (want 5), not run %d (want 45)", running, notRun)
	}
	if !strings.Contains(results[0].Err.Error(), "interrupted") {
		t.Errorf("error %q does not name the cause", results[0].Err)
	}
}

func TestPanicBecomesError(t *testing.T) {
	tasks := []fanout.Task[int]{
		{Do: func(context.Context) (int, error) { panic("boom") }},
		{Do: func(context.Context) (int, error) {
			var m map[string]int
			//lint:ignore SA5000 a runtime panic is what this task is for
			m["x"] = 1
			return 1, nil
		}},
		{Do: sleepTask(time.Millisecond)},
	}
	results := fanout.Collect(context.Background(), tasks)
	for i, want := range []string{"panic: boom", "assignment to entry in nil map"} {
		r := results[i]
		if r.State != fanout.StateError || r.Reason != fanout.ReasonPanic || !strings.Contains(r.Err.Error(), want) {
			t.Errorf("task %d: %s/%s %v", i, r.State, r.Reason, r.Err)
		}
		if !strings.Contains(r.Err.Error(), "engine_test.go") {
			t.Errorf("task %d: error %q does not name where it panicked", i, r.Err)
		}
	}
	if results[2].State != fanout.StateOK {
		t.Errorf("the run did not go on after a panic: %v", results[2])
	}
}

func TestOrders(t *testing.T) {
	// Task i sleeps (n-i) ms: completion order is roughly the reverse.
	const n = 30
	tasks := make([]fanout.Task[int], n)
	for i := range tasks {
		d := time.Duration(n-i) * 3 * time.Millisecond
		tasks[i] = fanout.Task[int]{Do: sleepTask(d)}
	}
	var in, done []int
	for r := range fanout.Run(context.Background(), tasks, fanout.WithOrder(fanout.InputOrder)) {
		in = append(in, r.Index)
	}
	for r := range fanout.Run(context.Background(), tasks) {
		done = append(done, r.Index)
	}
	for i, idx := range in {
		if idx != i {
			t.Fatalf("input order: position %d holds task %d", i, idx)
		}
	}
	if done[0] < n/2 || len(done) != n {
		t.Errorf("completion order should start with a late task, got %v", done)
	}
}

func TestBreakingTheLoopCancelsTheRest(t *testing.T) {
	var cancelled atomic.Int32
	tasks := make([]fanout.Task[int], 20)
	for i := range tasks {
		d := time.Duration(i) * 10 * time.Millisecond
		tasks[i] = fanout.Task[int]{Do: func(ctx context.Context) (int, error) {
			select {
			case <-time.After(d):
				return 0, nil
			case <-ctx.Done():
				cancelled.Add(1)
				return 0, ctx.Err()
			}
		}}
	}
	n := 0
	for range fanout.Run(context.Background(), tasks) {
		if n++; n == 3 {
			break
		}
	}
	if cancelled.Load() == 0 {
		t.Error("breaking the loop did not cancel the running tasks")
	}
}

func TestQueuedTellsSaturationFromSlowness(t *testing.T) {
	tasks := make([]fanout.Task[int], 4)
	for i := range tasks {
		tasks[i] = fanout.Task[int]{Key: "one", Do: sleepTask(50 * time.Millisecond)}
	}
	results := fanout.Collect(context.Background(), tasks, fanout.PerKey(1))
	if results[0].Queued > 20*time.Millisecond {
		t.Errorf("first task queued %s, want ~0", results[0].Queued)
	}
	if results[3].Queued < 140*time.Millisecond {
		t.Errorf("fourth task queued %s, want ≥ 3 × 50ms", results[3].Queued)
	}
	if d := results[3].Duration; d < 50*time.Millisecond || d > time.Second {
		t.Errorf("fourth task duration %s, want ~50ms", d)
	}
}

func TestErrorsCarryTheirClass(t *testing.T) {
	tasks := []fanout.Task[string]{
		{Do: func(context.Context) (string, error) {
			return "status 503", fanout.Failf(fanout.ReasonHTTPStatus, "status 503, want 2xx")
		}},
		{Do: func(context.Context) (string, error) { return "", errors.New("mystery") }},
	}
	results := fanout.Collect(context.Background(), tasks)
	if r := results[0]; r.State != fanout.StateFail || r.Reason != fanout.ReasonHTTPStatus || r.Value != "status 503" {
		t.Errorf("fail result: %+v", r)
	}
	if r := results[1]; r.State != fanout.StateError || r.Reason != fanout.ReasonOther {
		t.Errorf("unclassed error: %+v", r)
	}
}

func TestOptionsOutOfRangePanic(t *testing.T) {
	for _, opt := range []fanout.Option{fanout.Concurrency(0), fanout.PerKey(-1), fanout.Timeout(0), fanout.Deadline(-time.Second)} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.HasPrefix(fmt.Sprint(p), "fanout: ") {
					t.Errorf("panic = %v, want a fanout: message", p)
				}
			}()
			fanout.Run(context.Background(), []fanout.Task[int]{}, opt)
		}()
	}
}

func TestManyTasksExactlyOnceUnderRace(t *testing.T) {
	var mu sync.Mutex
	ran := map[int]int{}
	tasks := make([]fanout.Task[int], 5000)
	for i := range tasks {
		tasks[i] = fanout.Task[int]{Key: fmt.Sprint(i % 97), Do: func(context.Context) (int, error) {
			mu.Lock()
			ran[i]++
			mu.Unlock()
			if i%7 == 0 {
				return 0, errors.New("odd one")
			}
			return i, nil
		}}
	}
	results := runAll(context.Background(), tasks, fanout.Concurrency(64))
	checkExactlyOnce(t, len(tasks), results)
	for i := range tasks {
		if ran[i] != 1 {
			t.Fatalf("task %d ran %d times", i, ran[i])
		}
	}
}
