package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fanout-dev/fanout/internal/testfarm"
)

// latency is how long every host waits before an accepted answer.
const latency = 10 * time.Millisecond

// sample is one measurement of one client against fresh hosts.
type sample struct {
	Wall        time.Duration
	Rejected    int64 // 429s sent by all the hosts together
	MaxRejected int64 // 429s sent by the host that sent the most
	OK, Total   int   // targets that ended ok (HTTP 200 for the in-process clients), of all
	Throttled   int   // fanout's own summary.throttled; 0 for the in-process clients
	Exit        int   // fanout's exit code; 0 for the in-process clients
	Note        string
}

// client runs against the hosts of f, whose URLs are also in the file named urls, and
// returns what it saw; the caller adds what the hosts counted. An error means the
// measurement could not be made at all.
type client func(ctx context.Context, f *testfarm.Farm, urls string) (sample, error)

// hostsSpec describes h hosts of u URLs each that allow rate req/s with a burst: 10 ms
// latency, 429 + Retry-After: 1 beyond.
func hostsSpec(h, u, rate, burst int) testfarm.Spec {
	return testfarm.Spec{Services: h, Paths: u, Latency: latency,
		Limit: &testfarm.RateLimit{Rate: float64(rate), Burst: burst}}
}

// measure starts hosts as spec says, runs c against them and closes them.
func measure(ctx context.Context, spec testfarm.Spec, c client) (sample, error) {
	f, err := testfarm.Start(spec)
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "ratelimit-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(dir)
	urls := filepath.Join(dir, "urls.txt")
	if err := os.WriteFile(urls, []byte(strings.Join(f.URLs(), "\n")+"\n"), 0o644); err != nil {
		return sample{}, err
	}
	s, err := c(ctx, f, urls)
	if err != nil {
		return s, err
	}
	if err := f.Close(); err != nil { // every handler has ended: the counts are final
		return s, err
	}
	if s.Total == 0 {
		s.Total = len(f.URLs())
	}
	for _, st := range f.Stats() {
		s.Rejected += st.Rejected
		s.MaxRejected = max(s.MaxRejected, st.Rejected)
	}
	return s, nil
}

// result sums up the samples of one measurement repeated -runs times.
type result struct {
	WallS       float64 `json:"wall_s"`                // median
	Rejected    int64   `json:"rejected"`              // median
	MaxRejected int64   `json:"max_rejected_per_host"` // median
	OK          int     `json:"ok"`                    // the fewest
	Total       int     `json:"total"`
	Throttled   int     `json:"fanout_throttled"` // median
	Exits       []int   `json:"exit_codes"`       // every code seen, sorted
	Runs        int     `json:"runs"`
	Note        string  `json:"note,omitempty"`
}

// repeat measures c n times, each against fresh hosts. It stops early when a run has a
// note (fanout refused the flags, or was killed): the next runs would say the same.
func repeat(ctx context.Context, n int, spec testfarm.Spec, c client) (result, error) {
	var samples []sample
	for range n {
		s, err := measure(ctx, spec, c)
		if err != nil {
			return result{}, err
		}
		samples = append(samples, s)
		if s.Note != "" {
			break
		}
	}
	return summarise(samples), nil
}

// summarise reduces samples to medians (the lower middle one for an even count), the
// fewest targets ok and every exit code.
func summarise(samples []sample) result {
	r := result{
		WallS:       median(samples, func(s sample) time.Duration { return s.Wall }).Seconds(),
		Rejected:    median(samples, func(s sample) int64 { return s.Rejected }),
		MaxRejected: median(samples, func(s sample) int64 { return s.MaxRejected }),
		Throttled:   median(samples, func(s sample) int { return s.Throttled }),
		OK:          samples[0].OK,
		Total:       samples[0].Total,
		Runs:        len(samples),
	}
	for _, s := range samples {
		r.OK = min(r.OK, s.OK)
		if !slices.Contains(r.Exits, s.Exit) {
			r.Exits = append(r.Exits, s.Exit)
		}
		if s.Note != "" {
			r.Note = s.Note
		}
	}
	slices.Sort(r.Exits)
	return r
}

// median returns the median of field over samples (the lower middle one for an even count).
func median[T cmp.Ordered](samples []sample, field func(sample) T) T {
	vs := make([]T, len(samples))
	for i, s := range samples {
		vs[i] = field(s)
	}
	slices.Sort(vs)
	return vs[(len(vs)-1)/2]
}

// exits formats exit codes as "0" or "0,1".
func (r result) exits() string {
	var s []string
	for _, e := range r.Exits {
		s = append(s, fmt.Sprint(e))
	}
	return strings.Join(s, ",")
}
