package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// stdio is the process's three streams; tests pass their own.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, io stdio) int {
	var atExit []func()
	root := newRootCmd(io, &atExit)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	for _, f := range atExit {
		f()
	}
	if err != nil {
		if _, ran := err.(exitStatus); !ran {
			fmt.Fprintf(io.err, "fanout: %v\n", oneLine(err))
			if cmd, _, findErr := root.Find(args); findErr == nil && cmd != root {
				fmt.Fprintf(io.err, "Run 'fanout %s --help' for usage.\n", cmd.Name())
			}
		}
	}
	return statusOf(err)
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}

// newRootCmd builds the command tree; atExit collects what must run after
// the command, whatever its outcome.
func newRootCmd(io stdio, atExit *[]func()) *cobra.Command {
	root := &cobra.Command{
		Use:   "fanout",
		Short: "Fan out ops checks concurrently, fast and safely",
		Long: `fanout checks many targets at once — HTTP services, TCP ports and more —
with bounded global and per-host concurrency, a timeout per attempt and a
deadline for the whole run. Every target gets exactly one result.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetIn(io.in)
	root.SetOut(io.out)
	root.SetErr(io.err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	var profile string
	root.PersistentFlags().StringVar(&profile, "cpuprofile", "", "write a CPU profile to FILE (for developers)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		stop, err := startProfile(profile)
		*atExit = append(*atExit, stop)
		return err
	}
	root.AddCommand(newCheckCmd(io), newDemoCmd(io), newValidateCmd(io), newVersionCmd(io),
		reservedCmd("run", "run CMD once per input line (not built yet)"),
		reservedCmd("serve", "check continuously and serve /metrics (not built yet)"))
	return root
}

func newVersionCmd(io stdio) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(io.out, "fanout", versionString())
			return nil
		},
	}
}

// reservedCmd holds a place in the command-line contract for a command a
// later issue builds: it exits 2 without running anything.
func reservedCmd(name, short string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Short:              short,
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			return usagef("'fanout %s' is not built yet", name)
		},
	}
}

// startProfile writes a CPU profile to path until the returned func is
// called; with an empty path it does nothing.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
