package kindfarm

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// lineIdle is how long a TCP service waits for a client's next line.
const lineIdle = 10 * time.Second

// serveLines serves handle, one goroutine per connection, on a new
// loopback port. It returns the address and the func that stops it: it
// closes the listener and every open connection, and waits for the
// goroutines.
func serveLines(handle func(net.Conn)) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		open   = map[net.Conn]struct{}{}
		closed bool
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener was closed
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				_ = c.Close()
				return
			}
			open[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(open, c)
					mu.Unlock()
					_ = c.Close()
				}()
				_ = c.SetDeadline(time.Now().Add(lineIdle))
				handle(c)
			})
		}
	})
	return ln.Addr().String(), func() {
		_ = ln.Close()
		mu.Lock()
		closed = true
		for c := range open {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}, nil
}

// bannerConn sends Banner, then waits for the client to close (or for
// the idle timeout) so that the client reads the banner before the
// connection ends, as a mail server that gives up on a silent client.
func bannerConn(c net.Conn) {
	if _, err := io.WriteString(c, Banner+"\r\n"); err != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, c)
}

// redisConn answers lines as a Redis server answers inline commands:
// PING with +PONG, QUIT with +OK (then closes), anything else with an
// error line.
func redisConn(c net.Conn) {
	r := bufio.NewReader(io.LimitReader(c, 1<<20))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		_ = c.SetDeadline(time.Now().Add(lineIdle))
		cmd := strings.ToUpper(strings.TrimSpace(line))
		var answer string
		switch {
		case cmd == "PING":
			answer = "+PONG"
		case cmd == "QUIT":
			_, _ = io.WriteString(c, "+OK\r\n")
			return
		case cmd == "":
			continue
		default:
			answer = "-ERR unknown command '" + strings.Fields(cmd)[0] + "'"
		}
		if _, err := io.WriteString(c, answer+"\r\n"); err != nil {
			return
		}
	}
}
