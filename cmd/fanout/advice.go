package main

import (
	"fmt"
	"io"
	"math"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/config"
	"github.com/fanout-dev/fanout/report"
)

// hostsOf turns the engine's per-key counters into the summary's hosts,
// their names redacted.
func hostsOf(keys []fanout.KeyStats, red *config.Redactor) []report.Host {
	hosts := make([]report.Host, 0, len(keys))
	for _, k := range keys {
		hosts = append(hosts, report.Host{
			Host: red.Redact(k.Key), Requests: k.Attempts, Throttled: k.Throttled,
			ThrottleRate: math.Round(k.ThrottleRate()*1000) / 1000, Pauses: k.Cooldowns,
			PerHost: k.Concurrency, PerHostEnd: k.ConcurrencyEnd,
			Rate: round2(k.Rate), RateEnd: round2(k.RateEnd),
		})
	}
	return hosts
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// maxHostLines bounds the per-host lines on stderr; the JSON summary has
// them all.
const maxHostLines = 10

// significantThrottling is the share of a host's requests throttled above
// which fanout suggests a rate.
const significantThrottling = 0.05

// advise tells humans, on stderr, which hosts throttled or had their
// limits cut, what to pass next time, and whether retries ran out.
func advise(w io.Writer, sum report.Summary, st *fanout.Stats) {
	for i, h := range sum.Hosts {
		if i == maxHostLines {
			fmt.Fprintf(w, "fanout: … and %d more hosts throttled or slowed down (see the JSON summary)\n", len(sum.Hosts)-i)
			break
		}
		fmt.Fprintf(w, "fanout: %s: %s\n", h.Host, hostLine(h))
		if h.ThrottleRate >= significantThrottling && h.RateEnd > 0 {
			fmt.Fprintf(w, "advice: %s throttled %.0f%% of requests: try --per-host-rate %g\n",
				h.Host, 100*h.ThrottleRate, suggestedRate(h.RateEnd))
		}
	}
	if st.RetryBudgetExhausted {
		fmt.Fprintf(w, "fanout: the retry budget (%d retries) ran out: later errors were not retried (see --retry-budget)\n", st.RetryBudget)
	}
	if st.LocalWaits > 0 {
		fmt.Fprintf(w, "fanout: file descriptors ran out %d times: those checks waited and ran again (concurrency went down to %d)\n",
			st.LocalWaits, st.ConcurrencyCap)
	}
}

// hostLine says how a host throttled and where its limits ended.
func hostLine(h report.Host) string {
	line := fmt.Sprintf("throttled %d of %s (%.0f%%), paused %s", h.Throttled, plural(h.Requests, "attempt"),
		100*h.ThrottleRate, times(h.Pauses))
	if h.Throttled == 0 {
		line = plural(h.Requests, "attempt") + ", limits cut after timeouts or overload"
	}
	if h.PerHostEnd < h.PerHost {
		line += fmt.Sprintf("; per-host %d → %d", h.PerHost, h.PerHostEnd)
	}
	switch {
	case h.RateEnd > 0 && h.Rate == 0:
		line += fmt.Sprintf("; rate learned %.1f/s", h.RateEnd)
	case h.RateEnd > 0 && h.RateEnd < h.Rate:
		line += fmt.Sprintf("; rate %g/s → %.1f/s", h.Rate, h.RateEnd)
	}
	return line
}

// times is "once", "twice", "3 times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// suggestedRate rounds a learned rate down to a figure a person would type:
// whole numbers from 10 up, one decimal below.
func suggestedRate(r float64) float64 {
	if r >= 10 {
		return math.Floor(r)
	}
	return math.Max(0.1, math.Floor(r*10)/10)
}
