package testfarm

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveHTTP answers a request to any HTTP service (OK, Slow, Fail, Hang) as its behaviour
// says, after its rate limit, if any, let it through. A request whose wait is cut short (the
// client went away, the farm closed) gets no answer: by then its connection is gone.
func (f *Farm) serveHTTP(w http.ResponseWriter, r *http.Request) {
	f.nRequests.Add(1)
	i, ok := f.listenerOf(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	s, c := f.services[i], f.counters[i]
	c.begin()
	defer c.end()
	if !f.hasPath(s, r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	if !c.admit() {
		c.reject(w, s.Name) // at once: a rejection costs the server no latency
		return
	}
	if s.Behaviour == Hang {
		f.sleep(r.Context(), nil)
		return
	}
	t := time.NewTimer(s.wait())
	defer t.Stop()
	if !f.sleep(r.Context(), t.C) {
		return
	}
	status, word := http.StatusOK, "ok"
	if s.Behaviour == Fail {
		status, word = http.StatusInternalServerError, "fail"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "%s %s\n", word, s.Name)
}

// listenerOf finds the service r was sent to, by the listener that accepted it.
func (f *Farm) listenerOf(r *http.Request) (int, bool) {
	addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if addr == nil {
		return 0, false
	}
	i, ok := f.byAddr[addr.String()]
	return i, ok
}

// hasPath reports whether path is one of s's: /<Name>/<n> with 0 ≤ n < Paths, n written
// without leading zeros.
func (f *Farm) hasPath(s Service, path string) bool {
	rest, ok := strings.CutPrefix(path, "/"+s.Name+"/")
	n, err := strconv.Atoi(rest)
	return ok && err == nil && n >= 0 && n < f.paths && strconv.Itoa(n) == rest
}

// sleep waits until done delivers (true), or until ctx ends or the farm closes (false).
// A nil done waits for the latter only.
func (f *Farm) sleep(ctx context.Context, done <-chan time.Time) bool {
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	case <-f.closing:
		return false
	}
}
