package testfarm

import (
	"context"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestBucketRefillsAtRateUpToBurst(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newBucket(RateLimit{Rate: 20, Burst: 5}, t0)
	takes := func(now time.Time, n int) int {
		got := 0
		for range n {
			if b.take(now) {
				got++
			}
		}
		return got
	}
	steps := []struct {
		at         time.Duration
		try, taken int
	}{
		{0, 8, 5},                      // starts full
		{49 * time.Millisecond, 1, 0},  // 0.98 of a token
		{50 * time.Millisecond, 1, 1},  // one token per 1/Rate
		{200 * time.Millisecond, 4, 3}, // 150 ms: 3 tokens
		{10 * time.Second, 9, 5},       // capped at Burst
		{9 * time.Second, 1, 0},        // time going back adds nothing
	}
	for _, s := range steps {
		if got := takes(t0.Add(s.at), s.try); got != s.taken {
			t.Errorf("at %v: %d of %d taken, want %d", s.at, got, s.try, s.taken)
		}
	}
}

func TestBucketIsExactUnderConcurrency(t *testing.T) {
	const burst, callers = 50, 1000
	l := RateLimit{Rate: 1e-6, Burst: burst} // refills one token in 11 days
	c := &counters{limit: &l, bucket: newBucket(l, time.Now())}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			c.admit()
		})
	}
	close(start)
	wg.Wait()
	if c.accepted != burst || c.rejected != callers-burst {
		t.Errorf("accepted %d, rejected %d; want %d, %d", c.accepted, c.rejected, burst, callers-burst)
	}
}

// burst sends n GETs to url at once and returns how many got each status, and how long
// it took from the start until the last answer.
func burst(t *testing.T, c *http.Client, url string, n int) (map[int]int, []outcome, time.Duration) {
	t.Helper()
	outs := make([]outcome, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range outs {
		wg.Go(func() {
			<-start
			outs[i] = get(c, url)
		})
	}
	begin := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(begin)
	statuses := map[int]int{}
	for _, o := range outs {
		if o.err != nil {
			t.Fatalf("GET %s: %v", url, o.err)
		}
		statuses[o.status]++
	}
	return statuses, outs, took
}

// admitted checks that between burst and what rate could refill during took, plus one
// token, of a burst of requests were accepted.
func admitted(t *testing.T, l RateLimit, statuses map[int]int, took time.Duration) {
	t.Helper()
	most := l.Burst + max(1, int(math.Ceil(took.Seconds()*l.Rate)))
	if ok := statuses[http.StatusOK]; ok < l.Burst || ok > most {
		t.Errorf("%d accepted (in %v), want %d to %d; statuses %v", ok, took, l.Burst, most, statuses)
	}
	t.Logf("statuses %v in %v", statuses, took)
}

func TestRateLimitBurstThenRefill(t *testing.T) {
	t.Parallel()
	const n = 40
	l := RateLimit{Rate: 20, Burst: 5}
	f := startFarm(t, Spec{Services: 1, Latency: 20 * time.Millisecond, Limit: &l})
	s := f.Services()[0]
	c := newClient(t, 10*time.Second)
	// Open the connections first with requests that take no token (404), so the burst
	// reaches the server within a few milliseconds.
	if statuses, _, _ := burst(t, c, "http://"+s.Addr+"/warm-up", n); statuses[http.StatusNotFound] != n {
		t.Fatalf("warm-up: %v, want %d × 404", statuses, n)
	}

	statuses, outs, took := burst(t, c, s.URLs[0], n)
	admitted(t, l, statuses, took)
	if statuses[http.StatusOK]+statuses[http.StatusTooManyRequests] != n {
		t.Errorf("statuses %v, want only 200 and 429", statuses)
	}
	for _, o := range outs {
		if o.status == http.StatusTooManyRequests && o.took > 500*time.Millisecond {
			t.Errorf("a rejection took %v, want it at once", o.took)
		}
	}
	checkRetryAfter(t, c, s.URLs[0], "Retry-After", "1")
	rejected := int64(statuses[http.StatusTooManyRequests]) + 1 // and checkRetryAfter's

	time.Sleep(time.Second)
	again, _, took := burst(t, c, s.URLs[0], 10)
	admitted(t, l, again, took)
	rejected += int64(again[http.StatusTooManyRequests])

	st := f.Stats()[0]
	want := ServiceStats{Name: s.Name, Addr: s.Addr, Requests: n + n + 1 + 10,
		Accepted: int64(statuses[http.StatusOK] + again[http.StatusOK]), Rejected: rejected}
	if st.PeakInFlight < int64(l.Burst) || st.PeakInFlight > n {
		t.Errorf("peak in flight %d, want %d to %d", st.PeakInFlight, l.Burst, n)
	}
	st.PeakInFlight = 0
	if st != want {
		t.Errorf("Stats()[0] = %+v, want %+v", st, want)
	}
}

// checkRetryAfter sends one more request to a service whose bucket is empty and checks
// that it is rejected with the hint header set to want ("" for none).
func checkRetryAfter(t *testing.T, c *http.Client, url, header, want string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("GET %s: 200, want a rejection", url)
	}
	if got := resp.Header.Get(header); got != want {
		t.Errorf("%s: %q, want %q", header, got, want)
	}
}

func TestRateLimitPacedClientSeesNoRejection(t *testing.T) {
	t.Parallel()
	f := startFarm(t, Spec{Services: 1, Latency: 10 * time.Millisecond, Limit: &RateLimit{Rate: 20, Burst: 5}})
	c := newClient(t, 10*time.Second)
	url := f.URLs()[0]
	tick := time.NewTicker(100 * time.Millisecond) // 10 req/s for 2 s
	defer tick.Stop()
	for i := range 20 {
		if o := get(c, url); o.status != http.StatusOK {
			t.Fatalf("request %d: status %d (err %v), want 200", i, o.status, o.err)
		}
		<-tick.C
	}
	if st := f.Stats()[0]; st.Requests != 20 || st.Accepted != 20 || st.Rejected != 0 || st.PeakInFlight != 1 {
		t.Errorf("Stats()[0] = %+v, want 20 requests, all accepted, one at a time", st)
	}
}

func TestRateLimitStatusAndHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		limit         RateLimit
		status        int
		header, value string
		noRetryAfter  bool // and no Retry-After header either
	}{
		{"defaults", RateLimit{}, 429, "Retry-After", "1", false},
		{"503", RateLimit{Status: 503, RetryAfter: "30"}, 503, "Retry-After", "30", false},
		{"reset header", RateLimit{Header: "X-RateLimit-Reset", RetryAfter: "1767225600"}, 429, "X-RateLimit-Reset", "1767225600", true},
		{"no hint", RateLimit{RetryAfter: NoRetryAfter}, 429, "Retry-After", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := tt.limit
			l.Rate, l.Burst = 0.01, 1 // one request, then nothing for 100 s
			f := startFarm(t, Spec{Services: 1, Latency: time.Millisecond, Limit: &l})
			c := newClient(t, 10*time.Second)
			url := f.URLs()[0]
			if o := get(c, url); o.status != http.StatusOK {
				t.Fatalf("first request: status %d (err %v), want 200", o.status, o.err)
			}
			resp, err := c.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get(tt.header); got != tt.value {
				t.Errorf("%s: %q, want %q", tt.header, got, tt.value)
			}
			if got := resp.Header.Get("Retry-After"); tt.noRetryAfter && got != "" {
				t.Errorf("Retry-After: %q, want none", got)
			}
			if st := f.Stats()[0]; st.Accepted != 1 || st.Rejected != 1 {
				t.Errorf("Stats()[0] = %+v, want 1 accepted, 1 rejected", st)
			}
		})
	}
}

func TestRateLimitAppliesToOKServicesOnly(t *testing.T) {
	t.Parallel()
	f := startFarm(t, Spec{Services: 3, Latency: time.Millisecond, SlowLatency: 2 * time.Millisecond,
		Slow: 1, Fail: 1, Limit: &RateLimit{Rate: 0.01, Burst: 1}})
	c := newClient(t, 10*time.Second)
	for _, s := range f.Services() {
		want := map[Behaviour][]int{OK: {200, 429, 429}, Slow: {200, 200, 200}, Fail: {500, 500, 500}}[s.Behaviour]
		for i, w := range want {
			if o := get(c, s.URLs[0]); o.status != w {
				t.Errorf("%s (%s) request %d: status %d (err %v), want %d", s.Name, s.Behaviour, i, o.status, o.err, w)
			}
		}
	}
}

func TestStatsInFlightAndResetPeaks(t *testing.T) {
	t.Parallel()
	f := startFarm(t, Spec{Services: 4, Paths: 2, Latency: time.Millisecond, Hang: 1, Refused: 1, Reset: 1})
	c := newClient(t, 30*time.Second)
	hang := f.Services()[1]
	hold := func(n int) context.CancelFunc { // n requests to hang, until cancelled
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hang.URLs[0], nil)
				if resp, err := c.Do(req); err == nil {
					_ = resp.Body.Close()
				}
			})
		}
		waitFor(t, "requests in flight", func() bool { return f.InFlight(hang.Addr) == int64(n) })
		return func() { cancel(); wg.Wait() }
	}
	peak := func() int64 { return f.Stats()[1].PeakInFlight }

	release := hold(7)
	if got := peak(); got != 7 {
		t.Errorf("peak %d with 7 in flight, want 7", got)
	}
	release()
	waitFor(t, "the hanging requests to end", func() bool { return f.InFlight(hang.Addr) == 0 })
	if got := peak(); got != 7 {
		t.Errorf("peak %d after the requests ended, want still 7", got)
	}
	f.ResetPeaks()
	if got := peak(); got != 0 {
		t.Errorf("peak %d after ResetPeaks on an idle service, want 0", got)
	}
	release = hold(3)
	f.ResetPeaks()
	if got := peak(); got != 3 {
		t.Errorf("peak %d after ResetPeaks with 3 in flight, want 3", got)
	}
	release()
	waitFor(t, "the hanging requests to end", func() bool { return f.InFlight(hang.Addr) == 0 })

	short := newClient(t, 200*time.Millisecond)
	for _, s := range f.Services() {
		for _, u := range s.URLs {
			get(short, u)
			// One at a time at the service too: a reset reaches the
			// client before the service has counted the request out.
			waitFor(t, "the request to end at "+s.Name, func() bool { return f.InFlight(s.Addr) == 0 })
		}
	}
	stats := f.Stats()
	want := []ServiceStats{
		{Requests: 2, Accepted: 2, PeakInFlight: 1},   // OK
		{Requests: 12, Accepted: 12, PeakInFlight: 3}, // Hang: 7 + 3 + 2 that the client gave up on
		{},                             // Refused
		{Requests: 2, PeakInFlight: 1}, // Reset
	}
	if len(stats) != len(want) {
		t.Fatalf("%d stats, want %d", len(stats), len(want))
	}
	for i, s := range f.Services() {
		want[i].Name, want[i].Addr = s.Name, s.Addr
		if stats[i] != want[i] {
			t.Errorf("%s (%s): %+v, want %+v", s.Name, s.Behaviour, stats[i], want[i])
		}
	}
	if f.InFlight("127.0.0.1:1") != 0 {
		t.Error("InFlight of a foreign address is not 0")
	}
}

func TestStartRejectsABadLimit(t *testing.T) {
	for _, l := range []RateLimit{
		{Rate: 0, Burst: 1},
		{Rate: -1, Burst: 1},
		{Rate: math.NaN(), Burst: 1},
		{Rate: math.Inf(1), Burst: 1},
		{Rate: 1, Burst: 0},
		{Rate: 1, Burst: 1, Status: 200},
		{Rate: 1, Burst: 1, Status: 600},
		{Rate: 1, Burst: 1, Header: "Retry After"},
		{Rate: 1, Burst: 1, RetryAfter: "1\r\nX: y"},
	} {
		if f, err := Start(Spec{Services: 1, Limit: &l}); err == nil {
			_ = f.Close()
			t.Errorf("Start with limit %+v succeeded, want an error", l)
		}
	}
}

func TestStartCopiesTheLimit(t *testing.T) {
	l := RateLimit{Rate: 0.01, Burst: 1}
	f := startFarm(t, Spec{Services: 1, Latency: time.Millisecond, Limit: &l})
	l.Burst, l.Status = 100, 503
	c := newClient(t, 10*time.Second)
	get(c, f.URLs()[0])
	if o := get(c, f.URLs()[0]); o.status != http.StatusTooManyRequests {
		t.Errorf("status %d after changing the caller's RateLimit, want 429", o.status)
	}
}
