//go:build linux

package probe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

// TestDialOutOfDescriptors runs checks while the process cannot open one
// more descriptor: a dial failing with EMFILE is this machine's problem,
// error/local_resources, not the target's (refused, dns).
func TestDialOutOfDescriptors(t *testing.T) {
	addr := listen(t).Addr().String()
	env := newEnv(t, probe.Options{})
	checks := []probe.Check{
		mustCheck(t, "http://"+addr+"/"),
		mustCheck(t, "tcp://"+addr),
		// The resolver cannot open a file or socket either; Go's
		// answers "no such host" then.
		mustCheck(t, "http://fanout-test.invalid/"),
		mustCheck(t, "tcp://fanout-test.invalid:80"),
	}

	exhaustDescriptors(t)
	for _, c := range checks {
		o := run(t, c, env, 5*time.Second)
		if o.state != fanout.StateError || o.reason != fanout.ReasonLocalResources {
			t.Errorf("%s %s: got %s/%s (error %v), want error/local_resources", c.Kind(), c.Host(), o.state, o.reason, o.err)
			continue
		}
		if !strings.Contains(o.err.Error(), "too many open files") {
			t.Errorf("%s: error %q does not say too many open files", c.Host(), o.err)
		}
		if !errors.Is(o.err, syscall.EMFILE) {
			t.Errorf("%s: error %q does not wrap EMFILE", c.Host(), o.err)
		}
	}
}

// exhaustDescriptors lowers the soft descriptor limit of the process to a
// little above the descriptors open and opens sockets until socket() fails
// with EMFILE. The returned func closes those sockets (once); when the test
// ends, failed or not, they are closed and the limit restored.
func exhaustDescriptors(t *testing.T) (release func()) {
	t.Helper()
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	var held []int
	var once sync.Once
	release = func() {
		once.Do(func() {
			for _, fd := range held {
				syscall.Close(fd)
			}
		})
	}
	t.Cleanup(func() {
		release()
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
			t.Errorf("restoring RLIMIT_NOFILE %+v: %v", orig, err)
		}
	})
	const slack = 16
	lowered := orig
	lowered.Cur = uint64(openDescriptors(t) + slack)
	if lowered.Cur >= orig.Cur {
		t.Skipf("soft RLIMIT_NOFILE %d is already at most %d", orig.Cur, lowered.Cur)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	for range 10 * slack {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if errors.Is(err, syscall.EMFILE) {
			return release
		}
		if err != nil {
			t.Fatalf("socket: %v", err)
		}
		held = append(held, fd)
	}
	t.Fatalf("%d sockets opened under a limit of %d descriptors", len(held), lowered.Cur)
	return release
}

// TestEngineWaitsOutExhaustedDescriptors runs HTTP checks through the
// engine while the process is out of descriptors, and frees them a little
// later: the checks that met EMFILE wait and run again, and no target is
// reported failed for this machine's shortage.
func TestEngineWaitsOutExhaustedDescriptors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(5 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	env := newEnv(t, probe.Options{})
	var tasks []fanout.Task[probe.Detail]
	for i := range 30 {
		c := mustCheck(t, fmt.Sprintf("%s/%d", srv.URL, i))
		tasks = append(tasks, fanout.Task[probe.Detail]{Key: c.Host(),
			Do: func(ctx context.Context) (probe.Detail, error) { return c.Run(ctx, env) }})
	}
	release := exhaustDescriptors(t)
	timer := time.AfterFunc(300*time.Millisecond, release)
	defer timer.Stop()
	var st fanout.Stats
	results := fanout.Collect(context.Background(), tasks, fanout.WithStats(&st), fanout.Deadline(30*time.Second))
	for _, r := range results {
		if r.State != fanout.StateOK || r.Attempts != 1 {
			t.Errorf("target %d: %s/%s after %d attempts: %v", r.Index, r.State, r.Reason, r.Attempts, r.Err)
		}
	}
	if st.LocalWaits == 0 {
		t.Error("no check met the descriptor shortage: the test did not exercise the wait")
	}
}

// openDescriptors counts the descriptors the process has open.
func openDescriptors(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open descriptors: %v", err)
	}
	return len(fds)
}
