package probe_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

func TestNewEnvDefaults(t *testing.T) {
	env := newEnv(t, probe.Options{})
	o := env.Options()
	if o.Concurrency != 256 || o.PerHost != 8 || o.Timeout != 5*time.Second ||
		o.UserAgent != "fanout/dev" || o.BodyCap != 1<<20 || o.Proxy == nil {
		t.Errorf("defaults: %+v", o)
	}
	// No dialer timeout: each attempt's context bounds its dials, and may
	// allow more than Timeout (a check with a timeout of its own).
	if o.Dialer == nil || o.Dialer.Timeout != 0 || o.Dialer.KeepAlive != 0 {
		t.Errorf("default dialer: %+v", o.Dialer)
	}
	env.Close()
	env.Close() // idempotent
}

func TestNewEnvKeepsOptions(t *testing.T) {
	mine := &net.Dialer{KeepAlive: time.Minute}
	env := newEnv(t, probe.Options{
		Concurrency: 10, PerHost: 2, Timeout: time.Second, UserAgent: "x/1", BodyCap: 7, Dialer: mine,
	})
	o := env.Options()
	if o.Concurrency != 10 || o.PerHost != 2 || o.Timeout != time.Second || o.UserAgent != "x/1" || o.BodyCap != 7 {
		t.Errorf("options: %+v", o)
	}
	if o.Dialer == mine || o.Dialer.Timeout != 0 || o.Dialer.KeepAlive != time.Minute {
		t.Errorf("dialer: %+v (the caller's: %p, got %p)", o.Dialer, mine, o.Dialer)
	}
	if mine.Timeout != 0 || mine.Resolver != nil {
		t.Errorf("NewEnv modified the caller's dialer: %+v", mine)
	}
}

func TestEnvUsableAfterClose(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	env := newEnv(t, probe.Options{})
	c := mustCheck(t, srv.URL)
	run(t, c, env, 5*time.Second).want(t, fanout.StateOK, fanout.ReasonNone)
	env.Close()
	o := run(t, c, env, 5*time.Second)
	o.want(t, fanout.StateOK, fanout.ReasonNone)
	if o.detail["conn_reused"] != false {
		t.Errorf("conn_reused %v after Close, want false: Close closes idle connections", o.detail["conn_reused"])
	}
}

// An attempt whose context has no deadline (a library caller's) is bounded
// by the Env's Timeout, whatever its kind: a peer that accepts and says
// nothing must not hold it.
func TestEnvTimeoutBoundsAnAttemptWithoutDeadline(t *testing.T) {
	silent := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	env := newEnv(t, probe.Options{Timeout: 200 * time.Millisecond})
	for _, c := range []probe.Check{
		buildTCP(t, "tcp://"+silent, probe.TCPSpec{Expect: "banner"}),
		grpcCheck(t, silent, probe.GRPCSpec{}),
		buildHTTP(t, "http://"+silent+"/", probe.HTTPSpec{}),
	} {
		start := time.Now()
		_, err := c.Run(context.Background(), env)
		if took := time.Since(start); err == nil || took > 2*time.Second {
			t.Errorf("%s against a silent peer: %v after %s, want an error within the 200ms timeout (2s slack)", c.Kind(), err, took)
		}
	}
}
