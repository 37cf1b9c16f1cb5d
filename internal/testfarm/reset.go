package testfarm

import (
	"bytes"
	"errors"
	"net"
	"time"
)

// Limits of a Reset service's connection handler.
const (
	resetReadTimeout = 30 * time.Second // a client that sends nothing is dropped after this
	resetMaxRequest  = 64 << 10         // request bytes read at most before resetting
)

// acceptResets accepts connections for a Reset service until its listener closes. Other
// accept errors (EMFILE under load) are waited out with a capped backoff, as net/http does.
func (f *Farm) acceptResets(ln net.Listener) {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || !f.pause(&backoff) {
				return
			}
			continue
		}
		backoff = 0
		f.nConns.Add(1)
		if !f.trackReset(c) {
			_ = c.Close()
			return
		}
		f.conns.Go(func() { f.reset(c) })
	}
}

// pause sleeps for the next step of a capped exponential backoff; it returns false at once
// if the farm closes.
func (f *Farm) pause(backoff *time.Duration) bool {
	*backoff = min(max(2**backoff, 5*time.Millisecond), time.Second)
	t := time.NewTimer(*backoff)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-f.closing:
		return false
	}
}

// trackReset records c so Close can close it; it returns false if the farm is closing.
func (f *Farm) trackReset(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.resetConns[c] = struct{}{}
	return true
}

// reset reads a request from c, then closes c with SO_LINGER 0, which sends a TCP reset
// instead of a FIN: the client sees ECONNRESET where it expected a response.
func (f *Farm) reset(c net.Conn) {
	if readHeader(c) {
		f.nRequests.Add(1)
		if i, ok := f.byService[c.LocalAddr().String()]; ok {
			f.counters[i].begin()
			defer f.counters[i].end()
		}
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	f.mu.Lock()
	delete(f.resetConns, c)
	f.mu.Unlock()
	_ = c.Close()
}

// readHeader reads from c until the end of an HTTP request header ("\r\n\r\n") and reports
// whether it saw one. It gives up at EOF, after resetReadTimeout or resetMaxRequest bytes.
func readHeader(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(resetReadTimeout))
	var req []byte
	buf := make([]byte, 4096)
	for len(req) < resetMaxRequest {
		n, err := c.Read(buf)
		req = append(req, buf[:n]...)
		if bytes.Contains(req, []byte("\r\n\r\n")) {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
