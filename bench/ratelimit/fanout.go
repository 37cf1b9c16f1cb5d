package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/fanout-dev/fanout/internal/testfarm"
)

// killAfter is how long after its --deadline the fanout child is killed.
const killAfter = 10 * time.Second

// fanoutClient returns a client that runs
// `fanout check -f URLS -o json -q --deadline D` with extra flags added.
func fanoutClient(bin string, deadline time.Duration, extra ...string) client {
	return func(ctx context.Context, _ *testfarm.Farm, urls string) (sample, error) {
		args := append([]string{"check", "-f", urls, "-o", "json", "-q", "--deadline", deadline.String()}, extra...)
		return runFanout(ctx, bin, args, deadline+killAfter)
	}
}

// runFanout runs bin with args, kills it after limit, and reads its JSON summary. The wall
// time runs from exec to exit. A run that fanout refused (exit 2) or that was killed is a
// sample with a note; only a fanout that could not be started, or an interrupt of this
// program, is an error.
func runFanout(ctx context.Context, bin string, args []string, limit time.Duration) (sample, error) {
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second // stop waiting for the pipes of a killed child
	start := time.Now()
	err := cmd.Run()
	s := sample{Wall: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return s, ctx.Err()
	case err != nil && !errors.As(err, &exitErr):
		return s, fmt.Errorf("run %s: %w", bin, err)
	}
	s.Exit = cmd.ProcessState.ExitCode()
	if cctx.Err() != nil {
		s.Note = fmt.Sprintf("killed after %s", limit)
		return s, nil
	}
	sum, err := parseSummary(stdout.Bytes())
	if err != nil {
		s.Note = fmt.Sprintf("exit %d: %s", s.Exit, firstLine(stderr.String(), err.Error()))
		return s, nil
	}
	s.OK, s.Total, s.Throttled = sum.OK, sum.Total, sum.Throttled
	return s, nil
}

// summary is the part of fanout's JSON report this program reads.
type summary struct {
	Total     int `json:"total"`
	OK        int `json:"ok"`
	Throttled int `json:"throttled"`
}

// parseSummary reads the summary of `fanout check -o json`.
func parseSummary(out []byte) (summary, error) {
	var doc struct {
		Summary *summary `json:"summary"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return summary{}, fmt.Errorf("no JSON report: %w", err)
	}
	if doc.Summary == nil {
		return summary{}, errors.New("no summary in the JSON report")
	}
	return *doc.Summary, nil
}

// firstLine returns the first non-blank line of s, or otherwise if there is none.
func firstLine(s, otherwise string) string {
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return otherwise
}
