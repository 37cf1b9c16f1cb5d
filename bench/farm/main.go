// Command farm runs a testfarm in its own process, so a benchmark's client and servers do not
// share a runtime. It writes every URL, one per line, to -targets (stdout if "-"), prints
// "ready <n> urls" on stderr, and serves until SIGINT or SIGTERM or until its stdin reaches
// EOF, so a parent can end it by closing the pipe it holds. Start it with stdin on a pipe:
// a shell gives background jobs /dev/null, which ends the farm at once.
//
//	farm -services 200 -paths 50 -targets urls.txt
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/fanout-dev/fanout/internal/testfarm"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "farm:", err)
		os.Exit(1)
	}
}

func run() error {
	var spec testfarm.Spec
	flag.IntVar(&spec.Services, "services", 200, "number of services")
	flag.IntVar(&spec.Paths, "paths", 1, "URLs per service")
	flag.DurationVar(&spec.Latency, "latency", testfarm.DefaultLatency, "wait before each answer")
	flag.DurationVar(&spec.Jitter, "jitter", 0, "± uniform spread of each wait")
	flag.DurationVar(&spec.SlowLatency, "slow-latency", testfarm.DefaultSlowLatency, "wait of slow services")
	flag.IntVar(&spec.Slow, "slow", 0, "services that answer after -slow-latency")
	flag.IntVar(&spec.Fail, "fail", 0, "services that answer 500")
	flag.IntVar(&spec.Hang, "hang", 0, "services that never answer")
	flag.IntVar(&spec.Refused, "refused", 0, "services that refuse connections")
	flag.IntVar(&spec.Reset, "reset", 0, "services that reset connections")
	flag.Int64Var(&spec.Seed, "seed", 0, "shuffle which services misbehave (0: the last ones)")
	targets := flag.String("targets", "-", `file to write the URLs to ("-": stdout)`)
	flag.Parse()

	f, err := testfarm.Start(spec)
	if err != nil {
		return err
	}
	defer f.Close()
	urls := f.URLs()
	if err := writeLines(*targets, urls); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "ready %d urls\n", len(urls))
	waitForEnd()
	return f.Close()
}

// writeLines writes lines to the file named path, or to stdout if path is "-".
func writeLines(path string, lines []string) error {
	out := os.Stdout
	if path != "-" {
		file, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("targets: %w", err)
		}
		defer file.Close()
		out = file
	}
	w := bufio.NewWriter(out)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("targets: %w", err)
	}
	if path != "-" {
		return out.Close()
	}
	return nil
}

// waitForEnd returns at SIGINT, SIGTERM or EOF on stdin.
func waitForEnd() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(eof) }()
	select {
	case <-ctx.Done():
	case <-eof:
	}
}
