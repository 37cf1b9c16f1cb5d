package probe_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/fanout-dev/fanout/probe"
)

func TestFromURL(t *testing.T) {
	tests := []struct {
		url        string
		kind, host string
	}{
		{"http://example.com", "http", "example.com:80"},
		{"https://example.com/healthz?x=1", "http", "example.com:443"},
		{"HTTPS://Example.COM:8443", "http", "example.com:8443"},
		{"http://user:pw@10.0.0.1:65535/", "http", "10.0.0.1:65535"},
		{"tcp://db:5432", "tcp", "db:5432"},
		{"tcp://db:5432/", "tcp", "db:5432"},
		{"tcp://[2001:db8::1]:1", "tcp", "[2001:db8::1]:1"},
	}
	for _, tt := range tests {
		c := mustCheck(t, tt.url)
		if c.Kind() != tt.kind || c.Host() != tt.host {
			t.Errorf("%s: kind %q host %q, want %q %q", tt.url, c.Kind(), c.Host(), tt.kind, tt.host)
		}
	}
}

func TestFromURLErrors(t *testing.T) {
	const want = "(want one of dns, grpc, http, https, tcp, tls)"
	tests := []struct {
		url *url.URL
		err string
	}{
		{mustURL(t, "htp://x"), `unknown scheme "htp" ` + want + ` (did you mean "http"?)`},
		{mustURL(t, "HTTPX://x"), `unknown scheme "httpx" ` + want + ` (did you mean "http"?)`},
		{mustURL(t, "tpc://x:1"), `unknown scheme "tpc" ` + want + ` (did you mean "tcp"?)`},
		{mustURL(t, "gopher://x"), `unknown scheme "gopher" ` + want},
		{mustURL(t, "//x"), `missing scheme ` + want},
		{mustURL(t, "http:///path"), "missing host"},
		{mustURL(t, "http:opaque"), "missing host"},
		{&url.URL{Scheme: "http", Host: "x:notaport"}, `invalid port "notaport"`},
		{&url.URL{Scheme: "http", Host: "x:+80"}, `invalid port "+80"`},
		{mustURL(t, "http://x:0"), `invalid port "0"`},
		{mustURL(t, "http://x:65536"), `invalid port "65536"`},
		{mustURL(t, "tcp://x"), "tcp target needs a port (tcp://host:port)"},
		{mustURL(t, "tcp://x:1/db"), `tcp target takes no path (got "/db")`},
		{mustURL(t, "tcp://x:1?token=SECRET"), "tcp target takes no query"},
		{mustURL(t, "tcp://x:1/?"), "tcp target takes no query"},
		{mustURL(t, "tcp://u:pw@x:1"), "tcp target takes no user info"},
	}
	for _, tt := range tests {
		c, err := probe.FromURL(tt.url)
		if err == nil || err.Error() != tt.err {
			t.Errorf("FromURL(%s) = %v, %v; want error %q", tt.url, c, err, tt.err)
		}
	}
}

func TestKinds(t *testing.T) {
	if got, want := probe.Kinds(), []string{"dns", "grpc", "http", "https", "tcp", "tls"}; !slices.Equal(got, want) {
		t.Errorf("Kinds() = %v, want %v", got, want)
	}
	for scheme, port := range map[string]string{"http": "80", "HTTPS": "443", "tcp": "", "ftp": ""} {
		if got := probe.DefaultPort(scheme); got != port {
			t.Errorf("DefaultPort(%q) = %q, want %q", scheme, got, port)
		}
	}
}
