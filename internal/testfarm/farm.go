// Package testfarm runs a farm of fake services on loopback: the room that gives tests,
// benchmarks and `fanout demo` real sockets to check without touching any network but
// 127.0.0.1.
//
// A [Spec] says how many services to start and how many of them misbehave, and how: slow,
// failing with HTTP 500, hanging, refusing connections or resetting them; a [RateLimit] makes
// the OK services answer 429 beyond a rate, as real APIs do. [Start] gives each
// service its own listener (its own host:port, so per-host limits never serialise two
// services), and every [Service] can say with [Service.Expect] which state and reason
// (DESIGN.md, "States and reasons") a correct checker must report for it. [Farm.Close] stops
// everything, unblocks hanging handlers and waits for every goroutine the farm started.
// [Farm.Stats] tells what each service saw: requests, rejections, the peak of requests in
// flight at once.
//
// The package uses only the standard library and imports nothing from the module, so the
// engine's own tests can use it.
package testfarm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Behaviour is how a service answers.
type Behaviour string

// The behaviours a service can have.
const (
	// OK answers 200 after Spec.Latency.
	OK Behaviour = "ok"
	// Slow answers 200 after Spec.SlowLatency.
	Slow Behaviour = "slow"
	// Fail answers 500 after Spec.Latency.
	Fail Behaviour = "fail"
	// Hang accepts the connection, reads the request and never answers, until the client
	// goes away or the farm closes.
	Hang Behaviour = "hang"
	// Refused has no listener: connecting is refused.
	Refused Behaviour = "refused"
	// Reset accepts the connection, reads the request and closes the connection with a TCP
	// reset instead of answering.
	Reset Behaviour = "reset"
)

// Defaults for the zero fields of a Spec.
const (
	DefaultLatency     = 100 * time.Millisecond
	DefaultSlowLatency = 600 * time.Millisecond
)

// Spec describes a farm. Zero fields take their defaults.
type Spec struct {
	// Services is the number of services; at least 1.
	Services int
	// Paths is the number of URLs per service (default 1).
	Paths int
	// Latency is how long OK and Fail services wait before answering (default 100ms; for
	// answers without a wait, use time.Nanosecond).
	Latency time.Duration
	// Jitter spreads every wait uniformly over ±Jitter (default 0). A wait never goes below 0.
	Jitter time.Duration
	// SlowLatency is how long Slow services wait before answering (default 600ms).
	SlowLatency time.Duration
	// Slow, Fail, Hang, Refused and Reset are how many services have each behaviour; the
	// rest are OK. Their sum must not exceed Services.
	Slow, Fail, Hang, Refused, Reset int
	// Seed shuffles which services get which behaviour, the same way for the same seed.
	// 0 means no shuffle: the OK services come first, then Slow, Fail, Hang, Refused, Reset.
	Seed int64
	// Limit, if not nil, makes every OK service enforce this rate limit, each with its own
	// token bucket. Start copies it.
	Limit *RateLimit
}

// Service is one fake service of a farm.
type Service struct {
	// Name is "svc-" and the service's index, zero-padded to at least 3 digits: "svc-007".
	Name string
	// Addr is the service's host:port on 127.0.0.1. For Refused, nothing listens there.
	Addr string
	// Behaviour is how the service answers.
	Behaviour Behaviour
	// URLs are the service's URLs: http://Addr/Name/0 up to http://Addr/Name/<Paths-1>.
	URLs []string

	delay  time.Duration // how long OK, Slow and Fail wait before answering
	jitter time.Duration // ± spread of delay
}

// Expect returns the state and reason (DESIGN.md, "States and reasons") that a correct HTTP
// checker with the given per-attempt timeout must report for s: a service that answers
// (OK, Slow, Fail) is a timeout unless its longest wait (latency + jitter) is shorter than
// timeout; Hang is always a timeout; Refused and Reset are errors. Expect ignores the few
// milliseconds a request costs on loopback, so pick timeouts well away from the latencies.
// A Service that did not come from a Farm gets "", "". Expect ignores Spec.Limit: it is
// what a checker that waits out the limit's rejections must report.
func (s Service) Expect(timeout time.Duration) (state, reason string) {
	switch s.Behaviour {
	case Hang:
		return "timeout", "timeout"
	case Refused:
		return "error", "refused"
	case Reset:
		return "error", "reset"
	case OK, Slow, Fail:
	default:
		return "", ""
	}
	if s.delay+s.jitter >= timeout {
		return "timeout", "timeout"
	}
	if s.Behaviour == Fail {
		return "fail", "http_status"
	}
	return "ok", ""
}

// wait draws how long s waits before answering one request.
func (s Service) wait() time.Duration {
	d := s.delay
	if s.jitter > 0 {
		d += time.Duration(rand.Int64N(2*int64(s.jitter)+1)) - s.jitter
	}
	return max(d, 0)
}

// clone returns s with its own copy of URLs, so callers cannot change the farm's.
func (s Service) clone() Service {
	s.URLs = slices.Clone(s.URLs)
	return s
}

// Farm is a running set of fake services. Its methods are safe for concurrent use.
type Farm struct {
	services []Service
	paths    int
	byURL    map[string]int // URL → index in services
	byAddr   map[string]int // listener address of an HTTP service → index in services

	byService map[string]int // Addr of every service → index in services
	counters  []*counters    // per service, in service order

	srv      *http.Server
	httpLns  []net.Listener
	resetLns []net.Listener
	closing  chan struct{} // closed by Close

	loops sync.WaitGroup // Serve and accept loops
	conns sync.WaitGroup // HTTP connections and reset handlers still running

	mu         sync.Mutex
	resetConns map[net.Conn]struct{} // open connections of Reset services
	closed     bool                  // Close has begun; guarded by mu

	nRequests atomic.Int64
	nConns    atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// Start starts a farm as spec describes and returns once every listener is open. The
// caller must call Close. On error nothing is left open or running.
func Start(spec Spec) (*Farm, error) {
	spec, err := spec.normalise()
	if err != nil {
		return nil, err
	}
	f := &Farm{
		paths:      spec.Paths,
		byURL:      make(map[string]int, spec.Services*spec.Paths),
		byAddr:     make(map[string]int, spec.Services),
		byService:  make(map[string]int, spec.Services),
		closing:    make(chan struct{}),
		resetConns: make(map[net.Conn]struct{}),
	}
	if err := f.listen(spec, spec.behaviours()); err != nil {
		return nil, err
	}
	f.srv = f.newServer(spec)
	f.serve()
	return f, nil
}

// normalise fills in defaults and checks spec.
func (s Spec) normalise() (Spec, error) {
	if s.Services < 1 {
		return s, fmt.Errorf("testfarm: services must be at least 1, got %d", s.Services)
	}
	if s.Paths == 0 {
		s.Paths = 1
	}
	if s.Latency == 0 {
		s.Latency = DefaultLatency
	}
	if s.SlowLatency == 0 {
		s.SlowLatency = DefaultSlowLatency
	}
	switch {
	case s.Paths < 0:
		return s, fmt.Errorf("testfarm: paths must be at least 1, got %d", s.Paths)
	case s.Latency < 0 || s.SlowLatency < 0 || s.Jitter < 0:
		return s, fmt.Errorf("testfarm: latency, slow latency and jitter must not be negative")
	case min(s.Slow, s.Fail, s.Hang, s.Refused, s.Reset) < 0:
		return s, fmt.Errorf("testfarm: behaviour counts must not be negative")
	case s.Slow+s.Fail+s.Hang+s.Refused+s.Reset > s.Services:
		return s, fmt.Errorf("testfarm: %d misbehaving services do not fit in %d services",
			s.Slow+s.Fail+s.Hang+s.Refused+s.Reset, s.Services)
	}
	if s.Limit != nil {
		l, err := s.Limit.normalise()
		if err != nil {
			return s, err
		}
		s.Limit = &l
	}
	return s, nil
}

// behaviours returns the behaviour of each service, in service order.
func (s Spec) behaviours() []Behaviour {
	bad := s.Slow + s.Fail + s.Hang + s.Refused + s.Reset
	bs := make([]Behaviour, 0, s.Services)
	for _, c := range []struct {
		b Behaviour
		n int
	}{{OK, s.Services - bad}, {Slow, s.Slow}, {Fail, s.Fail}, {Hang, s.Hang}, {Refused, s.Refused}, {Reset, s.Reset}} {
		for range c.n {
			bs = append(bs, c.b)
		}
	}
	if s.Seed != 0 {
		r := rand.New(rand.NewPCG(uint64(s.Seed), 0x7e57fa4d))
		r.Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
	}
	return bs
}

// listen opens one listener per service. Refused services get a port that was listened on
// and closed again; those ports are closed only after every other listener is open, so the
// farm cannot hand one of them to another of its own services. (Another process could still
// take such a port; on loopback with ~28000 ephemeral ports that is rare enough.)
func (f *Farm) listen(spec Spec, bs []Behaviour) error {
	var reserved []net.Listener
	now := time.Now()
	width := max(3, len(strconv.Itoa(spec.Services-1)))
	for i, b := range bs {
		name := fmt.Sprintf("svc-%0*d", width, i)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			closeListeners(append(append(reserved, f.httpLns...), f.resetLns...))
			return fmt.Errorf("testfarm: listen for %s: %w", name, err)
		}
		addr := ln.Addr().String()
		switch b {
		case Refused:
			reserved = append(reserved, ln)
		case Reset:
			f.resetLns = append(f.resetLns, ln)
		default:
			f.httpLns = append(f.httpLns, ln)
			f.byAddr[addr] = i
		}
		f.services = append(f.services, newService(spec, name, addr, b))
		f.counters = append(f.counters, newCounters(spec, b, now))
		f.byService[addr] = i
		for _, u := range f.services[i].URLs {
			f.byURL[u] = i
		}
	}
	if err := closeListeners(reserved); err != nil {
		closeListeners(append(f.httpLns, f.resetLns...))
		return fmt.Errorf("testfarm: free a refused port: %w", err)
	}
	return nil
}

// newService describes service name at addr.
func newService(spec Spec, name, addr string, b Behaviour) Service {
	s := Service{Name: name, Addr: addr, Behaviour: b, delay: spec.Latency, jitter: spec.Jitter}
	if b == Slow {
		s.delay = spec.SlowLatency
	}
	s.URLs = make([]string, spec.Paths)
	for p := range s.URLs {
		s.URLs[p] = fmt.Sprintf("http://%s/%s/%d", addr, name, p)
	}
	return s
}

// closeListeners closes every listener and returns their errors joined.
func closeListeners(lns []net.Listener) error {
	var errs []error
	for _, ln := range lns {
		errs = append(errs, ln.Close())
	}
	return errors.Join(errs...)
}

// newServer returns the one HTTP server behind every HTTP service. Its header timeout is far
// longer than any wait, and it counts connections and tracks them until they end.
func (f *Farm) newServer(spec Spec) *http.Server {
	longest := max(spec.Latency, spec.SlowLatency) + spec.Jitter
	return &http.Server{
		Handler:           http.HandlerFunc(f.serveHTTP),
		ReadHeaderTimeout: 10*time.Second + longest,
		IdleTimeout:       time.Minute + longest,
		MaxHeaderBytes:    64 << 10,
		ConnState:         f.connState,
	}
}

// serve starts one goroutine per listener.
func (f *Farm) serve() {
	for _, ln := range f.httpLns {
		f.loops.Go(func() { _ = f.srv.Serve(ln) }) // returns ErrServerClosed after Close
	}
	for _, ln := range f.resetLns {
		f.loops.Go(func() { f.acceptResets(ln) })
	}
}

// connState counts HTTP connections and tracks each until its goroutine is done with it.
// The server calls it with StateNew in the Serve loop, before Serve can return, so every Add
// happens before Close waits.
func (f *Farm) connState(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		f.nConns.Add(1)
		f.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		f.conns.Done()
	}
}

// Services returns every service, in order: Services()[i].Name ends in i.
func (f *Farm) Services() []Service {
	out := make([]Service, len(f.services))
	for i, s := range f.services {
		out[i] = s.clone()
	}
	return out
}

// URLs returns every URL of every service, in service order.
func (f *Farm) URLs() []string {
	out := make([]string, 0, len(f.services)*f.paths)
	for _, s := range f.services {
		out = append(out, s.URLs...)
	}
	return out
}

// Lookup returns the service that url (exactly as URLs gave it) belongs to.
func (f *Farm) Lookup(url string) (Service, bool) {
	i, ok := f.byURL[url]
	if !ok {
		return Service{}, false
	}
	return f.services[i].clone(), true
}

// Requests returns how many requests the farm's services have received: every HTTP request
// that reached a handler, and every complete request header a Reset service read. It is
// the sum of every service's ServiceStats.Requests, plus requests no service could claim.
func (f *Farm) Requests() int64 { return f.nRequests.Load() }

// Conns returns how many TCP connections the farm's services have accepted.
func (f *Farm) Conns() int64 { return f.nConns.Load() }

// Close closes every listener and connection, ends every handler (a request still waiting
// gets no answer) and returns once every goroutine the farm started has ended. Calling it
// again returns the first call's result.
func (f *Farm) Close() error {
	f.closeOnce.Do(func() { f.closeErr = f.close() })
	return f.closeErr
}

// close does Close's work once. srv.Close closes the HTTP listeners, waits for their Serve
// loops, then closes every connection those loops accepted, which cancels the requests'
// contexts; closing f.closing ends whatever is left.
func (f *Farm) close() error {
	err := f.srv.Close()
	f.mu.Lock()
	f.closed = true
	close(f.closing)
	for c := range f.resetConns {
		_ = c.Close()
	}
	f.mu.Unlock()
	err = errors.Join(err, closeListeners(f.resetLns))
	f.loops.Wait()
	f.conns.Wait()
	if err != nil {
		return fmt.Errorf("testfarm: close: %w", err)
	}
	return nil
}
