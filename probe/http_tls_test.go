package probe_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

// quietTLSServer starts a TLS server whose log of handshake errors (the
// client's bad-certificate alerts) is discarded.
func quietTLSServer(t *testing.T, h http.Handler, config *tls.Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if config != nil {
		srv.TLS = config
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// seenTLS is what a TLS server saw of a request.
type seenTLS struct {
	host, sni, clientCN string
}

// recordingHandler answers 200 and sends what it saw of each request.
func recordingHandler(seen chan<- seenTLS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seenTLS{host: r.Host}
		if r.TLS != nil {
			s.sni = r.TLS.ServerName
			if len(r.TLS.PeerCertificates) > 0 {
				s.clientCN = r.TLS.PeerCertificates[0].Subject.CommonName
			}
		}
		select {
		case seen <- s:
		default:
		}
		io.WriteString(w, "ok")
	})
}

func TestHTTPTLSOptions(t *testing.T) {
	seen := make(chan seenTLS, 1)
	srv := quietTLSServer(t, recordingHandler(seen), nil)
	// httptest's certificate is for example.com and 127.0.0.1.
	caFile := writePEM(t, t.TempDir(), "ca.pem", "CERTIFICATE", srv.Certificate().Raw)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]

	tests := []struct {
		name    string
		spec    probe.HTTPSpec
		state   fanout.State
		reason  fanout.Reason
		errText string // a substring
		seen    seenTLS
	}{
		{"system CAs", probe.HTTPSpec{}, fanout.StateError, fanout.ReasonTLS, "certificate signed by unknown authority", seenTLS{}},
		{"ca_file", probe.HTTPSpec{TLSOptions: probe.TLSOptions{CAFile: caFile}},
			fanout.StateOK, fanout.ReasonNone, "", seenTLS{host: "127.0.0.1:" + port}},
		{"insecure", probe.HTTPSpec{TLSOptions: probe.TLSOptions{Insecure: true}},
			fanout.StateOK, fanout.ReasonNone, "", seenTLS{host: "127.0.0.1:" + port}},
		{"server_name verified", probe.HTTPSpec{TLSOptions: probe.TLSOptions{CAFile: caFile, ServerName: "example.com"}},
			fanout.StateOK, fanout.ReasonNone, "", seenTLS{host: "127.0.0.1:" + port, sni: "example.com"}},
		{"wrong server_name", probe.HTTPSpec{TLSOptions: probe.TLSOptions{CAFile: caFile, ServerName: "wrong.example"}},
			fanout.StateError, fanout.ReasonTLS, "certificate is valid for", seenTLS{}},
		// The Host override is the SNI name and the name verified.
		{"host override", probe.HTTPSpec{Host: "example.com", TLSOptions: probe.TLSOptions{CAFile: caFile}},
			fanout.StateOK, fanout.ReasonNone, "", seenTLS{host: "example.com", sni: "example.com"}},
		{"host override with port", probe.HTTPSpec{Host: "example.com:8443", TLSOptions: probe.TLSOptions{CAFile: caFile}},
			fanout.StateOK, fanout.ReasonNone, "", seenTLS{host: "example.com:8443", sni: "example.com"}},
		{"host override, server_name wins", probe.HTTPSpec{Host: "wrong.example", TLSOptions: probe.TLSOptions{CAFile: caFile, ServerName: "example.com"}},
			fanout.StateOK, fanout.ReasonNone, "", seenTLS{host: "wrong.example", sni: "example.com"}},
		{"host override not in the certificate", probe.HTTPSpec{Host: "wrong.example", TLSOptions: probe.TLSOptions{CAFile: caFile}},
			fanout.StateError, fanout.ReasonTLS, "certificate is valid for", seenTLS{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, buildHTTP(t, srv.URL+"/", tt.spec), newEnv(t, probe.Options{}), 5*time.Second)
			o.want(t, tt.state, tt.reason)
			if tt.state != fanout.StateOK {
				if !strings.Contains(o.err.Error(), tt.errText) {
					t.Errorf("error %q, want it to hold %q", o.err, tt.errText)
				}
				return
			}
			checkTimings(t, o.detail, "connect", "tls", "ttfb", "total")
			if got := <-seen; got != tt.seen {
				t.Errorf("server saw %+v, want %+v", got, tt.seen)
			}
		})
	}
}

func TestHTTPClientCertificate(t *testing.T) {
	ca := newCA(t, certOpts{cn: "fanout test CA"})
	serverCert := ca.issue(t, certOpts{cn: "localhost", hosts: []string{"localhost", "127.0.0.1"}})
	clientCert := ca.issue(t, certOpts{cn: "probe-client", client: true})
	pool := x509.NewCertPool()
	pool.AddCert(ca.leaf)
	seen := make(chan seenTLS, 1)
	srv := quietTLSServer(t, recordingHandler(seen), &tls.Config{
		Certificates: []tls.Certificate{serverCert.pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	})
	env := newEnv(t, probe.Options{})

	t.Run("with cert_file and key_file", func(t *testing.T) {
		spec := probe.HTTPSpec{TLSOptions: probe.TLSOptions{CAFile: ca.certFile, CertFile: clientCert.certFile, KeyFile: clientCert.keyFile}}
		run(t, buildHTTP(t, srv.URL, spec), env, 5*time.Second).want(t, fanout.StateOK, fanout.ReasonNone)
		if got := <-seen; got.clientCN != "probe-client" {
			t.Errorf("server saw client %q, want probe-client", got.clientCN)
		}
	})
	t.Run("without", func(t *testing.T) {
		spec := probe.HTTPSpec{TLSOptions: probe.TLSOptions{CAFile: ca.certFile}}
		o := run(t, buildHTTP(t, srv.URL, spec), env, 5*time.Second)
		o.want(t, fanout.StateError, fanout.ReasonTLS)
		if !strings.Contains(o.err.Error(), "certificate required") {
			t.Errorf("error %q, want it to say the certificate is required", o.err)
		}
	})
}

// TestHTTPTransportPerTLSSetting checks that checks with the same TLS
// setting share a transport and its connections, and that a different
// setting gets a pool of its own.
func TestHTTPTransportPerTLSSetting(t *testing.T) {
	srv := quietTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), nil)
	caFile := writePEM(t, t.TempDir(), "ca.pem", "CERTIFICATE", srv.Certificate().Raw)
	env := newEnv(t, probe.Options{})
	withCA := probe.HTTPSpec{TLSOptions: probe.TLSOptions{CAFile: caFile}}
	following := withCA
	following.FollowRedirects = true
	insecure := probe.HTTPSpec{TLSOptions: probe.TLSOptions{Insecure: true}}

	steps := []struct {
		name   string
		spec   probe.HTTPSpec
		reused bool
	}{
		{"ca_file", withCA, false},
		{"ca_file again, another check", withCA, true},
		{"ca_file, following redirects", following, true},
		{"insecure", insecure, false},
		{"insecure again", insecure, true},
	}
	for _, s := range steps {
		o := run(t, buildHTTP(t, srv.URL+"/", s.spec), env, 5*time.Second)
		o.want(t, fanout.StateOK, fanout.ReasonNone)
		if o.detail["conn_reused"] != s.reused {
			t.Errorf("%s: conn_reused %v, want %v", s.name, o.detail["conn_reused"], s.reused)
		}
	}
}

// TestHTTPHTTP2 checks that the Env's TLS dial offers HTTP/2.
func TestHTTPHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	env := newEnv(t, probe.Options{})
	c := buildHTTP(t, srv.URL, probe.HTTPSpec{TLSOptions: probe.TLSOptions{Insecure: true}})
	for i, reused := range []bool{false, true} {
		o := run(t, c, env, 5*time.Second)
		o.want(t, fanout.StateOK, fanout.ReasonNone)
		if o.detail["proto"] != "HTTP/2.0" || o.detail["conn_reused"] != reused {
			t.Errorf("attempt %d: proto %v conn_reused %v, want HTTP/2.0 %v", i, o.detail["proto"], o.detail["conn_reused"], reused)
		}
	}
}
