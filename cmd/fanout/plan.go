package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/config"
)

// planLatency is what --plan assumes one check takes when nothing times out.
const planLatency = 100 * time.Millisecond

// plan is what a run would do, computed without sending anything.
type plan struct {
	Targets     int         `json:"targets"`
	Concurrency int         `json:"concurrency"`
	Capped      string      `json:"concurrency_capped,omitempty"` // why -c was lowered
	Rate        float64     `json:"rate"`
	Timeout     float64     `json:"timeout_s"`
	Deadline    float64     `json:"deadline_s"`
	Retries     int         `json:"retries"`
	RetryBudget int         `json:"retry_budget"`
	Adaptive    bool        `json:"adaptive"`
	Hosts       []planHost  `json:"hosts"`
	Expected    float64     `json:"expected_s"` // every check answers in planLatency, no retry
	Worst       float64     `json:"worst_s"`    // every attempt times out, retries as budgeted
	Warnings    []string    `json:"warnings"`
	Backoff     planBackoff `json:"backoff"`
}

type planHost struct {
	Host     string  `json:"host"`
	Targets  int     `json:"targets"`
	PerHost  int     `json:"per_host"`
	Rate     float64 `json:"rate"`
	Expected float64 `json:"expected_s"`
	Worst    float64 `json:"worst_s"`
}

type planBackoff struct {
	Base float64 `json:"base_s"`
	Cap  float64 `json:"cap_s"`
}

// makePlan computes the plan of running targets with f (after the
// descriptor cap). The durations are lower bounds of their scenario: they
// count the limits and rates, not the machine's own speed.
func makePlan(targets []config.Target, f *runFlags, capped string) plan {
	p := plan{
		Targets: len(targets), Concurrency: f.concurrency, Capped: capped, Rate: f.rate,
		Timeout: f.timeout.Seconds(), Deadline: f.deadline.Seconds(), Retries: f.retries,
		Adaptive: !f.noAdapt, Warnings: []string{},
		Backoff: planBackoff{fanout.BackoffBase.Seconds(), fanout.BackoffCap.Seconds()},
	}
	if f.retries > 0 && f.budget > 0 {
		p.RetryBudget = max(fanout.MinRetryBudget, int(f.budget*float64(len(targets))+0.5))
	}
	counts := map[string]int{}
	for _, t := range targets {
		counts[t.Check.Host()]++
	}
	worstAttempts := func(n int) int { return n + min(n*f.retries, p.RetryBudget) }
	for host, n := range counts {
		l := fanout.Limits{Concurrency: f.perHost, Rate: f.perHostRate, Burst: f.burst}
		if f.hostLimits != nil {
			l = f.hostLimits(host).Over(l)
		}
		h := planHost{Host: host, Targets: n, PerHost: l.Concurrency, Rate: l.Rate}
		paced := fanout.PacedRate(l.Rate, l.Burst)
		h.Expected = stage(n, h.PerHost, planLatency, paced, false)
		h.Worst = stage(worstAttempts(n), h.PerHost, f.timeout, paced, !f.noAdapt)
		if l.Ramps(!f.noAdapt) {
			h.Expected = math.Max(h.Expected, ramped(n, h.PerHost))
			h.Worst += fanout.RampOffset(min(n, h.PerHost)).Seconds() // the first round fills no sooner
			h.Worst = math.Round(h.Worst*1000) / 1000
		}
		p.Hosts = append(p.Hosts, h)
	}
	slices.SortFunc(p.Hosts, func(a, b planHost) int {
		return cmp.Or(cmp.Compare(b.Worst, a.Worst), cmp.Compare(b.Targets, a.Targets), strings.Compare(a.Host, b.Host))
	})
	p.Expected = stage(len(targets), f.concurrency, planLatency, f.rate, false)
	p.Worst = stage(worstAttempts(len(targets)), f.concurrency, f.timeout, f.rate, false)
	for _, h := range p.Hosts {
		p.Expected = math.Max(p.Expected, h.Expected)
		p.Worst = math.Max(p.Worst, h.Worst)
	}
	if len(targets) > 0 {
		// A target's own attempts run one after another.
		p.Worst = math.Max(p.Worst, oneTargetWorst(f.retries, f.timeout))
	}
	p.warn(f)
	return p
}

// stage is how long n attempts of d each take with `slots` at a time and at
// most rate a second (0: no rate limit), in seconds. With halving, the
// slots halve after each round, as adaptive limits do when every attempt
// times out.
func stage(n, slots int, d time.Duration, rate float64, halving bool) float64 {
	rounds := 0
	for left := n; left > 0; rounds++ {
		left -= slots
		if halving {
			slots = max(1, slots/2)
		}
	}
	t := float64(rounds) * d.Seconds()
	if rate > 0 {
		t = math.Max(t, float64(n)/rate)
	}
	return math.Round(t*1000) / 1000
}

// ramped is how long n checks of a host take at `slots` at a time when the
// ramp paces the first ones (fanout.Adaptive): the last paced one leaves
// after the ramp's gaps and answers in planLatency; the rest go in rounds.
func ramped(n, slots int) float64 {
	paced := min(n, fanout.RampAttempts())
	t := fanout.RampOffset(paced).Seconds() + planLatency.Seconds() + stage(n-paced, slots, planLatency, 0, false)
	return math.Round(t*1000) / 1000
}

// oneTargetWorst is the longest one target can take: every attempt times
// out, with the longest backoff before each retry.
func oneTargetWorst(retries int, timeout time.Duration) float64 {
	t := time.Duration(retries+1) * timeout
	for n := 1; n <= retries; n++ {
		t += min(fanout.BackoffCap, fanout.BackoffBase<<min(n-1, 8))
	}
	return math.Round(t.Seconds()*1000) / 1000
}

func (p *plan) warn(f *runFlags) {
	switch {
	case p.Expected > p.Deadline:
		p.Warnings = append(p.Warnings, fmt.Sprintf(
			"the deadline of %s cannot be met even if every check answers in %s: it needs about %s; raise --deadline, -c, --per-host or the rates",
			f.deadline, planLatency, seconds(p.Expected)))
	case p.Worst > p.Deadline:
		p.Warnings = append(p.Warnings, fmt.Sprintf(
			"if the targets time out, the run needs up to %s but the deadline is %s: what is left at the deadline is reported not_run",
			seconds(p.Worst), f.deadline))
	}
	if p.Capped != "" {
		p.Warnings = append(p.Warnings, p.Capped)
	}
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}

// maxPlanHosts bounds the hosts listed in the text plan.
const maxPlanHosts = 10

func (p plan) writeText(w io.Writer) {
	fmt.Fprintf(w, "plan: %d targets on %d hosts; nothing is sent\n", p.Targets, len(p.Hosts))
	fmt.Fprintf(w, "  concurrency  -c %d in all%s\n", p.Concurrency, rateText(p.Rate, ", "))
	fmt.Fprintf(w, "  timeout      %s per attempt; deadline %s\n", seconds(p.Timeout), seconds(p.Deadline))
	fmt.Fprintf(w, "  retries      %d per target, at most %d in the run; backoff full jitter from %s up to %s\n",
		p.Retries, p.RetryBudget, seconds(p.Backoff.Base), seconds(p.Backoff.Cap))
	adapt := "adaptive: cut on throttles and timeouts, regrown while hosts answer"
	if !p.Adaptive {
		adapt = "fixed (--no-adapt)"
	}
	fmt.Fprintf(w, "  per host     %s\n", adapt)
	fmt.Fprintf(w, "  %-30s %8s %9s %9s %10s %10s\n", "HOST", "TARGETS", "PER-HOST", "RATE", "EXPECTED", "WORST")
	for i, h := range p.Hosts {
		if i == maxPlanHosts {
			fmt.Fprintf(w, "  … and %d more hosts\n", len(p.Hosts)-i)
			break
		}
		rate := "-"
		if h.Rate > 0 {
			rate = fmt.Sprintf("%g/s", h.Rate)
		}
		fmt.Fprintf(w, "  %-30s %8d %9d %9s %10s %10s\n", h.Host, h.Targets, h.PerHost, rate, seconds(h.Expected), seconds(h.Worst))
	}
	fmt.Fprintf(w, "expected %s (every check answers in %s, no retries)\n", seconds(p.Expected), planLatency)
	fmt.Fprintf(w, "worst    %s (every attempt times out and is retried as budgeted%s)\n", seconds(p.Worst), adaptiveNote(p.Adaptive))
	for _, warning := range p.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}

func rateText(rate float64, prefix string) string {
	if rate <= 0 {
		return ""
	}
	return fmt.Sprintf("%sat most %g requests/s", prefix, rate)
}

func (p plan) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

func adaptiveNote(adaptive bool) string {
	if adaptive {
		return "; timeouts halve each host's concurrency"
	}
	return ""
}
