package probe_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newEnv returns an Env closed when the test ends.
func newEnv(t *testing.T, o probe.Options) *probe.Env {
	t.Helper()
	env := probe.NewEnv(o)
	t.Cleanup(env.Close)
	return env
}

// mustCheck parses raw into a check.
func mustCheck(t *testing.T, raw string) probe.Check {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	c, err := probe.FromURL(u)
	if err != nil {
		t.Fatalf("FromURL(%q): %v", raw, err)
	}
	return c
}

// outcome is what one attempt returned, classed as the engine would.
type outcome struct {
	detail  probe.Detail
	err     error
	state   fanout.State
	reason  fanout.Reason
	elapsed time.Duration
}

// run performs one attempt of c under a context with the given timeout.
// A failure must be a *fanout.Error: the probe, not the engine, classes it.
func run(t *testing.T, c probe.Check, env *probe.Env, timeout time.Duration) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	d, err := c.Run(ctx, env)
	o := outcome{detail: d, err: err, elapsed: time.Since(start)}
	o.state, o.reason = fanout.Classify(err)
	var fe *fanout.Error
	if err != nil && !errors.As(err, &fe) {
		t.Errorf("error %q (%T) is not a *fanout.Error", err, err)
	}
	return o
}

// want checks the state and reason of o.
func (o outcome) want(t *testing.T, state fanout.State, reason fanout.Reason) {
	t.Helper()
	if o.state != state || o.reason != reason {
		t.Fatalf("got %s/%s (error %v, detail %v), want %s/%s",
			o.state, o.reason, o.err, o.detail, state, reason)
	}
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// listen returns a loopback listener closed when the test ends.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// wantBuildError checks that spec.Build of raw fails with the error text
// want: a *FieldError at path or, with path nil, a plain error.
func wantBuildError(t *testing.T, spec probe.Spec, raw, want string, path []string) {
	t.Helper()
	c, err := spec.Build(mustURL(t, raw))
	if err == nil || err.Error() != want {
		t.Errorf("Build(%s, %+v) = %v, %v; want error %q", raw, spec, c, err, want)
		return
	}
	var fe *probe.FieldError
	if isField := errors.As(err, &fe); isField != (path != nil) || isField && !slices.Equal(fe.Path, path) {
		t.Errorf("Build(%s): error %#v, want a *FieldError at %v", raw, err, path)
	}
}

// rawServer serves each loopback connection with handle, in a goroutine
// of its own. When the test ends it closes the listener and every
// connection and waits for the handlers to return.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln := listen(t)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { handle(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// readRequest reads one HTTP request head from c.
func readRequest(c net.Conn) error {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err == nil {
		req.Body.Close()
	}
	return err
}

// blockingDialer returns a dialer whose connections never complete: its
// Control hook waits for the dial's deadline and fails it. timeout is the
// dialer's own timeout (0: the Env's). A dial the HTTP transport goes on
// with after its attempt gave up is cancelled by Env.Close, which goleak
// checks.
func blockingDialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		ControlContext: func(ctx context.Context, _, _ string, _ syscall.RawConn) error {
			<-ctx.Done()
			return ctx.Err()
		},
	}
}

// hangingResolverDialer returns a dialer whose resolver never answers: its
// connections to the DNS server wait for the lookup's deadline.
func hangingResolverDialer() *net.Dialer {
	return &net.Dialer{Resolver: &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}}
}

// failingResolverDialer returns a dialer whose resolver asks a DNS server
// at a dead loopback port, so every lookup fails without the network.
func failingResolverDialer(t *testing.T) *net.Dialer {
	t.Helper()
	dead := deadAddr(t)
	return &net.Dialer{Resolver: &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", dead)
		},
	}}
}
