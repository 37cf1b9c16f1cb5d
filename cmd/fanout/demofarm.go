package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/fanout-dev/fanout/examples"
	"github.com/fanout-dev/fanout/internal/kindfarm"
)

// runFarmDemo is `fanout demo --farm`: it starts a farm with a service of
// every kind, prints on stdout the export lines of its variables and the
// config that checks it (examples/farm.yaml), says on stderr how to use
// them, and keeps the farm running until SIGINT or SIGTERM; then it stops
// the farm and returns nil (exit 0).
func runFarmDemo(ctx context.Context, quiet bool, io stdio) error {
	// Listen for signals before the farm is announced, so that a signal
	// sent as soon as the exports are read stops the farm cleanly.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	farm, err := kindfarm.Start()
	if err != nil {
		return fmt.Errorf("starting the farm: %w", err)
	}
	defer farm.Close()
	saved, err := saveConfig(examples.Farm)
	if err != nil {
		return err
	}
	defer os.Remove(saved)

	env := farm.Env()
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&b, "export %s=%s\n", name, shellQuote(env[name]))
	}
	b.WriteString("\n")
	b.WriteString(examples.Farm)
	if _, err := fmt.Fprint(io.out, b.String()); err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintf(io.err, `demo: a service of every kind is running on loopback: HTTP, TLS (certificate expiring in 3 days), TCP, DNS, gRPC.
demo: in another shell, set the variables with the export lines printed on stdout: copy them, or
demo:   fanout demo --farm > farm.env &   then   eval "$(grep '^export ' farm.env)"
demo: then check every service with the config printed after them:
demo:   fanout check --config examples/farm.yaml    (also saved as %s)
demo: the other files of examples/ run against this farm too. Press Ctrl-C to stop it.
`, saved)
	}
	<-ctx.Done()
	if err := farm.Close(); err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintln(io.err, "demo: farm stopped")
	}
	return nil
}

// saveConfig writes the config to a temporary file, for users without the
// examples/ directory at hand, and returns its path.
func saveConfig(text string) (string, error) {
	f, err := os.CreateTemp("", "fanout-farm-*.yaml")
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// shellSafe matches values a POSIX shell reads as one word, unquoted.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// shellQuote quotes s for a POSIX shell, if it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
