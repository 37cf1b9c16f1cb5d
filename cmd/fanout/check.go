package main

import (
	"fmt"
	"io"
	"os"

	"github.com/fanout-dev/fanout/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newCheckCmd(io stdio) *cobra.Command {
	var flags runFlags
	var files []string
	cmd := &cobra.Command{
		Use:   "check [flags] [TARGET...]",
		Short: "Check targets: http(s), tcp, tls, dns, grpc — inline, from lists or a YAML config",
		Long: `Check every target once, concurrently, and report one result per target.

Targets come inline, from list files (-f, repeatable; one target per line,
'#' comments, '-' for stdin), from a YAML config (--config; its checks say
what healthy means, see docs/checks.md), or all of these; duplicates among
inline and list targets are checked once.`,
		Example: `  fanout check https://api.internal/healthz db.internal:5432
  fanout check -f services.txt -o json --timeout 2s
  fanout check --config checks.yaml --tag prod
  kubectl get ing -o jsonpath='{..host}' | tr ' ' '\n' | sed 's|^|https://|' | fanout check -f -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(&flags, cmd.Flags())
			if err != nil {
				return err
			}
			capped := fitDescriptors(&flags, descriptorLimit())
			targets, dups, err := collectTargets(configTargets(cfg, flags.tags), cfg != nil, args, files, io.in)
			if err != nil {
				return err
			}
			if len(targets) == 0 {
				warn(io.err, flags.quiet, fmt.Sprintf("no check of %s has any of the tags %v: nothing to do", cfg.File, flags.tags))
				return nil
			}
			flags.hostLimits = keyLimits(cfg)
			if flags.plan {
				return printPlan(io.out, makePlan(targets, &flags, capped), flags.output)
			}
			warn(io.err, flags.quiet, capped)
			warnDuplicates(io.err, dups, flags.quiet)
			res := execute(cmd.Context(), targets, len(dups), &flags, io, nil)
			return res.status()
		},
	}
	flags.register(cmd.Flags())
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "read targets from FILE, one per line ('-' = stdin); repeatable")
	return cmd
}

// collectTargets gathers the config's checks, then inline and list-file
// targets, and drops duplicates among the latter. Any bad target is an
// error naming where it was given; so is having no target at all, unless a
// config was given (its --tag selection may be empty).
func collectTargets(configured []config.Target, haveConfig bool, args, files []string, stdin io.Reader) ([]config.Target, []config.Duplicate, error) {
	var all []config.Target
	for i, a := range args {
		t, err := config.ParseTarget(a, fmt.Sprintf("argument %d", i+1))
		if err != nil {
			return nil, nil, usagef("argument %d: %w", i+1, err)
		}
		all = append(all, t)
	}
	for _, name := range files {
		list, err := readListFile(name, stdin)
		if err != nil {
			return nil, nil, usageError{err}
		}
		all = append(all, list...)
	}
	if len(all) == 0 && !haveConfig {
		return nil, nil, usagef("no targets given: pass targets as arguments, with -f FILE or with --config FILE")
	}
	kept, dups := config.Dedupe(all)
	return append(configured, kept...), dups, nil
}

func readListFile(name string, stdin io.Reader) ([]config.Target, error) {
	if name == "-" {
		return config.ReadList(stdin, "stdin")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return config.ReadList(f, name)
}

// warnDuplicates names each dropped duplicate on stderr, up to a few.
func warnDuplicates(w io.Writer, dups []config.Duplicate, quiet bool) {
	const show = 10
	if quiet || len(dups) == 0 {
		return
	}
	for _, d := range dups[:min(show, len(dups))] {
		fmt.Fprintf(w, "warning: %s: %s duplicates %s, checked once\n", d.Target.Source, d.Target.Display, d.First.Source)
	}
	if len(dups) > show {
		fmt.Fprintf(w, "warning: … and %d more duplicates, each checked once\n", len(dups)-show)
	}
}

// warn prints a warning on stderr unless quiet or empty.
func warn(w io.Writer, quiet bool, warning string) {
	if !quiet && warning != "" {
		fmt.Fprintln(w, "fanout: "+warning)
	}
}

// printPlan writes the plan as text, or as JSON with -o json.
func printPlan(w io.Writer, p plan, format string) error {
	if format == "json" {
		return p.writeJSON(w)
	}
	p.writeText(w)
	return nil
}

func newValidateCmd(io stdio) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a YAML config without running it (exit 0, or 2 with the first mistake)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			// The file's defaults are checked as the flags they stand for.
			var flags runFlags
			fs := pflag.NewFlagSet("validate", pflag.ContinueOnError)
			flags.register(fs)
			flags.config = args[0]
			cfg, err := loadConfig(&flags, fs)
			if err != nil {
				return err
			}
			fmt.Fprintln(io.out, describeConfig(cfg))
			return nil
		},
	}
}
