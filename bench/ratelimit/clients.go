package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fanout-dev/fanout/internal/testfarm"
)

// Bounds of the in-process clients.
const (
	requestTimeout  = 30 * time.Second // per request, both clients
	sleeperWorkers  = 8                // per host
	sleeperAttempts = 20               // per URL
	maxRetryAfter   = time.Minute      // the longest Retry-After the sleeper honours
)

// naive is what people write first: one goroutine per URL, all at once, through one shared
// client whose pool keeps a connection per URL; no limit, no retry, no backoff. It counts
// the targets that got a 200.
func naive(ctx context.Context, f *testfarm.Farm, _ string) (sample, error) {
	urls := f.URLs()
	tr := &http.Transport{MaxIdleConns: len(urls), MaxIdleConnsPerHost: len(urls)}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: requestTimeout}
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, u := range urls {
		// A bare goroutine per URL, deliberately: it is the thing being measured.
		wg.Go(func() {
			if status, _ := fetch(ctx, c, u); status == http.StatusOK {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return sample{Wall: time.Since(start), OK: int(ok.Load()), Total: len(urls)}, nil
}

// sleeperClient returns a client that honours Retry-After and nothing else: 8 workers per
// host, each GETs its next URL and, on a 429, sleeps the answer's Retry-After and tries that
// URL again (at most 20 times). The workers do not share the pause: each finds out for
// itself. It gives up at deadline.
func sleeperClient(deadline time.Duration) client {
	return func(ctx context.Context, f *testfarm.Farm, _ string) (sample, error) {
		ctx, cancel := context.WithTimeout(ctx, deadline)
		defer cancel()
		tr := &http.Transport{MaxIdleConnsPerHost: sleeperWorkers}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: requestTimeout}
		var ok atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for _, s := range f.Services() {
			queue := make(chan string, len(s.URLs))
			for _, u := range s.URLs {
				queue <- u
			}
			close(queue)
			for range sleeperWorkers {
				wg.Go(func() {
					for u := range queue {
						if getHonouringRetryAfter(ctx, c, u) == http.StatusOK {
							ok.Add(1)
						}
					}
				})
			}
		}
		wg.Wait()
		return sample{Wall: time.Since(start), OK: int(ok.Load()), Total: len(f.URLs())}, nil
	}
}

// getHonouringRetryAfter GETs url until the answer is not a 429, sleeping each 429's
// Retry-After in between, at most sleeperAttempts times; it returns the last status (0 on
// an error).
func getHonouringRetryAfter(ctx context.Context, c *http.Client, url string) int {
	status := 0
	for range sleeperAttempts {
		var hint string
		status, hint = fetch(ctx, c, url)
		if status != http.StatusTooManyRequests || !sleep(ctx, retryAfter(hint)) {
			break
		}
	}
	return status
}

// fetch GETs url and returns the status and the Retry-After header; status 0 on an error.
func fetch(ctx context.Context, c *http.Client, url string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, ""
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// retryAfter reads a Retry-After in seconds: 1 s if missing or unreadable, at most
// maxRetryAfter.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return time.Second
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter)
}

// sleep waits for d; it returns false at once if ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
