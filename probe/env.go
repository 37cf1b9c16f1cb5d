package probe

import (
	"net"
	"net/http"
	"net/url"
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
	// Timeout is the per-attempt timeout (default 5s). Each attempt's
	// context bounds the attempt anyway; Timeout also bounds dials, TLS
	// handshakes and the wait for response headers, including a dial the
	// HTTP transport finishes in the background after its attempt gave up
	// (so that a later check can use the connection).
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
	// modified; a zero Timeout in it becomes Timeout.
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
	if d.Timeout <= 0 {
		d.Timeout = o.Timeout
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
	// client sends every HTTP check through the one transport. There is
	// one transport per distinct TLS/proxy setting: for now there is one
	// setting; later issues (tls, grpc, per-check TLS options) add
	// transports keyed by their setting.
	client *http.Client
	// transports lists every transport built, for Close.
	transports []*http.Transport
}

// NewEnv returns an Env for o, zero fields replaced by their defaults.
func NewEnv(o Options) *Env {
	o = o.withDefaults()
	t := newTransport(o)
	return &Env{
		opts: o,
		client: &http.Client{
			Transport: t,
			// A 3xx is the answer: redirects are not followed by default.
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		transports: []*http.Transport{t},
	}
}

// newTransport returns an HTTP transport whose pool matches the limits.
func newTransport(o Options) *http.Transport {
	return &http.Transport{
		Proxy:             o.Proxy,
		DialContext:       o.Dialer.DialContext,
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
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		ExpectContinueTimeout: time.Second,
	}
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
	for _, t := range e.transports {
		t.CloseIdleConnections()
	}
}
