package probe

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"

	"github.com/fanout-dev/fanout"
)

// HTTP checks a URL with one request. It is ok when the status is 2xx or
// 3xx; redirects are not followed, a 3xx is the answer.
type HTTP struct {
	// URL is the target, http or https.
	URL *url.URL
	// Method is the request method; "" means GET.
	Method string
}

var _ Check = (*HTTP)(nil)

// HTTPSpec is the `http:` block of a YAML check.
type HTTPSpec struct {
	// Method is the request method (default GET).
	Method string `yaml:"method"`
}

// Build returns the HTTP check of target.
func (s *HTTPSpec) Build(u *url.URL) (Check, error) {
	if u == nil {
		return nil, errors.New("an http check needs a target")
	}
	c := *u
	c.Scheme = strings.ToLower(c.Scheme)
	return &HTTP{URL: &c, Method: s.Method}, nil
}

// Kind returns "http", for https URLs too.
func (h *HTTP) Kind() string { return "http" }

// Host returns the URL's lower-case host:port, with the scheme's default
// port filled in and an IPv6 address in brackets.
func (h *HTTP) Host() string {
	return hostPort(h.URL.Hostname(), h.URL.Port(), DefaultPort(h.URL.Scheme))
}

// Run sends one request through env's client and reads at most env's body
// cap of the response. The detail holds status_code, proto, bytes,
// body_truncated (only when true), conn_reused, timings_ms (dns, connect,
// tls, ttfb, total: the phases that happened), location (of a 3xx) and
// retry_after_ms (when a throttled target said how long to wait). A status
// outside 2xx and 3xx fails with reason http_status, marked retryable for
// 408, 502, 503 and 504, except that a 429, or a 503 with a
// Retry-After-like hint, is a throttle for the engine to wait out (see
// [statusOutcome]). An error carries the reason of DESIGN.md's table and
// never the URL.
func (h *HTTP) Run(ctx context.Context, env *Env) (Detail, error) {
	tr := newTracer()
	req, err := h.newRequest(httptrace.WithClientTrace(ctx, tr.clientTrace()), env)
	if err != nil {
		return nil, err
	}
	resp, err := env.client.Do(req)
	if err != nil {
		p := tr.finish()
		d := Detail{}
		p.addTo(d)
		ph, stage := phaseDial, p.dialStage()
		if p.connected() {
			ph = phaseHeaders
		}
		return d, h.scrub(classify(ctx, err, ph, stage, p.start, env.opts.Timeout))
	}
	d := responseDetail(resp)
	_, n, truncated, err := readBody(resp.Body, env.opts.BodyCap, false)
	resp.Body.Close()
	p := tr.finish()
	p.addTo(d)
	d["bytes"] = n
	if truncated {
		d["body_truncated"] = true
	}
	if err != nil {
		return d, h.scrub(classify(ctx, err, phaseBody, "", p.start, env.opts.Timeout))
	}
	return d, statusOutcome(resp, d, p.end)
}

// newRequest builds the attempt's request.
func (h *HTTP) newRequest(ctx context.Context, env *Env) (*http.Request, error) {
	method := h.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, h.URL.String(), nil)
	if err != nil {
		// Only a bad Method gets here: the URL was parsed already.
		err = unwrapURL(err)
		return nil, h.scrub(classed(fanout.StateError, fanout.ReasonOther, "invalid request: "+err.Error(), err))
	}
	req.Header.Set("User-Agent", env.opts.UserAgent)
	return req, nil
}

// responseDetail holds what the response's head says.
func responseDetail(resp *http.Response) Detail {
	d := Detail{"status_code": resp.StatusCode, "proto": resp.Proto}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
		d["location"] = loc
	}
	return d
}

// scrub removes the URL's userinfo and query from err's message, should a
// wrapped error have put them there. Messages are built without the URL:
// this is the second line of defence.
func (h *HTTP) scrub(err error) error {
	var fe *fanout.Error
	var de *described
	if !errors.As(err, &fe) || !errors.As(fe.Err, &de) {
		return err
	}
	safe := *h.URL
	safe.User, safe.RawQuery, safe.ForceQuery = nil, "", false
	de.msg = strings.ReplaceAll(de.msg, h.URL.String(), safe.String())
	if h.URL.User != nil {
		de.msg = strings.ReplaceAll(de.msg, h.URL.User.String()+"@", "")
	}
	if h.URL.RawQuery != "" {
		de.msg = strings.ReplaceAll(de.msg, h.URL.RawQuery, "xxxxx")
	}
	return err
}
