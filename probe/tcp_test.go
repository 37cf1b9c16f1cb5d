package probe_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	live := ln.Addr().String()

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
