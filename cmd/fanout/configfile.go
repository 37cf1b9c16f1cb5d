package main

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/config"
	"github.com/fanout-dev/fanout/probe"
	"github.com/spf13/pflag"
)

// loadConfig reads --config, if given, and applies its defaults to the
// flags not set on the command line (flag > file > built-in default). It
// then validates every flag; an error about a value the file gave names
// the file, line and key.
func loadConfig(f *runFlags, fs *pflag.FlagSet) (*config.Config, error) {
	var cfg *config.Config
	fromFile := map[string]bool{}
	if len(f.tags) > 0 && f.config == "" {
		return nil, usagef("--tag selects a config's checks: give --config too")
	}
	if f.config != "" {
		var err error
		if cfg, err = config.Load(f.config); err != nil {
			return nil, usageError{err}
		}
		for name, value := range cfg.Defaults.Flags() {
			if fs.Changed(name) {
				continue
			}
			if err := fs.Set(name, value); err != nil {
				return nil, usagef("%s: %v", cfg.Defaults.Where(name), err)
			}
			fromFile[name] = true
		}
	}
	if err := f.validate(fs); err != nil {
		if fe, ok := err.(flagError); ok && fromFile[fe.flag] {
			return nil, usagef("%s: %s", cfg.Defaults.Where(fe.flag), fe.msg)
		}
		return nil, usageError{err}
	}
	return cfg, nil
}

// keyLimits turns the config's hosts: block into the engine's per-key
// limits. All exec checks share the host "exec", limited by default to
// twice the CPUs.
func keyLimits(cfg *config.Config) func(string) fanout.Limits {
	return func(key string) fanout.Limits {
		var l fanout.Limits
		if key == probe.ExecHost {
			// Commands run here: they never throttle, so nothing to
			// ramp up to.
			l.Concurrency = 2 * runtime.NumCPU()
			l.NoRamp = true
		}
		if cfg == nil {
			return l
		}
		if h, ok := cfg.Hosts[key]; ok {
			if h.PerHost > 0 {
				l.Concurrency = h.PerHost
			}
			l.Rate, l.Burst = h.PerHostRate, h.Burst
		}
		return l
	}
}

// configTargets returns the config's checks that --tag selects.
func configTargets(cfg *config.Config, tags []string) []config.Target {
	if cfg == nil {
		return nil
	}
	return config.Select(cfg.Checks, tags)
}

// describeConfig is what `fanout validate` prints for a good config.
func describeConfig(cfg *config.Config) string {
	kinds := map[string]int{}
	for _, c := range cfg.Checks {
		kinds[c.Check.Kind()]++
	}
	var byKind []string
	for _, kind := range slices.Sorted(maps.Keys(kinds)) {
		byKind = append(byKind, fmt.Sprintf("%d %s", kinds[kind], kind))
	}
	return fmt.Sprintf("%s: ok: %s (%s), %s", cfg.File, plural(len(cfg.Checks), "check"),
		strings.Join(byKind, ", "), plural(len(cfg.Hosts), "host limit"))
}

// plural is "1 check", "2 checks".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
