package probe_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fanout-dev/fanout/probe"
)

// buildHTTP builds the HTTP check of raw with spec s.
func buildHTTP(t *testing.T, raw string, s probe.HTTPSpec) probe.Check {
	t.Helper()
	c, err := s.Build(mustURL(t, raw))
	if err != nil {
		t.Fatalf("Build(%s, %+v): %v", raw, s, err)
	}
	return c
}

func TestHTTPSpecErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name   string
		spec   probe.HTTPSpec
		path   string // FieldError.Path joined with "."
		offset int
		msg    string // FieldError.Err's text
	}{
		{"method", probe.HTTPSpec{Method: "GE T"}, "method", 0, `invalid method "GE T"`},
		{"header name", probe.HTTPSpec{Headers: map[string]string{"X Bad": "v"}}, "headers.X Bad", 0, `invalid header name "X Bad"`},
		{"header value", probe.HTTPSpec{Headers: map[string]string{"X-Token": "a\r\nInjected: 1"}},
			"headers.X-Token", 0, "value holds a control character (a line break?)"},
		{"host header", probe.HTTPSpec{Headers: map[string]string{"host": "x"}},
			"headers.host", 0, "set the Host header with the host field, not in headers"},
		{"secret header not sent", probe.HTTPSpec{Headers: map[string]string{"X-Api-Key": "k"}, SecretHeaders: []string{"X-Api-Key", "X-Api-Kye"}},
			"secret_headers.1", 0, `"X-Api-Kye" is not among headers`},
		{"status class", probe.HTTPSpec{Status: []any{200, "3xx", "6xx"}}, "status.2", 0, `unknown status class "6xx" (want 1xx to 5xx)`},
		{"status range order", probe.HTTPSpec{Status: []any{"502-500"}}, "status.0", 0, `bad range "502-500": 502 is above 500`},
		{"status range bound", probe.HTTPSpec{Status: []any{"500-700"}}, "status.0", 0, `bad range "500-700": status 700 out of range (want 100 to 599)`},
		{"status code", probe.HTTPSpec{Status: []any{99}}, "status.0", 0, "status 99 out of range (want 100 to 599)"},
		{"status word", probe.HTTPSpec{Status: []any{"ok"}}, "status.0", 0,
			`bad status "ok": want a code like 200, a class like "3xx" or a range like "500-502"`},
		{"status float", probe.HTTPSpec{Status: []any{200, 2.5}}, "status.1", 0,
			`bad status 2.5: want a code like 200, a class like "3xx" or a range like "500-502"`},
		{"status null", probe.HTTPSpec{Status: []any{nil}}, "status.0", 0,
			`bad status null: want a code like 200, a class like "3xx" or a range like "500-502"`},
		{"body_regex", probe.HTTPSpec{BodyRegex: `ready: (true`}, "body_regex", 1, "error parsing regexp: missing closing ): `ready: (true`"},
		{"body_regex repeat", probe.HTTPSpec{BodyRegex: `ab**`}, "body_regex", 3, "error parsing regexp: invalid nested repetition operator: `**`"},
		{"json", probe.HTTPSpec{JSON: []string{`$.a exists`, `$.status ==`}}, "json.1", 12,
			`col 12: expected a literal after "==", got end of condition`},
		{"json word", probe.HTTPSpec{JSON: []string{`$.status == UP`}}, "json.0", 13,
			`col 13: expected a literal after "==", got "UP" (quote a string: "UP")`},
		{"max_latency", probe.HTTPSpec{MaxLatency: -time.Second}, "max_latency", 0, "must not be negative, got -1s"},
		{"ca_file", probe.HTTPSpec{TLSOptions: probe.TLSOptions{CAFile: missing}}, "ca_file", 0, "open " + missing + ": no such file or directory"},
		{"cert without key", probe.HTTPSpec{TLSOptions: probe.TLSOptions{CertFile: missing}}, "key_file", 0, "cert_file needs key_file"},
		{"host", probe.HTTPSpec{Host: "api.example/x"}, "host", 0, `want a host or host:port, got "api.example/x"`},
		{"host port", probe.HTTPSpec{Host: "api.example:0"}, "host", 0, `want a host or host:port, got "api.example:0"`},
		{"basic auth user", probe.HTTPSpec{BasicAuth: &probe.BasicAuth{Username: "a:b", Password: "p"}},
			"basic_auth.username", 0, `username holds a ":"`},
		{"basic auth no user", probe.HTTPSpec{BasicAuth: &probe.BasicAuth{Password: "p"}},
			"basic_auth.username", 0, "missing username"},
		{"two authorizations", probe.HTTPSpec{BasicAuth: &probe.BasicAuth{Username: "u"}, BearerToken: "t"},
			"bearer_token", 0, "bearer_token and basic_auth both set the Authorization header"},
		{"authorization twice", probe.HTTPSpec{Headers: map[string]string{"Authorization": "x"}, BearerToken: "t"},
			"bearer_token", 0, "bearer_token and headers both set the Authorization header"},
		{"bearer blank", probe.HTTPSpec{BearerToken: "a b"}, "bearer_token", 0, "holds a blank or a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.spec.Build(mustURL(t, "https://api.example/health"))
			var fe *probe.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Build: %v (%T), want a *probe.FieldError", err, err)
			}
			if got := strings.Join(fe.Path, "."); got != tt.path || fe.Offset != tt.offset || fe.Err.Error() != tt.msg {
				t.Errorf("FieldError path %q offset %d err %q, want %q %d %q", got, fe.Offset, fe.Err, tt.path, tt.offset, tt.msg)
			}
			if strings.Contains(err.Error(), "Injected") {
				t.Errorf("error %q echoes a header value", err)
			}
		})
	}
}

func TestHTTPSpecTargets(t *testing.T) {
	if _, err := (&probe.HTTPSpec{}).Build(nil); err == nil {
		t.Error("Build(nil) succeeded")
	}
	if _, err := (&probe.HTTPSpec{}).Build(mustURL(t, "tcp://x:1")); err == nil || err.Error() != "an http check needs an http:// or https:// target, got tcp://" {
		t.Errorf("Build(tcp://x:1) = %v", err)
	}
	c := buildHTTP(t, "HTTPS://Example.com/x", probe.HTTPSpec{Method: "HEAD"})
	if h := c.(*probe.HTTP); h.URL.Scheme != "https" || h.Method != "HEAD" || c.Host() != "example.com:443" {
		t.Errorf("got %+v host %q", h, c.Host())
	}
}
