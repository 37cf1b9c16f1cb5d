package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/fanout-dev/fanout"
)

// bannerMax is the most bytes of a TCP server's answer read for expect
// and expect_regex.
const bannerMax = 64 << 10

// seenMax is the most bytes of what a server said that a message or the
// detail shows.
const seenMax = 200

// TCP checks that a TCP connection to an address can be opened and,
// when built with a TCPSpec asking for it, what the server says: it
// writes the spec's Send, then reads the first line of the answer and
// checks it against Expect and ExpectRegex. A value with only Address set
// connects and closes at once, as a bare tcp:// target does.
type TCP struct {
	// Address is the target's host:port.
	Address string

	send   string
	expect string
	re     *regexp.Regexp
}

var _ Check = (*TCP)(nil)

// TCPSpec is the `tcp:` block of a YAML check. The zero TCPSpec connects
// and closes the connection.
type TCPSpec struct {
	// Send is written once connected, byte for byte (YAML's double-quoted
	// escapes such as "\r\n" give control characters).
	Send string `yaml:"send"`
	// Expect is a substring the server's first line must hold: what it
	// sends first (after Send, if any), up to a newline, 64 KiB or the
	// connection's end, without the line ending.
	Expect string `yaml:"expect"`
	// ExpectRegex is an RE2 regular expression that first line must
	// match.
	ExpectRegex string `yaml:"expect_regex"`
}

var _ Spec = (*TCPSpec)(nil)

// Build returns the TCP check of target: tcp://host:port, with nothing
// after the port but an optional "/".
func (s *TCPSpec) Build(u *url.URL) (Check, error) {
	if err := hostOnly(u, "tcp", true, ""); err != nil {
		return nil, err
	}
	re, err := compileRegex(s.ExpectRegex, "expect_regex")
	if err != nil {
		return nil, err
	}
	return &TCP{Address: net.JoinHostPort(u.Hostname(), u.Port()), send: s.Send, expect: s.Expect, re: re}, nil
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

// expects reports whether the check reads the server's answer.
func (t *TCP) expects() bool { return t.expect != "" || t.re != nil }

// Run dials the address with env's dialer under ctx, sends and reads what
// the check asks for, and closes the connection. The detail holds
// connect_ms (dns included) and remote_addr and, when the answer was
// read, read_bytes and banner (the first line, at most 200 bytes, escaped
// where not printable). An answer that fails expect or expect_regex fails
// with reason condition, saying what was seen; a server that closes the
// connection before saying anything is error/reset.
func (t *TCP) Run(ctx context.Context, env *Env) (Detail, error) {
	ctx, cancel := env.bound(ctx)
	defer cancel()
	tr := newTracer()
	conn, err := env.opts.Dialer.DialContext(httptrace.WithClientTrace(ctx, tr.clientTrace()), "tcp", t.Address)
	p := tr.finish()
	if err != nil {
		return nil, classify(ctx, err, phaseDial, p.dialStage(), p.start, env.quotedTimeout(ctx, p.start))
	}
	d := Detail{
		"connect_ms":  millis(p.end.Sub(p.start)),
		"remote_addr": conn.RemoteAddr().String(),
	}
	if t.send == "" && !t.expects() {
		// The connection was made: that answers the check, whatever
		// Close says.
		_ = conn.Close()
		return d, nil
	}
	defer conn.Close()
	return d, t.exchange(ctx, conn, d, p.start, env.quotedTimeout(ctx, p.start))
}

// exchange sends and reads on conn under ctx: its deadline is put on the
// connection, and its cancellation ends a blocked read or write at once.
func (t *TCP) exchange(ctx context.Context, conn net.Conn, d Detail, start time.Time, timeout time.Duration) error {
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if t.send != "" {
		if _, err := io.WriteString(conn, t.send); err != nil {
			return tcpIOError(ctx, err, "sending", "", start, timeout)
		}
	}
	if !t.expects() {
		return nil
	}
	seen, err := t.readLine(conn)
	line := bytes.TrimSuffix(bytes.TrimSuffix(seen, []byte("\n")), []byte("\r"))
	d["read_bytes"] = len(seen)
	if len(seen) > 0 {
		d["banner"] = escapeSeen(line)
	}
	if err != nil && (len(seen) == 0 || !errors.Is(err, io.EOF)) {
		got := " (nothing read)"
		if len(seen) > 0 {
			got = " (got " + quoteSeen(line, seenMax) + ")"
		}
		return tcpIOError(ctx, err, "awaiting the answer", got, start, timeout)
	}
	var failed []string
	if t.expect != "" && !bytes.Contains(line, []byte(t.expect)) {
		failed = append(failed, fmt.Sprintf("answer lacks %q: got %s", t.expect, quoteSeen(line, seenMax)))
	}
	if t.re != nil && !t.re.Match(line) {
		failed = append(failed, fmt.Sprintf("answer does not match /%s/: got %s", t.re, quoteSeen(line, seenMax)))
	}
	if len(failed) > 0 {
		return conditionsFailed(d, failed)
	}
	return nil
}

// readLine reads the server's first line: up to and including a newline,
// bannerMax bytes or the end of the stream, or less as soon as what was
// read satisfies expect and expect_regex (a server may send a banner
// without a newline and wait). The error is the read's that ended it, nil
// if it ended on a newline, the cap or satisfied conditions.
func (t *TCP) readLine(conn net.Conn) ([]byte, error) {
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		n, err := conn.Read(chunk[:min(len(chunk), bannerMax-len(buf))])
		if i := bytes.IndexByte(chunk[:n], '\n'); i >= 0 {
			return append(buf, chunk[:i+1]...), nil
		}
		buf = append(buf, chunk[:n]...)
		if len(buf) >= bannerMax || n > 0 && t.satisfied(buf) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// satisfied reports whether b meets every expectation.
func (t *TCP) satisfied(b []byte) bool {
	return (t.expect == "" || bytes.Contains(b, []byte(t.expect))) && (t.re == nil || t.re.Match(b))
}

// tcpIOError classes a failed read or write of a TCP exchange under ctx:
// a timeout says what it was doing, then got (what was read); an end of
// stream before any data is reset; the rest is classified as after any
// connection.
func tcpIOError(ctx context.Context, err error, what, got string, start time.Time, timeout time.Duration) error {
	if te := timedOutDoing(ctx, err, what, got, start, timeout); te != nil {
		return te
	}
	if errors.Is(err, io.EOF) && ctx.Err() == nil {
		return classed(fanout.StateError, fanout.ReasonReset, "connection closed before any data (EOF)", err)
	}
	return classify(ctx, err, phaseBody, "", start, timeout)
}

// escapeSeen shows what a server said in the detail: at most seenMax
// bytes, escaped where not printable, without quotes.
func escapeSeen(b []byte) string {
	more := ""
	if len(b) > seenMax {
		b, more = b[:seenMax], "…"
	}
	q := strconv.Quote(string(b))
	return q[1:len(q)-1] + more
}
