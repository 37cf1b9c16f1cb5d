package probe_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

// newServer starts an httptest server closed when the test ends.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPStatus(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/200", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/301", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/200", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/404", http.NotFound)
	mux.HandleFunc("/500", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	srv := newServer(t, mux)
	env := newEnv(t, probe.Options{})

	tests := []struct {
		path     string
		state    fanout.State
		reason   fanout.Reason
		code     int
		location string
		errText  string
	}{
		{"/200", fanout.StateOK, fanout.ReasonNone, 200, "", ""},
		{"/301", fanout.StateOK, fanout.ReasonNone, 301, "/200", ""},
		{"/404", fanout.StateFail, fanout.ReasonHTTPStatus, 404, "", "status 404, want 2xx or 3xx"},
		{"/500", fanout.StateFail, fanout.ReasonHTTPStatus, 500, "", "status 500, want 2xx or 3xx"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			o := run(t, mustCheck(t, srv.URL+tt.path), env, 5*time.Second)
			o.want(t, tt.state, tt.reason)
			if tt.errText != "" && o.err.Error() != tt.errText {
				t.Errorf("error %q, want %q", o.err, tt.errText)
			}
			d := o.detail
			if d["status_code"] != tt.code || d["proto"] != "HTTP/1.1" {
				t.Errorf("status_code %v proto %v, want %d HTTP/1.1", d["status_code"], d["proto"], tt.code)
			}
			if loc, ok := d["location"]; tt.location != "" && loc != tt.location || tt.location == "" && ok {
				t.Errorf("location %v, want %q", loc, tt.location)
			}
			if _, ok := d["body_truncated"]; ok {
				t.Errorf("body_truncated present for a small body: %v", d)
			}
			if _, ok := d["conn_reused"].(bool); !ok {
				t.Errorf("conn_reused missing: %v", d)
			}
			checkTimings(t, d, "ttfb", "total")
		})
	}
}

// checkTimings asserts that timings_ms holds the given phases, with
// non-negative values no larger than total, and no dns phase (the tests
// dial IP literals).
func checkTimings(t *testing.T, d probe.Detail, phases ...string) {
	t.Helper()
	tm, ok := d["timings_ms"].(map[string]float64)
	if !ok {
		t.Fatalf("timings_ms missing or not map[string]float64: %#v", d["timings_ms"])
	}
	for _, p := range phases {
		if v, ok := tm[p]; !ok || v < 0 || v > tm["total"] {
			t.Errorf("timings_ms[%q] = %v (present %v), total %v", p, v, ok, tm["total"])
		}
	}
	if _, ok := tm["dns"]; ok {
		t.Errorf("dns timing for an IP literal: %v", tm)
	}
}

func TestHTTPBodyFields(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}))
	env := newEnv(t, probe.Options{})
	c := mustCheck(t, srv.URL+"/")
	first := run(t, c, env, 5*time.Second)
	first.want(t, fanout.StateOK, fanout.ReasonNone)
	if first.detail["bytes"] != int64(5) || first.detail["conn_reused"] != false {
		t.Errorf("first attempt: bytes %v conn_reused %v, want 5 false", first.detail["bytes"], first.detail["conn_reused"])
	}
	checkTimings(t, first.detail, "connect", "ttfb", "total")
	second := run(t, c, env, 5*time.Second)
	if second.detail["conn_reused"] != true {
		t.Errorf("second attempt: conn_reused %v, want true", second.detail["conn_reused"])
	}
	if _, ok := second.detail["timings_ms"].(map[string]float64)["connect"]; ok {
		t.Errorf("connect timing on a reused connection: %v", second.detail["timings_ms"])
	}
}

func TestHTTPTimeouts(t *testing.T) {
	release := make(chan struct{})
	hold := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/slow-header", func(_ http.ResponseWriter, r *http.Request) { hold(r) })
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "part")
		w.(http.Flusher).Flush()
		hold(r)
	})
	srv := newServer(t, mux)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	hang := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	env := newEnv(t, probe.Options{})

	tests := []struct {
		name, url, errText string
	}{
		{"slow header", srv.URL + "/slow-header", "timeout awaiting response headers after 300ms"},
		{"slow body", srv.URL + "/slow-body", "timeout reading body after 300ms"},
		{"accepts and hangs", "http://" + hang + "/", "timeout awaiting response headers after 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, mustCheck(t, tt.url), env, 300*time.Millisecond)
			o.want(t, fanout.StateTimeout, fanout.ReasonTimeout)
			if o.err.Error() != tt.errText {
				t.Errorf("error %q, want %q", o.err, tt.errText)
			}
			if o.elapsed > 3*time.Second {
				t.Errorf("took %v with a 300ms timeout", o.elapsed)
			}
		})
	}
}

// TestHTTPCheckTimeoutBeyondEnv checks that an attempt whose context
// allows more than the Env's Timeout (a check with a timeout of its own) is
// bounded by its context only: no dial, handshake or header timeout of the
// transport cuts it short.
func TestHTTPCheckTimeoutBeyondEnv(t *testing.T) {
	const envTimeout = 100 * time.Millisecond
	const slow = 400 * time.Millisecond
	slowHeaders := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(slow)
		io.WriteString(w, "late")
	}))
	// A TLS server that waits before its handshake.
	config := &tls.Config{
		Certificates: []tls.Certificate{selfSigned(t, certOpts{cn: "slow", hosts: []string{"127.0.0.1"}}).pair},
		NextProtos:   []string{"http/1.1"},
	}
	slowTLS := rawServer(t, func(c net.Conn) {
		time.Sleep(slow)
		tc := tls.Server(c, config)
		if tc.Handshake() != nil {
			return
		}
		readRequest(tc)
		io.WriteString(tc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		tc.Close()
	})
	slowDial := &net.Dialer{ControlContext: func(ctx context.Context, _, _ string, _ syscall.RawConn) error {
		select {
		case <-time.After(slow):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	tests := []struct {
		name   string
		check  probe.Check
		dialer *net.Dialer
	}{
		{"slow headers", mustCheck(t, slowHeaders.URL), nil},
		{"slow tls handshake", buildHTTP(t, "https://"+slowTLS+"/", probe.HTTPSpec{TLSOptions: probe.TLSOptions{Insecure: true}}), nil},
		{"slow dial", mustCheck(t, slowHeaders.URL), slowDial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, probe.Options{Timeout: envTimeout, Dialer: tt.dialer})
			o := run(t, tt.check, env, 5*time.Second)
			o.want(t, fanout.StateOK, fanout.ReasonNone)
			if o.elapsed < slow {
				t.Errorf("took %v, less than the server's %v", o.elapsed, slow)
			}
		})
	}
	t.Run("quoted timeout", func(t *testing.T) {
		// A timeout quotes the attempt's own timeout, not the Env's.
		hang := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
		env := newEnv(t, probe.Options{Timeout: envTimeout})
		o := run(t, mustCheck(t, "http://"+hang+"/"), env, 700*time.Millisecond)
		o.want(t, fanout.StateTimeout, fanout.ReasonTimeout)
		if want := "timeout awaiting response headers after 700ms"; o.err.Error() != want {
			t.Errorf("error %q, want %q", o.err, want)
		}
	})
}

// TestHTTPBackgroundDialEndsAtAttemptDeadline checks that a dial the
// transport goes on with after its attempt gave up ends at that attempt's
// deadline, without waiting for Env.Close.
func TestHTTPBackgroundDialEndsAtAttemptDeadline(t *testing.T) {
	ended := make(chan time.Time, 1)
	dialer := &net.Dialer{ControlContext: func(ctx context.Context, _, _ string, _ syscall.RawConn) error {
		<-ctx.Done()
		ended <- time.Now()
		return ctx.Err()
	}}
	env := newEnv(t, probe.Options{Dialer: dialer, Timeout: time.Minute})
	start := time.Now()
	o := run(t, mustCheck(t, "http://"+deadAddr(t)+"/"), env, 300*time.Millisecond)
	o.want(t, fanout.StateTimeout, fanout.ReasonConnectTimeout)
	select {
	case at := <-ended:
		if d := at.Sub(start); d > 2*time.Second {
			t.Errorf("the dial ended %v after the attempt started, want about 300ms", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the dial still runs 5s after its attempt's deadline")
	}
}

func TestHTTPConnectionErrors(t *testing.T) {
	reset := rawServer(t, func(c net.Conn) {
		readRequest(c)
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	closed := rawServer(t, func(c net.Conn) {
		readRequest(c)
		c.Close()
	})
	shortBody := rawServer(t, func(c net.Conn) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this")
		c.Close()
	})
	env := newEnv(t, probe.Options{})

	tests := []struct {
		name, addr string
		state      fanout.State
		reason     fanout.Reason
		errText    string
		status     any
	}{
		{"refused", deadAddr(t), fanout.StateError, fanout.ReasonRefused, "connect: connection refused", nil},
		{"reset", reset, fanout.StateError, fanout.ReasonReset, "read: connection reset by peer", nil},
		{"closed before response", closed, fanout.StateError, fanout.ReasonReset,
			"connection closed before a complete response (EOF)", nil},
		{"eof mid-body", shortBody, fanout.StateError, fanout.ReasonReset,
			"connection closed before the end of the response (unexpected EOF)", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, mustCheck(t, "http://"+tt.addr+"/x"), env, 5*time.Second)
			o.want(t, tt.state, tt.reason)
			if o.err.Error() != tt.errText {
				t.Errorf("error %q, want %q", o.err, tt.errText)
			}
			if o.detail["status_code"] != tt.status {
				t.Errorf("status_code %v, want %v", o.detail["status_code"], tt.status)
			}
		})
	}
}

func TestHTTPConnectTimeout(t *testing.T) {
	target := "http://" + deadAddr(t) + "/"
	t.Run("dialer timeout", func(t *testing.T) {
		env := newEnv(t, probe.Options{Dialer: blockingDialer(100 * time.Millisecond)})
		o := run(t, mustCheck(t, target), env, 10*time.Second)
		o.want(t, fanout.StateTimeout, fanout.ReasonConnectTimeout)
		if !strings.HasPrefix(o.err.Error(), "timeout connecting after ") || o.elapsed > 5*time.Second {
			t.Errorf("error %q after %v", o.err, o.elapsed)
		}
	})
	t.Run("attempt timeout", func(t *testing.T) {
		env := newEnv(t, probe.Options{Dialer: blockingDialer(0)})
		o := run(t, mustCheck(t, target), env, 200*time.Millisecond)
		o.want(t, fanout.StateTimeout, fanout.ReasonConnectTimeout)
		if o.err.Error() != "timeout connecting after 200ms" || o.elapsed > 3*time.Second {
			t.Errorf("error %q after %v", o.err, o.elapsed)
		}
	})
}

func TestHTTPDNS(t *testing.T) {
	tests := []struct {
		name      string
		dialer    *net.Dialer
		state     fanout.State
		reason    fanout.Reason
		errPrefix string
	}{
		{"lookup fails", failingResolverDialer(t), fanout.StateError, fanout.ReasonDNS, "lookup nothing.invalid"},
		// The attempt ran out of time while dialling.
		{"lookup hangs", hangingResolverDialer(), fanout.StateTimeout, fanout.ReasonConnectTimeout,
			"timeout resolving host after 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, probe.Options{Dialer: tt.dialer})
			o := run(t, mustCheck(t, "http://nothing.invalid/"), env, 200*time.Millisecond)
			o.want(t, tt.state, tt.reason)
			if !strings.HasPrefix(o.err.Error(), tt.errPrefix) {
				t.Errorf("error %q, want prefix %q", o.err, tt.errPrefix)
			}
		})
	}
}

func TestHTTPTLSUntrusted(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the client's bad-certificate alert
	srv.StartTLS()
	t.Cleanup(srv.Close)
	env := newEnv(t, probe.Options{})
	o := run(t, mustCheck(t, srv.URL+"/"), env, 5*time.Second)
	o.want(t, fanout.StateError, fanout.ReasonTLS)
	if !strings.Contains(o.err.Error(), "certificate") {
		t.Errorf("error %q does not mention the certificate", o.err)
	}
}

// countingServer starts a server whose handler waits delay and counts the
// connections it accepted.
func countingServer(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(delay)
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestHTTPConnReuse proves the pool is sized to the per-host limit. With
// Go's default of 2 idle connections per host, finished requests beyond
// two close their connection and the next ones dial again. Measured on the
// 2-core test machine, 20 runs each, a transport with MaxConnsPerHost 8
// and Go's idle defaults opened for the 50 requests: 8-9 connections in
// the sliding window without -race, 10-23 with -race, and 38 every time in
// batches of 8 (8, then 6 per batch); the Env's transport opens at most 8.
func TestHTTPConnReuse(t *testing.T) {
	const perHost = 8
	t.Run("sequential", func(t *testing.T) {
		srv, conns := countingServer(t, 0)
		env := newEnv(t, probe.Options{PerHost: perHost})
		c := mustCheck(t, srv.URL+"/")
		for range 50 {
			run(t, c, env, 5*time.Second).want(t, fanout.StateOK, fanout.ReasonNone)
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("50 sequential requests opened %d connections, want 1", n)
		}
	})
	for _, batches := range []bool{false, true} {
		t.Run(fmt.Sprintf("concurrent batches=%v", batches), func(t *testing.T) {
			srv, conns := countingServer(t, 5*time.Millisecond)
			env := newEnv(t, probe.Options{PerHost: perHost})
			c := mustCheck(t, srv.URL+"/")
			fanOut(50, perHost, batches, func() {
				run(t, c, env, 10*time.Second).want(t, fanout.StateOK, fanout.ReasonNone)
			})
			if n := conns.Load(); n > perHost {
				t.Errorf("50 requests at per-host %d opened %d connections, want at most %d", perHost, n, perHost)
			}
		})
	}
	t.Run("go idle defaults, batches", func(t *testing.T) {
		// The control: the same load through Go's idle defaults.
		srv, conns := countingServer(t, 5*time.Millisecond)
		tr := &http.Transport{MaxConnsPerHost: perHost}
		t.Cleanup(tr.CloseIdleConnections)
		client := &http.Client{Transport: tr}
		fanOut(50, perHost, true, func() {
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
		if n := conns.Load(); n <= perHost {
			t.Errorf("Go's idle defaults opened %d connections, want more than %d", n, perHost)
		}
	})
}

// fanOut calls f n times, at most limit at a time, as the engine's
// per-host limit would; with batches it waits for every call of a batch
// of limit before starting the next.
func fanOut(n, limit int, batches bool, f func()) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		if batches && i%limit == 0 {
			wg.Wait()
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f()
		})
	}
	wg.Wait()
}

func TestHTTPBodyCap(t *testing.T) {
	const limit = 1000
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/size/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		w.Write([]byte(strings.Repeat("x", n)))
	})
	srv := newServer(t, mux)

	tests := []struct {
		size      int
		bytes     int64
		truncated bool
		reused    bool // whether the next request reuses the connection
	}{
		{10, 10, false, true},
		{limit, limit, false, true},
		{limit + 1, limit, true, true},        // drained: the connection is kept
		{limit + 200_000, limit, true, false}, // too long to drain: closed
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			env := newEnv(t, probe.Options{BodyCap: limit})
			o := run(t, mustCheck(t, fmt.Sprintf("%s/size/%d", srv.URL, tt.size)), env, 5*time.Second)
			o.want(t, fanout.StateOK, fanout.ReasonNone)
			if o.detail["bytes"] != tt.bytes {
				t.Errorf("bytes %v, want %d", o.detail["bytes"], tt.bytes)
			}
			if tr, ok := o.detail["body_truncated"]; tt.truncated && tr != true || !tt.truncated && ok {
				t.Errorf("body_truncated %v (present %v), want %v", tr, ok, tt.truncated)
			}
			next := run(t, mustCheck(t, srv.URL+"/small"), env, 5*time.Second)
			if next.detail["conn_reused"] != tt.reused {
				t.Errorf("next request: conn_reused %v, want %v", next.detail["conn_reused"], tt.reused)
			}
		})
	}
}

func TestHTTPHugeBody(t *testing.T) {
	const size = 50 << 20
	var written atomic.Int64
	done := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		defer close(done)
		w.Header().Set("Content-Length", fmt.Sprint(size))
		chunk := make([]byte, 32<<10)
		for written.Load() < size {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	env := newEnv(t, probe.Options{})
	o := run(t, mustCheck(t, srv.URL+"/"), env, 10*time.Second)
	o.want(t, fanout.StateOK, fanout.ReasonNone)
	if o.detail["bytes"] != int64(probe.DefaultBodyCap) || o.detail["body_truncated"] != true {
		t.Errorf("bytes %v body_truncated %v, want %d true", o.detail["bytes"], o.detail["body_truncated"], probe.DefaultBodyCap)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler is still writing 10s after the check returned")
	}
	if n := written.Load(); n >= 10<<20 {
		t.Errorf("server wrote %d bytes of a 50 MB body, want < 10 MB", n)
	} else {
		t.Logf("server wrote %d bytes of %d", n, size)
	}
}

func TestHTTPRequest(t *testing.T) {
	type seen struct{ method, ua string }
	got := make(chan seen, 1)
	srv := newServer(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got <- seen{r.Method, r.UserAgent()}
	}))
	tests := []struct {
		name string
		opts probe.Options
		want seen
		c    probe.Check
	}{
		{"default", probe.Options{}, seen{"GET", "fanout/dev"}, mustCheck(t, srv.URL)},
		{"configured", probe.Options{UserAgent: "probe-test/1"}, seen{"GET", "probe-test/1"}, mustCheck(t, srv.URL)},
		{"head", probe.Options{}, seen{"HEAD", "fanout/dev"}, &probe.HTTP{URL: mustURL(t, srv.URL), Method: "HEAD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, tt.c, newEnv(t, tt.opts), 5*time.Second).want(t, fanout.StateOK, fanout.ReasonNone)
			if s := <-got; s != tt.want {
				t.Errorf("server saw %+v, want %+v", s, tt.want)
			}
		})
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestHTTPBadMethod(t *testing.T) {
	c := &probe.HTTP{URL: mustURL(t, "http://127.0.0.1:1/?token=SECRET"), Method: "BAD METHOD"}
	o := run(t, c, newEnv(t, probe.Options{}), time.Second)
	o.want(t, fanout.StateError, fanout.ReasonOther)
	if want := `invalid request: net/http: invalid method "BAD METHOD"`; o.err.Error() != want {
		t.Errorf("error %q, want %q", o.err, want)
	}
}

func TestHTTPProxy(t *testing.T) {
	seen := make(chan string, 1)
	proxy := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.RequestURI
		io.WriteString(w, "via proxy")
	}))
	proxyURL := mustURL(t, proxy.URL)
	env := newEnv(t, probe.Options{Proxy: http.ProxyURL(proxyURL)})
	// The target's name does not resolve: only the proxy can answer.
	o := run(t, mustCheck(t, "http://target.invalid/health"), env, 5*time.Second)
	o.want(t, fanout.StateOK, fanout.ReasonNone)
	if got := <-seen; got != "http://target.invalid/health" {
		t.Errorf("proxy saw request URI %q", got)
	}
	if o.detail["bytes"] != int64(len("via proxy")) {
		t.Errorf("bytes %v", o.detail["bytes"])
	}
}

func TestHTTPErrorsHoldNoSecrets(t *testing.T) {
	reset := rawServer(t, func(c net.Conn) {
		readRequest(c)
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	hang := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	tests := []struct {
		name, addr string
		opts       probe.Options
		reason     fanout.Reason
	}{
		{"refused", deadAddr(t), probe.Options{}, fanout.ReasonRefused},
		{"reset", reset, probe.Options{}, fanout.ReasonReset},
		{"timeout", hang, probe.Options{}, fanout.ReasonTimeout},
		{"connect timeout", deadAddr(t), probe.Options{Dialer: blockingDialer(50 * time.Millisecond)}, fanout.ReasonConnectTimeout},
		{"dns", "secret-host.invalid", probe.Options{Dialer: failingResolverDialer(t)}, fanout.ReasonDNS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := "http://user:pw@" + tt.addr + "/x?token=SECRET"
			o := run(t, mustCheck(t, target), newEnv(t, tt.opts), 300*time.Millisecond)
			if o.reason != tt.reason {
				t.Fatalf("reason %s (error %v), want %s", o.reason, o.err, tt.reason)
			}
			for _, secret := range []string{"pw", "SECRET", "token", "user:"} {
				if strings.Contains(o.err.Error(), secret) {
					t.Errorf("error %q contains %q", o.err, secret)
				}
			}
		})
	}
}

func TestHTTPHost(t *testing.T) {
	tests := []struct{ url, host string }{
		{"http://API.Example", "api.example:80"},
		{"https://API.example", "api.example:443"},
		{"https://api.example:443/x", "api.example:443"},
		{"HTTP://api.example:8080", "api.example:8080"},
		{"http://[::1]:8080/", "[::1]:8080"},
		{"https://[::1]", "[::1]:443"},
	}
	for _, tt := range tests {
		c := mustCheck(t, tt.url)
		if c.Kind() != "http" || c.Host() != tt.host {
			t.Errorf("%s: kind %q host %q, want http %q", tt.url, c.Kind(), c.Host(), tt.host)
		}
	}
}
