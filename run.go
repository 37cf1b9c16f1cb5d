package fanout

import (
	"context"
	"iter"
	"time"
)

// Task is one unit of work.
type Task[T any] struct {
	// Key groups tasks under the per-key limit (for probes, the dialled
	// host:port). Tasks with an empty Key share no per-key limit.
	Key string
	// Timeout overrides the run's per-attempt timeout when positive.
	Timeout time.Duration
	// Do performs one attempt. It must return soon after ctx is done; a Do
	// that does not is abandoned (see the package documentation). A panic
	// in Do becomes the task's StateError result with ReasonPanic. Do must
	// not start goroutines that can panic: the engine cannot recover those.
	Do func(ctx context.Context) (T, error)
}

// Run starts the tasks when the returned sequence is iterated and yields one
// result per task, exactly once each. The loop that schedules the tasks runs
// in the iterating goroutine, so the loop body should be quick: while it
// runs, no new task starts. Breaking out of the loop cancels the tasks still
// running and waits at most the grace period for them.
//
// Run panics if an option is out of range (a limit or a duration below 1).
// Cancelling ctx ends the run as the deadline does, with ReasonCancelled:
// unstarted tasks end StateNotRun, running ones StateError.
func Run[T any](ctx context.Context, tasks []Task[T], opts ...Option) iter.Seq[Result[T]] {
	s := newSettings(opts)
	s.validate()
	return func(yield func(Result[T]) bool) {
		if len(tasks) == 0 {
			return
		}
		r := newRunner(ctx, s, tasks, yield)
		r.loop()
	}
}

// Collect runs the tasks and returns their results in input order.
func Collect[T any](ctx context.Context, tasks []Task[T], opts ...Option) []Result[T] {
	results := make([]Result[T], len(tasks))
	for res := range Run(ctx, tasks, opts...) {
		results[res.Index] = res
	}
	return results
}
