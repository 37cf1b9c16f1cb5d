package probe_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

// tlsServer serves cert on a loopback port: it completes each handshake,
// then waits for the client to close.
func tlsServer(t *testing.T, cert *testCert) string {
	t.Helper()
	config := &tls.Config{Certificates: []tls.Certificate{cert.pair}}
	return rawServer(t, func(c net.Conn) {
		tc := tls.Server(c, config)
		defer tc.Close()
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			return // the client refused the certificate
		}
		_, _ = io.Copy(io.Discard, tc)
	})
}

// buildKind builds the check of raw with spec.
func buildKind(t *testing.T, spec probe.Spec, raw string) probe.Check {
	t.Helper()
	c, err := spec.Build(mustURL(t, raw))
	if err != nil {
		t.Fatalf("Build(%s): %v", raw, err)
	}
	return c
}

func TestTLS(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	loopback := []string{"127.0.0.1"}
	ca := newCA(t, certOpts{cn: "fanout test CA", notAfter: now.Add(365 * day)})
	valid := ca.issue(t, certOpts{cn: "valid", notBefore: now.Add(-time.Hour), notAfter: now.Add(90 * day),
		hosts: []string{"localhost", "127.0.0.1"}})
	expired := ca.issue(t, certOpts{cn: "expired", notBefore: now.Add(-30 * day), notAfter: now.Add(-2 * day), hosts: loopback})
	expiring := ca.issue(t, certOpts{cn: "expiring", notBefore: now.Add(-time.Hour), notAfter: now.Add(3 * day), hosts: loopback})
	wrongHost := ca.issue(t, certOpts{cn: "other", notBefore: now.Add(-time.Hour), notAfter: now.Add(90 * day),
		hosts: []string{"other.example", "127.0.0.2"}})
	self := selfSigned(t, certOpts{cn: "self", notBefore: now.Add(-time.Hour), notAfter: now.Add(90 * day), hosts: loopback})
	shortCA := newCA(t, certOpts{cn: "short CA", notAfter: now.Add(5 * day)})
	underShortCA := shortCA.issue(t, certOpts{cn: "long leaf", notBefore: now.Add(-time.Hour), notAfter: now.Add(90 * day), hosts: loopback})

	validAddr := tlsServer(t, valid)
	expiredAddr := tlsServer(t, expired)
	expiringAddr := tlsServer(t, expiring)
	wrongHostAddr := tlsServer(t, wrongHost)
	selfAddr := tlsServer(t, self)
	shortCAAddr := tlsServer(t, underShortCA)
	silentAddr := rawServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	plainAddr := rawServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.0 400 Bad Request\r\n\r\n")
		c.Close()
	})

	trust := probe.TLSOptions{CAFile: ca.certFile}
	rfc := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	tests := []struct {
		name    string
		addr    string
		spec    probe.TLSSpec
		timeout time.Duration
		// envTimeout, if set, is the Env's Timeout, and the attempt has
		// no deadline.
		envTimeout time.Duration
		state      fanout.State
		reason     fanout.Reason
		err        string // the error's text, or a part of it after "…"
		check      func(t *testing.T, d probe.Detail)
	}{
		{name: "valid", addr: validAddr, spec: probe.TLSSpec{TLSOptions: trust, MinDaysLeft: 14},
			state: fanout.StateOK, check: func(t *testing.T, d probe.Detail) {
				t.Helper()
				want := probe.Detail{
					"not_after": rfc(valid.leaf.NotAfter), "days_left": 90.0,
					"subject": "CN=valid", "issuer": "CN=fanout test CA",
					"sans": []string{"localhost", "127.0.0.1"}, "version": "TLS1.3", "verified": true,
				}
				for k, v := range want {
					if s, ok := v.([]string); ok {
						if got, _ := d[k].([]string); !slices.Equal(got, s) {
							t.Errorf("detail %s = %#v, want %#v", k, d[k], v)
						}
					} else if d[k] != v {
						t.Errorf("detail %s = %#v, want %#v", k, d[k], v)
					}
				}
				if len(d) != len(want) {
					t.Errorf("detail %v has keys beyond %v", d, want)
				}
			}},
		{name: "expired", addr: expiredAddr, spec: probe.TLSSpec{TLSOptions: trust},
			state: fanout.StateError, reason: fanout.ReasonTLS,
			err: "tls: failed to verify certificate: x509: certificate has expired or is not yet valid…",
			check: func(t *testing.T, d probe.Detail) {
				t.Helper()
				if d["days_left"] != -2.0 || d["verified"] != false || d["not_after"] != rfc(expired.leaf.NotAfter) {
					t.Errorf("detail %v, want the unverified chain's days_left -2, verified false", d)
				}
			}},
		{name: "expired insecure", addr: expiredAddr, spec: probe.TLSSpec{TLSOptions: probe.TLSOptions{Insecure: true}},
			state: fanout.StateFail, reason: fanout.ReasonCertExpiry, err: `certificate "expired" expired 2 days ago`,
			check: func(t *testing.T, d probe.Detail) {
				t.Helper()
				if d["days_left"] != -2.0 || d["verified"] != false {
					t.Errorf("days_left %v verified %v, want -2 false", d["days_left"], d["verified"])
				}
			}},
		{name: "expiring within min_days_left", addr: expiringAddr, spec: probe.TLSSpec{TLSOptions: trust, MinDaysLeft: 14},
			state: fanout.StateFail, reason: fanout.ReasonCertExpiry,
			err: `certificate "expiring" expires in 3 days (` + rfc(expiring.leaf.NotAfter) + `), want ≥ 14`},
		{name: "expiring after min_days_left", addr: expiringAddr, spec: probe.TLSSpec{TLSOptions: trust, MinDaysLeft: 2},
			state: fanout.StateOK, check: func(t *testing.T, d probe.Detail) {
				t.Helper()
				if d["days_left"] != 3.0 || d["verified"] != true {
					t.Errorf("days_left %v verified %v, want 3 true", d["days_left"], d["verified"])
				}
			}},
		{name: "earliest in the chain", addr: shortCAAddr, spec: probe.TLSSpec{TLSOptions: probe.TLSOptions{CAFile: shortCA.certFile}, MinDaysLeft: 14},
			state: fanout.StateFail, reason: fanout.ReasonCertExpiry, err: `certificate "short CA" expires in 5 days (…`,
			check: func(t *testing.T, d probe.Detail) {
				t.Helper()
				if d["subject"] != "CN=long leaf" || d["not_after"] != rfc(shortCA.leaf.NotAfter) {
					t.Errorf("subject %v not_after %v, want the leaf's subject and the CA's expiry", d["subject"], d["not_after"])
				}
			}},
		{name: "wrong host", addr: wrongHostAddr, spec: probe.TLSSpec{TLSOptions: trust},
			state: fanout.StateError, reason: fanout.ReasonTLS,
			err: "tls: failed to verify certificate: x509: certificate is valid for 127.0.0.2, not 127.0.0.1"},
		{name: "wrong host, server_name", addr: wrongHostAddr,
			spec:  probe.TLSSpec{TLSOptions: probe.TLSOptions{CAFile: ca.certFile, ServerName: "other.example"}},
			state: fanout.StateOK},
		{name: "self-signed", addr: selfAddr, spec: probe.TLSSpec{TLSOptions: trust},
			state: fanout.StateError, reason: fanout.ReasonTLS,
			err: "tls: failed to verify certificate: x509: certificate signed by unknown authority…"},
		{name: "self-signed insecure", addr: selfAddr, spec: probe.TLSSpec{TLSOptions: probe.TLSOptions{Insecure: true}},
			state: fanout.StateOK, check: func(t *testing.T, d probe.Detail) {
				t.Helper()
				if d["verified"] != false || d["issuer"] != "CN=self" {
					t.Errorf("verified %v issuer %v, want false CN=self", d["verified"], d["issuer"])
				}
			}},
		{name: "refused", addr: deadAddr(t), spec: probe.TLSSpec{TLSOptions: trust},
			state: fanout.StateError, reason: fanout.ReasonRefused, err: "connect: connection refused"},
		{name: "not tls", addr: plainAddr, spec: probe.TLSSpec{TLSOptions: trust},
			state: fanout.StateError, reason: fanout.ReasonTLS, err: "tls: first record does not look like a TLS handshake"},
		{name: "handshake timeout", addr: silentAddr, spec: probe.TLSSpec{TLSOptions: trust}, timeout: 200 * time.Millisecond,
			state: fanout.StateTimeout, reason: fanout.ReasonTimeout, err: "timeout in tls handshake after 200ms"},
		// An attempt without a deadline is bounded by the Env's Timeout.
		{name: "handshake timeout of the Env", addr: silentAddr, spec: probe.TLSSpec{TLSOptions: trust}, envTimeout: 200 * time.Millisecond,
			state: fanout.StateTimeout, reason: fanout.ReasonTimeout, err: "timeout in tls handshake after 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			c := buildKind(t, &tt.spec, "tls://"+tt.addr)
			var o outcome
			if tt.envTimeout > 0 {
				timeout = tt.envTimeout
				o = runCancelled(t, c, newEnv(t, probe.Options{Timeout: tt.envTimeout}), 10*time.Second)
			} else {
				o = run(t, c, newEnv(t, probe.Options{}), timeout)
			}
			o.want(t, tt.state, tt.reason)
			if o.elapsed > timeout+time.Second {
				t.Errorf("took %v", o.elapsed)
			}
			if tt.state != fanout.StateOK {
				wantErrText(t, o.err, tt.err)
			}
			if tt.check != nil {
				tt.check(t, o.detail)
			}
		})
	}
}

// wantErrText checks err's text: exactly want, or, when want ends in "…",
// starting with the rest.
func wantErrText(t *testing.T, err error, want string) {
	t.Helper()
	if prefix, ok := strings.CutSuffix(want, "…"); ok {
		if err == nil || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("error %v, want one starting %q", err, prefix)
		}
		return
	}
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestTLSHost(t *testing.T) {
	tests := []struct{ url, host string }{
		{"tls://Example.COM", "example.com:443"},
		{"TLS://example.com:8443/", "example.com:8443"},
		{"tls://[::1]", "[::1]:443"},
	}
	for _, tt := range tests {
		c := mustCheck(t, tt.url)
		if c.Kind() != "tls" || c.Host() != tt.host {
			t.Errorf("%s: kind %q host %q, want tls %q", tt.url, c.Kind(), c.Host(), tt.host)
		}
	}
}

func TestTLSBuildErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name string
		url  string
		spec probe.TLSSpec
		path []string // of the *FieldError; nil: a plain error
		err  string
	}{
		{"negative min_days_left", "tls://x", probe.TLSSpec{MinDaysLeft: -1}, []string{"min_days_left"},
			"min_days_left: must be 0 or more, got -1"},
		{"missing ca_file", "tls://x", probe.TLSSpec{TLSOptions: probe.TLSOptions{CAFile: missing}}, []string{"ca_file"},
			"ca_file: open " + missing + ": no such file or directory"},
		{"cert without key", "tls://x", probe.TLSSpec{TLSOptions: probe.TLSOptions{CertFile: missing}}, []string{"key_file"},
			"key_file: cert_file needs key_file"},
		{"path", "tls://x/health", probe.TLSSpec{}, nil, `tls target takes no path (got "/health")`},
		{"query", "tls://x?a=b", probe.TLSSpec{}, nil, "tls target takes no query"},
		{"user info", "tls://u:pw@x", probe.TLSSpec{}, nil, "tls target takes no user info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantBuildError(t, &tt.spec, tt.url, tt.err, tt.path)
		})
	}
	if _, err := (&probe.TLSSpec{}).Build(nil); err == nil {
		t.Error("Build(nil) succeeded")
	}
}

// The zero TLSSpec is what a target without a block gets.
func TestTLSSpecDefaults(t *testing.T) {
	spec, ok := probe.NewSpec("tls")
	if !ok {
		t.Fatal(`NewSpec("tls") not found`)
	}
	if s, ok := spec.(*probe.TLSSpec); !ok || s.MinDaysLeft != 0 || s.Insecure {
		t.Errorf("NewSpec(\"tls\") = %#v, want a zero *TLSSpec", spec)
	}
	u, _ := url.Parse("tls://x")
	if _, err := spec.Build(u); err != nil {
		t.Error(err)
	}
}
