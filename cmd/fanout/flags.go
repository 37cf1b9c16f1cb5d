package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/spf13/pflag"
)

// runFlags are the flags that shape a run; `check` and `demo` share them.
type runFlags struct {
	concurrency int
	perHost     int
	timeout     time.Duration
	deadline    time.Duration
	retries     int
	output      string
	order       string
	quiet       bool
	all         bool
	rate        float64
	perHostRate float64
	burst       int
	retryBudget string
	noAdapt     bool
	plan        bool

	// Reserved by DESIGN.md for later issues: accepted by the parser so
	// that using one is a clear "not built yet", exit 2.
	config, shard string
	tags          []string

	// budget is retryBudget parsed; concurrency may be lowered to fit
	// the descriptor limit (see fitDescriptors); hostLimits come from the
	// config's hosts: block.
	budget     float64
	hostLimits func(string) fanout.Limits
}

var outputFormats = []string{"table", "json", "jsonl", "junit"}

func (f *runFlags) register(fs *pflag.FlagSet) {
	fs.IntVarP(&f.concurrency, "concurrency", "c", fanout.DefaultConcurrency, "global limit of checks running at once")
	fs.IntVar(&f.perHost, "per-host", fanout.DefaultPerKey, "limit of checks running at once against one host:port")
	fs.DurationVar(&f.timeout, "timeout", fanout.DefaultTimeout, "timeout of each attempt")
	fs.DurationVar(&f.deadline, "deadline", fanout.DefaultDeadline, "wall-clock budget of the whole run")
	fs.IntVar(&f.retries, "retries", fanout.DefaultRetries, "retries of errors worth retrying (refused, reset, timeouts, 408, 502, 503, 504)")
	fs.StringVar(&f.retryBudget, "retry-budget", "10%", "error retries per run, as a share of the targets (at least 10 unless 0)")
	fs.StringVarP(&f.output, "output", "o", "table", "output format: table, json, jsonl, junit")
	fs.StringVar(&f.order, "order", "", "result order: input or completion (default input; completion for jsonl)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "only errors on stderr")
	fs.BoolVar(&f.all, "all", false, "table: show every row, not only the failures")

	fs.Float64Var(&f.rate, "rate", 0, "requests per second in all (0 = no limit)")
	fs.Float64Var(&f.perHostRate, "per-host-rate", 0, "requests per second per host (0 = none until a host throttles)")
	fs.IntVar(&f.burst, "burst", 1, "requests that may start at once within --rate and --per-host-rate")
	fs.BoolVar(&f.noAdapt, "no-adapt", false, "keep per-host limits fixed: no cut on throttles and timeouts")
	fs.BoolVar(&f.plan, "plan", false, "print the effective limits and the expected and worst-case duration; send nothing")
	fs.StringVar(&f.config, "config", "", "YAML config file of checks, defaults and host limits (docs/checks.md)")
	fs.StringVar(&f.shard, "shard", "", "run shard K/N of the targets (not built yet)")
	fs.StringSliceVar(&f.tags, "tag", nil, "run only the config's checks having any of these tags (repeatable)")
}

// validate checks every value against DESIGN.md's allowed ranges.
func (f *runFlags) validate(fs *pflag.FlagSet) error {
	checks := []struct {
		bad  bool
		flag string
		msg  string
	}{
		{f.concurrency < 1, "concurrency", fmt.Sprintf("invalid --concurrency %d: must be at least 1", f.concurrency)},
		{f.perHost < 1, "per-host", fmt.Sprintf("invalid --per-host %d: must be at least 1", f.perHost)},
		{f.timeout <= 0, "timeout", fmt.Sprintf("invalid --timeout %s: must be greater than 0", f.timeout)},
		{f.deadline <= 0, "deadline", fmt.Sprintf("invalid --deadline %s: must be greater than 0 (a run is never unbounded)", f.deadline)},
		{f.retries < 0, "retries", fmt.Sprintf("invalid --retries %d: must be 0 or more", f.retries)},
		{badRate(f.rate), "rate", fmt.Sprintf("invalid --rate %g: must be 0 or more", f.rate)},
		{badRate(f.perHostRate), "per-host-rate", fmt.Sprintf("invalid --per-host-rate %g: must be 0 or more", f.perHostRate)},
		{f.burst < 1, "burst", fmt.Sprintf("invalid --burst %d: must be at least 1", f.burst)},
		{f.output == "prometheus", "output", "-o prometheus is not built yet"},
		{!slices.Contains(outputFormats, f.output), "output", fmt.Sprintf("invalid -o %q: want one of %s", f.output, strings.Join(outputFormats, ", "))},
		{f.order != "" && f.order != "input" && f.order != "completion", "order", fmt.Sprintf("invalid --order %q: want input or completion", f.order)},
		{fs.Changed("shard"), "shard", "--shard is not built yet"},
	}
	for _, c := range checks {
		if c.bad {
			return flagError{flag: c.flag, msg: c.msg}
		}
	}
	budget, err := parseShare(f.retryBudget)
	if err != nil {
		return flagError{flag: "retry-budget", msg: fmt.Sprintf("invalid --retry-budget %q: %v", f.retryBudget, err)}
	}
	f.budget = budget
	return nil
}

func badRate(r float64) bool { return r < 0 || math.IsInf(r, 0) || math.IsNaN(r) }

// flagError is a flag's value out of range: a usage error that knows
// which flag, so that a value from a config file can be traced to it.
type flagError struct{ flag, msg string }

func (e flagError) Error() string { return e.msg }

// parseShare reads "10%" or "0.1" as 0.1; it must be 0 or more.
func parseShare(s string) (float64, error) {
	v, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errors.New("want a share such as 10% or 0.1")
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// resultOrder is --order, or the format's default.
func (f *runFlags) resultOrder() fanout.Order {
	switch {
	case f.order == "completion", f.order == "" && f.output == "jsonl":
		return fanout.CompletionOrder
	default:
		return fanout.InputOrder
	}
}

// engineOptions maps the flags to the engine's options; st receives the
// run's counters.
func (f *runFlags) engineOptions(st *fanout.Stats) []fanout.Option {
	return []fanout.Option{
		fanout.Concurrency(f.concurrency),
		fanout.PerKey(f.perHost),
		fanout.Timeout(f.timeout),
		fanout.Deadline(f.deadline),
		fanout.WithOrder(f.resultOrder()),
		fanout.Rate(f.rate),
		fanout.KeyRate(f.perHostRate),
		fanout.Burst(f.burst),
		fanout.Retries(f.retries),
		fanout.RetryBudget(f.budget),
		fanout.Adaptive(!f.noAdapt),
		fanout.WithStats(st),
		fanout.KeyLimits(f.hostLimits),
	}
}
