package main

import (
	"errors"
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
	// the descriptor limit (see fitDescriptors).
	budget float64
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
	fs.StringVar(&f.config, "config", "", "YAML config file (not built yet)")
	fs.StringVar(&f.shard, "shard", "", "run shard K/N of the targets (not built yet)")
	fs.StringSliceVar(&f.tags, "tag", nil, "select checks having any of these tags (not built yet)")
}

// validate checks every value against DESIGN.md's allowed ranges.
func (f *runFlags) validate(fs *pflag.FlagSet) error {
	switch {
	case f.concurrency < 1:
		return usagef("invalid --concurrency %d: must be at least 1", f.concurrency)
	case f.perHost < 1:
		return usagef("invalid --per-host %d: must be at least 1", f.perHost)
	case f.timeout <= 0:
		return usagef("invalid --timeout %s: must be greater than 0", f.timeout)
	case f.deadline <= 0:
		return usagef("invalid --deadline %s: must be greater than 0 (a run is never unbounded)", f.deadline)
	case f.retries < 0:
		return usagef("invalid --retries %d: must be 0 or more", f.retries)
	case f.rate < 0 || math.IsInf(f.rate, 0) || math.IsNaN(f.rate):
		return usagef("invalid --rate %g: must be 0 or more", f.rate)
	case f.perHostRate < 0 || math.IsInf(f.perHostRate, 0) || math.IsNaN(f.perHostRate):
		return usagef("invalid --per-host-rate %g: must be 0 or more", f.perHostRate)
	case f.burst < 1:
		return usagef("invalid --burst %d: must be at least 1", f.burst)
	}
	if f.output == "prometheus" {
		return usagef("-o prometheus is not built yet")
	}
	if !slices.Contains(outputFormats, f.output) {
		return usagef("invalid -o %q: want one of %s", f.output, strings.Join(outputFormats, ", "))
	}
	if f.order != "" && f.order != "input" && f.order != "completion" {
		return usagef("invalid --order %q: want input or completion", f.order)
	}
	budget, err := parseShare(f.retryBudget)
	if err != nil {
		return usagef("invalid --retry-budget %q: %v", f.retryBudget, err)
	}
	f.budget = budget
	for _, name := range []string{"config", "shard", "tag"} {
		if fs.Changed(name) {
			return usagef("--%s is not built yet", name)
		}
	}
	return nil
}

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
	}
}
