package fanout

import (
	"fmt"
	"math"
	"time"
)

// The defaults a run uses for what no Option sets. They match the fanout
// command's defaults: a global limit far above the per-key one, because
// per-key limits protect each target and the global limit this machine.
const (
	DefaultConcurrency = 256
	DefaultPerKey      = 8
	DefaultTimeout     = 5 * time.Second
	DefaultDeadline    = 10 * time.Minute
	DefaultRetries     = 2
	DefaultRetryBudget = 0.1 // of the tasks; see RetryBudget
	// MaxGrace bounds the grace period; see [Grace].
	MaxGrace = time.Second
	// BackoffBase and BackoffCap shape the wait before error retry n
	// (n = 1, 2, …): a uniformly random time in [0, min(BackoffCap,
	// BackoffBase × 2^(n-1))] ("full jitter").
	BackoffBase = 200 * time.Millisecond
	BackoffCap  = 5 * time.Second
	// MaxRequeues bounds how often one task is re-queued after a throttle.
	MaxRequeues = 10
	// MaxCooldown bounds one pause of a key, whatever the target asked.
	MaxCooldown = 60 * time.Second
	// MinRetryBudget is the least number of error retries a run may use,
	// however few its tasks, unless the budget is 0.
	MinRetryBudget = 10
)

// Order is the order in which a run yields its results.
type Order int

const (
	// CompletionOrder yields each result as soon as its task ends.
	CompletionOrder Order = iota
	// InputOrder yields results in the order of the task slice; a result
	// waits until every earlier task has ended.
	InputOrder
)

// Limits are the limits of one key. A zero field keeps the run's value.
type Limits struct {
	// Concurrency is how many of the key's tasks may run at once.
	Concurrency int
	// Rate is the most attempts per second started for the key.
	Rate float64
	// Burst is how many attempts may start at once within Rate.
	Burst int
	// NoRamp starts the key at full speed, for keys that never throttle
	// (local commands): an adaptive run otherwise paces a key's first
	// attempts (see Adaptive).
	NoRamp bool
}

// Over returns l with its zero fields taken from run: a key's own limits
// over the run's.
func (l Limits) Over(run Limits) Limits {
	if l.Concurrency > 0 {
		run.Concurrency = l.Concurrency
	}
	if l.Rate > 0 {
		run.Rate = l.Rate
	}
	if l.Burst > 0 {
		run.Burst = l.Burst
	}
	run.NoRamp = run.NoRamp || l.NoRamp
	return run
}

// Ramps reports whether a key of these limits starts paced in a run that
// is adaptive or not (see Adaptive): only an adaptive run ramps, and only
// a key with no configured rate that is not NoRamp.
func (l Limits) Ramps(adaptive bool) bool { return adaptive && l.Rate <= 0 && !l.NoRamp }

// Option configures a run. Options are applied in order over the defaults.
type Option func(*settings)

type settings struct {
	concurrency int
	perKey      int
	keyLimits   func(key string) Limits
	timeout     time.Duration
	deadline    time.Duration
	grace       time.Duration
	order       Order
	rate        float64
	keyRate     float64
	burst       int
	retries     int
	retryBudget float64
	adapt       bool
	stats       *Stats
}

func defaultSettings() settings {
	return settings{
		concurrency: DefaultConcurrency,
		perKey:      DefaultPerKey,
		timeout:     DefaultTimeout,
		deadline:    DefaultDeadline,
		order:       CompletionOrder,
		burst:       1,
		retries:     DefaultRetries,
		retryBudget: DefaultRetryBudget,
		adapt:       true,
	}
}

// Concurrency sets the global limit of tasks running at once (default 256).
func Concurrency(n int) Option { return func(s *settings) { s.concurrency = n } }

// PerKey sets how many tasks sharing a Key may run at once (default 8).
// Tasks with an empty Key are bound by the global limit only.
func PerKey(n int) Option { return func(s *settings) { s.perKey = n } }

// KeyLimits overrides the per-key limits for some keys: limits returns a
// key's limits, zero fields keeping the run's. It is called once per
// distinct key, from the goroutine that iterates the results.
func KeyLimits(limits func(key string) Limits) Option {
	return func(s *settings) { s.keyLimits = limits }
}

// Timeout sets the timeout of each attempt (default 5s). An attempt never
// runs past the run's deadline either. A task's own Timeout overrides it.
func Timeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// Deadline sets the wall-clock budget of the whole run, counted from its
// start (default 10m). A deadline of the caller's context also applies, and
// the earlier one wins.
func Deadline(d time.Duration) Option { return func(s *settings) { s.deadline = d } }

// Grace sets how long, after an attempt's timeout or the run's end, the
// engine waits for a task to return before it reports the task and
// abandons it. The default is min(1s, 10% of the deadline).
func Grace(d time.Duration) Option { return func(s *settings) { s.grace = d } }

// WithOrder sets the order of the results (default CompletionOrder).
func WithOrder(o Order) Option { return func(s *settings) { s.order = o } }

// Rate limits the attempts started per second across the run (0, the
// default, means no limit). Retries and re-queues count.
func Rate(perSecond float64) Option { return func(s *settings) { s.rate = perSecond } }

// KeyRate limits the attempts started per second for each key (0, the
// default, means no limit until the key throttles; see Adaptive).
func KeyRate(perSecond float64) Option { return func(s *settings) { s.keyRate = perSecond } }

// Burst sets how many attempts may start at once within a configured rate
// (default 1).
func Burst(n int) Option { return func(s *settings) { s.burst = n } }

// Retries sets how often a task is retried after an error worth retrying
// (default 2): refused, reset, a timeout, or an error marked Retryable.
// Failed conditions and panics are never retried; throttles are re-queued,
// not retried.
func Retries(n int) Option { return func(s *settings) { s.retries = n } }

// RetryBudget caps the error retries of a whole run at max(10, fraction ×
// tasks) (default 0.1), so that a dying fleet is not hammered by retries.
// A fraction of 0 turns retries off.
func RetryBudget(fraction float64) Option { return func(s *settings) { s.retryBudget = fraction } }

// Adaptive turns the per-key adaptive limits on or off (default on): a
// key's concurrency and rate are cut when it throttles or times out and
// grow back while it answers, never above what was configured. A key with
// no configured rate (and not NoRamp) also starts paced: its first attempts
// leave 60 ms apart, each gap 15% shorter than the last down to 20 ms, then
// 30% shorter, until the gap is under 0.5 ms (19 attempts, 0.33 s); then it
// runs at full speed. A key that lets no burst through throttles at the
// first gap its rate does not allow, and so tells that rate within 15% (up
// to 50/s) for one throttle.
func Adaptive(on bool) Option { return func(s *settings) { s.adapt = on } }

// WithStats makes the run fill st with its counters when it ends.
func WithStats(st *Stats) Option { return func(s *settings) { s.stats = st } }

func newSettings(opts []Option) settings {
	s := defaultSettings()
	for _, o := range opts {
		o(&s)
	}
	if s.grace == 0 {
		s.grace = min(MaxGrace, s.deadline/10)
	}
	return s
}

// validate panics on options no run could honour: they are programming
// errors, like a negative semaphore weight.
func (s *settings) validate() {
	check := func(ok bool, what string, v any) {
		if !ok {
			panic(fmt.Sprintf("fanout: %s out of range: %v", what, v))
		}
	}
	check(s.concurrency >= 1, "Concurrency", s.concurrency)
	check(s.perKey >= 1, "PerKey", s.perKey)
	check(s.timeout > 0, "Timeout", s.timeout)
	check(s.deadline > 0, "Deadline", s.deadline)
	check(s.grace > 0, "Grace", s.grace)
	check(s.rate >= 0 && !math.IsInf(s.rate, 0) && !math.IsNaN(s.rate), "Rate", s.rate)
	check(s.keyRate >= 0 && !math.IsInf(s.keyRate, 0) && !math.IsNaN(s.keyRate), "KeyRate", s.keyRate)
	check(s.burst >= 1, "Burst", s.burst)
	check(s.retries >= 0, "Retries", s.retries)
	check(s.retryBudget >= 0 && !math.IsNaN(s.retryBudget), "RetryBudget", s.retryBudget)
}

// limitsFor returns the limits of key, with the run's values filled in.
func (s *settings) limitsFor(key string) Limits {
	l := Limits{Concurrency: s.perKey, Rate: s.keyRate, Burst: s.burst}
	if key == "" {
		l = Limits{Concurrency: s.concurrency, Burst: s.burst}
	}
	if s.keyLimits != nil && key != "" {
		l = s.keyLimits(key).Over(l)
	}
	return l
}
