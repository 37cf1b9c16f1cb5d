package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptrace"
	"net/url"
)

// TCP checks that a TCP connection to an address can be opened. The
// connection is closed at once.
type TCP struct {
	// Address is the target's host:port.
	Address string
}

var _ Check = (*TCP)(nil)

// TCPSpec is the `tcp:` block of a YAML check.
type TCPSpec struct{}

// Build returns the TCP check of target: tcp://host:port, with nothing
// after the port but an optional "/".
func (s *TCPSpec) Build(u *url.URL) (Check, error) {
	switch {
	case u == nil:
		return nil, errors.New("a tcp check needs a target")
	case u.Port() == "":
		return nil, errors.New("tcp target needs a port (tcp://host:port)")
	case u.User != nil:
		return nil, errors.New("tcp target takes no user info")
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("tcp target takes no path (got %q)", u.Path)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, errors.New("tcp target takes no query")
	}
	return &TCP{Address: net.JoinHostPort(u.Hostname(), u.Port())}, nil
}

// Kind returns "tcp".
func (t *TCP) Kind() string { return "tcp" }

// Host returns the address with the host lower-cased.
func (t *TCP) Host() string {
	host, port, err := net.SplitHostPort(t.Address)
	if err != nil {
		return t.Address
	}
	return hostPort(host, port, "")
}

// Run dials the address with env's dialer under ctx and closes the
// connection. The detail holds connect_ms (dns included) and remote_addr.
func (t *TCP) Run(ctx context.Context, env *Env) (Detail, error) {
	tr := newTracer()
	conn, err := env.opts.Dialer.DialContext(httptrace.WithClientTrace(ctx, tr.clientTrace()), "tcp", t.Address)
	p := tr.finish()
	if err != nil {
		return nil, classify(ctx, err, phaseDial, p.dialStage(), p.start, env.opts.Timeout)
	}
	d := Detail{
		"connect_ms":  millis(p.end.Sub(p.start)),
		"remote_addr": conn.RemoteAddr().String(),
	}
	// The connection was made: that answers the check, whatever Close says.
	_ = conn.Close()
	return d, nil
}
