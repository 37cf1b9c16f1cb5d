package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// sep separates the items of the human one-liners.
const sep = " · "

// SummaryLine renders the run in one line for humans, e.g.
//
//	200 targets · 198 ok · 2 timeout · 0.11 s (sequential ≈ 20.4 s, 185×)
//
// ok is always listed; fail, error, timeout and not_run only when not zero.
// Times read "0.004 s", "0.11 s", "20.4 s", then "2m05s" from 100 s on. The
// parenthesis is left out when nothing ran or the wall time is 0; the
// speed-up is a whole number from 10× on and has one decimal below
// ("1.6×"). Duplicates, when any, end the line.
func SummaryLine(s Summary) string {
	noun := "targets"
	if s.Total == 1 {
		noun = "target"
	}
	parts := []string{fmt.Sprintf("%d %s", s.Total, noun), fmt.Sprintf("%d ok", s.OK)}
	for _, c := range []struct {
		n    int
		name string
	}{{s.Fail, stateFail}, {s.Error, stateError}, {s.Timeout, stateTimeout}, {s.NotRun, stateNotRun}} {
		if c.n != 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.name))
		}
	}
	wall := secondsText(s.WallMS)
	if s.Total > 0 && s.WallMS > 0 && s.SumMS > 0 {
		wall += fmt.Sprintf(" (sequential ≈ %s, %s)", secondsText(s.SumMS), speedupText(s.SumMS/s.WallMS))
	}
	parts = append(parts, wall)
	switch {
	case s.Duplicates == 1:
		parts = append(parts, "1 duplicate skipped")
	case s.Duplicates > 1:
		parts = append(parts, fmt.Sprintf("%d duplicates skipped", s.Duplicates))
	}
	return strings.Join(parts, sep)
}

// secondsText renders milliseconds as seconds with about two significant
// digits: "0.004 s", "0.11 s", "1.5 s", "20.4 s", "2m05s".
func secondsText(ms float64) string {
	secs := ms / 1000
	switch {
	case secs <= 0:
		return "0 s"
	case secs < 0.00995:
		return fmt.Sprintf("%.3f s", secs)
	case secs < 0.995:
		return fmt.Sprintf("%.2f s", secs)
	case secs < 99.95:
		return fmt.Sprintf("%.1f s", secs)
	}
	return clock(durationOfMS(ms))
}

// speedupText renders a speed-up factor: "185×", "1.6×".
func speedupText(x float64) string {
	if x >= 9.5 {
		return strconv.FormatFloat(x, 'f', 0, 64) + "×"
	}
	return strconv.FormatFloat(x, 'f', 1, 64) + "×"
}

// LatencyLine renders the latency percentiles of the targets that ran, e.g.
//
//	latency p50 101ms · p95 105ms · max 2.0s
//
// It is "" when no target ran.
func LatencyLine(s Summary) string {
	if s.Total-s.NotRun <= 0 || s.LatencyMS == (Latency{}) {
		return ""
	}
	l := s.LatencyMS
	return "latency p50 " + humanDuration(durationOfMS(l.P50)) +
		sep + "p95 " + humanDuration(durationOfMS(l.P95)) +
		sep + "max " + humanDuration(durationOfMS(l.Max))
}

// ReasonsLine renders the count of non-ok results by reason, most frequent
// first (ties by name), e.g.
//
//	failures by reason: timeout 2 · http_status 1
//
// It is "" when every result is ok.
func ReasonsLine(s Summary) string {
	var total int
	for _, n := range s.Reasons {
		total += n
	}
	if total == 0 {
		return ""
	}
	names := slices.SortedFunc(maps.Keys(s.Reasons), func(a, b string) int {
		return cmp.Or(cmp.Compare(s.Reasons[b], s.Reasons[a]), cmp.Compare(a, b))
	})
	parts := make([]string, 0, len(names))
	for _, name := range names {
		if s.Reasons[name] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", name, s.Reasons[name]))
		}
	}
	return "failures by reason: " + strings.Join(parts, sep)
}
