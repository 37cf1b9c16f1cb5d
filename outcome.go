package fanout

import (
	"errors"
	"fmt"
	"time"
)

// classify turns an attempt's error into its outcome.
func (r *runner[T]) classify(err error, timedOut bool, timeout time.Duration) outcome {
	if err == nil {
		return outcome{StateOK, ReasonNone, nil}
	}
	state, reason := Classify(err)
	var fe *Error
	switch {
	case state == StateFail:
		// The target answered: that stands even if the run is ending.
	case r.stopping:
		return outcome{r.stopState, r.stopReason, fmt.Errorf("%s while running: %w", r.stopMessage(), err)}
	case timedOut && !errors.As(err, &fe):
		return outcome{StateTimeout, ReasonTimeout, fmt.Errorf("timed out after %s: %w", timeout, err)}
	}
	return outcome{state, reason, err}
}

// settle decides what becomes of task i after an attempt ended with o:
// re-queued after a throttle, re-run when descriptors free up, retried, or
// reported.
func (r *runner[T]) settle(i int, o outcome, err error, saturated bool, now time.Time) {
	t := &r.st[i]
	t.last = o
	var fe *Error
	classed := errors.As(err, &fe)
	if !(classed && fe.Throttled) && o.reason != ReasonLocalResources {
		t.key.finished(t.attemptStart, now)
	}
	switch {
	case r.stopping:
	case classed && fe.Throttled:
		r.throttle(i, fe.RetryAfter, now)
		return
	case o.reason == ReasonLocalResources:
		r.waitForResources(i, now)
		return
	}
	if o.state == StateOK || o.state == StateFail {
		t.key.accepted(now, saturated)
		r.localCap = min(r.s.concurrency, r.localCap+1)
	}
	if overload(o, classed && fe.Retryable) {
		t.key.overloaded(now, r.timeoutOf(i))
	}
	if !r.stopping && r.retryable(o, classed && fe.Retryable) && r.scheduleRetry(i, now) {
		return
	}
	r.report(i, o)
}

// overload reports whether an outcome says the key is struggling: a
// timeout, or an overload status (HTTP 502, 503, 504) marked Retryable.
func overload(o outcome, retryableFail bool) bool {
	return o.reason == ReasonTimeout || o.reason == ReasonConnectTimeout ||
		(o.state == StateFail && retryableFail)
}

// retryable reports whether an outcome is an error worth retrying.
func (r *runner[T]) retryable(o outcome, marked bool) bool {
	if marked {
		return true
	}
	switch o.reason {
	case ReasonRefused, ReasonReset, ReasonConnectTimeout, ReasonTimeout:
		return o.state != StateOK
	}
	return false
}

// scheduleRetry arranges an error retry of task i after a backoff, if the
// task has retries left, the run has budget left, and the retry can finish
// before the deadline. The task holds no slot while it waits.
func (r *runner[T]) scheduleRetry(i int, now time.Time) bool {
	t := &r.st[i]
	if t.retries >= r.s.retries {
		return false
	}
	if r.retries >= r.retryBudget {
		r.budgetExhausted = true
		return false
	}
	due := now.Add(backoff(t.retries+1, r.rnd))
	if due.Add(r.timeoutOf(i)).After(r.ends) {
		return false
	}
	t.retries++
	r.retries++
	t.retryNext = true
	t.waiting = waitRetry
	r.wakes.push(wake{at: due, kind: wakeTask, index: i})
	return true
}

// throttle pauses task i's key after a throttled answer and re-queues the
// task at the front of its key's queue, unless it was re-queued too often
// or the pause would outlast the run.
func (r *runner[T]) throttle(i int, hint time.Duration, now time.Time) {
	t := &r.st[i]
	k := t.key
	r.throttled++
	pause, _ := k.throttle(now, t.attemptStart, hint)
	t.requeues++
	if t.requeues > MaxRequeues {
		r.report(i, outcome{StateFail, ReasonRateLimited,
			fmt.Errorf("still throttled after %d re-queues: %w", MaxRequeues, t.last.err)})
		return
	}
	if !k.cooldownUntil.Before(r.ends) {
		r.report(i, outcome{StateFail, ReasonRateLimited,
			fmt.Errorf("throttled, and the pause of %s would outlast the run: %w", pause.Round(time.Millisecond), t.last.err)})
		r.flushKey(k)
		return
	}
	t.readyAt = now
	k.queue.pushFront(i)
	r.wakes.push(wake{at: k.cooldownUntil, kind: wakeKey, key: k})
}

// flushKey reports every task queued for a key that stays in cooldown past
// the deadline: they can never be sent.
func (r *runner[T]) flushKey(k *keyState) {
	for k.queue.len() > 0 {
		r.reportQueued(k.queue.popFront(), ReasonRateLimited)
	}
}

// waitForResources re-runs task i later: the machine ran out of
// descriptors, which says nothing of the target. The global limit drops to
// what is running now and grows back with each answer.
func (r *runner[T]) waitForResources(i int, now time.Time) {
	t := &r.st[i]
	t.attempts-- // it never reached the target
	t.localWaits++
	r.localWaits++
	r.localCap = max(1, r.active)
	if r.lowestCap == 0 || r.localCap < r.lowestCap {
		r.lowestCap = r.localCap
	}
	t.waiting = waitLocal
	r.wakes.push(wake{at: now.Add(localBackoff(t.localWaits, r.rnd)), kind: wakeTask, index: i})
}

// report emits the one result of task i.
func (r *runner[T]) report(i int, o outcome) {
	t := &r.st[i]
	t.reported = true
	r.reported++
	if r.consumerGone {
		return
	}
	res := Result[T]{
		Index: i, Key: r.tasks[i].Key, Value: r.values[i], Err: o.err,
		State: o.state, Reason: o.reason, Attempts: t.attempts,
		Retries: t.retries, Throttled: t.requeues,
		StartedAt: t.startedAt, Queued: t.queued, Duration: t.duration,
	}
	var zero T
	r.values[i] = zero
	if !r.order.emit(res, r.yield) {
		r.consumerGone = true
	}
}

// reportLast reports task i with the outcome of its last attempt.
func (r *runner[T]) reportLast(i int) { r.report(i, r.st[i].last) }

// reportQueued reports a task that is queued, not running, and will not run.
func (r *runner[T]) reportQueued(i int, reason Reason) {
	t := &r.st[i]
	switch {
	case t.attempts == 0 && reason == ReasonRateLimited:
		r.report(i, outcome{StateNotRun, ReasonRateLimited,
			errors.New("not started: its host stayed paused (throttled) past the deadline")})
	case t.attempts == 0:
		r.report(i, outcome{StateNotRun, reason, fmt.Errorf("not started: %s", r.stopMessage())})
	case t.last.state == StateFail && t.last.reason == ReasonRateLimited:
		r.report(i, outcome{StateFail, ReasonRateLimited,
			fmt.Errorf("still throttled when the run ended: %w", t.last.err)})
	default:
		r.reportLast(i)
	}
}
