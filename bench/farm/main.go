// Command farm runs a testfarm in its own process, so a benchmark's client and servers do not
// share a runtime. It writes every URL, one per line, to -targets (stdout if "-"), prints
// "ready <n> urls" on stderr, and serves until SIGINT or SIGTERM or until its stdin reaches
// EOF, so a parent can end it by closing the pipe it holds. Start it with stdin on a pipe:
// a shell gives background jobs /dev/null, which ends the farm at once.
//
// With -rate, every OK service enforces a token-bucket rate limit (-burst, -retry-after,
// -limit-status, -limit-header) and answers 429 beyond it. On exit the farm writes one JSON
// line of per-service counters to stderr, or to -stats FILE:
//
//	{"services":[{"name":"svc-000","addr":"127.0.0.1:40001","requests":40,"accepted":25,"rejected":15,"peak_in_flight":8}],
//	 "requests":40,"rejected":15,"max_rejected":15}
//
// (on one line), so a script can count the 429s the servers sent.
//
//	farm -services 200 -paths 50 -targets urls.txt
//	farm -services 5 -paths 40 -latency 10ms -rate 20 -burst 1 -targets urls.txt -stats stats.json
package main

import (
	"bufio"
	"context"
	"encoding/json"
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
	var limit testfarm.RateLimit
	flag.Float64Var(&limit.Rate, "rate", 0, "requests per second each OK service allows (0: no limit)")
	flag.IntVar(&limit.Burst, "burst", 1, "token-bucket size of each rate-limited service")
	flag.StringVar(&limit.RetryAfter, "retry-after", testfarm.DefaultLimitRetryAfter, `hint sent with each rejection ("": none)`)
	flag.IntVar(&limit.Status, "limit-status", testfarm.DefaultLimitStatus, "status of each rejection")
	flag.StringVar(&limit.Header, "limit-header", testfarm.DefaultLimitHeader, "header carrying the hint")
	statsFile := flag.String("stats", "", "write the per-service counters here on exit (default: stderr)")
	flag.Parse()

	if limit.Rate != 0 {
		if limit.RetryAfter == "" {
			limit.RetryAfter = testfarm.NoRetryAfter
		}
		spec.Limit = &limit
	}
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
	if err := f.Close(); err != nil {
		return err
	}
	return writeStats(*statsFile, f.Stats())
}

// statsLine is the JSON line written on exit.
type statsLine struct {
	Services    []testfarm.ServiceStats `json:"services"`
	Requests    int64                   `json:"requests"`     // summed over services
	Rejected    int64                   `json:"rejected"`     // summed over services
	MaxRejected int64                   `json:"max_rejected"` // of any one service
}

// writeStats writes stats as one JSON line to the file named path, or to stderr if path
// is "".
func writeStats(path string, stats []testfarm.ServiceStats) error {
	line := statsLine{Services: stats}
	for _, s := range stats {
		line.Requests += s.Requests
		line.Rejected += s.Rejected
		line.MaxRejected = max(line.MaxRejected, s.Rejected)
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	b = append(b, '\n')
	if path == "" {
		_, err = os.Stderr.Write(b)
	} else {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	return nil
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
