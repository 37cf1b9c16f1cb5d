// Package report turns results into what people and scripts read: a table,
// JSON, JSON lines, JUnit XML, the one-line summary and the live progress
// line. It knows the result schema of DESIGN.md and nothing of probes or the
// engine's internals; every writer takes an io.Writer.
package report

import "time"

// Record is one target's result as reports show it (DESIGN.md, "Result
// schema"). Target and Error are already redacted by whoever builds it.
type Record struct {
	Name      string         `json:"name"`
	Target    string         `json:"target"`
	Kind      string         `json:"kind"`
	Host      string         `json:"host"`
	State     string         `json:"state"`
	Reason    string         `json:"reason"`
	Error     string         `json:"error"`
	Attempts  int            `json:"attempts"`
	Retries   int            `json:"retries"`   // error retries among the attempts
	Throttled int            `json:"throttled"` // attempts the target throttled
	StartedAt time.Time      `json:"-"`         // zero when never started; see MarshalJSON
	Queue     time.Duration  `json:"-"`
	Duration  time.Duration  `json:"-"`
	Detail    map[string]any `json:"detail"`
}

// Summary is the run as a whole (DESIGN.md, "Result schema").
type Summary struct {
	Total      int            `json:"total"`
	OK         int            `json:"ok"`
	Fail       int            `json:"fail"`
	Error      int            `json:"error"`
	Timeout    int            `json:"timeout"`
	NotRun     int            `json:"not_run"`
	Duplicates int            `json:"duplicates"`
	WallMS     float64        `json:"wall_ms"`
	SumMS      float64        `json:"sum_ms"`
	Speedup    float64        `json:"speedup"`
	LatencyMS  Latency        `json:"latency_ms"`
	Retries    int            `json:"retries"`
	Throttled  int            `json:"throttled"`
	Reasons    map[string]int `json:"reasons"` // non-ok results counted by reason
	// RetryBudgetExhausted says some errors were not retried because the
	// run's retry budget was spent.
	RetryBudgetExhausted bool `json:"retry_budget_exhausted"`
	// Hosts lists the hosts that throttled or whose limits dropped.
	Hosts []Host `json:"hosts"`
}

// Host is what a run learned of one host: how often it throttled, and
// where its adaptive limits ended.
type Host struct {
	Host         string  `json:"host"`
	Requests     int     `json:"requests"`
	Throttled    int     `json:"throttled"`
	ThrottleRate float64 `json:"throttle_rate"` // throttled ÷ requests
	Pauses       int     `json:"pauses"`
	PerHost      int     `json:"per_host"`     // configured concurrency
	PerHostEnd   int     `json:"per_host_end"` // adaptive concurrency at the end
	Rate         float64 `json:"rate"`         // configured rate, 0 = none
	RateEnd      float64 `json:"rate_end"`     // rate in force at the end, 0 = none
}

// Latency holds percentiles of the duration of the targets that ran.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}
