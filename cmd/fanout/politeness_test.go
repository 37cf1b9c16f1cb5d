package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/internal/testfarm"
)

// limitedFarm starts hosts that each allow rate requests a second with a
// burst, answering 429 + Retry-After: 1 beyond, and writes their URLs to a
// list file.
func limitedFarm(t *testing.T, hosts, urls int, rate float64, burst int) (*testfarm.Farm, string) {
	t.Helper()
	farm, err := testfarm.Start(testfarm.Spec{
		Services: hosts, Paths: urls, Latency: 10 * time.Millisecond,
		Limit: &testfarm.RateLimit{Rate: rate, Burst: burst},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { farm.Close() })
	list := filepath.Join(t.TempDir(), "urls.txt")
	if err := os.WriteFile(list, []byte(strings.Join(farm.URLs(), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return farm, list
}

func maxRejected(farm *testfarm.Farm) int64 {
	var most int64
	for _, s := range farm.Stats() {
		most = max(most, s.Rejected)
	}
	return most
}

// A small instance of the politeness bar: two hosts at 20 req/s with a
// burst of 10, 60 URLs each, fanout on its defaults. Every target ends ok
// and each host throttles at most 10 requests over the whole run. (The
// wall-time bar is measured by bench/ratelimit, not asserted here.)
func TestRateLimitedHostsOnDefaults(t *testing.T) {
	farm, list := limitedFarm(t, 2, 60, 20, 10)
	r := runFanout(t, "", "check", "-o", "json", "-f", list)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := parseJSON(t, r.stdout)
	if rep.Summary["ok"] != 120.0 {
		t.Fatalf("summary %v", rep.Summary)
	}
	if most := maxRejected(farm); most > 10 {
		t.Errorf("a host throttled %d requests, want at most 10", most)
	}
	var throttled int64
	for _, s := range farm.Stats() {
		throttled += s.Rejected
	}
	if rep.Summary["throttled"] != float64(throttled) {
		t.Errorf("summary.throttled = %v, the servers sent %d 429s", rep.Summary["throttled"], throttled)
	}
	hosts, _ := rep.Summary["hosts"].([]any)
	if throttled > 0 && len(hosts) != 2 {
		t.Errorf("summary.hosts should name both throttling hosts: %v", rep.Summary["hosts"])
	}
	if !strings.Contains(r.stderr, "throttled") {
		t.Errorf("stderr should report the throttling: %s", r.stderr)
	}
}

func TestPerHostRateBelowTheLimitMeansNoThrottle(t *testing.T) {
	farm, list := limitedFarm(t, 2, 30, 20, 1)
	r := runFanout(t, "", "check", "-o", "json", "-f", list, "--per-host-rate", "15")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if most := maxRejected(farm); most != 0 {
		t.Errorf("a host throttled %d requests at --per-host-rate below its limit", most)
	}
	if rep := parseJSON(t, r.stdout); rep.Summary["throttled"] != 0.0 || rep.Summary["ok"] != 60.0 {
		t.Errorf("summary %v", rep.Summary)
	}
}

func TestNoBurstHostThrottlesOnceInTheRamp(t *testing.T) {
	// One host, burst 1, 50 req/s: the ramp's first gap under 20 ms is
	// throttled, the host is paused for every worker, and the rate the
	// ramp bracketed holds from then on. (Without the ramp the first wave
	// of 8 workers met one token: seven 429s.)
	farm, list := limitedFarm(t, 1, 40, 50, 1)
	r := runFanout(t, "", "check", "-o", "json", "-f", list)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// One, and one more if timing jitter on a loaded machine moved an
	// attempt: the allowance then doubles.
	if most := maxRejected(farm); most > 3 {
		t.Errorf("the host throttled %d requests, want the ramp's one (≤ 3)", most)
	}
}

func TestManyTargetsUnderADescriptorLimitOf256(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatalf("prlimit (util-linux) is needed: %v", err)
	}
	farm, err := testfarm.Start(testfarm.Spec{Services: 50, Paths: 100, Latency: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()
	list := filepath.Join(t.TempDir(), "urls.txt")
	os.WriteFile(list, []byte(strings.Join(farm.URLs(), "\n")+"\n"), 0o600)
	r := runCommand(t, "", "prlimit", "--nofile=256:256", binary,
		"check", "-o", "json", "-f", list, "-c", "1000", "--deadline", "2m")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := parseJSON(t, r.stdout)
	if rep.Summary["ok"] != 5000.0 || len(rep.Results) != 5000 {
		t.Errorf("summary %v", rep.Summary)
	}
	if !strings.Contains(r.stderr, "the limit is 256: running with -c") {
		t.Errorf("stderr should warn once that -c was capped: %s", r.stderr)
	}
}

func TestPlanNumbers(t *testing.T) {
	var args []string
	for i := range 100 {
		args = append(args, fmt.Sprintf("http://a.example/%d", i))
	}
	args = append(args, "http://b.example/")
	r := runFanout(t, "", append([]string{"check", "--plan", "-o", "json", "--per-host", "4",
		"--timeout", "2s", "--retries", "0", "--no-adapt", "--deadline", "30s"}, args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var p plan
	if err := jsonUnmarshal(r.stdout, &p); err != nil {
		t.Fatal(err)
	}
	// a.example: 100 targets, 4 at a time: 25 rounds of 100ms expected,
	// of 2s in the worst case.
	if p.Targets != 101 || len(p.Hosts) != 2 || p.Hosts[0].Host != "a.example:80" ||
		p.Hosts[0].Expected != 2.5 || p.Hosts[0].Worst != 50 || p.Expected != 2.5 || p.Worst != 50 {
		t.Errorf("plan %+v", p)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "needs up to 50s but the deadline is 30s") {
		t.Errorf("warnings %v", p.Warnings)
	}
	// A per-host rate of 5/s at burst 1 (attempts 205 ms apart) makes
	// a.example's 100 targets take 20.5s.
	r = runFanout(t, "", append([]string{"check", "--plan", "-o", "json", "--per-host-rate", "5",
		"--retries", "0", "--deadline", "10s"}, args...)...)
	jsonUnmarshal(r.stdout, &p)
	if p.Expected != 20.5 || !strings.Contains(strings.Join(p.Warnings, "\n"), "cannot be met") {
		t.Errorf("with --per-host-rate 5: expected %v, warnings %v", p.Expected, p.Warnings)
	}
	// Adaptive (the default), a.example ramps: its 19th attempt leaves
	// 0.335s after the first and answers 0.1s later; the other 81 take 21
	// rounds of 4.
	r = runFanout(t, "", append([]string{"check", "--plan", "-o", "json", "--per-host", "4", "--retries", "0"}, args...)...)
	jsonUnmarshal(r.stdout, &p)
	want := fanout.RampOffset(fanout.RampAttempts()).Seconds() + 0.1 + 2.1 // 2.535 with today's ramp
	if math.Abs(p.Hosts[0].Expected-want) > 0.001 || p.Hosts[1].Expected != 0.1 {
		t.Errorf("ramping: expected %v for a.example (want %.3f), %v for b.example's one target (want 0.1)", p.Hosts[0].Expected, want, p.Hosts[1].Expected)
	}
	// Retries as budgeted: 2 per target, each after at most 200ms, 400ms.
	r = runFanout(t, "", "check", "--plan", "-o", "json", "--timeout", "1s", "http://c.example/")
	jsonUnmarshal(r.stdout, &p)
	if p.Worst != 3.6 || p.RetryBudget != 10 {
		t.Errorf("one target, 2 retries: worst %v (want 3×1s + 0.2s + 0.4s), budget %d", p.Worst, p.RetryBudget)
	}
	// A config's hosts: block is the plan's too: 8 targets at 2 at a time
	// and 4/s with a burst of 2 (unpaced) take 2s.
	cfg := writeConfig(t, "checks:\n  - target: http://d.example/\n"+
		"hosts:\n  d.example:80: {per_host: 2, per_host_rate: 4, burst: 2}\n")
	var more []string
	for i := range 7 {
		more = append(more, fmt.Sprintf("http://d.example/%d", i))
	}
	r = runFanout(t, "", append([]string{"check", "--plan", "-o", "json", "--config", cfg}, more...)...)
	jsonUnmarshal(r.stdout, &p)
	if len(p.Hosts) != 1 || p.Hosts[0].PerHost != 2 || p.Hosts[0].Rate != 4 || p.Hosts[0].Expected != 2 {
		t.Errorf("plan with a hosts: block: %+v (%s)", p.Hosts, r.stderr)
	}
	text := runFanout(t, "", append([]string{"check", "--plan", "--per-host", "4", "--timeout", "2s", "--retries", "0", "--no-adapt", "--deadline", "30s"}, args...)...)
	if !strings.Contains(text.stdout, "a.example:80") || !strings.Contains(text.stdout, "worst    50s") {
		t.Errorf("text plan:\n%s", text.stdout)
	}
}
