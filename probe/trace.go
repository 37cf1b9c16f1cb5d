package probe

import (
	"crypto/tls"
	"math"
	"net/http/httptrace"
	"sync"
	"time"
)

// phases holds when each phase of one attempt started and ended; a zero
// time means the event did not happen. Ends are recorded only for phases
// that succeeded, so a start without an end is where an attempt was stuck
// or failed.
type phases struct {
	start               time.Time
	dnsStart, dnsDone   time.Time
	connStart, connDone time.Time
	tlsStart, tlsDone   time.Time
	gotConn, firstByte  time.Time
	end                 time.Time
	reused              bool
}

// tracer records the phases of one attempt through net/http/httptrace.
// Its callbacks may run on the transport's dial goroutine, which can
// outlive the attempt: events after finish are ignored.
type tracer struct {
	mu   sync.Mutex
	done bool
	p    phases
}

func newTracer() *tracer {
	return &tracer{p: phases{start: time.Now()}}
}

// clientTrace returns the hooks that feed t.
func (t *tracer) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { t.record(func(p *phases) { first(&p.dnsStart) }) },
		DNSDone: func(info httptrace.DNSDoneInfo) {
			if info.Err == nil {
				t.record(func(p *phases) { p.dnsDone = time.Now() })
			}
		},
		// Happy Eyeballs may try several addresses: keep the first start
		// and the connection that succeeded.
		ConnectStart: func(string, string) { t.record(func(p *phases) { first(&p.connStart) }) },
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				t.record(func(p *phases) { p.connDone = time.Now() })
			}
		},
		TLSHandshakeStart: func() { t.record(func(p *phases) { first(&p.tlsStart) }) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err == nil {
				t.record(func(p *phases) { p.tlsDone = time.Now() })
			}
		},
		GotConn: func(info httptrace.GotConnInfo) {
			t.record(func(p *phases) { p.gotConn, p.reused = time.Now(), info.Reused })
		},
		GotFirstResponseByte: func() { t.record(func(p *phases) { first(&p.firstByte) }) },
	}
}

func (t *tracer) record(f func(*phases)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.done {
		f(&t.p)
	}
}

func first(at *time.Time) {
	if at.IsZero() {
		*at = time.Now()
	}
}

// finish ends the attempt's record and returns it.
func (t *tracer) finish() phases {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done = true
	t.p.end = time.Now()
	return t.p
}

// connected reports whether the attempt got a connection.
func (p phases) connected() bool { return !p.gotConn.IsZero() }

// dialStage names what an attempt without a connection was doing:
// "dns", "connect" or "tls".
func (p phases) dialStage() string {
	switch {
	case !p.tlsStart.IsZero() && p.tlsDone.IsZero():
		return "tls"
	case !p.dnsStart.IsZero() && p.dnsDone.IsZero():
		return "dns"
	}
	return "connect"
}

// addTo puts conn_reused and timings_ms into d.
func (p phases) addTo(d Detail) {
	if p.connected() {
		d["conn_reused"] = p.reused
	}
	timings := map[string]float64{"total": millis(p.end.Sub(p.start))}
	span := func(name string, from, to time.Time) {
		if !from.IsZero() && !to.IsZero() {
			timings[name] = millis(to.Sub(from))
		}
	}
	span("dns", p.dnsStart, p.dnsDone)
	span("connect", p.connStart, p.connDone)
	span("tls", p.tlsStart, p.tlsDone)
	span("ttfb", p.start, p.firstByte)
	d["timings_ms"] = timings
}

// millis returns d in milliseconds, rounded to 0.01.
func millis(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*100) / 100
}
