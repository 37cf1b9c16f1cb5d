package fanout

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// stop handles the end of the run's context: tasks not running are
// reported at once (not_run if they never ran; the last outcome if they
// were waiting to retry), running ones are cancelled (their contexts derive
// from the run's) and get a grace period to return.
func (r *runner[T]) stop() {
	r.stopping = true
	r.stopState, r.stopReason = StateError, ReasonCancelled
	cause := context.Cause(r.ctx)
	if errors.Is(cause, errRunDeadline) || errors.Is(cause, context.DeadlineExceeded) {
		r.stopState, r.stopReason = StateTimeout, ReasonDeadline
	}
	now := time.Now()
	r.graceEnd = now.Add(r.s.grace)
	for i := range r.st {
		t := &r.st[i]
		switch {
		case t.running || t.reported:
		case t.waiting == waitLocal:
			r.report(i, outcome{StateError, ReasonLocalResources,
				fmt.Errorf("local resources (file descriptors) still exhausted when the run ended: %w", t.last.err)})
		case t.waiting == waitRetry:
			r.reportLast(i)
		case r.stopReason == ReasonDeadline && now.Before(t.key.cooldownUntil):
			r.reportQueued(i, ReasonRateLimited)
		default:
			r.reportQueued(i, r.stopReason)
		}
	}
}

func (r *runner[T]) stopMessage() string {
	if r.stopReason == ReasonDeadline {
		return fmt.Sprintf("deadline of %s reached", r.ends.Sub(r.start).Round(time.Millisecond))
	}
	return "run cancelled (" + context.Cause(r.ctx).Error() + ")"
}

// abandonRunning reports every attempt still running at the end of the
// grace period.
func (r *runner[T]) abandonRunning() {
	for i := range r.st {
		if t := &r.st[i]; t.running && !t.reported {
			r.abandonAttempt(i, outcome{r.stopState, r.stopReason,
				fmt.Errorf("%s while running; abandoned after a grace of %s", r.stopMessage(), r.s.grace)})
		}
	}
}

// abandonAttempt reports a task whose attempt ignored its context. The
// attempt keeps its slots until it returns, if it ever does.
func (r *runner[T]) abandonAttempt(i int, o outcome) {
	t := &r.st[i]
	t.duration += time.Since(t.attemptStart)
	r.report(i, o)
}

// close ends the run. If the consumer stopped early, running attempts are
// cancelled and given the grace period to return. Attempts still running
// after that are abandoned: closing r.abandon lets them exit when they
// return.
func (r *runner[T]) close() {
	r.cancel(errConsumerGone)
	if r.consumerGone {
		r.drain()
	}
	r.timer.Stop()
	close(r.abandon)
	r.fillStats()
}

// drain waits, at most the grace period, for the attempts still running
// when the consumer stopped listening. Their results are dropped.
func (r *runner[T]) drain() {
	waiting := 0
	for i := range r.st {
		if r.st[i].running && !r.st[i].reported {
			waiting++
		}
	}
	grace := time.NewTimer(r.s.grace)
	defer grace.Stop()
	for waiting > 0 {
		select {
		case c := <-r.done:
			t := &r.st[c.index]
			if !t.reported {
				t.reported = true
				waiting--
			}
			r.release(t, c.end)
			t.cancel()
		case <-grace.C:
			return
		}
	}
}

// panicError turns a recovered panic into the task's error.
func panicError(p any) error {
	return &Error{State: StateError, Reason: ReasonPanic, Err: fmt.Errorf("panic: %v%s", p, panicSite())}
}
