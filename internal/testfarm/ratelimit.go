package testfarm

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
)

// NoRetryAfter as RateLimit.RetryAfter sends rejections without any hint header.
const NoRetryAfter = "-"

// Defaults for the zero fields of a RateLimit.
const (
	DefaultLimitStatus     = http.StatusTooManyRequests
	DefaultLimitRetryAfter = "1"
	DefaultLimitHeader     = "Retry-After"
)

// RateLimit makes every OK service of a farm enforce a rate limit, as real APIs do: each
// service has its own token bucket, which starts full with Burst tokens and refills at Rate
// tokens per second up to Burst. A request takes one token and is answered after the
// service's latency; a request that finds the bucket empty is rejected at once, with Status
// and the hint header. Slow, Fail, Hang, Refused and Reset services are never limited.
// Zero fields take their defaults.
type RateLimit struct {
	// Rate is how many tokens per second the bucket regains; greater than 0.
	Rate float64
	// Burst is the size of the bucket: how many requests a full bucket lets through at
	// once; at least 1.
	Burst int
	// Status answers each rejected request (default 429); 400–599.
	Status int
	// RetryAfter is the value of Header sent with each rejection (default "1").
	// NoRetryAfter sends no header at all.
	RetryAfter string
	// Header names the hint's header (default "Retry-After"), for example
	// "X-RateLimit-Reset". It is sent with exactly this spelling.
	Header string
}

// normalise fills in l's defaults and checks it. NoRetryAfter becomes "".
func (l RateLimit) normalise() (RateLimit, error) {
	if l.Status == 0 {
		l.Status = DefaultLimitStatus
	}
	switch l.RetryAfter {
	case "":
		l.RetryAfter = DefaultLimitRetryAfter
	case NoRetryAfter:
		l.RetryAfter = ""
	}
	if l.Header == "" {
		l.Header = DefaultLimitHeader
	}
	switch {
	case !(l.Rate > 0) || math.IsInf(l.Rate, 1):
		return l, fmt.Errorf("testfarm: limit: rate must be a finite number greater than 0, got %g", l.Rate)
	case l.Burst < 1:
		return l, fmt.Errorf("testfarm: limit: burst must be at least 1, got %d", l.Burst)
	case l.Status < 400 || l.Status > 599:
		return l, fmt.Errorf("testfarm: limit: status must be 400–599, got %d", l.Status)
	case strings.ContainsAny(l.Header, " \t\r\n:"):
		return l, fmt.Errorf("testfarm: limit: %q is not a header name", l.Header)
	case strings.ContainsAny(l.RetryAfter, "\r\n"):
		return l, fmt.Errorf("testfarm: limit: retry-after %q spans lines", l.RetryAfter)
	}
	return l, nil
}

// bucket is a token bucket. It is not safe for concurrent use: its owner holds a lock.
type bucket struct {
	rate, size float64
	tokens     float64
	last       time.Time // when tokens was last brought up to date
}

// newBucket returns a full bucket for l at time now.
func newBucket(l RateLimit, now time.Time) *bucket {
	return &bucket{rate: l.Rate, size: float64(l.Burst), tokens: float64(l.Burst), last: now}
}

// take refills b for the time since its last use and takes one token if there is one.
func (b *bucket) take(now time.Time) bool {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.size, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// ServiceStats is what one service has seen since the farm started.
type ServiceStats struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	// Requests counts every request the service received, including those to unknown
	// paths (404) and, for a Reset service, every request header it read before resetting.
	Requests int64 `json:"requests"`
	// Accepted counts the requests to a known path that the rate limit let through (all
	// of them for a service without one); Rejected those it answered with its Status.
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
	// PeakInFlight is the most requests the service was handling at once, since the
	// farm started or the last Farm.ResetPeaks.
	PeakInFlight int64 `json:"peak_in_flight"`
}

// counters are a service's rate limit and tallies. One mutex guards all of them, so the
// bucket is exact under concurrency and a peak is never lower than the in-flight count it
// saw.
type counters struct {
	limit *RateLimit // nil: no limit; else normalised

	mu                 sync.Mutex
	bucket             *bucket // nil: no limit
	requests           int64
	accepted, rejected int64
	inFlight, peak     int64
}

// begin counts a request that arrived and is now in flight.
func (c *counters) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	c.inFlight++
	c.peak = max(c.peak, c.inFlight)
}

// end counts the end of a request that begin counted.
func (c *counters) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight--
}

// admit takes a token for one request to a known path and reports whether the request
// may go on. The time is read under the lock, so the bucket sees requests in order.
func (c *counters) admit() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bucket != nil && !c.bucket.take(time.Now()) {
		c.rejected++
		return false
	}
	c.accepted++
	return true
}

// reject answers a request that the rate limit turned away.
func (c *counters) reject(w http.ResponseWriter, name string) {
	l := c.limit
	if l.RetryAfter != "" {
		w.Header()[l.Header] = []string{l.RetryAfter} // keep the spelling, as some APIs do
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(l.Status)
	_, _ = fmt.Fprintf(w, "rate limited %s\n", name)
}

// newCounters returns the counters of a service with behaviour b.
func newCounters(spec Spec, b Behaviour, now time.Time) *counters {
	c := &counters{}
	if spec.Limit != nil && b == OK {
		c.limit = spec.Limit
		c.bucket = newBucket(*spec.Limit, now)
	}
	return c
}

// Stats returns what every service has seen, in service order. Refused services have seen
// nothing.
func (f *Farm) Stats() []ServiceStats {
	out := make([]ServiceStats, len(f.services))
	for i, s := range f.services {
		c := f.counters[i]
		c.mu.Lock()
		out[i] = ServiceStats{Name: s.Name, Addr: s.Addr, Requests: c.requests,
			Accepted: c.accepted, Rejected: c.rejected, PeakInFlight: c.peak}
		c.mu.Unlock()
	}
	return out
}

// InFlight returns how many requests the service at addr (a Service.Addr) is handling
// now; 0 for an address that is not the farm's.
func (f *Farm) InFlight(addr string) int64 {
	i, ok := f.byService[addr]
	if !ok {
		return 0
	}
	c := f.counters[i]
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inFlight
}

// ResetPeaks starts every service's PeakInFlight afresh: from now on it is the most
// requests in flight at once since this call. It is set to the requests in flight now
// (0 when the service is idle), so it never reads lower than what is running.
func (f *Farm) ResetPeaks() {
	for _, c := range f.counters {
		c.mu.Lock()
		c.peak = c.inFlight
		c.mu.Unlock()
	}
}
