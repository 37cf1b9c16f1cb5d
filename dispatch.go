package fanout

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"
)

// The dispatcher is written here rather than taken from a pool library: no
// pool streams results in completion order, keeps per-key queues served
// round-robin, frees the global slot while a task waits for its key, a
// cooldown, a rate token or a retry, and accounts for every task when the
// run is cut short.
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
	rnd    *rand.Rand

	st                []taskState
	values            []T // the last value of each task, kept until reported
	keys              map[string]*keyState
	ready             deque[*keyState] // keys with queued tasks and a free slot
	active            int              // attempts holding a global slot, abandoned ones included
	localCap          int              // the global limit, lowered while descriptors run out
	reported          int
	global            *rate.Limiter // nil: no global rate
	globalWakePending bool

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

	retries, retryBudget, throttled, localWaits, lowestCap int
	budgetExhausted                                        bool
}

// waitKind says what a task that is neither queued nor running waits for.
type waitKind uint8

const (
	notWaiting waitKind = iota
	waitRetry           // the backoff before an error retry
	waitLocal           // local resources (descriptors) to free up
)

type taskState struct {
	key          *keyState
	attempts     int
	retries      int
	requeues     int // after throttles
	localWaits   int
	waiting      waitKind
	retryNext    bool // the next attempt is an error retry
	running      bool
	reported     bool
	readyAt      time.Time // since when the task waits for a slot
	startedAt    time.Time
	attemptStart time.Time
	queued       time.Duration
	duration     time.Duration
	attemptCtx   context.Context
	cancel       context.CancelFunc
	last         outcome // of the last attempt that ended
}

// outcome is how an attempt ended.
type outcome struct {
	state  State
	reason Reason
	err    error
}

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
		rnd:      rand.New(rand.NewPCG(uint64(start.UnixNano()), 0x9e3779b97f4a7c15)),
		st:       make([]taskState, len(tasks)),
		values:   make([]T, len(tasks)),
		keys:     make(map[string]*keyState),
		localCap: s.concurrency,
		done:     make(chan completion[T], s.concurrency),
		abandon:  make(chan struct{}),
		timer:    time.NewTimer(time.Hour),
	}
	r.timer.Stop()
	r.order = newOrderer[T](s.order, len(tasks))
	if s.rate > 0 {
		r.global = rate.NewLimiter(rate.Limit(s.rate), s.burst)
	}
	if s.retries > 0 && s.retryBudget > 0 {
		r.retryBudget = max(MinRetryBudget, int(s.retryBudget*float64(len(tasks))+0.5))
	}
	for i, t := range tasks {
		k := r.keys[t.Key]
		if k == nil {
			k = newKeyState(s.limitsFor(t.Key), s.adapt && t.Key != "")
			r.keys[t.Key] = k
		}
		k.queue.pushBack(i)
		r.st[i] = taskState{key: k, readyAt: start}
		if !k.inReady {
			k.inReady = true
			r.ready.pushBack(k)
		}
	}
	return r
}

// loop runs until every task is reported or the consumer stops listening.
func (r *runner[T]) loop() {
	defer r.close()
	ctxDone := r.ctx.Done()
	for r.reported < len(r.tasks) && !r.consumerGone {
		if !r.stopping {
			r.dispatch(time.Now())
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

// dispatch starts tasks while a global slot and a global rate token are
// free, taking one task from each runnable key in turn. A key waiting for
// its cooldown or its rate leaves the round until a wake brings it back.
func (r *runner[T]) dispatch(now time.Time) {
	for r.active < min(r.s.concurrency, r.localCap) && r.ready.len() > 0 && !r.consumerGone {
		if w := tokenWait(r.global, now); w > 0 {
			if !r.globalWakePending {
				r.globalWakePending = true
				r.wakes.push(wake{at: now.Add(w), kind: wakeGlobal})
			}
			return
		}
		k := r.ready.popFront()
		k.inReady = false
		if !k.runnable(now) {
			if now.Before(k.cooldownUntil) {
				r.wakeKeyAt(k, k.cooldownUntil)
			}
			continue
		}
		if w := k.rateWait(now); w > 0 {
			r.wakeKeyAt(k, now.Add(w))
			continue
		}
		i := k.queue.popFront()
		if r.retryTooLate(i, now) {
			r.reportLast(i)
		} else {
			r.startAttempt(i, now)
		}
		r.readyIfRunnable(k, now)
	}
}

// retryTooLate reports whether task i is due for an error retry that could
// not finish before the deadline.
func (r *runner[T]) retryTooLate(i int, now time.Time) bool {
	return r.st[i].retryNext && now.Add(r.timeoutOf(i)).After(r.ends)
}

func (r *runner[T]) timeoutOf(i int) time.Duration {
	if d := r.tasks[i].Timeout; d > 0 {
		return d
	}
	return r.s.timeout
}

func (r *runner[T]) readyIfRunnable(k *keyState, now time.Time) {
	if !k.inReady && !r.stopping && k.runnable(now) {
		k.inReady = true
		r.ready.pushBack(k)
	}
}

func (r *runner[T]) wakeKeyAt(k *keyState, at time.Time) {
	if k.queue.len() > 0 {
		r.wakes.push(wake{at: at, kind: wakeKey, key: k})
	}
}

func (r *runner[T]) startAttempt(i int, now time.Time) {
	t := &r.st[i]
	t.queued += now.Sub(t.readyAt)
	if t.attempts == 0 {
		t.startedAt = now
	}
	t.attempts++
	t.retryNext = false
	t.running = true
	t.attemptStart = now
	t.key.started(now)
	if r.global != nil {
		r.global.AllowN(now, 1)
	}
	r.active++
	timeout := r.timeoutOf(i)
	t.attemptCtx, t.cancel = context.WithTimeoutCause(r.ctx, timeout, errAttemptTimeout)
	r.wakes.push(wake{at: now.Add(timeout + r.s.grace), kind: wakeOverdue, index: i, attempt: t.attempts})
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

// complete takes an attempt's end: it frees the slots, then decides what
// becomes of the task, unless it was reported already (abandoned after
// ignoring its timeout).
func (r *runner[T]) complete(c completion[T]) {
	t := &r.st[c.index]
	saturated := t.key.running >= int(t.key.limit)
	r.release(t, c.end)
	timedOut := errors.Is(context.Cause(t.attemptCtx), errAttemptTimeout)
	t.cancel()
	t.attemptCtx, t.cancel = nil, nil
	if t.reported {
		return
	}
	t.duration += c.end.Sub(t.attemptStart)
	r.values[c.index] = c.value
	r.settle(c.index, r.classify(c.err, timedOut, r.timeoutOf(c.index)), c.err, saturated, c.end)
}

func (r *runner[T]) release(t *taskState, now time.Time) {
	t.running = false
	t.key.running--
	r.active--
	r.readyIfRunnable(t.key, now)
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
		r.onWake(r.wakes.pop(), now)
	}
	if r.stopping && !now.Before(r.graceEnd) {
		r.abandonRunning()
	}
}

func (r *runner[T]) onWake(w wake, now time.Time) {
	switch w.kind {
	case wakeOverdue:
		t := &r.st[w.index]
		if t.running && !t.reported && t.attempts == w.attempt && !r.stopping {
			r.abandonAttempt(w.index, outcome{StateTimeout, ReasonTimeout,
				errors.New("timed out: still running " + r.s.grace.String() + " after its timeout, abandoned")})
		}
	case wakeTask:
		t := &r.st[w.index]
		if t.waiting == notWaiting || t.reported || r.stopping {
			return
		}
		t.waiting = notWaiting
		t.readyAt = now
		t.key.queue.pushFront(w.index)
		r.readyIfRunnable(t.key, now)
	case wakeKey:
		r.readyIfRunnable(w.key, now)
	case wakeGlobal:
		r.globalWakePending = false
	}
}
