package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fanout-dev/fanout/examples"
	"github.com/fanout-dev/fanout/internal/kindfarm"
)

// exampleDir holds the example configs, each run against the kind farm.
const exampleDir = "../../examples"

// expectations are what an example's header comment declares:
//
//	# expect-exit: 1
//	# expect: name=state/reason
//	# expect: name=state/reason ~ text the error holds
//
// Every check not named in an expect line must end ok.
type expectations struct {
	exit   int
	nonOK  map[string]expected
	source string
}

type expected struct {
	state, reason, text string
}

var (
	expectExitLine = regexp.MustCompile(`^#\s*expect-exit:\s*(\d+)\s*$`)
	expectLine     = regexp.MustCompile(`^#\s*expect:\s*([^=\s]+)=([a-z_]+)/([a-z_]*)(?:\s+~\s+(.+?))?\s*$`)
)

// readExpectations parses the expect lines of an example's comments.
func readExpectations(t *testing.T, path string) expectations {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e := expectations{exit: -1, nonOK: map[string]expected{}, source: path}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case expectExitLine.MatchString(text):
			if e.exit != -1 {
				t.Fatalf("%s:%d: a second expect-exit line", path, line)
			}
			e.exit, _ = strconv.Atoi(expectExitLine.FindStringSubmatch(text)[1])
		case expectLine.MatchString(text):
			m := expectLine.FindStringSubmatch(text)
			if _, dup := e.nonOK[m[1]]; dup {
				t.Fatalf("%s:%d: a second expect line for %s", path, line, m[1])
			}
			if m[2] == "ok" {
				t.Fatalf("%s:%d: expect lines are for checks that do not end ok", path, line)
			}
			e.nonOK[m[1]] = expected{state: m[2], reason: m[3], text: m[4]}
		case strings.HasPrefix(text, "# expect"):
			t.Fatalf("%s:%d: malformed expect line %q (want \"# expect-exit: N\" or \"# expect: name=state/reason [~ text]\")", path, line, text)
		}
	}
	if e.exit == -1 {
		t.Fatalf("%s: no \"# expect-exit: N\" line in its header", path)
	}
	return e
}

// farmEnv starts a kind farm that closes when the test and its subtests
// are done, and returns its variables as NAME=value.
func farmEnv(t *testing.T) []string {
	t.Helper()
	farm, err := kindfarm.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := farm.Close(); err != nil {
			t.Error(err)
		}
	})
	var env []string
	for name, value := range farm.Env() {
		env = append(env, name+"="+value)
	}
	slices.Sort(env)
	return env
}

// validCount matches what `fanout validate` prints of a good config.
var validCount = regexp.MustCompile(`: ok: (\d+) checks? \(`)

// TestExamples runs every example against the kind farm: `fanout
// validate` accepts it, and `fanout check --config` exits as its header
// says, with every check ok but those its expect lines name, which end in
// the state and reason (and error text) they declare.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(exampleDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("%d examples in %s, want at least 6", len(files), exampleDir)
	}
	env := farmEnv(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			want := readExpectations(t, file)
			v := runCommandEnv(t, "", env, binary, "validate", file)
			m := validCount.FindStringSubmatch(v.stdout)
			if v.code != 0 || m == nil {
				t.Fatalf("validate: exit %d\n%s%s", v.code, v.stdout, v.stderr)
			}
			checks, _ := strconv.Atoi(m[1])

			r := runCommandEnv(t, "", env, binary, "check", "--config", file, "-o", "json")
			if r.code != want.exit {
				t.Errorf("check: exit %d, want %d (the header's expect-exit)\nstderr: %s", r.code, want.exit, r.stderr)
			}
			rep := parseJSON(t, r.stdout)
			if len(rep.Results) != checks {
				t.Errorf("%d results, want one per check: %d", len(rep.Results), checks)
			}
			seen := map[string]bool{}
			for _, res := range rep.Results {
				name, _ := res["name"].(string)
				seen[name] = true
				state, reason, msg := res["state"], res["reason"], fmt.Sprint(res["error"])
				exp, deliberate := want.nonOK[name]
				switch {
				case !deliberate && (state != "ok" || reason != ""):
					t.Errorf("%s: %v/%v (%s), want ok (or an expect line saying otherwise)", name, state, reason, msg)
				case deliberate && (state != exp.state || reason != exp.reason):
					t.Errorf("%s: %v/%v (%s), want %s/%s", name, state, reason, msg, exp.state, exp.reason)
				case deliberate && !strings.Contains(msg, exp.text):
					t.Errorf("%s: error %q, want it to hold %q", name, msg, exp.text)
				}
			}
			for name := range want.nonOK {
				if !seen[name] {
					t.Errorf("expect line for %s, which is no check of the file", name)
				}
			}
			// Values that came from ${…} are secrets: the farm's token never
			// shows.
			for _, kv := range env {
				if name, value, _ := strings.Cut(kv, "="); name == "FANOUT_FARM_TOKEN" && strings.Contains(r.stdout+r.stderr, value) {
					t.Errorf("the output holds the value of %s", name)
				}
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer that a running command writes to while
// the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoFarm runs `fanout demo --farm` as a user would: its stdout holds
// the export lines and examples/farm.yaml, checking the farm with them
// passes, and SIGINT (or SIGTERM) stops it with exit 0, leaving nothing
// behind.
func TestDemoFarm(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(binary, "demo", "--farm")
			cmd.Env = append(os.Environ(), "NO_COLOR=1")
			var out, errb lockedBuffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			for deadline := time.Now().Add(30 * time.Second); !strings.Contains(errb.String(), "Ctrl-C"); {
				if time.Now().After(deadline) {
					t.Fatalf("the farm did not say it was ready\nstdout: %s\nstderr: %s", out.String(), errb.String())
				}
				time.Sleep(20 * time.Millisecond)
			}

			exports, config, ok := strings.Cut(out.String(), "\n\n")
			if !ok || config != examples.Farm {
				t.Errorf("stdout is not export lines, a blank line and examples/farm.yaml:\n%s", out.String())
			}
			var env []string
			vars := map[string]string{}
			for _, line := range strings.Split(exports, "\n") {
				kv, ok := strings.CutPrefix(line, "export ")
				name, value, _ := strings.Cut(kv, "=")
				if !ok || !strings.HasPrefix(name, "FANOUT_FARM_") || value == "" || strings.ContainsAny(value, `'" `) {
					t.Fatalf("not an export line of a farm variable: %q", line)
				}
				env = append(env, kv)
				vars[name] = value
			}
			if len(vars) != len((&kindfarm.Farm{}).Env()) {
				t.Errorf("%d variables exported, want %d", len(vars), len((&kindfarm.Farm{}).Env()))
			}

			r := runCommandEnv(t, "", env, binary, "check", "--config", filepath.Join(exampleDir, "farm.yaml"), "-o", "json")
			if r.code != 0 {
				t.Errorf("check of the demo farm: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, res := range parseJSON(t, r.stdout).Results {
				wantState(t, res, "ok", "")
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := exitCode(t, cmd); code != 0 {
				t.Errorf("exit %d after %s, want 0\nstderr: %s", code, sig, errb.String())
			}
			if !strings.Contains(errb.String(), "farm stopped") {
				t.Errorf("stderr does not say the farm stopped:\n%s", errb.String())
			}
			if _, err := os.Stat(vars["FANOUT_FARM_CA"]); !os.IsNotExist(err) {
				t.Errorf("the CA file is still there after exit (%v)", err)
			}
		})
	}
}
