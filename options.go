package fanout

import (
	"fmt"
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
	// MaxGrace bounds the grace period; see [Grace].
	MaxGrace = time.Second
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

// Option configures a run. Options are applied in order over the defaults.
type Option func(*settings)

type settings struct {
	concurrency int
	perKey      int
	keyLimit    func(key string) int
	timeout     time.Duration
	deadline    time.Duration
	grace       time.Duration
	order       Order
}

func defaultSettings() settings {
	return settings{
		concurrency: DefaultConcurrency,
		perKey:      DefaultPerKey,
		timeout:     DefaultTimeout,
		deadline:    DefaultDeadline,
		order:       CompletionOrder,
	}
}

// Concurrency sets the global limit of tasks running at once (default 256).
func Concurrency(n int) Option { return func(s *settings) { s.concurrency = n } }

// PerKey sets how many tasks sharing a Key may run at once (default 8).
// Tasks with an empty Key are bound by the global limit only.
func PerKey(n int) Option { return func(s *settings) { s.perKey = n } }

// KeyLimit overrides the per-key limit for some keys: limit returns the
// limit for a key, or 0 to keep the PerKey value. It is called once per
// distinct key, from the goroutine that iterates the results.
func KeyLimit(limit func(key string) int) Option {
	return func(s *settings) { s.keyLimit = limit }
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
			panic(fmt.Sprintf("fanout: %s must be positive, got %v", what, v))
		}
	}
	check(s.concurrency >= 1, "Concurrency", s.concurrency)
	check(s.perKey >= 1, "PerKey", s.perKey)
	check(s.timeout > 0, "Timeout", s.timeout)
	check(s.deadline > 0, "Deadline", s.deadline)
	check(s.grace > 0, "Grace", s.grace)
}
