package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// writeConfig writes a YAML config into a temp dir and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "checks.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// recorder is a loopback server that records the headers it was sent.
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newRecorder(t *testing.T, status int) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		r.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintln(w, `{"status": "UP"}`)
	}))
	t.Cleanup(r.Close)
	return r
}

func TestConfigChecksTagsAndDefaults(t *testing.T) {
	up := newRecorder(t, 200)
	down := newRecorder(t, 503)
	cfg := writeConfig(t, fmt.Sprintf(`
defaults:
  timeout: 3s
  output: json
checks:
  - name: up
    target: %s/healthz
    tags: [prod]
    http:
      method: HEAD
  - name: down
    target: %s/healthz
    tags: [staging]
`, up.URL, down.URL))
	r := runFanout(t, "", "check", "--config", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	res := byName(parseJSON(t, r.stdout)) // output: json came from the file
	wantState(t, res["up"], "ok", "")
	wantState(t, res["down"], "fail", "http_status")

	r = runFanout(t, "", "check", "--config", cfg, "--tag", "prod", "-o", "jsonl")
	if r.code != 0 || strings.Count(r.stdout, `"type":"result"`) != 1 {
		t.Errorf("--tag prod: exit %d, stdout %s", r.code, r.stdout)
	}
	r = runFanout(t, "", "check", "--config", cfg, "--tag", "nope")
	if r.code != 0 || !strings.Contains(r.stderr, "has any of the tags [nope]: nothing to do") {
		t.Errorf("--tag selecting nothing: exit %d, stderr %s", r.code, r.stderr)
	}
	r = runFanout(t, "", "check", "--tag", "prod", "http://127.0.0.1:1/")
	if r.code != 2 || !strings.Contains(r.stderr, "give --config too") {
		t.Errorf("--tag without --config: exit %d, stderr %s", r.code, r.stderr)
	}
}

func byName(rep jsonReport) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, r := range rep.Results {
		m[r["name"].(string)] = r
	}
	return m
}

func TestConfigErrorsNameFileLineAndField(t *testing.T) {
	s := newServer(t, 200, 0)
	cases := []struct {
		name, yaml, want string
	}{
		{"typo", "checks:\n  - name: a\n    targt: http://x/\n", `checks.yaml:3:5: checks[0].targt: unknown field "targt" (did you mean "target"?)`},
		{"bad default", "defaults:\n  per_host: 0\nchecks:\n  - target: http://x/\n", "checks.yaml:2:13: defaults.per_host: invalid --per-host 0: must be at least 1"},
		{"bad duration", "defaults:\n  timeout: -5s\nchecks:\n  - target: http://x/\n", "checks.yaml:2:12: defaults.timeout: invalid --timeout -5s: must be greater than 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, tc.yaml)
			r := runFanout(t, "", "check", "--config", cfg, s.URL+"/")
			first := strings.SplitN(r.stderr, "\n", 2)[0]
			if r.code != 2 || !strings.HasSuffix(first, tc.want) || !strings.Contains(first, cfg) {
				t.Errorf("exit %d, stderr %q, want …%s", r.code, first, tc.want)
			}
			v := runFanout(t, "", "validate", cfg)
			if v.code != 2 || !strings.Contains(v.stderr, tc.want) {
				t.Errorf("validate: exit %d, stderr %q", v.code, v.stderr)
			}
		})
	}
	if s.hits.Load() != 0 {
		t.Errorf("a bad config ran %d checks", s.hits.Load())
	}
	good := writeConfig(t, "checks:\n  - target: "+s.URL+"/\n")
	if v := runFanout(t, "", "validate", good); v.code != 0 || !strings.HasSuffix(v.stdout, ": ok: 1 check (1 http), 0 host limits\n") {
		t.Errorf("validate a good config: exit %d, %q %q", v.code, v.stdout, v.stderr)
	}
}

func TestConfigFlagOverridesFile(t *testing.T) {
	s := newServer(t, 200, 0)
	cfg := writeConfig(t, "defaults:\n  output: junit\nchecks:\n  - target: "+s.URL+"/\n")
	r := runFanout(t, "", "check", "--config", cfg, "-o", "json")
	if r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
		t.Errorf("-o json on the command line should win over the file's junit: %s", r.stdout)
	}
}

func TestConfigSecretsAreRedacted(t *testing.T) {
	rec := newRecorder(t, 500)
	cfg := writeConfig(t, fmt.Sprintf(`
checks:
  - name: api
    target: %s/x
    http:
      headers: {Authorization: "Bearer ${FANOUT_TEST_TOKEN}", X-Trace: visible}
  # The secret in the name, the host and both failed conditions (a list in
  # detail): every field of the result must mask it.
  - name: "canary ${FANOUT_TEST_TOKEN}"
    target: %s/y
    http:
      status: [500]
      host: "h-${FANOUT_TEST_TOKEN}"
      body_contains: "${FANOUT_TEST_TOKEN}"
      body_regex: "x${FANOUT_TEST_TOKEN}"
`, rec.URL, rec.URL))
	for _, format := range []string{"table", "json", "jsonl", "junit"} {
		r := runCommandEnv(t, "", []string{"FANOUT_TEST_TOKEN=tok-0123456789"}, binary, "check", "--config", cfg, "-o", format, "--all")
		if r.code != 1 {
			t.Fatalf("%s: exit %d: %s", format, r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "tok-0123456789") {
			t.Errorf("%s output leaks the token:\n%s%s", format, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "canary xxxxx") {
			t.Errorf("%s output should name the check with its secret masked:\n%s", format, r.stdout)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	sent := false
	for _, h := range rec.headers {
		sent = sent || h.Get("Authorization") == "Bearer tok-0123456789"
	}
	if !sent {
		t.Errorf("the server did not get the expanded header: %v", rec.headers)
	}
}
