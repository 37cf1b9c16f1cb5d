package main

import (
	"fmt"
	"io"
	"os"

	"github.com/fanout-dev/fanout/config"
	"github.com/spf13/cobra"
)

func newCheckCmd(io stdio) *cobra.Command {
	var flags runFlags
	var files []string
	cmd := &cobra.Command{
		Use:   "check [flags] [TARGET...]",
		Short: "Check targets: http(s)://…, tcp://host:port or host:port",
		Long: `Check every target once, concurrently, and report one result per target.

Targets come inline, from list files (-f, repeatable; one target per line,
'#' comments, '-' for stdin), or both; duplicates are checked once.`,
		Example: `  fanout check https://api.internal/healthz db.internal:5432
  fanout check -f services.txt -o json --timeout 2s
  kubectl get ing -o jsonpath='{..host}' | tr ' ' '\n' | sed 's|^|https://|' | fanout check -f -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.validate(cmd.Flags()); err != nil {
				return err
			}
			capped := fitDescriptors(&flags, descriptorLimit())
			targets, dups, err := collectTargets(args, files, io.in)
			if err != nil {
				return err
			}
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

// collectTargets gathers inline and list-file targets, in that order, and
// drops duplicates. Any bad target is an error naming where it was given.
func collectTargets(args, files []string, stdin io.Reader) ([]config.Target, []config.Duplicate, error) {
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
	if len(all) == 0 {
		return nil, nil, usagef("no targets given: pass targets as arguments or with -f FILE")
	}
	kept, dups := config.Dedupe(all)
	return kept, dups, nil
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
