package report

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// safeBuffer is a bytes.Buffer safe for concurrent use.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressDrawsAndStops(t *testing.T) {
	var buf safeBuffer
	p := NewProgress(&buf, 5, false)
	p.Add(Record{State: "ok"})
	p.Add(Record{State: "timeout"})
	p.Add(Record{State: "ok"})
	time.Sleep(250 * time.Millisecond)
	want := "\r\x1b[K  3/5 · 2 ok · 1 failed · "
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(buf.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("no status line %q in %q", want, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(buf.String(), " elapsed · ETA ") {
		t.Errorf("no elapsed/ETA in %q", buf.String())
	}
	p.Stop()
	p.Stop() // idempotent
	out := buf.String()
	if !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("does not end by erasing the line: %q", out)
	}
	time.Sleep(250 * time.Millisecond)
	if buf.String() != out {
		t.Error("drew after Stop")
	}
	p.Add(Record{State: "ok"}) // harmless after Stop
}

func TestProgressStopConcurrent(t *testing.T) {
	var buf safeBuffer
	p := NewProgress(&buf, 0, true)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(p.Stop)
	}
	wg.Wait()
	if buf.String() != "\r\x1b[K" {
		t.Errorf("got %q, want one erase", buf.String())
	}
}

func TestProgressLine(t *testing.T) {
	cases := []struct {
		done, ok, failed, total int
		elapsed                 time.Duration
		color                   bool
		want                    string
	}{
		{37, 35, 2, 200, 400 * time.Millisecond, false, "  37/200 · 35 ok · 2 failed · 0.4s elapsed · ETA 1.8s"},
		{0, 0, 0, 200, 50 * time.Millisecond, false, "  0/200 · 0 ok · 0 failed · 0.1s elapsed"},
		{200, 200, 0, 200, 2 * time.Second, false, "  200/200 · 200 ok · 0 failed · 2.0s elapsed"},
		{3, 2, 1, 0, time.Second, false, "  3 · 2 ok · 1 failed · 1.0s elapsed"},
		{10, 1, 9, 20, 150 * time.Second, false, "  10/20 · 1 ok · 9 failed · 2m30s elapsed · ETA 2m30s"},
		{2, 1, 1, 4, time.Second, true, "  2/4 · \x1b[32m1 ok\x1b[0m · \x1b[31m1 failed\x1b[0m · 1.0s elapsed · ETA 1.0s"},
		{1, 1, 0, 4, time.Second, true, "  1/4 · \x1b[32m1 ok\x1b[0m · 0 failed · 1.0s elapsed · ETA 3.0s"},
	}
	for _, c := range cases {
		if got := progressLine(c.done, c.ok, c.failed, c.total, c.elapsed, c.color); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}
