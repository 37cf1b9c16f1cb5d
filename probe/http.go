package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"

	"github.com/fanout-dev/fanout"
)

// HTTP checks a URL with one request, following redirects if asked to,
// and judges the answer: its status against the expected set (default
// 2xx and 3xx; a 3xx is the answer unless redirects are followed), then
// the body, JSON and latency conditions. Build it with [HTTPSpec.Build]; a
// value with only URL and Method set checks as a bare URL does.
type HTTP struct {
	// URL is the target, http or https.
	URL *url.URL
	// Method is the request method; "" means GET.
	Method string

	// opts are the options Build made of the check's HTTPSpec; nil is
	// the zero spec's.
	opts *httpOptions
}

var _ Check = (*HTTP)(nil)

// options returns the check's options, the defaults if none.
func (h *HTTP) options() *httpOptions {
	if h.opts == nil {
		return &httpOptions{tlsKey: defaultTLSKey}
	}
	return h.opts
}

// Kind returns "http", for https URLs too.
func (h *HTTP) Kind() string { return "http" }

// Host returns the check's host for per-host limits: the URL's host, or
// the Host override's name, lower-case, with the URL's port (the scheme's
// default filled in) and an IPv6 address in brackets.
func (h *HTTP) Host() string {
	name := h.URL.Hostname()
	switch o := h.options(); {
	case o.hostName != "":
		name = o.hostName
	case o.tlsConfig != nil && o.tlsConfig.ServerName != "":
		// DESIGN.md: the host is taken after any Host/SNI override.
		name = o.tlsConfig.ServerName
	}
	return hostPort(name, h.URL.Port(), DefaultPort(h.URL.Scheme))
}

// Run sends one request through env's client for the check's TLS setting
// (following up to 10 redirects when asked, within this attempt) and
// reads at most env's body cap of the response. The detail holds
// status_code, proto, bytes, body_truncated (only when true),
// conn_reused, timings_ms (dns, connect, tls, ttfb, total: the phases that
// happened), location (of a 3xx), redirects (how many were followed, when
// any), retry_after_ms (when a throttled target said how long to wait) and
// failed_conditions (when conditions failed: each one and what was seen).
//
// A status outside the expected set fails with reason http_status, marked
// retryable for 408, 502, 503 and 504, except that a 429, or a 503 with a
// Retry-After-like hint, is a throttle for the engine to wait out (see
// [statusOutcome]); too many redirects fail with reason http_status too.
// Then every condition is evaluated, and failed ones fail the check with
// reason condition, the error naming the first. An error carries the
// reason of DESIGN.md's table and never the URL.
func (h *HTTP) Run(ctx context.Context, env *Env) (Detail, error) {
	ctx, cancel := env.bound(ctx)
	defer cancel()
	o := h.options()
	tr := newTracer()
	req, err := h.newRequest(withAttempt(httptrace.WithClientTrace(ctx, tr.clientTrace())), env, o)
	if err != nil {
		return nil, err
	}
	resp, err := env.httpClient(o.tlsKey, o.tlsConfig, o.follow).Do(req)
	if err != nil {
		p := tr.finish()
		if resp != nil && errors.Is(err, errTooManyRedirects) {
			// resp is the last 3xx; the client closed its body.
			d := responseDetail(resp)
			d["redirects"] = redirectCount(resp)
			p.addTo(d)
			return d, fanout.Failf(fanout.ReasonHTTPStatus, "too many redirects: more than %d (last status %d)",
				maxRedirects, resp.StatusCode)
		}
		d := Detail{}
		p.addTo(d)
		if deadline, ok := ctx.Deadline(); ok && !p.end.Before(deadline) {
			// A dial ends at the attempt's deadline too (see
			// Env.dialBound), and its error may come a hair before
			// ctx is done: wait for ctx, so that it is classed as
			// the attempt's timeout.
			<-ctx.Done()
		}
		if alert := remoteTLSAlert(err); alert != nil && ctx.Err() == nil {
			// The server refused the connection in a TLS alert after
			// the client's side of the handshake was done, as a TLS 1.3
			// server that wants a client certificate does: a failed
			// handshake all the same.
			return d, classed(fanout.StateError, fanout.ReasonTLS, alert.Op+": "+alert.Err.Error(), err)
		}
		ph, stage := phaseDial, p.dialStage()
		if p.connected() {
			ph = phaseHeaders
		}
		return d, h.scrub(classify(ctx, err, ph, stage, p.start, env.quotedTimeout(ctx, p.start)))
	}
	d := responseDetail(resp)
	if n := redirectCount(resp); n > 0 {
		d["redirects"] = n
	}
	b, err := readBody(resp.Body, env.opts.BodyCap, o.conds.needBody())
	resp.Body.Close()
	p := tr.finish()
	p.addTo(d)
	d["bytes"] = b.n
	if b.truncated {
		d["body_truncated"] = true
	}
	if err != nil {
		return d, h.scrub(classify(ctx, err, phaseBody, "", p.start, env.quotedTimeout(ctx, p.start)))
	}
	if err := statusOutcome(resp, d, p.end, o.status); err != nil {
		return d, err
	}
	if failed := o.conds.check(b.body, b.truncated, b.last.Sub(p.start)); len(failed) > 0 {
		return d, conditionsFailed(d, failed)
	}
	return d, nil
}

// remoteTLSAlert returns the TLS alert the peer sent, if err is one.
func remoteTLSAlert(err error) *net.OpError {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		return op
	}
	return nil
}

// redirectCount counts the redirects that led to resp.
func redirectCount(resp *http.Response) int {
	n := 0
	for r := resp.Request; r != nil && r.Response != nil; r = r.Response.Request {
		n++
	}
	return n
}

// secretHeadersKey is the context key of the secret headers of an
// attempt's request, which a followed redirect to another host drops.
type secretHeadersKey struct{}

// dropSecretHeaders removes the secret headers from req, a redirect, when
// it goes to another host than the first request, via[0]. Go's client
// drops Authorization and Cookie itself.
func dropSecretHeaders(req *http.Request, via []*http.Request) {
	names, _ := req.Context().Value(secretHeadersKey{}).([]string)
	if len(names) == 0 || strings.EqualFold(req.URL.Host, via[0].URL.Host) {
		return
	}
	for _, name := range names {
		req.Header.Del(name)
	}
}

// newRequest builds the attempt's request.
func (h *HTTP) newRequest(ctx context.Context, env *Env, o *httpOptions) (*http.Request, error) {
	method := h.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if o.body != "" {
		body = strings.NewReader(o.body)
	}
	if len(o.secretHeaders) > 0 {
		ctx = context.WithValue(ctx, secretHeadersKey{}, o.secretHeaders)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.URL.String(), body)
	if err != nil {
		// Only a bad Method gets here: the URL was parsed already.
		err = unwrapURL(err)
		return nil, h.scrub(classed(fanout.StateError, fanout.ReasonOther, "invalid request: "+err.Error(), err))
	}
	req.Header.Set("User-Agent", env.opts.UserAgent)
	for name, values := range o.header {
		req.Header[name] = slices.Clone(values)
	}
	if o.host != "" {
		req.Host = o.host
	}
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
