package testfarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startFarm starts a farm for the test and closes it when the test ends.
func startFarm(t *testing.T, spec Spec) *Farm {
	t.Helper()
	f, err := Start(spec)
	if err != nil {
		t.Fatalf("Start(%+v): %v", spec, err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return f
}

// newClient returns a client with the given timeout whose idle connections are closed
// when the test ends.
func newClient(t *testing.T, timeout time.Duration) *http.Client {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 100}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// outcome is what one GET gave, as a checker would classify it.
type outcome struct {
	state, reason string
	status        int
	body          string
	err           error
	took          time.Duration
}

// get fetches url with c and classifies the answer with the rules of DESIGN.md.
func get(c *http.Client, url string) outcome {
	start := time.Now()
	o := outcome{}
	resp, err := c.Get(url)
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		o.status, o.body, err = resp.StatusCode, string(b), rerr
	}
	o.took, o.err = time.Since(start), err
	o.state, o.reason = classify(o.status, err)
	return o
}

// classify maps a status or an error to a state and a reason.
func classify(status int, err error) (state, reason string) {
	var ne net.Error
	switch {
	case err == nil && status == http.StatusOK:
		return "ok", ""
	case err == nil:
		return "fail", "http_status"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout", "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "error", "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "error", "reset"
	}
	return "error", "other: " + err.Error()
}

func TestEveryBehaviourGivesWhatExpectSays(t *testing.T) {
	f := startFarm(t, Spec{
		Services: 7, Latency: 10 * time.Millisecond, SlowLatency: time.Second,
		Slow: 1, Fail: 1, Hang: 1, Refused: 1, Reset: 1,
	})
	for _, timeout := range []time.Duration{500 * time.Millisecond, 2 * time.Second} {
		c := newClient(t, timeout)
		for _, s := range f.Services() {
			t.Run(fmt.Sprintf("%s/%s/%v", s.Name, s.Behaviour, timeout), func(t *testing.T) {
				t.Parallel()
				o := get(c, s.URLs[0])
				state, reason := s.Expect(timeout)
				if o.state != state || o.reason != reason {
					t.Fatalf("GET %s = %s/%s (status %d, err %v), Expect(%v) = %s/%s",
						s.URLs[0], o.state, o.reason, o.status, o.err, timeout, state, reason)
				}
				checkOutcome(t, s, timeout, o)
			})
		}
	}
}

// checkOutcome checks the details of o that the state and reason do not show.
func checkOutcome(t *testing.T, s Service, timeout time.Duration, o outcome) {
	t.Helper()
	switch {
	case o.state == "ok" && o.body != "ok "+s.Name+"\n":
		t.Errorf("body = %q, want %q", o.body, "ok "+s.Name+"\n")
	case o.state == "fail" && o.status != http.StatusInternalServerError:
		t.Errorf("status = %d, want 500", o.status)
	case o.state == "timeout" && o.took < timeout:
		t.Errorf("timed out after %v, before the client's timeout %v", o.took, timeout)
	case s.Behaviour == Refused && !errors.Is(o.err, syscall.ECONNREFUSED):
		t.Errorf("err = %v, want ECONNREFUSED", o.err)
	}
}

func TestExpect(t *testing.T) {
	spec := Spec{Latency: 100 * time.Millisecond, Jitter: 20 * time.Millisecond, SlowLatency: 600 * time.Millisecond}
	tests := []struct {
		b             Behaviour
		timeout       time.Duration
		state, reason string
	}{
		{OK, time.Second, "ok", ""},
		{OK, 121 * time.Millisecond, "ok", ""},
		{OK, 120 * time.Millisecond, "timeout", "timeout"},
		{Fail, time.Second, "fail", "http_status"},
		{Fail, 50 * time.Millisecond, "timeout", "timeout"},
		{Slow, time.Second, "ok", ""},
		{Slow, 620 * time.Millisecond, "timeout", "timeout"},
		{Slow, 300 * time.Millisecond, "timeout", "timeout"},
		{Hang, time.Hour, "timeout", "timeout"},
		{Refused, time.Second, "error", "refused"},
		{Reset, time.Second, "error", "reset"},
		{"", time.Second, "", ""},
	}
	for _, tt := range tests {
		s := newService(spec, "svc-000", "127.0.0.1:1", tt.b)
		if state, reason := s.Expect(tt.timeout); state != tt.state || reason != tt.reason {
			t.Errorf("%s.Expect(%v) = %q, %q; want %q, %q", tt.b, tt.timeout, state, reason, tt.state, tt.reason)
		}
	}
}

func TestHangBlocksUntilTheClientGivesUp(t *testing.T) {
	f := startFarm(t, Spec{Services: 1, Hang: 1})
	const timeout = 300 * time.Millisecond
	o := get(newClient(t, timeout), f.URLs()[0])
	if o.state != "timeout" || o.took < timeout {
		t.Fatalf("hang: %s after %v (err %v), want timeout after at least %v", o.state, o.took, o.err, timeout)
	}
	if got := f.Requests(); got != 1 {
		t.Errorf("Requests() = %d, want 1: the hanging service must read the request", got)
	}
}

func TestResetGivesConnectionReset(t *testing.T) {
	f := startFarm(t, Spec{Services: 1, Reset: 1})
	o := get(newClient(t, 5*time.Second), f.URLs()[0])
	if !errors.Is(o.err, syscall.ECONNRESET) && !errors.Is(o.err, io.EOF) {
		t.Fatalf("err = %v, want ECONNRESET or EOF", o.err)
	}
}

func TestLatencyIsHonoured(t *testing.T) {
	const latency, jitter = 150 * time.Millisecond, 50 * time.Millisecond
	f := startFarm(t, Spec{Services: 3, Paths: 2, Latency: latency, Jitter: jitter})
	c := newClient(t, 10*time.Second)
	for _, u := range f.URLs() {
		o := get(c, u)
		if o.state != "ok" {
			t.Fatalf("GET %s: %s/%s (err %v)", u, o.state, o.reason, o.err)
		}
		if o.took < latency-jitter || o.took > latency+jitter+2*time.Second {
			t.Errorf("GET %s took %v, want about %v ± %v", u, o.took, latency, jitter)
		}
	}
}

func TestServesManyConcurrentRequestsPerService(t *testing.T) {
	const n, latency = 200, 200 * time.Millisecond
	f := startFarm(t, Spec{Services: 1, Latency: latency})
	c := newClient(t, 20*time.Second)
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = n
	url := f.URLs()[0]
	start := time.Now()
	errs := make(chan error, n)
	for range n {
		go func() {
			if o := get(c, url); o.state != "ok" {
				errs <- fmt.Errorf("%s/%s: %v", o.state, o.reason, o.err)
				return
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// One after another they would take n × latency = 40s.
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("%d concurrent requests took %v; the service serialises them", n, took)
	}
	if got := f.Requests(); got != n {
		t.Errorf("Requests() = %d, want %d", got, n)
	}
}

func TestCountsRequestsAndConnections(t *testing.T) {
	f := startFarm(t, Spec{Services: 5, Paths: 2, Latency: time.Millisecond, Refused: 1, Reset: 1})
	c := newClient(t, 5*time.Second)
	for _, u := range f.URLs() {
		get(c, u)
	}
	get(c, "http://"+f.Services()[0].Addr+"/nowhere")
	// 3 HTTP services × 2 paths + the 404, on one kept-alive connection per service;
	// 1 Reset service × 2 paths, one connection each; nothing reaches the Refused one.
	if got, want := f.Requests(), int64(3*2+1+2); got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}
	if got, want := f.Conns(), int64(3+2); got != want {
		t.Errorf("Conns() = %d, want %d", got, want)
	}
}

func TestUnknownPathIsNotFound(t *testing.T) {
	f := startFarm(t, Spec{Services: 2, Paths: 2, Latency: time.Millisecond})
	c := newClient(t, 5*time.Second)
	s0, s1 := f.Services()[0], f.Services()[1]
	for _, u := range []string{
		"http://" + s0.Addr + "/" + s0.Name + "/2",
		"http://" + s0.Addr + "/" + s0.Name + "/-1",
		"http://" + s0.Addr + "/" + s0.Name + "/01",
		"http://" + s0.Addr + "/" + s1.Name + "/0", // another service's path
		"http://" + s0.Addr + "/",
	} {
		if o := get(c, u); o.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d (err %v), want 404", u, o.status, o.err)
		}
	}
}

func TestCloseUnblocksAHangingRequest(t *testing.T) {
	f := startFarm(t, Spec{Services: 1, Hang: 1})
	c := newClient(t, 30*time.Second)
	done := make(chan outcome, 1)
	go func() { done <- get(c, f.URLs()[0]) }()
	waitFor(t, "the hanging request to arrive", func() bool { return f.Requests() == 1 })
	start := time.Now()
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case o := <-done:
		if o.err == nil {
			t.Errorf("hanging request answered %d %q after Close, want no answer", o.status, o.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("hanging request still blocked 10s after Close")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Close and the request's end took %v", took)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestCloseLeavesNoDescriptorOrGoroutine(t *testing.T) {
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	before := openFDs(t)
	f, err := Start(Spec{Services: 12, Paths: 3, Latency: 5 * time.Millisecond, SlowLatency: 50 * time.Millisecond,
		Slow: 2, Fail: 2, Hang: 2, Refused: 2, Reset: 2})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	c := &http.Client{Transport: tr, Timeout: 200 * time.Millisecond}
	for _, u := range f.URLs() {
		get(c, u)
	}
	tr.CloseIdleConnections()
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	goleak.VerifyNone(t)
	if after := openFDs(t); after > before {
		t.Errorf("%d descriptors open after Close, %d before Start", after, before)
	}
}

// openFDs counts this process's open descriptors, after making sure the network poller
// (which keeps its own descriptors for the life of the process) is up.
func openFDs(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

func TestSeedShufflesDeterministically(t *testing.T) {
	spec := Spec{Services: 30, Latency: time.Millisecond, Slow: 2, Fail: 3, Hang: 4, Refused: 5, Reset: 6}
	unshuffled := behavioursOf(startFarm(t, spec))
	want := slices.Concat(slices.Repeat([]Behaviour{OK}, 10), slices.Repeat([]Behaviour{Slow}, 2),
		slices.Repeat([]Behaviour{Fail}, 3), slices.Repeat([]Behaviour{Hang}, 4),
		slices.Repeat([]Behaviour{Refused}, 5), slices.Repeat([]Behaviour{Reset}, 6))
	if !slices.Equal(unshuffled, want) {
		t.Errorf("seed 0: %v, want the misbehaving services last: %v", unshuffled, want)
	}
	spec.Seed = 42
	a, b := behavioursOf(startFarm(t, spec)), behavioursOf(startFarm(t, spec))
	if !slices.Equal(a, b) {
		t.Errorf("seed 42 twice:\n%v\n%v", a, b)
	}
	if slices.Equal(a, want) {
		t.Errorf("seed 42 did not shuffle: %v", a)
	}
	slices.Sort(a)
	if slices.Sort(want); !slices.Equal(a, want) {
		t.Errorf("seed 42 changed the counts: %v, want %v", a, want)
	}
}

// behavioursOf returns the behaviour of each service of f, in order.
func behavioursOf(f *Farm) []Behaviour {
	var bs []Behaviour
	for _, s := range f.Services() {
		bs = append(bs, s.Behaviour)
	}
	return bs
}

func TestURLsAndLookup(t *testing.T) {
	const services, paths = 7, 3
	f := startFarm(t, Spec{Services: services, Paths: paths, Hang: 1, Refused: 1, Reset: 1, Seed: 3})
	urls := f.URLs()
	if len(urls) != services*paths {
		t.Fatalf("%d URLs, want %d", len(urls), services*paths)
	}
	addrs := map[string]bool{}
	for i, s := range f.Services() {
		if want := fmt.Sprintf("svc-%03d", i); s.Name != want {
			t.Errorf("service %d is named %q, want %q", i, s.Name, want)
		}
		if addrs[s.Addr] || !strings.HasPrefix(s.Addr, "127.0.0.1:") {
			t.Errorf("%s: address %s is not a distinct loopback address", s.Name, s.Addr)
		}
		addrs[s.Addr] = true
		for p, u := range s.URLs {
			if want := fmt.Sprintf("http://%s/%s/%d", s.Addr, s.Name, p); u != want || urls[i*paths+p] != want {
				t.Errorf("%s URL %d = %q (URLs()[%d] = %q), want %q", s.Name, p, u, i*paths+p, urls[i*paths+p], want)
			}
			if got, ok := f.Lookup(u); !ok || got.Name != s.Name {
				t.Errorf("Lookup(%q) = %q, %v; want %q", u, got.Name, ok, s.Name)
			}
		}
	}
	if _, ok := f.Lookup("http://127.0.0.1:1/svc-000/0"); ok {
		t.Error("Lookup of a foreign URL succeeded")
	}
	f.Services()[0].URLs[0] = "changed"
	if f.URLs()[0] == "changed" {
		t.Error("changing a returned Service changed the farm")
	}
}

func TestNameWidthGrowsWithServices(t *testing.T) {
	f := startFarm(t, Spec{Services: 1001, Latency: time.Millisecond})
	s := f.Services()
	if s[0].Name != "svc-0000" || s[1000].Name != "svc-1000" {
		t.Errorf("names %q … %q, want svc-0000 … svc-1000", s[0].Name, s[1000].Name)
	}
}

func TestStartRejectsABadSpec(t *testing.T) {
	for _, spec := range []Spec{
		{},
		{Services: -1},
		{Services: 2, Paths: -1},
		{Services: 2, Latency: -time.Second},
		{Services: 2, Jitter: -time.Second},
		{Services: 2, SlowLatency: -time.Second},
		{Services: 2, Hang: -1},
		{Services: 2, Hang: 1, Reset: 1, Fail: 1},
	} {
		if f, err := Start(spec); err == nil {
			_ = f.Close()
			t.Errorf("Start(%+v) succeeded, want an error", spec)
		}
	}
}
