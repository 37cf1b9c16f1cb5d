package fanout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fanout-dev/fanout"
)

// Results stream as tasks end; InputOrder hands them over in task order.
func ExampleRun() {
	words := []string{"alpha", "beta", "gamma"}
	tasks := make([]fanout.Task[int], len(words))
	for i, w := range words {
		tasks[i] = fanout.Task[int]{Do: func(context.Context) (int, error) {
			if w == "beta" {
				return 0, errors.New("beta is broken")
			}
			return len(w), nil
		}}
	}
	for res := range fanout.Run(context.Background(), tasks, fanout.WithOrder(fanout.InputOrder)) {
		fmt.Println(res.Index, res.State, res.Value, res.Err)
	}
	// Output:
	// 0 ok 5 <nil>
	// 1 error 0 beta is broken
	// 2 ok 5 <nil>
}

// A deadline ends the run: tasks not started are not_run, running ones are
// cancelled, and every task still gets its one result.
func ExampleDeadline() {
	slow := func(ctx context.Context) (string, error) {
		select {
		case <-time.After(time.Hour):
			return "done", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	tasks := []fanout.Task[string]{
		{Key: "db", Do: slow}, {Key: "db", Do: slow}, {Key: "db", Do: slow},
	}
	results := fanout.Collect(context.Background(), tasks, fanout.PerKey(1), fanout.Deadline(50*time.Millisecond))
	for _, r := range results {
		fmt.Println(r.Index, r.State, r.Reason, r.Attempts)
	}
	// Output:
	// 0 timeout deadline 1
	// 1 not_run deadline 0
	// 2 not_run deadline 0
}

// A task says how it failed with a *fanout.Error; a panic is a result too.
func ExampleFailf() {
	tasks := []fanout.Task[int]{
		{Do: func(context.Context) (int, error) {
			return 503, fanout.Failf(fanout.ReasonHTTPStatus, "status %d, want 200", 503)
		}},
		{Do: func(context.Context) (int, error) { panic("nil client") }},
	}
	for _, r := range fanout.Collect(context.Background(), tasks) {
		fmt.Println(r.State, r.Reason, r.Value, strings.SplitN(r.Err.Error(), " (at ", 2)[0])
	}
	// Output:
	// fail http_status 503 status 503, want 200
	// error panic 0 panic: nil client
}

// A target that asks to slow down returns a Throttle error: the engine
// pauses its key for every task, for the time asked, and re-queues the task.
// A throttle is not a retry.
func ExampleThrottle() {
	var calls atomic.Int32
	api := func(context.Context) (string, error) {
		if calls.Add(1) == 2 {
			return "", fanout.Throttle(50*time.Millisecond, errors.New("status 429"))
		}
		return "200 OK", nil
	}
	tasks := []fanout.Task[string]{{Key: "api", Do: api}, {Key: "api", Do: api}, {Key: "api", Do: api}}
	for _, r := range fanout.Collect(context.Background(), tasks, fanout.PerKey(1)) {
		fmt.Println(r.Index, r.State, r.Value, "attempts:", r.Attempts, "throttled:", r.Throttled)
	}
	// Output:
	// 0 ok 200 OK attempts: 1 throttled: 0
	// 1 ok 200 OK attempts: 2 throttled: 1
	// 2 ok 200 OK attempts: 1 throttled: 0
}

// inventory is an SDK-style client: one value, safe for concurrent use,
// shared by every task, as an AWS or GCP client is.
type inventory struct {
	base string
	http *http.Client
}

// newInventory sizes the client's connection pool to the fan-out's
// concurrency. Go keeps 2 idle connections per host by default: with 8
// workers, most calls would dial a new connection (and a pool that is
// smaller than the worker count is the seed lesson's boto3 pitfall).
func newInventory(base string, workers int) *inventory {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = workers
	t.MaxIdleConnsPerHost = workers
	return &inventory{base: base, http: &http.Client{Transport: t}}
}

type instance struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

func (c *inventory) describe(ctx context.Context, id string) (instance, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/instances/"+id, nil)
	resp, err := c.http.Do(req)
	if err != nil {
		return instance{}, err
	}
	defer resp.Body.Close()
	var in instance
	return in, json.NewDecoder(resp.Body).Decode(&in)
}

// Fan out calls of one shared SDK-style client whose pool matches the
// concurrency: 40 calls, 8 at a time, over at most 8 connections.
func Example_sdkClient() {
	var conns atomic.Int64
	api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		id := strings.TrimPrefix(r.URL.Path, "/instances/")
		fmt.Fprintf(w, `{"id": %q, "state": "running"}`, id)
	}))
	api.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	api.Start()
	defer api.Close()

	const workers = 8
	client := newInventory(api.URL, workers)
	defer client.http.CloseIdleConnections()
	tasks := make([]fanout.Task[instance], 40)
	for i := range tasks {
		id := fmt.Sprintf("i-%03d", i)
		tasks[i] = fanout.Task[instance]{Do: func(ctx context.Context) (instance, error) {
			return client.describe(ctx, id)
		}}
	}
	running := 0
	for res := range fanout.Run(context.Background(), tasks, fanout.Concurrency(workers)) {
		if res.State == fanout.StateOK && res.Value.State == "running" {
			running++
		}
	}
	fmt.Println("running:", running)
	fmt.Println("connections within the pool size:", conns.Load() <= workers)
	// Output:
	// running: 40
	// connections within the pool size: true
}
