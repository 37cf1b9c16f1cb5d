//go:build unix

package probe_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

// execCheck builds the exec check of spec.
func execCheck(t *testing.T, spec probe.ExecSpec) probe.Check {
	t.Helper()
	c, err := spec.Build(nil)
	if err != nil {
		t.Fatalf("Build(%+v): %v", spec, err)
	}
	return c
}

// sh is the command of a shell script.
func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

// runExec runs spec's check under a timeout and checks that no process of
// its group is left.
func runExec(t *testing.T, spec probe.ExecSpec, timeout time.Duration) outcome {
	t.Helper()
	o := run(t, execCheck(t, spec), newEnv(t, probe.Options{}), timeout)
	if pid, ok := o.detail["pid"].(int); ok {
		groupGone(t, pid)
	} else if o.reason != fanout.ReasonSpawn {
		t.Errorf("no pid in detail %v", o.detail)
	}
	return o
}

// alive reports whether process pid exists and is not a zombie (an
// orphan whose parent has not reaped it yet is dead for us).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		// No /proc: kill says it exists.
		return !os.IsNotExist(err) || !procExists()
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func procExists() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// groupMembers returns the live processes of process group pgid, as far
// as /proc tells; without /proc it asks kill.
func groupMembers(pgid int) []int {
	if !procExists() {
		if syscall.Kill(-pgid, 0) == nil {
			return []int{-pgid}
		}
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// groupGone fails unless every process of group pgid is gone within a
// second (SIGKILL is delivered asynchronously).
func groupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		left := groupMembers(pgid)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes %v of group %d still running", left, pgid)
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExecOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		spec   probe.ExecSpec
		state  fanout.State
		reason fanout.Reason
		err    string
		detail probe.Detail // a subset of the detail
	}{
		{"exit 0", probe.ExecSpec{Command: []string{"true"}},
			fanout.StateOK, fanout.ReasonNone, "",
			probe.Detail{"exit_code": 0, "stdout": "", "stderr": ""}},
		{"exit 3", probe.ExecSpec{Command: sh("echo out; echo err >&2; exit 3")},
			fanout.StateFail, fanout.ReasonExitCode, "exit code 3, want 0",
			probe.Detail{"exit_code": 3, "stdout": "out\n", "stderr": "err\n"}},
		{"exit 3 wanted", probe.ExecSpec{Command: sh("exit 3"), ExitCode: 3},
			fanout.StateOK, fanout.ReasonNone, "", probe.Detail{"exit_code": 3}},
		{"exit 0 not wanted", probe.ExecSpec{Command: sh("exit 0"), ExitCode: 2},
			fanout.StateFail, fanout.ReasonExitCode, "exit code 0, want 2", probe.Detail{"exit_code": 0}},
		{"killed by a signal", probe.ExecSpec{Command: sh("kill -SEGV $$")},
			fanout.StateFail, fanout.ReasonExitCode, "killed by SIGSEGV, want exit code 0",
			probe.Detail{"signal": "SIGSEGV"}},
		{"regexes match", probe.ExecSpec{
			Command:     sh("echo 'status: UP'; echo 'warn: disk 91%' >&2"),
			StdoutRegex: `(?m)^status: UP$`, StderrRegex: `disk \d+%`},
			fanout.StateOK, fanout.ReasonNone, "", probe.Detail{"stdout": "status: UP\n"}},
		{"stdout mismatch", probe.ExecSpec{Command: sh("echo 'status: DOWN'"), StdoutRegex: `status: UP`},
			fanout.StateFail, fanout.ReasonCondition, "stdout does not match /status: UP/",
			probe.Detail{"exit_code": 0, "stdout": "status: DOWN\n"}},
		{"stderr mismatch", probe.ExecSpec{Command: sh("echo fine >&2"), StderrRegex: `^$`},
			fanout.StateFail, fanout.ReasonCondition, "stderr does not match /^$/",
			probe.Detail{"stderr": "fine\n"}},
		{"exit code before regexes", probe.ExecSpec{Command: sh("exit 1"), StdoutRegex: `x`},
			fanout.StateFail, fanout.ReasonExitCode, "exit code 1, want 0", nil},
		{"stdin is /dev/null", probe.ExecSpec{Command: []string{"cat"}},
			fanout.StateOK, fanout.ReasonNone, "", probe.Detail{"stdout": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := runExec(t, tt.spec, 10*time.Second)
			o.want(t, tt.state, tt.reason)
			if tt.err != "" && o.err.Error() != tt.err {
				t.Errorf("error %q, want %q", o.err, tt.err)
			}
			for k, v := range tt.detail {
				if !reflect.DeepEqual(o.detail[k], v) {
					t.Errorf("detail[%s] = %#v, want %#v (detail %v)", k, o.detail[k], v, o.detail)
				}
			}
			if ms, ok := o.detail["duration_ms"].(float64); !ok || ms <= 0 {
				t.Errorf("duration_ms %#v", o.detail["duration_ms"])
			}
			if _, ok := o.detail["stdout_truncated"]; ok {
				t.Errorf("stdout_truncated in %v", o.detail)
			}
		})
	}
}

func TestExecDirAndEnv(t *testing.T) {
	t.Setenv("FANOUT_TEST_INHERITED", "kept")
	t.Setenv("FANOUT_TEST_OVERRIDDEN", "old")
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := runExec(t, probe.ExecSpec{
		Command: sh(`pwd -P; echo "$FANOUT_TEST_INHERITED $FANOUT_TEST_OVERRIDDEN $FANOUT_TEST_NEW"`),
		Dir:     dir,
		Env:     map[string]string{"FANOUT_TEST_OVERRIDDEN": "new", "FANOUT_TEST_NEW": "a b=c"},
	}, 10*time.Second)
	o.want(t, fanout.StateOK, fanout.ReasonNone)
	if want := dir + "\nkept new a b=c\n"; o.detail["stdout"] != want {
		t.Errorf("stdout %q, want %q", o.detail["stdout"], want)
	}
	// A relative program runs from dir.
	script := filepath.Join(dir, "check.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho relative\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	o = runExec(t, probe.ExecSpec{Command: []string{"./check.sh"}, Dir: dir}, 10*time.Second)
	o.want(t, fanout.StateOK, fanout.ReasonNone)
	if o.detail["stdout"] != "relative\n" {
		t.Errorf("stdout %q", o.detail["stdout"])
	}
}

func TestExecSpawnErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(notExec, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		spec    probe.ExecSpec
		err     string
		errPart string
	}{
		{"not in PATH", probe.ExecSpec{Command: []string{"fanout-no-such-program"}},
			`cannot start "fanout-no-such-program": executable file not found in $PATH`, ""},
		{"no such file", probe.ExecSpec{Command: []string{"/nonexistent/fanout-no-such-program"}},
			`cannot start "/nonexistent/fanout-no-such-program": no such file or directory`, ""},
		{"permission", probe.ExecSpec{Command: []string{notExec}},
			fmt.Sprintf("cannot start %q: permission denied", notExec), ""},
		{"no such dir", probe.ExecSpec{Command: []string{"true"}, Dir: "/nonexistent/dir"},
			`cannot start "true": working directory /nonexistent/dir: no such file or directory`, ""},
		{"dir is a file", probe.ExecSpec{Command: []string{"true"}, Dir: notExec},
			fmt.Sprintf(`cannot start "true": working directory %s: not a directory`, notExec), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := runExec(t, tt.spec, 10*time.Second)
			o.want(t, fanout.StateError, fanout.ReasonSpawn)
			if tt.err != "" && o.err.Error() != tt.err {
				t.Errorf("error %q, want %q", o.err, tt.err)
			}
			if !strings.Contains(o.err.Error(), tt.errPart) {
				t.Errorf("error %q, want it to contain %q", o.err, tt.errPart)
			}
		})
	}
}

func TestExecOutputTail(t *testing.T) {
	t.Parallel()
	// 30000 numbered lines, about 170 kB on stdout, and a short stderr.
	o := runExec(t, probe.ExecSpec{
		Command:     sh(`i=1; while [ $i -le 30000 ]; do echo $i; i=$((i+1)); done; echo done >&2`),
		StdoutRegex: `\n29999\n30000\n$`, // the regex sees the tail
	}, 30*time.Second)
	o.want(t, fanout.StateOK, fanout.ReasonNone)
	out, _ := o.detail["stdout"].(string)
	if len(out) != probe.ExecOutputCap {
		t.Errorf("stdout holds %d bytes, want %d", len(out), probe.ExecOutputCap)
	}
	if !strings.HasSuffix(out, "\n29998\n29999\n30000\n") {
		t.Errorf("stdout ends %q", out[max(0, len(out)-40):])
	}
	if o.detail["stdout_truncated"] != true {
		t.Errorf("stdout_truncated %v", o.detail["stdout_truncated"])
	}
	if _, ok := o.detail["stderr_truncated"]; ok || o.detail["stderr"] != "done\n" {
		t.Errorf("stderr %q, stderr_truncated %v", o.detail["stderr"], o.detail["stderr_truncated"])
	}
}

func TestExecTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name      string
		script    string
		grace     time.Duration
		signal    string
		err       string
		minTime   time.Duration
		maxTime   time.Duration
		grandkids bool
	}{
		// SIGTERM ends it at once: the grace is not waited for.
		{"stops on SIGTERM", "sleep 30", 5 * time.Second, "SIGTERM",
			"command timed out after 300ms; stopped by SIGTERM", timeout, timeout + 2*time.Second, false},
		{"ignores SIGTERM", "trap '' TERM; sleep 30", 300 * time.Millisecond, "SIGKILL",
			"command timed out after 300ms; killed by SIGKILL after ignoring SIGTERM for kill_grace 300ms",
			timeout + 300*time.Millisecond, timeout + 300*time.Millisecond + 2*time.Second, false},
		{"exits on SIGTERM", "trap 'exit 7' TERM; sleep 30 & wait", 5 * time.Second, "",
			"command timed out after 300ms; exited with code 7 on SIGTERM", timeout, timeout + 2*time.Second, false},
		// The child dies on SIGTERM, a grandchild that ignores it holds
		// the pipes: the run ends at the grace, the grandchild is killed.
		{"grandchild holds the pipes", `(trap '' TERM; exec sleep 30) & echo $!; sleep 30`, 300 * time.Millisecond, "SIGTERM",
			"command timed out after 300ms; stopped by SIGTERM",
			timeout + 300*time.Millisecond, timeout + 300*time.Millisecond + 2*time.Second, true},
		{"grandchild dies with the group", `sleep 30 & echo $!; wait`, 5 * time.Second, "SIGTERM",
			"command timed out after 300ms; stopped by SIGTERM", timeout, timeout + 2*time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := runExec(t, probe.ExecSpec{Command: sh(tt.script), KillGrace: tt.grace}, timeout)
			o.want(t, fanout.StateTimeout, fanout.ReasonTimeout)
			if !sameBudget(o.err.Error(), tt.err) {
				t.Errorf("error %q, want %q", o.err, tt.err)
			}
			if o.elapsed < tt.minTime || o.elapsed > tt.maxTime {
				t.Errorf("took %v, want %v to %v", o.elapsed, tt.minTime, tt.maxTime)
			}
			if tt.signal != "" && o.detail["signal"] != tt.signal {
				t.Errorf("signal %v, want %s (detail %v)", o.detail["signal"], tt.signal, o.detail)
			}
			if tt.grandkids {
				out, _ := o.detail["stdout"].(string)
				pid, err := strconv.Atoi(strings.TrimSpace(out))
				if err != nil {
					t.Fatalf("no grandchild pid in stdout %q", out)
				}
				if alive(pid) {
					t.Errorf("grandchild %d still running", pid)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
	}
}

// A child that exits at once but leaves a grandchild holding its output
// open does not hang the run: the pipes are closed after kill_grace and
// the grandchild is killed with the group.
func TestExecLeftoverHoldsPipes(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	o := runExec(t, probe.ExecSpec{Command: sh(`sleep 30 & echo $!`), KillGrace: grace}, 10*time.Second)
	o.want(t, fanout.StateOK, fanout.ReasonNone)
	if o.elapsed < grace || o.elapsed > grace+2*time.Second {
		t.Errorf("took %v, want about %v", o.elapsed, grace)
	}
	if o.detail["pipes_held"] != true {
		t.Errorf("pipes_held %v", o.detail["pipes_held"])
	}
	wantGone(t, o.detail, "stdout")
}

// A background process that lets go of the pipes is killed too when the
// command ends: a check leaves nothing running.
func TestExecLeavesNothing(t *testing.T) {
	t.Parallel()
	o := runExec(t, probe.ExecSpec{Command: sh(`sleep 30 >/dev/null 2>&1 & echo $! >&2`), KillGrace: 5 * time.Second}, 10*time.Second)
	o.want(t, fanout.StateOK, fanout.ReasonNone)
	if o.elapsed > 4*time.Second || o.detail["pipes_held"] != nil {
		t.Errorf("took %v (detail %v)", o.elapsed, o.detail)
	}
	wantGone(t, o.detail, "stderr")
}

// wantGone checks that the process whose pid the command printed on
// stream is no longer running (and kills it if it is).
func wantGone(t *testing.T, detail probe.Detail, stream string) {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(detail[stream].(string)))
	if err != nil {
		t.Fatalf("%s %q", stream, detail[stream])
	}
	if alive(pid) {
		t.Errorf("process %d left running", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func TestExecCancelled(t *testing.T) {
	t.Parallel()
	c := execCheck(t, probe.ExecSpec{Command: sh("sleep 30")})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	d, err := c.Run(ctx, newEnv(t, probe.Options{}))
	if state, reason := fanout.Classify(err); state != fanout.StateError || reason != fanout.ReasonCancelled {
		t.Errorf("got %s/%s (%v), want error/cancelled", state, reason, err)
	}
	if pid, ok := d["pid"].(int); ok {
		groupGone(t, pid)
	}
}

func TestExecBuild(t *testing.T) {
	c := execCheck(t, probe.ExecSpec{Command: []string{"df", "-P", "/"}})
	if c.Kind() != "exec" || c.Host() != "exec" {
		t.Errorf("kind %q host %q", c.Kind(), c.Host())
	}
	e := c.(*probe.Exec)
	if e.KillGrace != probe.DefaultKillGrace || e.ExitCode != 0 || e.Stdout != nil || e.Env != nil {
		t.Errorf("defaults: %+v", e)
	}
	s, ok := probe.NewSpec("exec")
	if _, isExec := s.(*probe.ExecSpec); !ok || !isExec {
		t.Errorf("NewSpec(exec) = %T, %v", s, ok)
	}
	if _, err := s.Build(mustURL(t, "exec://x")); err == nil || err.Error() != "an exec check takes no target" {
		t.Errorf("Build(url) = %v", err)
	}

	cmd := []string{"true"}
	tests := []struct {
		spec   probe.ExecSpec
		path   []string
		offset int
		err    string
	}{
		{probe.ExecSpec{}, []string{"command"}, 0,
			"command: command is required: the program and its arguments, as a list"},
		{probe.ExecSpec{Command: []string{""}}, []string{"command", "0"}, 0, "command.0: the program name is empty"},
		{probe.ExecSpec{Command: []string{"echo", "a", "b\x00"}}, []string{"command", "2"}, 0, "command.2: contains a NUL byte"},
		{probe.ExecSpec{Command: cmd, ExitCode: 256}, []string{"exit_code"}, 0,
			"exit_code: exit code 256 out of range (0 to 255)"},
		{probe.ExecSpec{Command: cmd, ExitCode: -1}, []string{"exit_code"}, 0,
			"exit_code: exit code -1 out of range (0 to 255)"},
		{probe.ExecSpec{Command: cmd, StdoutRegex: "ok ab["}, []string{"stdout_regex"}, 6,
			"stdout_regex: error parsing regexp: missing closing ]: `[`"},
		{probe.ExecSpec{Command: cmd, StderrRegex: `x\qy`}, []string{"stderr_regex"}, 2,
			"stderr_regex: error parsing regexp: invalid escape sequence: `\\q`"},
		{probe.ExecSpec{Command: cmd, StdoutRegex: `(?<name`}, []string{"stdout_regex"}, 1,
			"stdout_regex: error parsing regexp: invalid named capture: `(?<name`"},
		{probe.ExecSpec{Command: cmd, Dir: "a\x00b"}, []string{"dir"}, 0, "dir: contains a NUL byte"},
		{probe.ExecSpec{Command: cmd, Env: map[string]string{"A=B": "x"}}, []string{"env", "A=B"}, 0,
			`env.A=B: variable name "A=B" contains '=' or a NUL byte`},
		{probe.ExecSpec{Command: cmd, Env: map[string]string{"": "x"}}, []string{"env", ""}, 0,
			"env.: empty variable name"},
		{probe.ExecSpec{Command: cmd, Env: map[string]string{"TOKEN": "se\x00cret"}}, []string{"env", "TOKEN"}, 0,
			"env.TOKEN: value contains a NUL byte"},
		{probe.ExecSpec{Command: cmd, KillGrace: -time.Second}, []string{"kill_grace"}, 0,
			"kill_grace: kill_grace -1s is negative"},
		{probe.ExecSpec{Command: cmd, KillGrace: 2 * time.Minute}, []string{"kill_grace"}, 0,
			"kill_grace: kill_grace 2m0s is more than 1m0s"},
	}
	for _, tt := range tests {
		_, err := (&tt.spec).Build(nil)
		var fe *probe.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("Build(%+v) = %v, want a FieldError", tt.spec, err)
			continue
		}
		if !reflect.DeepEqual(fe.Path, tt.path) || fe.Offset != tt.offset || err.Error() != tt.err {
			t.Errorf("Build(%+v) = path %q offset %d %q, want %q %d %q",
				tt.spec, fe.Path, fe.Offset, err, tt.path, tt.offset, tt.err)
		}
	}
}

// Env.KillCommands kills what a check's kill_grace would still let run: the
// way out for a process that must exit before the grace is over. Not
// parallel: it kills every command its Env started.
func TestExecKillCommands(t *testing.T) {
	c := execCheck(t, probe.ExecSpec{Command: sh("trap '' TERM; sleep 30"), KillGrace: time.Minute})
	env := newEnv(t, probe.Options{})
	done := make(chan outcome, 1)
	go func() { done <- run(t, c, env, time.Minute) }()
	timeout := time.After(5 * time.Second)
	killed := 0
	for {
		select {
		case o := <-done:
			o.want(t, fanout.StateFail, fanout.ReasonExitCode)
			if o.err.Error() != "killed by SIGKILL, want exit code 0" || o.detail["signal"] != "SIGKILL" {
				t.Errorf("error %q, detail %v", o.err, o.detail)
			}
			if killed == 0 {
				t.Error("KillCommands never found the command")
			}
			groupGone(t, o.detail["pid"].(int))
			if n := env.KillCommands(); n != 0 {
				t.Errorf("KillCommands() = %d after the check ended", n)
			}
			return
		case <-timeout:
			t.Fatal("the check still runs 5s after KillCommands")
		case <-time.After(20 * time.Millisecond):
			killed += env.KillCommands()
		}
	}
}
