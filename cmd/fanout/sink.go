package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/config"
	"github.com/fanout-dev/fanout/report"
)

// sink takes records as they complete: it keeps the tally and the progress
// line, streams jsonl, and writes the chosen format at the end. stdout gets
// only the format; everything for humans goes to stderr.
type sink struct {
	flags      *runFlags
	io         stdio
	tally      report.Tally
	records    []report.Record
	jsonl      *report.JSONL
	progress   *report.Progress
	incomplete bool // a target ended because of the deadline
}

func newSink(f *runFlags, io stdio, total int) *sink {
	s := &sink{flags: f, io: io}
	if f.output == "jsonl" {
		s.jsonl = report.NewJSONL(io.out)
	} else {
		s.records = make([]report.Record, 0, total)
	}
	if !f.quiet && isTerminal(io.err) {
		s.progress = report.NewProgress(io.err, total, colorOn(io.err))
	}
	return s
}

// colorOn: colour only on a terminal and never with NO_COLOR set.
func colorOn(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == ""
}

func (s *sink) add(rec report.Record, reason fanout.Reason) {
	s.tally.Add(rec)
	if reason == fanout.ReasonDeadline || (rec.State == string(fanout.StateNotRun) && reason != fanout.ReasonCancelled) {
		s.incomplete = true
	}
	if s.progress != nil {
		s.progress.Add(rec)
	}
	if s.jsonl != nil {
		// A closed stdout ends the run quietly: the write raises SIGPIPE.
		_ = s.jsonl.Result(rec)
		return
	}
	s.records = append(s.records, rec)
}

// outcome is what the exit status depends on.
type outcome struct {
	summary    report.Summary
	incomplete bool
	signal     os.Signal
}

func (o outcome) code() int {
	switch {
	case o.signal != nil:
		return exitCodeFor(o.signal)
	case o.incomplete:
		return exitIncomplete
	case o.summary.OK < o.summary.Total:
		return exitNotOK
	}
	return exitOK
}

// status is the command's error for the exit status: nil for 0.
func (o outcome) status() error {
	if c := o.code(); c != exitOK {
		return exitStatus(c)
	}
	return nil
}

func (s *sink) finish(wall time.Duration, duplicates int, sig os.Signal, st *fanout.Stats, red *config.Redactor) outcome {
	if s.progress != nil {
		s.progress.Stop()
	}
	sum := s.tally.Summary(wall, duplicates)
	sum.RetryBudgetExhausted = st.RetryBudgetExhausted
	sum.Hosts = hostsOf(st.Keys, red)
	s.writeFormat(sum)
	s.tellHumans(sum, sig)
	if !s.flags.quiet {
		advise(s.io.err, sum, st)
	}
	return outcome{summary: sum, incomplete: s.incomplete, signal: sig}
}

func (s *sink) writeFormat(sum report.Summary) {
	w := s.io.out
	switch s.flags.output {
	case "json":
		_ = report.WriteJSON(w, s.records, sum)
	case "jsonl":
		_ = s.jsonl.Summary(sum)
	case "junit":
		_ = report.WriteJUnit(w, s.records, sum)
	default:
		_ = report.WriteTable(w, s.records, sum, report.TableOptions{All: s.flags.all, Color: colorOn(w)})
		if line := report.LatencyLine(sum); line != "" {
			fmt.Fprintln(w, line)
		}
	}
}

// tellHumans writes the summary to stderr under a machine format, and says
// why a run ended early.
func (s *sink) tellHumans(sum report.Summary, sig os.Signal) {
	if s.flags.quiet {
		return
	}
	w := s.io.err
	if s.flags.output != "table" {
		fmt.Fprintln(w, report.SummaryLine(sum))
		if line := report.LatencyLine(sum); line != "" {
			fmt.Fprintln(w, line)
		}
	}
	switch {
	case sig != nil:
		fmt.Fprintf(w, "fanout: interrupted by %s: partial report, %d of %d targets not run\n", signalName(sig), sum.NotRun, sum.Total)
	case s.incomplete:
		fmt.Fprintf(w, "fanout: the deadline of %s came first: %d targets not run, %d cut short\n",
			s.flags.deadline, sum.NotRun, max(0, sum.Reasons[string(fanout.ReasonDeadline)]-sum.NotRun))
	}
}
