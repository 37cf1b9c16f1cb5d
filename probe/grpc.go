package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/fanout-dev/fanout"
)

// GRPC checks a server with the standard health RPC, grpc.health.v1
// Health/Check. It is ok when the answer is SERVING.
type GRPC struct {
	// Address is the target's host:port.
	Address string
	// Service is the service whose health is asked; "" asks for the
	// server's overall health.
	Service string
	// TLS is the client's TLS configuration; nil means plaintext (h2c).
	TLS *tls.Config
}

var _ Check = (*GRPC)(nil)

// GRPCSpec is the `grpc:` block of a YAML check.
type GRPCSpec struct {
	// Service is the service whose health is asked (default "": the
	// server's overall health).
	Service string `yaml:"service"`
	// TLS speaks TLS to the server (default false: plaintext). The TLS
	// fields below apply only then.
	TLS bool `yaml:"tls"`
	// TLSOptions are ca_file, cert_file, key_file, insecure and
	// server_name, as in the http block.
	TLSOptions `yaml:",inline"`
}

func newGRPCSpec() Spec { return &GRPCSpec{} }

// Build returns the gRPC check of target: grpc://host:port, with nothing
// after the port but an optional "/". The TLS files are read now.
func (s *GRPCSpec) Build(u *url.URL) (Check, error) {
	if err := hostOnly(u, "grpc", true, "; name the service in the grpc block's service field"); err != nil {
		return nil, err
	}
	c := &GRPC{Address: net.JoinHostPort(u.Hostname(), u.Port()), Service: s.Service}
	if !s.TLS {
		// A TLS field without tls: true would be silently ignored.
		o := s.TLSOptions
		for _, f := range []struct {
			key string
			set bool
		}{
			{"ca_file", o.CAFile != ""}, {"cert_file", o.CertFile != ""}, {"key_file", o.KeyFile != ""},
			{"insecure", o.Insecure}, {"server_name", o.ServerName != ""},
		} {
			if f.set {
				return nil, fieldErrf([]string{f.key}, "%s applies only with tls: true", f.key)
			}
		}
		return c, nil
	}
	cfg, err := s.TLSOptions.Config(u.Hostname())
	if err != nil {
		return nil, err
	}
	c.TLS = cfg
	return c, nil
}

// Kind returns "grpc".
func (g *GRPC) Kind() string { return "grpc" }

// Host returns the address with the host lower-cased.
func (g *GRPC) Host() string {
	host, port, err := net.SplitHostPort(g.Address)
	if err != nil {
		return g.Address
	}
	if g.TLS != nil && g.TLS.ServerName != "" && g.TLS.ServerName != host {
		// DESIGN.md: the host is taken after any SNI override.
		host = g.TLS.ServerName
	}
	return hostPort(host, port, "")
}

// grpcMessageCap bounds the server's error message kept in the detail.
const grpcMessageCap = 512

// Run opens one connection to the address with env's dialer (no proxy),
// asks Health/Check for the service, and closes the connection. The
// detail holds grpc_code (the RPC's status code: "OK", "NotFound",
// "Unimplemented", "Unavailable"…), status (the serving status when the
// server gave one: SERVING, NOT_SERVING, SERVICE_UNKNOWN, UNKNOWN; a
// NotFound for the service is reported as SERVICE_UNKNOWN too) and
// grpc_message (the server's message of a failed RPC). NOT_SERVING, an
// unknown service and a server without the health service each fail with
// reason condition and a message of their own; connection failures carry
// the reason of DESIGN.md's table (refused, dns, tls, connect_timeout…).
func (g *GRPC) Run(ctx context.Context, env *Env) (Detail, error) {
	ctx, cancel := env.bound(ctx)
	defer cancel()
	start := time.Now()
	a := &grpcAttempt{}
	dialer := env.opts.Dialer
	creds := insecure.NewCredentials()
	if g.TLS != nil {
		creds = &recordingCreds{TransportCredentials: credentials.NewTLS(g.TLS), a: a}
	}
	conn, err := grpc.NewClient("passthrough:///"+g.Address,
		grpc.WithTransportCredentials(creds),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, "tcp", addr)
			a.record(func(s *grpcConnState) { s.dialed, s.dialErr = err == nil, err })
			return c, err
		}),
		grpc.WithUserAgent(env.opts.UserAgent),
		grpc.WithDisableRetry(),
	)
	if err != nil {
		// Only a malformed target gets here; Build made it well-formed.
		return nil, classed(fanout.StateError, fanout.ReasonOther, "grpc client: "+err.Error(), err)
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: g.Service})
	// The connection was used: closing it ends the attempt, whatever
	// Close says.
	_ = conn.Close()
	st := status.Convert(err)
	d := Detail{"grpc_code": st.Code().String()}
	if err == nil {
		d["status"] = resp.GetStatus().String()
		return d, g.servingOutcome(resp.GetStatus())
	}
	if msg := st.Message(); msg != "" {
		if len(msg) > grpcMessageCap {
			msg = strings.ToValidUTF8(msg[:grpcMessageCap], "") + "…"
		}
		d["grpc_message"] = msg
	}
	return d, g.rpcError(ctx, st, err, a, start, env.quotedTimeout(ctx, start), d)
}

// servingOutcome is the outcome of a health answer.
func (g *GRPC) servingOutcome(s healthpb.HealthCheckResponse_ServingStatus) error {
	switch s {
	case healthpb.HealthCheckResponse_SERVING:
		return nil
	case healthpb.HealthCheckResponse_SERVICE_UNKNOWN:
		return g.unknownService()
	}
	if g.Service == "" {
		return fanout.Failf(fanout.ReasonCondition, "health %s, want SERVING", s)
	}
	return fanout.Failf(fanout.ReasonCondition, "service %q: health %s, want SERVING", g.Service, s)
}

func (g *GRPC) unknownService() error {
	return fanout.Failf(fanout.ReasonCondition, "service %q unknown to the health server", g.Service)
}

// rpcError classes a failed health RPC.
func (g *GRPC) rpcError(ctx context.Context, st *status.Status, err error, a *grpcAttempt,
	start time.Time, timeout time.Duration, d Detail) error {
	at := a.snapshot()
	// The dial's or handshake's own error says more than the status,
	// whose message repeats it.
	if cause := at.cause(); cause != nil {
		err = cause
		delete(d, "grpc_message")
	}
	code := st.Code()
	switch {
	case ctx.Err() != nil || code == codes.DeadlineExceeded || code == codes.Canceled:
		if errors.Is(ctx.Err(), context.Canceled) || !at.connected(g.TLS != nil) {
			return classify(ctx, err, phaseDial, at.stage(), start, timeout)
		}
		return classed(fanout.StateTimeout, fanout.ReasonTimeout,
			fmt.Sprintf("timeout awaiting the health answer after %s", budget(ctx, start, timeout)), err)
	case code == codes.NotFound:
		d["status"] = healthpb.HealthCheckResponse_SERVICE_UNKNOWN.String()
		return g.unknownService()
	case code == codes.Unimplemented:
		return fanout.Failf(fanout.ReasonCondition, "the server has no health service (grpc.health.v1)")
	case code == codes.Unavailable:
		if at.cause() != nil {
			return classify(ctx, err, phaseDial, at.stage(), start, timeout)
		}
		// Connected, then the connection failed: closed before the
		// server's HTTP/2 preface (a plaintext client talking to a TLS
		// server, say), or reset during the call.
		msg := strings.Trim(strings.TrimPrefix(st.Message(), "connection error: desc = "), `"`)
		if g.TLS == nil && strings.Contains(msg, "server preface") {
			msg += " (a TLS server? set tls: true)"
		}
		return classed(fanout.StateError, fanout.ReasonReset, "connection failed: "+msg, err)
	}
	return fanout.Failf(fanout.ReasonCondition, "health check answered %s: %s", code, st.Message())
}

// grpcAttempt records how far one attempt's connection got. gRPC dials
// on goroutines of its own and reports only a status to the RPC: the
// record keeps the dial's and handshake's own errors for classify.
type grpcAttempt struct {
	mu sync.Mutex
	s  grpcConnState
}

// grpcConnState is how far a connection got.
type grpcConnState struct {
	dialed             bool
	handshaking, tlsOK bool
	dialErr, tlsErr    error
}

func (a *grpcAttempt) record(f func(*grpcConnState)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(&a.s)
}

func (a *grpcAttempt) snapshot() grpcConnState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.s
}

// connected reports whether a connection was made (and, with TLS, its
// handshake done).
func (a grpcConnState) connected(withTLS bool) bool {
	return a.dialed && (!withTLS || a.tlsOK)
}

// stage names what a connection not made was doing, as classify wants.
func (a grpcConnState) stage() string {
	if a.dialed && a.handshaking && !a.tlsOK {
		return "tls"
	}
	return "connect"
}

// cause is the error that kept the connection from being made.
func (a grpcConnState) cause() error {
	if a.tlsErr != nil {
		return a.tlsErr
	}
	return a.dialErr
}

// recordingCreds are TLS credentials that record the handshake.
type recordingCreds struct {
	credentials.TransportCredentials
	a *grpcAttempt
}

func (c *recordingCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	c.a.record(func(s *grpcConnState) { s.handshaking = true })
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, raw)
	c.a.record(func(s *grpcConnState) { s.tlsOK, s.tlsErr = err == nil, err })
	return conn, info, err
}

func (c *recordingCreds) Clone() credentials.TransportCredentials {
	return &recordingCreds{TransportCredentials: c.TransportCredentials.Clone(), a: c.a}
}
