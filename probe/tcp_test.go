package probe_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

func TestTCP(t *testing.T) {
	live := listen(t).Addr().String()

	tests := []struct {
		name, addr string
		opts       probe.Options
		timeout    time.Duration
		state      fanout.State
		reason     fanout.Reason
		errPrefix  string
	}{
		{"ok", live, probe.Options{}, 5 * time.Second, fanout.StateOK, fanout.ReasonNone, ""},
		{"refused", deadAddr(t), probe.Options{}, 5 * time.Second,
			fanout.StateError, fanout.ReasonRefused, "connect: connection refused"},
		{"dialer timeout", live, probe.Options{Dialer: blockingDialer(100 * time.Millisecond)}, 10 * time.Second,
			fanout.StateTimeout, fanout.ReasonConnectTimeout, "timeout connecting after "},
		{"attempt timeout", live, probe.Options{Dialer: blockingDialer(0)}, 200 * time.Millisecond,
			fanout.StateTimeout, fanout.ReasonConnectTimeout, "timeout connecting after 200ms"},
		{"dns", "nothing.invalid:80", probe.Options{Dialer: failingResolverDialer(t)}, 10 * time.Second,
			fanout.StateError, fanout.ReasonDNS, "lookup nothing.invalid"},
		{"dns timeout", "nothing.invalid:80", probe.Options{Dialer: hangingResolverDialer()}, 200 * time.Millisecond,
			fanout.StateTimeout, fanout.ReasonConnectTimeout, "timeout resolving host after 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, mustCheck(t, "tcp://"+tt.addr), newEnv(t, tt.opts), tt.timeout)
			o.want(t, tt.state, tt.reason)
			if o.elapsed > 5*time.Second {
				t.Errorf("took %v", o.elapsed)
			}
			if tt.state != fanout.StateOK {
				if !strings.HasPrefix(o.err.Error(), tt.errPrefix) {
					t.Errorf("error %q, want prefix %q", o.err, tt.errPrefix)
				}
				return
			}
			if ms, ok := o.detail["connect_ms"].(float64); !ok || ms < 0 {
				t.Errorf("connect_ms %#v", o.detail["connect_ms"])
			}
			if o.detail["remote_addr"] != live {
				t.Errorf("remote_addr %v, want %s", o.detail["remote_addr"], live)
			}
		})
	}
}

func TestTCPHost(t *testing.T) {
	tests := []struct {
		check probe.Check
		host  string
	}{
		{mustCheck(t, "tcp://DB.Example:5432"), "db.example:5432"},
		{mustCheck(t, "TCP://db.example:5432/"), "db.example:5432"},
		{mustCheck(t, "tcp://[::1]:22"), "[::1]:22"},
		{&probe.TCP{Address: "LocalHost:80"}, "localhost:80"},
	}
	for _, tt := range tests {
		if tt.check.Kind() != "tcp" || tt.check.Host() != tt.host {
			t.Errorf("%v: kind %q host %q, want tcp %q", tt.check, tt.check.Kind(), tt.check.Host(), tt.host)
		}
	}
}

// buildTCP builds the TCP check of raw with spec s.
func buildTCP(t *testing.T, raw string, s probe.TCPSpec) probe.Check {
	t.Helper()
	c, err := s.Build(mustURL(t, raw))
	if err != nil {
		t.Fatalf("Build(%s, %+v): %v", raw, s, err)
	}
	return c
}

func TestTCPSendExpect(t *testing.T) {
	// banner writes what it was given and waits for the client to close.
	banner := func(s string) string {
		return rawServer(t, func(c net.Conn) {
			io.WriteString(c, s)
			io.Copy(io.Discard, c)
		})
	}
	ssh := banner("SSH-2.0-OpenSSH_9.6\r\nmore after the first line\n")
	noNewline := banner("220 ready")
	silent := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	closes := rawServer(t, func(c net.Conn) { c.Close() })
	closesAfter := rawServer(t, func(c net.Conn) {
		io.WriteString(c, "BYE")
		c.Close()
	})
	binary := banner("\x00\x01bin\xff" + strings.Repeat("y", 300) + "\n")
	// echo answers each line with PONG <line>.
	echo := rawServer(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			io.WriteString(c, "PONG "+line)
		}
	})

	tests := []struct {
		name    string
		addr    string
		spec    probe.TCPSpec
		state   fanout.State
		reason  fanout.Reason
		errText string
		banner  any
	}{
		{"expect", ssh, probe.TCPSpec{Expect: "SSH-2.0"}, fanout.StateOK, fanout.ReasonNone, "", "SSH-2.0-OpenSSH_9.6"},
		{"expect_regex", ssh, probe.TCPSpec{ExpectRegex: `^SSH-2\.0-\S+$`}, fanout.StateOK, fanout.ReasonNone, "", "SSH-2.0-OpenSSH_9.6"},
		{"expect mismatch", ssh, probe.TCPSpec{Expect: "SMTP"}, fanout.StateFail, fanout.ReasonCondition,
			`answer lacks "SMTP": got "SSH-2.0-OpenSSH_9.6"`, "SSH-2.0-OpenSSH_9.6"},
		{"only the first line", ssh, probe.TCPSpec{Expect: "more"}, fanout.StateFail, fanout.ReasonCondition,
			`answer lacks "more": got "SSH-2.0-OpenSSH_9.6"`, "SSH-2.0-OpenSSH_9.6"},
		{"both mismatch", ssh, probe.TCPSpec{Expect: "SMTP", ExpectRegex: "^220"}, fanout.StateFail, fanout.ReasonCondition,
			`answer lacks "SMTP": got "SSH-2.0-OpenSSH_9.6" (and 1 more)`, "SSH-2.0-OpenSSH_9.6"},
		{"no newline, satisfied", noNewline, probe.TCPSpec{Expect: "220"}, fanout.StateOK, fanout.ReasonNone, "", "220 ready"},
		{"no newline, never satisfied", noNewline, probe.TCPSpec{Expect: "250"}, fanout.StateTimeout, fanout.ReasonTimeout,
			`timeout awaiting the answer after 300ms (got "220 ready")`, "220 ready"},
		{"silent", silent, probe.TCPSpec{Expect: "x"}, fanout.StateTimeout, fanout.ReasonTimeout,
			"timeout awaiting the answer after 300ms (nothing read)", nil},
		{"closed at once", closes, probe.TCPSpec{Expect: "x"}, fanout.StateError, fanout.ReasonReset,
			"connection closed before any data (EOF)", nil},
		{"closed after a mismatch", closesAfter, probe.TCPSpec{Expect: "HELLO"}, fanout.StateFail, fanout.ReasonCondition,
			`answer lacks "HELLO": got "BYE"`, "BYE"},
		{"closed after a match", closesAfter, probe.TCPSpec{ExpectRegex: "^BY"}, fanout.StateOK, fanout.ReasonNone, "", "BYE"},
		{"send and expect", echo, probe.TCPSpec{Send: "PING\r\n", Expect: "PONG PING"}, fanout.StateOK, fanout.ReasonNone, "", "PONG PING"},
		{"send only", silent, probe.TCPSpec{Send: "hello\n"}, fanout.StateOK, fanout.ReasonNone, "", nil},
		{"unprintable, cut at 200 bytes", binary, probe.TCPSpec{Expect: "SSH"}, fanout.StateFail, fanout.ReasonCondition,
			`answer lacks "SSH": got "\x00\x01bin\xff` + strings.Repeat("y", 194) + `"…`,
			`\x00\x01bin\xff` + strings.Repeat("y", 194) + "…"},
	}
	env := newEnv(t, probe.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, buildTCP(t, "tcp://"+tt.addr, tt.spec), env, 300*time.Millisecond)
			o.want(t, tt.state, tt.reason)
			if tt.errText != "" && o.err.Error() != tt.errText {
				t.Errorf("error %q, want %q", o.err, tt.errText)
			}
			if o.detail["banner"] != tt.banner {
				t.Errorf("banner %q, want %q", o.detail["banner"], tt.banner)
			}
			if tt.state == fanout.StateOK && o.elapsed > 250*time.Millisecond {
				t.Errorf("took %v: the check waited for more than it needed", o.elapsed)
			}
		})
	}
}

func TestTCPSpecErrors(t *testing.T) {
	_, err := (&probe.TCPSpec{ExpectRegex: `^SSH-(2`}).Build(mustURL(t, "tcp://x:22"))
	var fe *probe.FieldError
	if !errors.As(err, &fe) || strings.Join(fe.Path, ".") != "expect_regex" || fe.Offset != 1 {
		t.Errorf("Build = %v (%#v), want a FieldError at expect_regex, offset 1", err, fe)
	}
	c := buildTCP(t, "tcp://x:22", probe.TCPSpec{})
	if !reflect.DeepEqual(c, mustCheck(t, "tcp://x:22")) {
		t.Errorf("the zero spec gives %#v, a bare URL %#v", c, mustCheck(t, "tcp://x:22"))
	}
}
