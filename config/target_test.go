package config_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/fanout-dev/fanout/config"
)

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in, kind, host, normal string
	}{
		{"https://API.example/healthz", "http", "api.example:443", "https://api.example/healthz"},
		{"https://api.example:443/healthz", "http", "api.example:443", "https://api.example/healthz"},
		{"http://127.0.0.1:8080", "http", "127.0.0.1:8080", "http://127.0.0.1:8080/"},
		{"HTTP://Example.com:80/a?b=1#frag", "http", "example.com:80", "http://example.com/a?b=1"},
		{"db.internal:5432", "tcp", "db.internal:5432", "tcp://db.internal:5432"},
		{"tcp://DB.internal:5432", "tcp", "db.internal:5432", "tcp://db.internal:5432"},
		{"[::1]:8080", "tcp", "[::1]:8080", "tcp://[::1]:8080"},
		{"  http://[::1]/x  ", "http", "[::1]:80", "http://[::1]/x"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := config.ParseTarget(tc.in, "argument 1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Check.Kind() != tc.kind || got.Check.Host() != tc.host || got.Normal != tc.normal {
				t.Errorf("kind %q host %q normal %q, want %q %q %q",
					got.Check.Kind(), got.Check.Host(), got.Normal, tc.kind, tc.host, tc.normal)
			}
			if got.Source != "argument 1" || got.Raw != strings.TrimSpace(tc.in) {
				t.Errorf("source %q raw %q", got.Source, got.Raw)
			}
		})
	}
}

func TestParseTargetErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "empty target"},
		{"htp://x", `malformed target "htp://x": unknown scheme "htp"`},
		{"host:notaport", `malformed target "host:notaport": invalid port "notaport"`},
		{"host:0", `malformed target "host:0": invalid port "0"`},
		{"http://host:x1/", `malformed target "http://host:x1/": invalid port "x1"`},
		{"justahost", `malformed target "justahost": want a URL (http://…, tcp://…) or host:port: missing port in address`},
		{":80", `malformed target ":80": missing host in ":80"`},
		{"http://user:hunter22@:80/", `malformed target "http://user:xxxxx@:80/"`},
		{"http://a b/", `malformed target "http://a b/": invalid character " " in host name`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			_, err := config.ParseTarget(tc.in, "x")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want prefix %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter22") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://api.example/healthz", "https://api.example/healthz"},
		{"https://user:hunter22@api.example/h", "https://user:xxxxx@api.example/h"},
		{"https://ghp_TOKEN123@api.example/h", "https://xxxxx@api.example/h"},
		{"https://h/x?token=abc&page=2", "https://h/x?token=xxxxx&page=2"},
		{"https://h/x?page=2&API_KEY=abc&Signature=zz&sig=1&monkey=3", "https://h/x?page=2&API_KEY=xxxxx&Signature=xxxxx&sig=xxxxx&monkey=xxxxx"},
		{"https://h/x?design=1&keyboard=2&pass=3", "https://h/x?design=1&keyboard=2&pass=xxxxx"},
		{"https://h/x?access_token=a%20b&q=%2F", "https://h/x?access_token=xxxxx&q=%2F"},
		{"db:5432", "db:5432"},
		{"http://user:pw@bad host/", "http://xxxxx@bad host/"},
	}
	for _, tc := range cases {
		if got := config.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTargetSecretsAndRedactor(t *testing.T) {
	tg, err := config.ParseTarget("https://bob:s3cr3t!pw@h.example/x?token=tok%2Fen99&a=1", "argument 1")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Display != "https://bob:xxxxx@h.example/x?token=xxxxx&a=1" {
		t.Errorf("display %q", tg.Display)
	}
	red := tg.Redactor
	msg := `Get "https://bob:s3cr3t!pw@h.example/x?token=tok%2Fen99": token tok/en99 rejected`
	got := red.Redact(msg)
	for _, s := range []string{"s3cr3t", "tok%2Fen99", "tok/en99"} {
		if strings.Contains(got, s) {
			t.Errorf("redacted text %q still holds %q", got, s)
		}
	}
	if short := config.NewRedactor([]string{"ab"}).Redact("abc"); short != "abc" {
		t.Errorf("secrets shorter than %d must not be masked in free text: %q", config.MinSecretLen, short)
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"https://u:p@h:1/x?token=t", "h:80", "[::1]:1", "tcp://x:1/", "htp://x", "http://%zz", "::", "a://b@c@d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := config.ParseTarget(s, "fuzz")
		red := config.Redact(strings.TrimSpace(s))
		if err == nil && (tg.Check == nil || tg.Check.Host() == "" || tg.Display != red) {
			t.Fatalf("parsed %q without a check, host or display", s)
		}
		u, perr := url.Parse(red)
		if perr != nil || !strings.Contains(s, "://") {
			return
		}
		if u.User != nil {
			pw, hasPW := u.User.Password()
			if (hasPW && pw != config.Mask) || (!hasPW && u.User.Username() != config.Mask) {
				t.Fatalf("Redact(%q) = %q keeps userinfo", s, red)
			}
		}
		for name, values := range u.Query() {
			for _, v := range values {
				if config.IsSecretName(name) && v != config.Mask && v != "" {
					t.Fatalf("Redact(%q) = %q keeps %s=%s", s, red, name, v)
				}
			}
		}
	})
}
