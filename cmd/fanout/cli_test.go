package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type jsonReport struct {
	Results []map[string]any `json:"results"`
	Summary map[string]any   `json:"summary"`
}

func parseJSON(t *testing.T, s string) jsonReport {
	t.Helper()
	var rep jsonReport
	if err := json.Unmarshal([]byte(s), &rep); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, s)
	}
	return rep
}

// byTarget indexes results by their target.
func byTarget(rep jsonReport) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, r := range rep.Results {
		m[r["target"].(string)] = r
	}
	return m
}

func wantState(t *testing.T, r map[string]any, state, reason string) {
	t.Helper()
	if r == nil {
		t.Fatalf("missing result, want %s/%s", state, reason)
	}
	if r["state"] != state || r["reason"] != reason {
		t.Errorf("%s: %v/%v (%v), want %s/%s", r["target"], r["state"], r["reason"], r["error"], state, reason)
	}
}

func TestAllOKExitsZero(t *testing.T) {
	s := newServer(t, 200, 0)
	r := runFanout(t, "", "check", "-o", "json", s.URL+"/a", s.URL+"/b")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	rep := parseJSON(t, r.stdout)
	if len(rep.Results) != 2 || rep.Summary["ok"] != 2.0 || rep.Summary["total"] != 2.0 {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(r.stderr, "2 targets · 2 ok") {
		t.Errorf("stderr lacks the summary line: %q", r.stderr)
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("progress drawn on a non-terminal stderr: %q", r.stderr)
	}
}

func TestJSONStatesAndExitOne(t *testing.T) {
	ok := newServer(t, 200, 0)
	bad := newServer(t, 503, 0)
	hang := newServer(t, 200, time.Hour)
	dead := deadPort(t)
	r := runFanout(t, "", "check", "-o", "json", "--timeout", "500ms",
		ok.URL+"/", bad.URL+"/", hang.URL+"/", "http://"+dead+"/", dead)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
	}
	rep := parseJSON(t, r.stdout)
	res := byTarget(rep)
	wantState(t, res[ok.URL+"/"], "ok", "")
	wantState(t, res[bad.URL+"/"], "fail", "http_status")
	wantState(t, res[hang.URL+"/"], "timeout", "timeout")
	wantState(t, res["http://"+dead+"/"], "error", "refused")
	wantState(t, res[dead], "error", "refused")
	if d := res[bad.URL+"/"]["detail"].(map[string]any); d["status_code"] != 503.0 {
		t.Errorf("detail %v lacks status_code 503", d)
	}
	if res[dead]["kind"] != "tcp" || res[ok.URL+"/"]["kind"] != "http" {
		t.Errorf("kinds: %v %v", res[dead]["kind"], res[ok.URL+"/"]["kind"])
	}
	// Input order by default for json.
	for i, want := range []string{ok.URL + "/", bad.URL + "/", hang.URL + "/"} {
		if rep.Results[i]["target"] != want {
			t.Errorf("result %d is %v, want %s (input order)", i, rep.Results[i]["target"], want)
		}
	}
	if rep.Summary["fail"] != 1.0 || rep.Summary["timeout"] != 1.0 || rep.Summary["error"] != 2.0 {
		t.Errorf("summary %v", rep.Summary)
	}
}

func TestJSONLStreamsThenSummary(t *testing.T) {
	fast := newServer(t, 200, 0)
	slow := newServer(t, 200, 300*time.Millisecond)
	r := runFanout(t, "", "check", "-o", "jsonl", slow.URL+"/", fast.URL+"/")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 2 results and a summary, got %d lines:\n%s", len(lines), r.stdout)
	}
	var types, targets []string
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		types = append(types, fmt.Sprint(m["type"]))
		targets = append(targets, fmt.Sprint(m["target"]))
	}
	if strings.Join(types, ",") != "result,result,summary" {
		t.Errorf("types %v", types)
	}
	// jsonl defaults to completion order: the fast one first.
	if targets[0] != fast.URL+"/" {
		t.Errorf("first line is %s, want the fast target", targets[0])
	}
}

func TestJUnit(t *testing.T) {
	ok := newServer(t, 200, 0)
	bad := newServer(t, 500, 0)
	r := runFanout(t, "", "check", "-o", "junit", ok.URL+"/", bad.URL+"/", deadPort(t))
	if r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var suite struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Cases    []struct {
			Name      string    `xml:"name,attr"`
			Classname string    `xml:"classname,attr"`
			Failure   *struct{} `xml:"failure"`
			Error     *struct{} `xml:"error"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &suite); err != nil {
		t.Fatalf("junit: %v\n%s", err, r.stdout)
	}
	if suite.Name != "fanout" || suite.Tests != 3 || suite.Failures != 1 || suite.Errors != 1 || len(suite.Cases) != 3 {
		t.Errorf("suite %+v", suite)
	}
	if suite.Cases[1].Failure == nil || suite.Cases[2].Error == nil || suite.Cases[2].Classname != "tcp" {
		t.Errorf("cases %+v", suite.Cases)
	}
}

func TestTableShowsFailuresFirst(t *testing.T) {
	ok := newServer(t, 200, 0)
	bad := newServer(t, 500, 0)
	r := runFanout(t, "", "check", ok.URL+"/", bad.URL+"/")
	if r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, bad.URL) || strings.Contains(r.stdout, ok.URL+"/ ") {
		t.Errorf("table should list only the failure:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "2 targets · 1 ok · 1 fail") {
		t.Errorf("table lacks the summary:\n%s", r.stdout)
	}
	all := runFanout(t, "", "check", "--all", ok.URL+"/", bad.URL+"/")
	if i, j := strings.Index(all.stdout, bad.URL), strings.Index(all.stdout, ok.URL+"/"); i < 0 || j < 0 || i > j {
		t.Errorf("--all should list every row, failures first:\n%s", all.stdout)
	}
}

func TestListFilesAndStdin(t *testing.T) {
	s := newServer(t, 200, 0)
	dir := t.TempDir()
	list := filepath.Join(dir, "services.txt")
	content := fmt.Sprintf("# services\n%s/a\n\n%s/b # second\n%s/a\n", s.URL, s.URL, strings.ToUpper(s.URL[:4])+s.URL[4:])
	if err := os.WriteFile(list, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runFanout(t, s.URL+"/c\n", "check", "-o", "json", "-f", list, "-f", "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := parseJSON(t, r.stdout)
	if len(rep.Results) != 3 || rep.Summary["duplicates"] != 1.0 {
		t.Errorf("want 3 results and 1 duplicate: %d, %v", len(rep.Results), rep.Summary["duplicates"])
	}
	if !strings.Contains(r.stderr, "services.txt:5") || !strings.Contains(r.stderr, "services.txt:2") {
		t.Errorf("duplicate warning should name both lines: %q", r.stderr)
	}
	if s.hits.Load() != 3 {
		t.Errorf("server saw %d requests, want 3", s.hits.Load())
	}
}

func TestBadInputExitsTwoAndRunsNothing(t *testing.T) {
	s := newServer(t, 200, 0)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(empty, []byte("# nothing\n\n"), 0o600)
	os.WriteFile(bad, []byte(s.URL+"/\nhtp://x\n"), 0o600)
	good := s.URL + "/"
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"check", "--frobnicate", good}, "unknown flag: --frobnicate"},
		{"malformed scheme", []string{"check", good, "htp://x"}, `argument 2: malformed target "htp://x": unknown scheme "htp"`},
		{"bad port", []string{"check", good, "host:notaport"}, `invalid port "notaport"`},
		{"empty list", []string{"check", "-f", empty, good}, "empty.txt: no targets in the list"},
		{"bad list line", []string{"check", "-f", bad}, "bad.txt:2: malformed target"},
		{"missing list", []string{"check", "-f", filepath.Join(dir, "nope.txt")}, "no such file"},
		{"timeout 0", []string{"check", "--timeout", "0", good}, "invalid --timeout 0s: must be greater than 0"},
		{"negative deadline", []string{"check", "--deadline", "-1s", good}, "invalid --deadline -1s"},
		{"concurrency 0", []string{"check", "-c", "0", good}, "invalid --concurrency 0: must be at least 1"},
		{"retries -1", []string{"check", "--retries", "-1", good}, "invalid --retries -1: must be 0 or more"},
		{"per-host 0", []string{"check", "--per-host", "0", good}, "invalid --per-host 0"},
		{"bad output", []string{"check", "-o", "xml", good}, `invalid -o "xml"`},
		{"reserved output", []string{"check", "-o", "prometheus", good}, "-o prometheus is not built yet"},
		{"reserved shard", []string{"check", "--shard", "1/2", good}, "--shard is not built yet"},
		{"negative rate", []string{"check", "--rate", "-5", good}, "invalid --rate -5"},
		{"burst 0", []string{"check", "--burst", "0", good}, "invalid --burst 0"},
		{"bad retry budget", []string{"check", "--retry-budget", "lots", good}, `invalid --retry-budget "lots"`},
		{"missing config", []string{"check", "--config", "x.yaml", good}, "open x.yaml: no such file or directory"},
		{"bad order", []string{"check", "--order", "random", good}, `invalid --order "random"`},
		{"no targets", []string{"check"}, "no targets given"},
		{"reserved command", []string{"serve"}, "'fanout serve' is not built yet"},
		{"timeout not a duration", []string{"check", "--timeout", "5", good}, `invalid argument "5" for "--timeout"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runFanout(t, "", tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			first := strings.SplitN(r.stderr, "\n", 2)[0]
			if !strings.HasPrefix(first, "fanout: ") || !strings.Contains(first, tc.want) {
				t.Errorf("first stderr line %q, want it to contain %q", first, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
		})
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("bad invocations ran %d checks, want none", n)
	}
}

func TestDeadlineExitsThreeWithEveryTarget(t *testing.T) {
	hang := newServer(t, 200, time.Hour)
	var args []string
	for i := range 30 {
		args = append(args, fmt.Sprintf("%s/%d", hang.URL, i))
	}
	r := runFanout(t, "", append([]string{"check", "-o", "json", "--deadline", "1s", "--timeout", "10s", "--per-host", "4"}, args...)...)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; stderr %s", r.code, r.stderr)
	}
	// Deadline 1s + grace 0.1s; the race-built binary and a busy machine
	// get a generous margin, far below the 10s timeout or the 1h hang.
	if r.took > 5*time.Second {
		t.Errorf("took %s with a 1s deadline", r.took)
	}
	rep := parseJSON(t, r.stdout)
	if len(rep.Results) != 30 {
		t.Fatalf("%d results, want all 30", len(rep.Results))
	}
	var running, notRun int
	for _, res := range rep.Results {
		switch {
		case res["state"] == "timeout" && res["reason"] == "deadline":
			running++
		case res["state"] == "not_run" && res["reason"] == "deadline":
			notRun++
		default:
			t.Errorf("%v: %v/%v", res["target"], res["state"], res["reason"])
		}
	}
	if running != 4 || notRun != 26 {
		t.Errorf("running %d (want 4 = per-host), not run %d (want 26)", running, notRun)
	}
	if !strings.Contains(r.stderr, "deadline of 1s came first") {
		t.Errorf("stderr should say the deadline cut the run: %q", r.stderr)
	}
}

func TestSecretsNeverReachOutput(t *testing.T) {
	bad := newServer(t, 500, 0)
	dead := deadPort(t)
	targets := []string{
		strings.Replace(bad.URL, "http://", "http://alice:hunter22@", 1) + "/x?token=SECRETTOKEN&page=2",
		"http://bob:pa55word@" + dead + "/?api_key=KEY12345",
	}
	for _, format := range []string{"table", "json", "jsonl", "junit"} {
		r := runFanout(t, "", append([]string{"check", "-o", format, "--all"}, targets...)...)
		if r.code != 1 {
			t.Fatalf("%s: exit %d: %s", format, r.code, r.stderr)
		}
		for _, secret := range []string{"hunter22", "SECRETTOKEN", "pa55word", "KEY12345"} {
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("%s output leaks %q:\n%s\n%s", format, secret, r.stdout, r.stderr)
			}
		}
		if !strings.Contains(r.stdout, "alice:xxxxx@") || !strings.Contains(r.stdout, "token=xxxxx&amp;page=2") && !strings.Contains(r.stdout, "token=xxxxx&page=2") {
			t.Errorf("%s output should show the redacted target:\n%s", format, r.stdout)
		}
	}
}

func TestInterruptPrintsPartialReport(t *testing.T) {
	hang := newServer(t, 200, time.Hour)
	var args []string
	for i := range 20 {
		args = append(args, fmt.Sprintf("%s/%d", hang.URL, i))
	}
	cmd, stdout, stderr := startFanout(t, append([]string{"check", "-o", "json", "--per-host", "2", "--timeout", "1m"}, args...)...)
	waitFor(t, func() bool { return hang.hits.Load() == 2 })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code := exitCode(t, cmd)
	if code != 130 {
		t.Fatalf("exit %d, want 130; stderr %s", code, stderr)
	}
	rep := parseJSON(t, stdout.String())
	if len(rep.Results) != 20 {
		t.Fatalf("partial report lists %d targets, want all 20", len(rep.Results))
	}
	var running, notRun int
	for _, res := range rep.Results {
		switch {
		case res["state"] == "error" && res["reason"] == "cancelled":
			running++
		case res["state"] == "not_run" && res["reason"] == "cancelled":
			notRun++
		default:
			t.Errorf("%v: %v/%v", res["target"], res["state"], res["reason"])
		}
	}
	if running != 2 || notRun != 18 {
		t.Errorf("running %d (want 2), not run %d (want 18)", running, notRun)
	}
	if !strings.Contains(stderr.String(), "interrupted by SIGINT") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

func TestSecondInterruptExitsAtOnce(t *testing.T) {
	// The first SIGINT ends the run; its report is far larger than a pipe
	// buffer and nobody reads stdout, so writing it blocks. A second
	// SIGINT must end the process anyway.
	hang := newServer(t, 200, time.Hour)
	dir := t.TempDir()
	list := filepath.Join(dir, "list.txt")
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "%s/%d\n", hang.URL, i)
	}
	os.WriteFile(list, []byte(b.String()), 0o600)
	cmd := exec.Command(binary, "check", "-o", "json", "--timeout", "1m", "-f", list)
	stdout, err := cmd.StdoutPipe() // never read until the end
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return hang.hits.Load() >= 8 })
	cmd.Process.Signal(os.Interrupt)
	time.Sleep(500 * time.Millisecond) // it is now blocked writing the report
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	done := make(chan int, 1)
	go func() { done <- exitCode(t, cmd) }()
	select {
	case code := <-done:
		if code != 130 {
			t.Errorf("exit %d, want 130", code)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("second SIGINT took %s to end the process", took)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("a second SIGINT did not end the process")
	}
	stdout.Close()
}

func TestDemo(t *testing.T) {
	r := runFanout(t, "", "demo")
	if r.code != 0 {
		t.Fatalf("demo exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "200 targets · 193 ok") || !strings.Contains(r.stdout, "sequential ≈") {
		t.Errorf("demo output:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "all 200 services behaved as designed") {
		t.Errorf("demo stderr: %s", r.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := runFanout(t, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "fanout ") {
		t.Errorf("version: %d %q", r.code, r.stdout)
	}
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
