package kindfarm

import (
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bodies of the HTTP service.
const (
	// HealthzBody is what /healthz answers, with status 200.
	HealthzBody = `{"status":"UP","replicas":[1,2,3]}`
	// StatusBody is what /status answers, with status 200: a richer
	// document for JSON conditions.
	StatusBody = `{"status":"UP","version":"v1.4.2","uptime_s":86400,` +
		`"replicas":[{"name":"api-0","ready":true},{"name":"api-1","ready":true},{"name":"api-2","ready":false}],` +
		`"checks":{"db":{"status":"UP","latency_ms":3.2},"cache":{"status":"DEGRADED","latency_ms":41}},` +
		`"maintenance":false,"region":null,"labels":{"app.kubernetes.io/name":"api"}}`
	// FailBody is what /fail answers, with status 503.
	FailBody = `{"status":"DOWN"}`
	// TextBody is what /text answers, as text/plain.
	TextBody = "hello from the fanout farm\nbuild 2026.11\n"
	// VHost is the Host /vhost wants.
	VHost = "api.farm.test"
	// SlowDelay is how long /slow waits before answering (?ms=N asks for
	// N milliseconds instead, at most 10 s).
	SlowDelay = 300 * time.Millisecond
)

// handler is the HTTP service, served in plaintext and over TLS:
//
//	/healthz   200 HealthzBody (application/json)
//	/status    200 StatusBody (application/json)
//	/slow      200 "slow" after SlowDelay, or ?ms=N milliseconds
//	/fail      503 FailBody, no Retry-After
//	/redirect  302 to /healthz
//	/loop      302 to itself
//	/text      200 TextBody (text/plain)
//	/echo      200 {"method": …, "body": …, "header": <X-Farm-Echo>}
//	/private   200 {"status":"UP"} with "Authorization: Bearer <Token>"
//	           or basic auth BasicUser:<Token>; else 401
//	/vhost     200 {"status":"UP"} when the Host is VHost; else 404
//
// and 404 for anything else.
func (f *Farm) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, HealthzBody) })
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, StatusBody) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 503, FailBody) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/healthz", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, TextBody)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		delay := SlowDelay
		if ms, err := strconv.Atoi(r.URL.Query().Get("ms")); err == nil && ms >= 0 {
			delay = min(time.Duration(ms)*time.Millisecond, 10*time.Second)
		}
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			io.WriteString(w, "slow\n")
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		b, _ := json.Marshal(map[string]string{"method": r.Method, "body": string(body), "header": r.Header.Get("X-Farm-Echo")})
		writeJSON(w, 200, string(b))
	})
	mux.HandleFunc("/private", func(w http.ResponseWriter, r *http.Request) {
		user, pass, basic := r.BasicAuth()
		switch {
		case secretEqual(r.Header.Get("Authorization"), "Bearer "+f.Token),
			basic && user == BasicUser && secretEqual(pass, f.Token):
			writeJSON(w, 200, `{"status":"UP"}`)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="fanout-farm"`)
			writeJSON(w, 401, `{"error":"unauthorized"}`)
		}
	})
	mux.HandleFunc("/vhost", func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !strings.EqualFold(host, VHost) {
			writeJSON(w, 404, fmt.Sprintf(`{"error":"no virtual host %q here"}`, host))
			return
		}
		writeJSON(w, 200, `{"status":"UP"}`)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// serveHTTP serves h on a new loopback port, over TLS if config is not
// nil, and returns its address and the func that stops it: it closes the
// listener and every connection and waits for the server's goroutines.
func serveHTTP(h http.Handler, config *tls.Config) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	if config != nil {
		ln = tls.NewListener(ln, config)
	}
	var conns, loop sync.WaitGroup
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		// Failed handshakes (a client that does not trust the farm's CA)
		// are the point of some examples, not news.
		ErrorLog: log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				conns.Done()
			}
		},
	}
	loop.Go(func() { _ = srv.Serve(ln) }) // ErrServerClosed after Close
	return addr, func() {
		_ = srv.Close()
		loop.Wait()
		conns.Wait()
	}, nil
}
