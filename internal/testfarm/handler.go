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
// says. A request whose wait is cut short (the client went away, the farm closed) gets no
// answer: by then its connection is gone.
func (f *Farm) serveHTTP(w http.ResponseWriter, r *http.Request) {
	f.nRequests.Add(1)
	s, ok := f.route(r)
	if !ok {
		http.NotFound(w, r)
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

// route finds the service r was sent to, by the listener that accepted it, and checks that
// the path is one of that service's.
func (f *Farm) route(r *http.Request) (Service, bool) {
	addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if addr == nil {
		return Service{}, false
	}
	i, ok := f.byAddr[addr.String()]
	if !ok {
		return Service{}, false
	}
	s := f.services[i]
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+s.Name+"/")
	if n, err := strconv.Atoi(rest); !ok || err != nil || n < 0 || n >= f.paths || strconv.Itoa(n) != rest {
		return Service{}, false
	}
	return s, true
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
