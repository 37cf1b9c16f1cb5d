package probe

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HTTPSpec is the `http:` block of a YAML check. A zero field takes its
// default, and the zero HTTPSpec is what a bare http(s) URL gets: a GET,
// 2xx or 3xx expected, redirects not followed, the system's CAs.
type HTTPSpec struct {
	// Method is the request method (default GET).
	Method string `yaml:"method"`
	// Headers are sent with the request; they replace the User-Agent.
	// The values of Authorization, Proxy-Authorization and Cookie are
	// secrets, as are those SecretHeaders names.
	Headers map[string]string `yaml:"headers"`
	// SecretHeaders names headers, among Headers, whose values are
	// secrets: redacted wherever they would appear, and not sent on when
	// a redirect leads to another host.
	SecretHeaders []string `yaml:"secret_headers"`
	// Body is the request body (default none). Set Method too: the
	// default stays GET.
	Body string `yaml:"body"`
	// Status lists the expected statuses (default 2xx and 3xx): codes
	// (200, or "200"), classes ("3xx") and inclusive ranges ("500-502"),
	// mixed. A status outside fails with reason http_status.
	Status []any `yaml:"status"`
	// BodyContains is a substring the body must hold.
	BodyContains string `yaml:"body_contains"`
	// BodyRegex is an RE2 regular expression the body must match.
	BodyRegex string `yaml:"body_regex"`
	// JSON lists conditions on the body parsed as JSON (see
	// [ParseJSONCondition]): `$.status == "UP"`, `len($.replicas) >= 2`.
	JSON []string `yaml:"json"`
	// MaxLatency fails the check when the time to the last byte of the
	// body (as capped) exceeds it (default 0: no limit).
	MaxLatency time.Duration `yaml:"max_latency"`
	// FollowRedirects follows up to 10 redirects within the attempt
	// (default false: a 3xx is the answer). More fail with reason
	// http_status.
	FollowRedirects bool `yaml:"follow_redirects"`
	// TLSOptions are ca_file, cert_file, key_file, insecure and
	// server_name (verification on by default).
	TLSOptions `yaml:",inline"`
	// Host overrides the Host header (host or host:port); it is also the
	// name sent in SNI and verified in the certificate unless ServerName
	// is set, and the name of the check's host for per-host limits.
	Host string `yaml:"host"`
	// BasicAuth sends HTTP basic authentication; the password is a
	// secret.
	BasicAuth *BasicAuth `yaml:"basic_auth"`
	// BearerToken sends "Authorization: Bearer <token>"; it is a secret.
	BearerToken string `yaml:"bearer_token"`
}

// BasicAuth is a user name and password for HTTP basic authentication.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

var (
	_ Spec      = (*HTTPSpec)(nil)
	_ Secretive = (*HTTPSpec)(nil)
)

// httpOptions is what Build makes of an HTTPSpec. It is only read
// afterwards, so checks share it across goroutines.
type httpOptions struct {
	// header holds the headers to send, authentication included, with
	// canonical names.
	header http.Header
	// secretHeaders are the canonical names of the headers not sent on
	// to another host when following a redirect.
	secretHeaders []string
	body          string
	host          string
	// hostName is the name of Host, the check's host for limits.
	hostName string
	status   statusSet
	conds    httpConditions
	follow   bool
	// tlsKey and tlsConfig are the TLS setting ([TLSOptions.Key]) and
	// its configuration, nil for the default (a zero TLSOptions).
	tlsKey    string
	tlsConfig *tls.Config
}

// defaultTLSKey is the key of the default TLS setting.
var defaultTLSKey = TLSOptions{}.Key()

// Build returns the HTTP check of target. It validates every field and
// reads the TLS files now; a bad field is a *FieldError naming it inside
// the block (["status", "2"], ["json", "0"] with the Offset in the
// condition, ["headers", "X-Api-Key"]).
func (s *HTTPSpec) Build(u *url.URL) (Check, error) {
	if u == nil {
		return nil, errors.New("an http check needs a target")
	}
	target := *u
	target.Scheme = strings.ToLower(target.Scheme)
	if target.Scheme != "http" && target.Scheme != "https" {
		return nil, fmt.Errorf("an http check needs an http:// or https:// target, got %s://", target.Scheme)
	}
	o := &httpOptions{body: s.Body, follow: s.FollowRedirects}
	for _, step := range []func(*httpOptions) error{
		s.buildRequest, s.buildAuth, s.buildHost, s.buildConditions, s.buildTLS,
	} {
		if err := step(o); err != nil {
			return nil, err
		}
	}
	return &HTTP{URL: &target, Method: s.Method, opts: o}, nil
}

// buildRequest checks the method and headers.
func (s *HTTPSpec) buildRequest(o *httpOptions) error {
	if s.Method != "" && !isToken(s.Method) {
		return fieldErrf([]string{"method"}, "invalid method %q", s.Method)
	}
	o.header = make(http.Header, len(s.Headers))
	names := make([]string, 0, len(s.Headers))
	for name := range s.Headers {
		names = append(names, name)
	}
	// Sorted: the first bad header reported is always the same.
	slices.Sort(names)
	for _, name := range names {
		switch canon := http.CanonicalHeaderKey(name); {
		case !isToken(name):
			return fieldErrf([]string{"headers", name}, "invalid header name %q", name)
		case canon == "Host":
			return fieldErrf([]string{"headers", name}, "set the Host header with the host field, not in headers")
		case !validHeaderValue(s.Headers[name]):
			// The value may be a secret: never echo it.
			return fieldErrf([]string{"headers", name}, "value holds a control character (a line break?)")
		default:
			o.header.Set(canon, s.Headers[name])
		}
	}
	for i, name := range s.SecretHeaders {
		path := []string{"secret_headers", strconv.Itoa(i)}
		if !isToken(name) {
			return fieldErrf(path, "invalid header name %q", name)
		}
		canon := http.CanonicalHeaderKey(name)
		if _, ok := o.header[canon]; !ok {
			return fieldErrf(path, "%q is not among headers", name)
		}
		o.secretHeaders = append(o.secretHeaders, canon)
	}
	return nil
}

// buildAuth checks basic_auth and bearer_token and turns them into an
// Authorization header; at most one thing may set it.
func (s *HTTPSpec) buildAuth(o *httpOptions) error {
	_, inHeaders := o.header["Authorization"]
	switch {
	case s.BasicAuth != nil && s.BearerToken != "":
		return fieldErrf([]string{"bearer_token"}, "bearer_token and basic_auth both set the Authorization header")
	case s.BasicAuth != nil && inHeaders:
		return fieldErrf([]string{"basic_auth"}, "basic_auth and headers both set the Authorization header")
	case s.BearerToken != "" && inHeaders:
		return fieldErrf([]string{"bearer_token"}, "bearer_token and headers both set the Authorization header")
	}
	if a := s.BasicAuth; a != nil {
		switch {
		case a.Username == "":
			return fieldErrf([]string{"basic_auth", "username"}, "missing username")
		case strings.Contains(a.Username, ":"):
			return fieldErrf([]string{"basic_auth", "username"}, `username holds a ":"`)
		case !validHeaderValue(a.Username) || !validHeaderValue(a.Password):
			return fieldErrf([]string{"basic_auth"}, "holds a control character (a line break?)")
		}
		o.header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password)))
	}
	if t := s.BearerToken; t != "" {
		if !validHeaderValue(t) || strings.ContainsAny(t, " \t") {
			return fieldErrf([]string{"bearer_token"}, "holds a blank or a control character")
		}
		o.header.Set("Authorization", "Bearer "+t)
	}
	return nil
}

// buildHost checks the Host override.
func (s *HTTPSpec) buildHost(o *httpOptions) error {
	if s.Host == "" {
		return nil
	}
	u, err := url.Parse("http://" + s.Host + "/")
	if err != nil || u.Host != s.Host || u.User != nil || u.Hostname() == "" || validPort(rawPort(s.Host)) != nil {
		return fieldErrf([]string{"host"}, "want a host or host:port, got %q", s.Host)
	}
	o.host, o.hostName = s.Host, u.Hostname()
	return nil
}

// buildConditions checks the status list and the conditions.
func (s *HTTPSpec) buildConditions(o *httpOptions) error {
	var err error
	if o.status, err = parseStatuses(s.Status); err != nil {
		return err
	}
	o.conds.contains = s.BodyContains
	if o.conds.regex, err = compileRegex(s.BodyRegex, "body_regex"); err != nil {
		return err
	}
	for i, src := range s.JSON {
		c, err := ParseJSONCondition(src)
		if err != nil {
			fe := fieldErr(err, "json", strconv.Itoa(i))
			var se *ConditionSyntaxError
			if errors.As(err, &se) {
				fe.Offset = se.Offset
			}
			return fe
		}
		o.conds.json = append(o.conds.json, c)
	}
	if s.MaxLatency < 0 {
		return fieldErrf([]string{"max_latency"}, "must not be negative, got %s", s.MaxLatency)
	}
	o.conds.maxLatency = s.MaxLatency
	return nil
}

// buildTLS reads the TLS files. The Host override is the name verified
// and sent in SNI unless server_name is set.
func (s *HTTPSpec) buildTLS(o *httpOptions) error {
	eff := s.TLSOptions
	if eff.ServerName == "" {
		eff.ServerName = o.hostName
	}
	o.tlsKey = eff.Key()
	if eff == (TLSOptions{}) {
		return nil
	}
	// No host: the transport is shared by every target with this
	// setting, and verifies each one's own name unless ServerName is set.
	cfg, err := eff.Config("")
	if err != nil {
		return err
	}
	o.tlsConfig = cfg
	return nil
}

// Secrets returns the values to redact: those of Authorization,
// Proxy-Authorization, Cookie and the secret headers (and the credentials
// after an Authorization scheme), the basic-auth password and the bearer
// token.
func (s *HTTPSpec) Secrets() []string {
	secret := map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true}
	for _, name := range s.SecretHeaders {
		secret[http.CanonicalHeaderKey(name)] = true
	}
	var out []string
	add := func(v string) {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for name, value := range s.Headers {
		canon := http.CanonicalHeaderKey(name)
		if !secret[canon] {
			continue
		}
		add(value)
		if canon != "Cookie" {
			if _, cred, ok := strings.Cut(strings.TrimSpace(value), " "); ok {
				add(cred)
			}
		}
	}
	if s.BasicAuth != nil {
		add(s.BasicAuth.Password)
	}
	add(s.BearerToken)
	slices.Sort(out)
	return out
}

// isToken reports whether s is an HTTP token (RFC 9110): a method or a
// header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v may be sent as a header value: no
// control character but a tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
