// Command ratelimit measures fanout's politeness bar against rate-limited loopback hosts:
// how long `fanout check` takes and how many 429s the hosts had to send, next to the floor
// the limits allow. The hosts are testfarm services started in this process (loopback only);
// fanout runs as a child process, so a wall time is the fanout process's, from exec to exit.
//
//	go build -o /tmp/fanout-bench ./cmd/fanout
//	go run ./bench/ratelimit -fanout /tmp/fanout-bench -grid -figures [-runs 3] [-json out.json]
//
// -grid runs the bar at every point of R ∈ -rates, B ∈ {1, R/2}, U ∈ -urls on -hosts hosts
// (each 10 ms latency, a token bucket of R req/s and burst B, 429 + Retry-After: 1 beyond),
// once with fanout's defaults and once with --per-host-rate R. Each row says PASS or FAIL for:
// wall ≤ bar = 1.5 × floor + 1 s with floor = (U − B)/R; at most 10 429s sent by any one host;
// every target ok. -figures runs the figures: 200 targets on 10 hosts of 20 req/s,
// for fanout (defaults and --per-host-rate 20), a naive goroutine-per-URL client, a client
// that only sleeps on Retry-After, and the floor.
//
// Every measurement starts fresh hosts (full buckets). With -runs N it is repeated N times
// and the table shows the median wall time and median 429 count, the fewest targets ok, and
// every exit code seen. The program exits 0 once it has measured, whatever the figures say:
// it reports, it does not judge.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the program's flags.
type options struct {
	fanout        string
	grid, figures bool
	runs          int
	deadline      time.Duration
	jsonPath      string
	hosts         int
	rates, urls   []int
	figureBursts  []int
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run parses args, measures and prints; it returns the exit code: 0 measured, 1 could not
// measure, 2 bad invocation.
func run(args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratelimit:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var rep report
	if o.grid {
		if rep.Grid, err = runGrid(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "ratelimit:", err)
			return 1
		}
	}
	if o.figures {
		if rep.Figures, err = runFigures(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "ratelimit:", err)
			return 1
		}
	}
	if err := rep.writeJSON(o.jsonPath); err != nil {
		fmt.Fprintln(os.Stderr, "ratelimit:", err)
		return 1
	}
	return 0
}

// parseFlags parses and checks the command line.
func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("ratelimit", flag.ContinueOnError)
	fs.StringVar(&o.fanout, "fanout", "", "the fanout binary to measure (required)")
	fs.BoolVar(&o.grid, "grid", false, "run the grid of rate, burst and URLs per host")
	fs.BoolVar(&o.figures, "figures", false, "run the issue's figures: 200 targets on 10 hosts of 20 req/s")
	fs.IntVar(&o.runs, "runs", 1, "repeat each measurement N times; report the median")
	fs.DurationVar(&o.deadline, "deadline", 120*time.Second, "fanout's --deadline; the child is killed 10 s after it")
	fs.StringVar(&o.jsonPath, "json", "", "also write every row as JSON to FILE")
	fs.IntVar(&o.hosts, "hosts", 5, "grid: hosts per point")
	rates := fs.String("rates", "5,20,50", "grid: rates R (req/s per host)")
	urls := fs.String("urls", "40,200", "grid: URLs per host U")
	bursts := fs.String("figure-bursts", "20,1", "figures: the hosts' burst, one set of figures per value")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.rates, err = parseInts("rates", *rates); err != nil {
		return o, err
	}
	if o.urls, err = parseInts("urls", *urls); err != nil {
		return o, err
	}
	if o.figureBursts, err = parseInts("figure-bursts", *bursts); err != nil {
		return o, err
	}
	switch {
	case o.fanout == "":
		return o, fmt.Errorf("-fanout PATH is required")
	case !o.grid && !o.figures:
		return o, fmt.Errorf("nothing to do: give -grid, -figures or both")
	case o.runs < 1:
		return o, fmt.Errorf("-runs must be at least 1, got %d", o.runs)
	case o.deadline <= 0:
		return o, fmt.Errorf("-deadline must be greater than 0, got %s", o.deadline)
	case o.hosts < 1:
		return o, fmt.Errorf("-hosts must be at least 1, got %d", o.hosts)
	}
	if _, err := os.Stat(o.fanout); err != nil {
		return o, fmt.Errorf("-fanout: %w", err)
	}
	return o, nil
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(name, s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-%s: %q is not a positive integer", name, f)
		}
		out = append(out, n)
	}
	return out, nil
}
