package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"time"

	"github.com/fanout-dev/fanout"
)

// The defaults that a zero [Options] field stands for.
const (
	DefaultConcurrency = fanout.DefaultConcurrency
	DefaultPerHost     = fanout.DefaultPerKey
	DefaultTimeout     = fanout.DefaultTimeout
	DefaultUserAgent   = "fanout/dev"
	DefaultBodyCap     = 1 << 20 // 1 MiB
)

// Options are the limits and settings every check of a run shares. A zero
// field means its default.
type Options struct {
	// Concurrency is the run's global limit (default 256). It sizes the
	// pool of idle connections kept across hosts.
	Concurrency int
	// PerHost is the per-host limit (default 8): the most connections
	// open to one host, and the most kept idle for it.
	PerHost int
	// Timeout is the run's per-attempt timeout (default 5s), which
	// messages quote. Each attempt is bounded by its context, whose
	// deadline may be later (a check with a timeout of its own): no
	// transport-level timeout of the Env is shorter than the attempt's.
	// Timeout bounds only an attempt whose context has no deadline (a
	// library caller's), of every kind.
	Timeout time.Duration
	// IdleConns bounds the idle connections kept across hosts (default
	// max(Concurrency, 100)). Lower it when descriptors are scarce: each
	// idle connection holds one.
	IdleConns int
	// UserAgent is sent by HTTP checks (default "fanout/dev").
	UserAgent string
	// BodyCap is the most bytes of an HTTP body that are read and seen by
	// conditions (default 1 MiB). A longer body is not an error: the
	// detail says body_truncated.
	BodyCap int64
	// Dialer dials every connection (default &net.Dialer{}, whose
	// KeepAlive is the net package's default). It is copied, never
	// modified. Its Timeout, if set, bounds every dial, also of checks
	// whose attempts may take longer; leave it 0 to let the attempt's
	// context bound dials.
	Dialer *net.Dialer
	// Resolver resolves names for every check that dials (default
	// net.DefaultResolver, the system's), and answers the dns kind's
	// queries to the system resolver. Tests point it at a loopback server.
	Resolver *net.Resolver
	// Proxy chooses the proxy of an HTTP request (default
	// http.ProxyFromEnvironment, which reads HTTP_PROXY, HTTPS_PROXY and
	// NO_PROXY once per process).
	Proxy func(*http.Request) (*url.URL, error)
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.IdleConns <= 0 {
		o.IdleConns = max(o.Concurrency, 100)
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.BodyCap <= 0 {
		o.BodyCap = DefaultBodyCap
	}
	d := net.Dialer{}
	if o.Dialer != nil {
		d = *o.Dialer
	}
	if d.Resolver == nil {
		d.Resolver = o.Resolver
	}
	o.Dialer = &d
	if o.Proxy == nil {
		o.Proxy = http.ProxyFromEnvironment
	}
	return o
}

// Env is what the checks of a run share: options, the dialer and the HTTP
// transports with their connection pools. It is safe for concurrent use.
// Build it with [NewEnv] and Close it when the run is over.
type Env struct {
	opts Options

	// mu guards the maps below; every HTTP attempt reads them, only the
	// first of each TLS setting and redirect policy writes.
	mu sync.RWMutex
	// transports holds one HTTP transport, and so one connection pool,
	// per distinct TLS setting ([TLSOptions.Key]), built on first use.
	transports map[string]*http.Transport
	// clients holds the clients over those transports: one per TLS
	// setting and redirect policy.
	clients map[clientKey]*http.Client
	// groups holds the process groups of the exec checks running.
	groups processGroups
}

// processGroups is a set of process group ids, safe for concurrent use.
type processGroups struct {
	mu sync.Mutex
	m  map[int]struct{}
}

func (g *processGroups) add(pgid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[int]struct{}{}
	}
	g.m[pgid] = struct{}{}
}

func (g *processGroups) remove(pgid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.m, pgid)
}

// clientKey names an HTTP client: its transport's TLS setting and whether
// it follows redirects.
type clientKey struct {
	tls    string
	follow bool
}

// maxRedirects is the most redirects an HTTP check that follows them takes
// within one attempt (DESIGN.md, "Hosts").
const maxRedirects = 10

// errTooManyRedirects stops an attempt at its 11th redirect.
var errTooManyRedirects = errors.New("too many redirects")

// NewEnv returns an Env for o, zero fields replaced by their defaults.
func NewEnv(o Options) *Env {
	return &Env{
		opts:       o.withDefaults(),
		transports: make(map[string]*http.Transport),
		clients:    make(map[clientKey]*http.Client),
	}
}

// httpClient returns the client for HTTP checks with the TLS setting key,
// whose configuration is cfg (nil: Go's default, verification on), that
// follow redirects or not. The first call for a key builds its transport
// from cfg; later calls with the same key share it, and its pool.
func (e *Env) httpClient(key string, cfg *tls.Config, follow bool) *http.Client {
	ck := clientKey{key, follow}
	e.mu.RLock()
	c, ok := e.clients[ck]
	e.mu.RUnlock()
	if ok {
		return c
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.clients[ck]; ok {
		return c // another attempt built it meanwhile
	}
	t, ok := e.transports[key]
	if !ok {
		t = e.newTransport(cfg)
		e.transports[key] = t
	}
	c = &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error {
		// A 3xx is the answer: redirects are not followed by default.
		return http.ErrUseLastResponse
	}}
	if follow {
		// Go's own limit stops after 10 requests (9 redirects); ours
		// allows 10 redirects. Each hop runs in the same attempt, under
		// the same context and engine slot.
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return errTooManyRedirects
			}
			dropSecretHeaders(req, via)
			return nil
		}
	}
	e.clients[ck] = c
	return c
}

// newTransport returns an HTTP transport whose pool matches the limits,
// with the TLS configuration cfg (nil for Go's default).
//
// It sets no ResponseHeaderTimeout or TLSHandshakeTimeout: an attempt's
// context bounds every wait of the attempt, and may allow more than the
// Env's Timeout. What a context cannot bound is a dial the transport goes
// on with after its attempt gave up, so that a later request can use the
// connection: the transport detaches the dial from the request's
// cancellation. Each dial, TLS handshake included, is therefore bounded
// by the deadline of the attempt that started it (see [withAttempt]), and
// Close cancels those still running.
func (e *Env) newTransport(cfg *tls.Config) *http.Transport {
	o := e.opts
	return &http.Transport{
		Proxy:       o.Proxy,
		DialContext: e.dial,
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return e.dialTLS(ctx, network, addr, cfg)
		},
		// Used only for TLS through a proxy's CONNECT tunnel: without a
		// proxy, DialTLSContext does the handshake.
		TLSClientConfig:   cfg,
		ForceAttemptHTTP2: true,
		MaxConnsPerHost:   o.PerHost,
		// Go keeps only 2 idle connections per host by default: at a
		// per-host limit of 8, six of every eight finished requests would
		// close their connection and the next request would dial a new
		// one (the Go twin of the boto3 pool-exhaustion pitfall). Keep as
		// many idle as may be open, and enough across hosts for the
		// global limit.
		MaxIdleConnsPerHost:   o.PerHost,
		MaxIdleConns:          o.IdleConns,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// attemptDeadlineKey is the context key of an HTTP attempt's deadline. The
// transport dials under a context that keeps the request's values but not
// its deadline or cancellation.
type attemptDeadlineKey struct{}

// withAttempt records ctx's deadline in ctx's values for the dials of the
// requests made under it.
func withAttempt(ctx context.Context) context.Context {
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithValue(ctx, attemptDeadlineKey{}, deadline)
	}
	return ctx
}

// dialBound bounds a dial by the deadline of the attempt that started it,
// or by the Env's Timeout when that attempt had none.
func (e *Env) dialBound(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Value(attemptDeadlineKey{}).(time.Time)
	if !ok {
		deadline = time.Now().Add(e.opts.Timeout)
	}
	return context.WithDeadline(ctx, deadline)
}

// dial dials a connection for the HTTP transport.
func (e *Env) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := e.dialBound(ctx)
	defer cancel()
	return e.opts.Dialer.DialContext(ctx, network, addr)
}

// dialTLS dials a connection and completes a TLS handshake with cfg
// (nil: Go's default), for the HTTP transport's https requests that go to
// the target directly. The name verified and sent in SNI is cfg's
// ServerName, else addr's host, as the transport itself would do; the
// handshake offers HTTP/2. It reports the handshake to the attempt's
// httptrace hooks.
func (e *Env) dialTLS(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
	ctx, cancel := e.dialBound(ctx)
	defer cancel()
	raw, err := e.opts.Dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{}
	if cfg != nil {
		c = cfg.Clone()
	}
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = host
		}
	}
	c.NextProtos = []string{"h2", "http/1.1"}
	conn := tls.Client(raw, c)
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	err = conn.HandshakeContext(ctx)
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(conn.ConnectionState(), err)
	}
	if err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// quotedTimeout is the attempt timeout that messages of an attempt under
// ctx, started at start, quote: the Env's Timeout, or the attempt's own
// when its context allowed more (a check with a timeout of its own).
func (e *Env) quotedTimeout(ctx context.Context, start time.Time) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		if left := deadline.Sub(start); left > e.opts.Timeout {
			if left < time.Second {
				return left.Round(time.Millisecond)
			}
			return left.Round(10 * time.Millisecond)
		}
	}
	return e.opts.Timeout
}

// Options returns the options in use, defaults filled in.
func (e *Env) Options() Options {
	o := e.opts
	d := *o.Dialer
	o.Dialer = &d
	return o
}

// Close closes the idle connections of every transport the Env built and
// cancels the dials no check waits for any more (the HTTP transport
// finishes a dial in the background after its attempt gave up). Call it
// when no check is running: a connection still in use is closed when its
// check finishes. The Env stays usable, later checks dial anew, and Close
// may be called more than once.
func (e *Env) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.transports {
		t.CloseIdleConnections()
	}
}

// bound returns ctx, bounded by the Env's Timeout if it has no deadline:
// every check's Run starts with it, so that a caller without a deadline
// cannot hang on a silent peer.
func (e *Env) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, e.opts.Timeout)
}
