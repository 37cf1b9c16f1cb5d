package probe_test

import (
	"context"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

// grpcServer serves srv on a loopback port until the test ends and
// returns its address.
func grpcServer(t *testing.T, srv *grpc.Server) string {
	t.Helper()
	ln := listen(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return ln.Addr().String()
}

// healthServer serves the health service, with the overall status SERVING
// and the given per-service statuses.
func healthServer(t *testing.T, opts []grpc.ServerOption, statuses map[string]healthpb.HealthCheckResponse_ServingStatus) string {
	t.Helper()
	srv := grpc.NewServer(opts...)
	h := health.NewServer()
	for name, st := range statuses {
		h.SetServingStatus(name, st)
	}
	healthpb.RegisterHealthServer(srv, h)
	return grpcServer(t, srv)
}

// grpcCheck builds the grpc check of addr with spec.
func grpcCheck(t *testing.T, addr string, spec probe.GRPCSpec) probe.Check {
	t.Helper()
	c, err := spec.Build(&url.URL{Scheme: "grpc", Host: addr})
	if err != nil {
		t.Fatalf("Build(grpc://%s): %v", addr, err)
	}
	return c
}

// grpcCert describes a self-signed CA certificate the TLS tests' server
// serves and the probe trusts.
var grpcCert = certOpts{cn: "fanout grpc test", hosts: []string{"127.0.0.1", "localhost"}}

func TestGRPCHealth(t *testing.T) {
	t.Parallel()
	addr := healthServer(t, nil, map[string]healthpb.HealthCheckResponse_ServingStatus{
		"api":  healthpb.HealthCheckResponse_SERVING,
		"jobs": healthpb.HealthCheckResponse_NOT_SERVING,
		"old":  healthpb.HealthCheckResponse_SERVICE_UNKNOWN,
		"gone": healthpb.HealthCheckResponse_UNKNOWN,
	})
	down := healthServer(t, nil, map[string]healthpb.HealthCheckResponse_ServingStatus{
		"": healthpb.HealthCheckResponse_NOT_SERVING,
	})
	bare := grpcServer(t, grpc.NewServer()) // no health service

	tests := []struct {
		name, addr, service string
		state               fanout.State
		reason              fanout.Reason
		err                 string
		detail              probe.Detail
	}{
		{"overall serving", addr, "", fanout.StateOK, fanout.ReasonNone, "",
			probe.Detail{"grpc_code": "OK", "status": "SERVING"}},
		{"service serving", addr, "api", fanout.StateOK, fanout.ReasonNone, "",
			probe.Detail{"grpc_code": "OK", "status": "SERVING"}},
		{"overall not serving", down, "", fanout.StateFail, fanout.ReasonCondition,
			"health NOT_SERVING, want SERVING",
			probe.Detail{"grpc_code": "OK", "status": "NOT_SERVING"}},
		{"service not serving", addr, "jobs", fanout.StateFail, fanout.ReasonCondition,
			`service "jobs": health NOT_SERVING, want SERVING`,
			probe.Detail{"grpc_code": "OK", "status": "NOT_SERVING"}},
		{"status unknown", addr, "gone", fanout.StateFail, fanout.ReasonCondition,
			`service "gone": health UNKNOWN, want SERVING`,
			probe.Detail{"grpc_code": "OK", "status": "UNKNOWN"}},
		{"status service unknown", addr, "old", fanout.StateFail, fanout.ReasonCondition,
			`service "old" unknown to the health server`,
			probe.Detail{"grpc_code": "OK", "status": "SERVICE_UNKNOWN"}},
		{"service not registered", addr, "nope", fanout.StateFail, fanout.ReasonCondition,
			`service "nope" unknown to the health server`,
			probe.Detail{"grpc_code": "NotFound", "status": "SERVICE_UNKNOWN", "grpc_message": "unknown service"}},
		{"no health service", bare, "", fanout.StateFail, fanout.ReasonCondition,
			"the server has no health service (grpc.health.v1)",
			probe.Detail{"grpc_code": "Unimplemented",
				"grpc_message": "unknown service grpc.health.v1.Health"}},
		{"refused", deadAddr(t), "", fanout.StateError, fanout.ReasonRefused,
			"connect: connection refused", probe.Detail{"grpc_code": "Unavailable"}},
	}
	env := newEnv(t, probe.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, grpcCheck(t, tt.addr, probe.GRPCSpec{Service: tt.service}), env, 5*time.Second)
			o.want(t, tt.state, tt.reason)
			if tt.err != "" && o.err.Error() != tt.err {
				t.Errorf("error %q, want %q", o.err, tt.err)
			}
			if !reflect.DeepEqual(o.detail, tt.detail) {
				t.Errorf("detail %v, want %v", o.detail, tt.detail)
			}
		})
	}
}

func TestGRPCTLS(t *testing.T) {
	t.Parallel()
	ca := newCA(t, grpcCert)
	caFile := ca.certFile
	secure := healthServer(t, []grpc.ServerOption{grpc.Creds(credentials.NewServerTLSFromCert(&ca.pair))}, nil)
	plain := healthServer(t, nil, nil)
	// Another CA of the same name.
	otherCA := newCA(t, grpcCert).certFile

	tests := []struct {
		name   string
		addr   string
		spec   probe.GRPCSpec
		state  fanout.State
		reason fanout.Reason
		err    string
	}{
		{"trusted", secure, probe.GRPCSpec{TLS: true, TLSOptions: probe.TLSOptions{CAFile: caFile}},
			fanout.StateOK, fanout.ReasonNone, ""},
		{"server name", secure, probe.GRPCSpec{TLS: true, TLSOptions: probe.TLSOptions{CAFile: caFile, ServerName: "localhost"}},
			fanout.StateOK, fanout.ReasonNone, ""},
		{"insecure", secure, probe.GRPCSpec{TLS: true, TLSOptions: probe.TLSOptions{Insecure: true}},
			fanout.StateOK, fanout.ReasonNone, ""},
		{"untrusted", secure, probe.GRPCSpec{TLS: true},
			fanout.StateError, fanout.ReasonTLS, "tls: failed to verify certificate"},
		{"other ca", secure, probe.GRPCSpec{TLS: true, TLSOptions: probe.TLSOptions{CAFile: otherCA}},
			fanout.StateError, fanout.ReasonTLS, "tls: failed to verify certificate"},
		{"wrong name", secure, probe.GRPCSpec{TLS: true, TLSOptions: probe.TLSOptions{CAFile: caFile, ServerName: "api.example"}},
			fanout.StateError, fanout.ReasonTLS, "tls: failed to verify certificate"},
		{"tls to a plaintext server", plain, probe.GRPCSpec{TLS: true, TLSOptions: probe.TLSOptions{CAFile: caFile}},
			fanout.StateError, fanout.ReasonTLS, "tls: first record does not look like a TLS handshake"},
		{"plaintext to a tls server", secure, probe.GRPCSpec{},
			fanout.StateError, fanout.ReasonReset,
			"connection failed: error reading server preface"},
	}
	env := newEnv(t, probe.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, grpcCheck(t, tt.addr, tt.spec), env, 5*time.Second)
			o.want(t, tt.state, tt.reason)
			if o.state == fanout.StateOK && o.detail["status"] != "SERVING" {
				t.Errorf("detail %v", o.detail)
			}
			if tt.err != "" && !strings.HasPrefix(o.err.Error(), tt.err) {
				t.Errorf("error %q, want prefix %q", o.err, tt.err)
			}
		})
	}
}

func TestGRPCTimeouts(t *testing.T) {
	t.Parallel()
	// A server that accepts and never speaks HTTP/2.
	silent := rawServer(t, func(c net.Conn) {
		var b [1024]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				return
			}
		}
	})
	// A health service that answers only when its call is over.
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, stuckHealth{})
	stuck := grpcServer(t, srv)

	tests := []struct {
		name   string
		addr   string
		opts   probe.Options
		spec   probe.GRPCSpec
		state  fanout.State
		reason fanout.Reason
		err    string
	}{
		{"dial", silent, probe.Options{Dialer: blockingDialer(0)}, probe.GRPCSpec{},
			fanout.StateTimeout, fanout.ReasonConnectTimeout, "timeout connecting after 300ms"},
		{"handshake", silent, probe.Options{}, probe.GRPCSpec{TLS: true},
			fanout.StateTimeout, fanout.ReasonConnectTimeout, "timeout in tls handshake after 300ms"},
		{"no preface", silent, probe.Options{}, probe.GRPCSpec{},
			fanout.StateTimeout, fanout.ReasonTimeout, "timeout awaiting the health answer after 300ms"},
		{"no answer", stuck, probe.Options{}, probe.GRPCSpec{},
			fanout.StateTimeout, fanout.ReasonTimeout, "timeout awaiting the health answer after 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, grpcCheck(t, tt.addr, tt.spec), newEnv(t, tt.opts), 300*time.Millisecond)
			o.want(t, tt.state, tt.reason)
			if !sameBudget(o.err.Error(), tt.err) {
				t.Errorf("error %q, want %q", o.err, tt.err)
			}
			if o.elapsed > 2*time.Second {
				t.Errorf("took %v", o.elapsed)
			}
		})
	}
}

// sameBudget reports whether message got is want, but for the time an
// attempt had (as in "after 300ms"), which may be a few milliseconds
// shorter: the attempt's context was made before the check started.
func sameBudget(got, want string) bool {
	re := regexp.MustCompile(`after (\d+)ms`)
	w := re.FindStringSubmatch(want)
	g := re.FindStringSubmatch(got)
	if w == nil || g == nil {
		return got == want
	}
	wms, _ := strconv.Atoi(w[1])
	gms, _ := strconv.Atoi(g[1])
	return gms <= wms && gms >= wms-wms/10 && re.ReplaceAllString(got, w[0]) == want
}

// stuckHealth answers Check when the caller gives up.
type stuckHealth struct {
	healthpb.UnimplementedHealthServer
}

func (stuckHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestGRPCDNS(t *testing.T) {
	t.Parallel()
	env := newEnv(t, probe.Options{Dialer: failingResolverDialer(t)})
	o := run(t, grpcCheck(t, "nothing.invalid:50051", probe.GRPCSpec{}), env, 5*time.Second)
	o.want(t, fanout.StateError, fanout.ReasonDNS)
}

func TestGRPCCancelled(t *testing.T) {
	t.Parallel()
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, stuckHealth{})
	addr := grpcServer(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := grpcCheck(t, addr, probe.GRPCSpec{}).Run(ctx, newEnv(t, probe.Options{}))
	if state, reason := fanout.Classify(err); state != fanout.StateError || reason != fanout.ReasonCancelled {
		t.Errorf("got %s/%s (%v), want error/cancelled", state, reason, err)
	}
}

func TestGRPCFromURL(t *testing.T) {
	c := mustCheck(t, "GRPC://API.Example:50051")
	if c.Kind() != "grpc" || c.Host() != "api.example:50051" {
		t.Errorf("kind %q host %q", c.Kind(), c.Host())
	}
	c = mustCheck(t, "grpc://[2001:DB8::1]:443/")
	if c.Host() != "[2001:db8::1]:443" {
		t.Errorf("host %q", c.Host())
	}
	s, ok := probe.NewSpec("grpc")
	if _, isGRPC := s.(*probe.GRPCSpec); !ok || !isGRPC {
		t.Errorf("NewSpec(grpc) = %T, %v", s, ok)
	}
	if _, ok := s.(probe.Secretive); ok {
		t.Error("the grpc block holds no secrets")
	}
}

func TestGRPCBuildErrors(t *testing.T) {
	caFile := newCA(t, grpcCert).certFile
	tests := []struct {
		url  string
		spec probe.GRPCSpec
		err  string
		path []string
	}{
		{"grpc://x", probe.GRPCSpec{}, "grpc target needs a port (grpc://host:port)", nil},
		{"grpc://u:pw@x:1", probe.GRPCSpec{}, "grpc target takes no user info", nil},
		{"grpc://x:1/svc", probe.GRPCSpec{},
			`grpc target takes no path (got "/svc"); name the service in the grpc block's service field`, nil},
		{"grpc://x:1?a=b", probe.GRPCSpec{}, "grpc target takes no query", nil},
		{"grpc://x:1", probe.GRPCSpec{TLSOptions: probe.TLSOptions{CAFile: caFile}},
			"ca_file: ca_file applies only with tls: true", []string{"ca_file"}},
		{"grpc://x:1", probe.GRPCSpec{TLSOptions: probe.TLSOptions{Insecure: true}},
			"insecure: insecure applies only with tls: true", []string{"insecure"}},
		{"grpc://x:1", probe.GRPCSpec{TLSOptions: probe.TLSOptions{ServerName: "y"}},
			"server_name: server_name applies only with tls: true", []string{"server_name"}},
		{"grpc://x:1", probe.GRPCSpec{TLS: true, TLSOptions: probe.TLSOptions{CAFile: "/nonexistent/ca.pem"}},
			"ca_file: open /nonexistent/ca.pem: no such file or directory", []string{"ca_file"}},
		{"grpc://x:1", probe.GRPCSpec{TLS: true, TLSOptions: probe.TLSOptions{CertFile: caFile}},
			"key_file: cert_file needs key_file", []string{"key_file"}},
	}
	for _, tt := range tests {
		wantBuildError(t, &tt.spec, tt.url, tt.err, tt.path)
	}
	if _, err := (&probe.GRPCSpec{}).Build(nil); err == nil {
		t.Error("Build(nil) succeeded")
	}
}
