package main

import (
	"context"
	"slices"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/config"
	"github.com/fanout-dev/fanout/probe"
	"github.com/fanout-dev/fanout/report"
)

// execute runs the checks of targets and writes the report. observe, if
// not nil, sees every record as it completes. It returns what the exit
// status depends on.
func execute(ctx context.Context, targets []config.Target, duplicates int, f *runFlags, io stdio, observe func(report.Record)) outcome {
	env := probe.NewEnv(probe.Options{
		Concurrency: f.concurrency,
		IdleConns:   f.concurrency, // as many idle as may run: fitDescriptors counts on it
		PerHost:     f.perHost,
		Timeout:     longestTimeout(targets, f.timeout),
		UserAgent:   "fanout/" + versionString(),
	})
	defer env.Close()
	// fanout exits within a grace of the deadline, sooner than a command's
	// kill_grace: whatever exec check is still running dies with it.
	defer env.KillCommands()
	ctx, stopSignals := withSignals(ctx, func() { env.KillCommands() })
	defer stopSignals()

	tasks := make([]fanout.Task[probe.Detail], len(targets))
	for i, t := range targets {
		check := t.Check
		tasks[i] = fanout.Task[probe.Detail]{
			Key:     check.Host(),
			Timeout: t.Timeout,
			Do:      func(ctx context.Context) (probe.Detail, error) { return check.Run(ctx, env) },
		}
	}

	out := newSink(f, io, len(targets))
	var stats fanout.Stats
	start := time.Now()
	for res := range fanout.Run(ctx, tasks, f.engineOptions(&stats)...) {
		rec := toRecord(targets[res.Index], res)
		if observe != nil {
			observe(rec)
		}
		out.add(rec, res.Reason)
	}
	return out.finish(time.Since(start), duplicates, interruption(ctx), &stats, allSecrets(targets))
}

// toRecord turns an engine result into the report's record, redacting
// whatever could echo the target's secrets: the error, every text in the
// detail, and the host (a ${VAR} may have built it; the name was redacted
// when the target was parsed).
func toRecord(t config.Target, r fanout.Result[probe.Detail]) report.Record {
	red := t.Redactor // nil-safe: nothing to mask
	rec := report.Record{
		Name:      t.Name, // redacted when the target was parsed
		Target:    t.Display,
		Kind:      t.Check.Kind(),
		Host:      red.Redact(r.Key),
		State:     string(r.State),
		Reason:    string(r.Reason),
		Attempts:  r.Attempts,
		Retries:   r.Retries,
		Throttled: r.Throttled,
		StartedAt: r.StartedAt,
		Queue:     r.Queued,
		Duration:  r.Duration,
		Detail:    redactDetail(r.Value, red),
	}
	if r.Err != nil {
		rec.Error = red.Redact(r.Err.Error())
	}
	return rec
}

// redactDetail masks secrets in the detail's texts, nested lists and maps
// included, in place (each attempt makes its own detail); a redirect's
// location is redacted as a URL.
func redactDetail(d probe.Detail, red *config.Redactor) map[string]any {
	if loc, ok := d["location"].(string); ok {
		d["location"] = config.Redact(loc)
	}
	if red == nil {
		return d
	}
	for k, v := range d {
		d[k] = redactValue(v, red)
	}
	return d
}

func redactValue(v any, red *config.Redactor) any {
	switch x := v.(type) {
	case string:
		return red.Redact(x)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = red.Redact(s)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, red)
		}
		return out
	case map[string]any:
		for k, e := range x {
			x[k] = redactValue(e, red)
		}
		return x
	case probe.Detail:
		for k, e := range x {
			x[k] = redactValue(e, red)
		}
		return x
	}
	return v
}

// allSecrets is every secret of the run, for what is not any one target's:
// the hosts named in the summary and the advice.
func allSecrets(targets []config.Target) *config.Redactor {
	var all []string
	for _, t := range targets {
		all = append(all, t.Secrets...)
	}
	slices.Sort(all) // a config's checks share the file's secrets
	return config.NewRedactor(slices.Compact(all))
}

// longestTimeout is the longest attempt timeout of the run: the probes'
// transport-level timeouts are safety nets that must not cut any check
// short.
func longestTimeout(targets []config.Target, timeout time.Duration) time.Duration {
	for _, t := range targets {
		timeout = max(timeout, t.Timeout)
	}
	return timeout
}
