package fanout

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The dispatcher is written here rather than taken from a pool library: no
// pool streams results in completion order, keeps per-key queues served
// round-robin, frees the global slot while a task waits for its key, and
// accounts for every task when the run is cut short.
//
// One goroutine (the caller's, iterating Run) owns all the state below.
// Each attempt runs in its own goroutine and reports back on r.done; at most
// Concurrency attempts (plus abandoned ones) exist at any time.

var (
	errRunDeadline    = errors.New("run deadline reached")
	errAttemptTimeout = errors.New("attempt timed out")
	errConsumerGone   = errors.New("results no longer wanted")
)

type runner[T any] struct {
	s      settings
	tasks  []Task[T]
	yield  func(Result[T]) bool
	ctx    context.Context // the run's: the caller's context plus the deadline
	cancel context.CancelCauseFunc
	start  time.Time
	ends   time.Time // the run's deadline

	st       []taskState
	values   []T // the last value of each task, kept until reported
	keys     map[string]*keyState
	ready    fifo[*keyState] // keys with queued tasks and a free slot
	active   int             // attempts holding a global slot, abandoned ones included
	reported int

	done    chan completion[T]
	abandon chan struct{} // closed when the run ends: late attempts stop waiting
	wakes   wakeHeap
	timer   *time.Timer

	stopping     bool // the run's context is done
	stopState    State
	stopReason   Reason
	graceEnd     time.Time
	consumerGone bool
	order        orderer[T]
}

type taskState struct {
	key          *keyState
	attempts     int
	running      bool
	reported     bool
	readyAt      time.Time // since when the task waits for a slot
	startedAt    time.Time
	attemptStart time.Time
	queued       time.Duration
	duration     time.Duration
	attemptCtx   context.Context
	cancel       context.CancelFunc
}

type keyState struct {
	limit   int
	running int
	queue   fifo[int]
	inReady bool
}

func (k *keyState) runnable() bool { return k.queue.len() > 0 && k.running < k.limit }

type completion[T any] struct {
	index int
	value T
	err   error
	end   time.Time
}

func newRunner[T any](parent context.Context, s settings, tasks []Task[T], yield func(Result[T]) bool) *runner[T] {
	start := time.Now()
	ctx, cancel := context.WithCancelCause(parent)
	ctx, cancelDeadline := context.WithDeadlineCause(ctx, start.Add(s.deadline), errRunDeadline)
	ends, _ := ctx.Deadline()
	r := &runner[T]{
		s: s, tasks: tasks, yield: yield, start: start, ends: ends,
		ctx: ctx,
		cancel: func(cause error) {
			cancel(cause)
			cancelDeadline()
		},
		st:      make([]taskState, len(tasks)),
		values:  make([]T, len(tasks)),
		keys:    make(map[string]*keyState),
		done:    make(chan completion[T], s.concurrency),
		abandon: make(chan struct{}),
		timer:   time.NewTimer(time.Hour),
	}
	r.timer.Stop()
	r.order = newOrderer[T](s.order, len(tasks))
	for i, t := range tasks {
		k := r.keys[t.Key]
		if k == nil {
			k = &keyState{limit: r.keyLimit(t.Key)}
			r.keys[t.Key] = k
		}
		k.queue.push(i)
		r.st[i] = taskState{key: k, readyAt: start}
		if !k.inReady {
			k.inReady = true
			r.ready.push(k)
		}
	}
	return r
}

func (r *runner[T]) keyLimit(key string) int {
	if key == "" {
		return r.s.concurrency
	}
	if r.s.keyLimit != nil {
		if n := r.s.keyLimit(key); n > 0 {
			return n
		}
	}
	return r.s.perKey
}

// loop runs until every task is reported or the consumer stops listening.
func (r *runner[T]) loop() {
	defer r.close()
	ctxDone := r.ctx.Done()
	for r.reported < len(r.tasks) && !r.consumerGone {
		if !r.stopping {
			r.dispatch()
		}
		r.armTimer()
		select {
		case c := <-r.done:
			r.complete(c)
		case now := <-r.timer.C:
			r.onTimer(now)
		case <-ctxDone:
			ctxDone = nil
			r.stop()
		}
	}
}

// dispatch starts tasks while a global slot is free, taking one task from
// each runnable key in turn.
func (r *runner[T]) dispatch() {
	for r.active < r.s.concurrency && r.ready.len() > 0 {
		k := r.ready.pop()
		r.startAttempt(k.queue.pop())
		if k.runnable() {
			r.ready.push(k)
		} else {
			k.inReady = false
		}
	}
}

func (r *runner[T]) startAttempt(i int) {
	t := &r.st[i]
	now := time.Now()
	t.queued += now.Sub(t.readyAt)
	if t.attempts == 0 {
		t.startedAt = now
	}
	t.attempts++
	t.running = true
	t.attemptStart = now
	t.key.running++
	r.active++
	timeout := r.tasks[i].Timeout
	if timeout <= 0 {
		timeout = r.s.timeout
	}
	t.attemptCtx, t.cancel = context.WithTimeoutCause(r.ctx, timeout, errAttemptTimeout)
	r.wakes.push(wake{at: now.Add(timeout + r.s.grace), index: i, attempt: t.attempts})
	go r.attempt(t.attemptCtx, i, r.tasks[i].Do)
}

// attempt runs in its own goroutine.
func (r *runner[T]) attempt(ctx context.Context, i int, do func(context.Context) (T, error)) {
	c := completion[T]{index: i}
	defer func() {
		// A panic is the task's result, not the process's end (the
		// contract differs from errgroup's on purpose).
		if p := recover(); p != nil {
			c.err = panicError(p)
		}
		c.end = time.Now()
		select {
		case r.done <- c:
		case <-r.abandon:
		}
	}()
	c.value, c.err = do(ctx)
}

// complete takes an attempt's end: it frees the slots and reports the task,
// unless it was reported already (abandoned after ignoring its timeout).
func (r *runner[T]) complete(c completion[T]) {
	t := &r.st[c.index]
	r.release(t)
	timedOut := errors.Is(context.Cause(t.attemptCtx), errAttemptTimeout)
	t.cancel()
	t.attemptCtx, t.cancel = nil, nil
	if t.reported {
		return
	}
	t.duration += c.end.Sub(t.attemptStart)
	r.values[c.index] = c.value
	state, reason, err := r.classify(c.err, timedOut, r.tasks[c.index].Timeout)
	r.report(c.index, state, reason, err)
}

func (r *runner[T]) release(t *taskState) {
	t.running = false
	t.key.running--
	r.active--
	if t.key.runnable() && !t.key.inReady && !r.stopping {
		t.key.inReady = true
		r.ready.push(t.key)
	}
}

// classify turns an attempt's error into the result's state and reason.
func (r *runner[T]) classify(err error, timedOut bool, taskTimeout time.Duration) (State, Reason, error) {
	if err == nil {
		return StateOK, ReasonNone, nil
	}
	state, reason := Classify(err)
	var fe *Error
	switch {
	case state == StateFail:
		// The target answered: that stands even if the run is ending.
	case r.stopping:
		return r.stopState, r.stopReason, fmt.Errorf("%s while running: %w", r.stopMessage(), err)
	case timedOut && !errors.As(err, &fe):
		if taskTimeout <= 0 {
			taskTimeout = r.s.timeout
		}
		return StateTimeout, ReasonTimeout, fmt.Errorf("timed out after %s: %w", taskTimeout, err)
	}
	return state, reason, err
}

// report emits the one result of task i.
func (r *runner[T]) report(i int, state State, reason Reason, err error) {
	t := &r.st[i]
	t.reported = true
	r.reported++
	if r.consumerGone {
		return
	}
	res := Result[T]{
		Index: i, Key: r.tasks[i].Key, Value: r.values[i], Err: err,
		State: state, Reason: reason, Attempts: t.attempts,
		StartedAt: t.startedAt, Queued: t.queued, Duration: t.duration,
	}
	var zero T
	r.values[i] = zero
	if !r.order.emit(res, r.yield) {
		r.consumerGone = true
	}
}

func (r *runner[T]) armTimer() {
	var next time.Time
	if len(r.wakes) > 0 {
		next = r.wakes[0].at
	}
	if r.stopping && (next.IsZero() || r.graceEnd.Before(next)) {
		next = r.graceEnd
	}
	if next.IsZero() {
		r.timer.Stop()
		return
	}
	r.timer.Reset(time.Until(next))
}

func (r *runner[T]) onTimer(now time.Time) {
	for len(r.wakes) > 0 && !r.wakes[0].at.After(now) {
		w := r.wakes.pop()
		t := &r.st[w.index]
		if t.running && !t.reported && t.attempts == w.attempt && !r.stopping {
			r.abandonAttempt(w.index, StateTimeout, ReasonTimeout,
				fmt.Errorf("timed out: still running %s after its timeout, abandoned", r.s.grace))
		}
	}
	if r.stopping && !now.Before(r.graceEnd) {
		for i := range r.st {
			if t := &r.st[i]; t.running && !t.reported {
				r.abandonAttempt(i, r.stopState, r.stopReason,
					fmt.Errorf("%s while running; abandoned after a grace of %s", r.stopMessage(), r.s.grace))
			}
		}
	}
}

// abandonAttempt reports a task whose attempt ignored its context. The
// attempt keeps its slots until it returns, if it ever does.
func (r *runner[T]) abandonAttempt(i int, state State, reason Reason, err error) {
	t := &r.st[i]
	t.duration += time.Since(t.attemptStart)
	r.report(i, state, reason, err)
}

// stop handles the end of the run's context: tasks not started are reported
// not_run at once, running ones are cancelled (their contexts derive from
// the run's) and get a grace period to return.
func (r *runner[T]) stop() {
	r.stopping = true
	r.stopState, r.stopReason = StateError, ReasonCancelled
	cause := context.Cause(r.ctx)
	if errors.Is(cause, errRunDeadline) || errors.Is(cause, context.DeadlineExceeded) {
		r.stopState, r.stopReason = StateTimeout, ReasonDeadline
	}
	r.graceEnd = time.Now().Add(r.s.grace)
	for i := range r.st {
		if t := &r.st[i]; !t.running && !t.reported {
			r.report(i, StateNotRun, r.stopReason, fmt.Errorf("not started: %s", r.stopMessage()))
		}
	}
}

func (r *runner[T]) stopMessage() string {
	if r.stopReason == ReasonDeadline {
		return fmt.Sprintf("deadline of %s reached", r.ends.Sub(r.start).Round(time.Millisecond))
	}
	return "run cancelled (" + context.Cause(r.ctx).Error() + ")"
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
			r.release(t)
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
