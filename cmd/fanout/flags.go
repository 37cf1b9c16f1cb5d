package main

import (
	"fmt"
	"slices"
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

	// Reserved by DESIGN.md for later issues: accepted by the parser so
	// that using one is a clear "not built yet", exit 2.
	rate, perHostRate float64
	burst             int
	config, shard     string
	tags              []string
}

var outputFormats = []string{"table", "json", "jsonl", "junit"}

func (f *runFlags) register(fs *pflag.FlagSet) {
	fs.IntVarP(&f.concurrency, "concurrency", "c", fanout.DefaultConcurrency, "global limit of checks running at once")
	fs.IntVar(&f.perHost, "per-host", fanout.DefaultPerKey, "limit of checks running at once against one host:port")
	fs.DurationVar(&f.timeout, "timeout", fanout.DefaultTimeout, "timeout of each attempt")
	fs.DurationVar(&f.deadline, "deadline", fanout.DefaultDeadline, "wall-clock budget of the whole run")
	fs.IntVar(&f.retries, "retries", 2, "retries of errors worth retrying (not built yet: only the default is accepted)")
	fs.StringVarP(&f.output, "output", "o", "table", "output format: table, json, jsonl, junit")
	fs.StringVar(&f.order, "order", "", "result order: input or completion (default input; completion for jsonl)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "only errors on stderr")
	fs.BoolVar(&f.all, "all", false, "table: show every row, not only the failures")

	fs.Float64Var(&f.rate, "rate", 0, "global requests per second (not built yet)")
	fs.Float64Var(&f.perHostRate, "per-host-rate", 0, "requests per second per host (not built yet)")
	fs.IntVar(&f.burst, "burst", 1, "rate-limit burst (not built yet)")
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
	case f.rate < 0:
		return usagef("invalid --rate %g: must be 0 or more", f.rate)
	case f.perHostRate < 0:
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
	for _, name := range []string{"rate", "per-host-rate", "burst", "config", "shard", "tag"} {
		if fs.Changed(name) {
			return usagef("--%s is not built yet", name)
		}
	}
	if fs.Changed("retries") && f.retries != 0 {
		return usagef("--retries %d: retries are not built yet (only --retries 0 is accepted)", f.retries)
	}
	return nil
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

// engineOptions maps the flags to the engine's options.
func (f *runFlags) engineOptions() []fanout.Option {
	return []fanout.Option{
		fanout.Concurrency(f.concurrency),
		fanout.PerKey(f.perHost),
		fanout.Timeout(f.timeout),
		fanout.Deadline(f.deadline),
		fanout.WithOrder(f.resultOrder()),
	}
}

func (f *runFlags) String() string {
	return fmt.Sprintf("-c %d --per-host %d --timeout %s --deadline %s", f.concurrency, f.perHost, f.timeout, f.deadline)
}
