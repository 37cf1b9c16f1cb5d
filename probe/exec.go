package probe

import (
	"errors"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fanout-dev/fanout"
)

// The exec kind's defaults and bounds.
const (
	// DefaultKillGrace is how long a command has to exit after SIGTERM
	// before its process group gets SIGKILL.
	DefaultKillGrace = 2 * time.Second
	// MaxKillGrace bounds kill_grace: a command must not outlive its
	// attempt by more.
	MaxKillGrace = time.Minute
	// ExecOutputCap is how much of the end of stdout and of stderr is
	// kept, seen by the regexes and reported.
	ExecOutputCap = 64 << 10
)

// Exec runs a command (no shell) and checks its exit code and output.
type Exec struct {
	// Command is the program and its arguments.
	Command []string
	// ExitCode is the exit code wanted.
	ExitCode int
	// Stdout and Stderr, if not nil, must match the kept tail of the
	// stream.
	Stdout, Stderr *regexp.Regexp
	// Dir is the working directory ("": fanout's).
	Dir string
	// Env holds "NAME=value" entries added to fanout's environment.
	Env []string
	// KillGrace is the time between SIGTERM and SIGKILL at the timeout.
	KillGrace time.Duration
}

var _ Check = (*Exec)(nil)

// ExecSpec is the `exec:` block of a YAML check.
type ExecSpec struct {
	// Command is the program and its arguments, run without a shell
	// (required). A program name without a slash is looked up in PATH.
	Command []string `yaml:"command"`
	// ExitCode is the exit code wanted (default 0), 0 to 255.
	ExitCode int `yaml:"exit_code"`
	// StdoutRegex and StderrRegex (RE2 syntax) must match somewhere in
	// the last 64 KiB of the stream; a mismatch fails the check.
	StdoutRegex string `yaml:"stdout_regex"`
	StderrRegex string `yaml:"stderr_regex"`
	// Dir is the working directory (default: fanout's).
	Dir string `yaml:"dir"`
	// Env holds variables added to fanout's environment (overriding
	// those of the same name).
	Env map[string]string `yaml:"env"`
	// KillGrace is how long the command has to exit after SIGTERM at its
	// timeout before its process group is killed (default 2s, at most
	// 1m).
	KillGrace time.Duration `yaml:"kill_grace"`
}

func newExecSpec() Spec { return &ExecSpec{} }

// Build returns the exec check of the block. target must be nil: an exec
// check has none.
func (s *ExecSpec) Build(u *url.URL) (Check, error) {
	if u != nil {
		return nil, errors.New("an exec check takes no target")
	}
	if len(s.Command) == 0 {
		return nil, fieldErrf([]string{"command"}, "command is required: the program and its arguments, as a list")
	}
	if s.Command[0] == "" {
		return nil, fieldErrf([]string{"command", "0"}, "the program name is empty")
	}
	for i, arg := range s.Command {
		if strings.IndexByte(arg, 0) >= 0 {
			return nil, fieldErrf([]string{"command", strconv.Itoa(i)}, "contains a NUL byte")
		}
	}
	if s.ExitCode < 0 || s.ExitCode > 255 {
		return nil, fieldErrf([]string{"exit_code"}, "exit code %d out of range (0 to 255)", s.ExitCode)
	}
	c := &Exec{
		Command:   append([]string(nil), s.Command...),
		ExitCode:  s.ExitCode,
		Dir:       s.Dir,
		KillGrace: s.KillGrace,
	}
	var err error
	if c.Stdout, err = compileRegex(s.StdoutRegex, "stdout_regex"); err != nil {
		return nil, err
	}
	if c.Stderr, err = compileRegex(s.StderrRegex, "stderr_regex"); err != nil {
		return nil, err
	}
	if strings.IndexByte(s.Dir, 0) >= 0 {
		return nil, fieldErrf([]string{"dir"}, "contains a NUL byte")
	}
	names := make([]string, 0, len(s.Env))
	for name := range s.Env {
		names = append(names, name)
	}
	// Sorted: the same config gives the same environment, and the first
	// bad name reported is always the same.
	slices.Sort(names)
	for _, name := range names {
		value := s.Env[name]
		switch {
		case name == "":
			return nil, fieldErrf([]string{"env", name}, "empty variable name")
		case strings.ContainsAny(name, "=\x00"):
			return nil, fieldErrf([]string{"env", name}, "variable name %q contains '=' or a NUL byte", name)
		case strings.IndexByte(value, 0) >= 0:
			// The value may be a secret: never echo it.
			return nil, fieldErrf([]string{"env", name}, "value contains a NUL byte")
		}
		c.Env = append(c.Env, name+"="+value)
	}
	switch {
	case s.KillGrace < 0:
		return nil, fieldErrf([]string{"kill_grace"}, "kill_grace %s is negative", s.KillGrace)
	case s.KillGrace > MaxKillGrace:
		return nil, fieldErrf([]string{"kill_grace"}, "kill_grace %s is more than %s", s.KillGrace, MaxKillGrace)
	case s.KillGrace == 0:
		c.KillGrace = DefaultKillGrace
	}
	return c, nil
}

// compileRegex compiles a non-empty RE2 pattern; a syntax error is a
// *FieldError whose Offset points at the offending part when it can be
// found in the pattern.
func compileRegex(pattern, field string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, nil
	}
	re, err := regexp.Compile(pattern)
	if err == nil {
		return re, nil
	}
	fe := fieldErr(err, field)
	var se *syntax.Error
	if errors.As(err, &se) && se.Expr != "" {
		if i := strings.Index(pattern, se.Expr); i >= 0 {
			fe.Offset = i + 1
		}
	}
	return nil, fe
}

// Kind returns "exec".
func (e *Exec) Kind() string { return "exec" }

// ExecHost is the host of every exec check: this machine. Its checks
// share one limit (fanout sets it to 2 × CPUs), and it never throttles.
const ExecHost = "exec"

// Host returns ExecHost: all exec checks share one host, whose limit the
// engine sets.
func (e *Exec) Host() string { return ExecHost }

// String is the command line, as reports show it in place of a target:
// arguments with spaces or quotes are quoted.
func (e *Exec) String() string {
	parts := make([]string, len(e.Command))
	for i, a := range e.Command {
		parts[i] = a
		if a == "" || strings.ContainsAny(a, " \t\"'\\$") {
			parts[i] = strconv.Quote(a)
		}
	}
	return strings.Join(parts, " ")
}

// outcome judges a command that ran to its end: exit code, then stdout,
// then stderr. signal is the signal that killed it ("" if it exited).
func (e *Exec) outcome(exitCode int, signal string, stdout, stderr string) error {
	switch {
	case signal != "":
		return fanout.Failf(fanout.ReasonExitCode, "killed by %s, want exit code %d", signal, e.ExitCode)
	case exitCode != e.ExitCode:
		return fanout.Failf(fanout.ReasonExitCode, "exit code %d, want %d", exitCode, e.ExitCode)
	case e.Stdout != nil && !e.Stdout.MatchString(stdout):
		return fanout.Failf(fanout.ReasonCondition, "stdout does not match /%s/", e.Stdout)
	case e.Stderr != nil && !e.Stderr.MatchString(stderr):
		return fanout.Failf(fanout.ReasonCondition, "stderr does not match /%s/", e.Stderr)
	}
	return nil
}

// tailBuffer keeps the last cap bytes written to it. It is safe for
// concurrent use.
type tailBuffer struct {
	mu    sync.Mutex
	cap   int
	buf   []byte // the tail is buf[len(buf)-cap:] once full
	total int64
}

func newTailBuffer(n int) *tailBuffer { return &tailBuffer{cap: n} }

// Write keeps the end of p; it never fails.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	if len(p) >= t.cap {
		t.buf = append(t.buf[:0], p[len(p)-t.cap:]...)
		return len(p), nil
	}
	if len(t.buf)+len(p) > 2*t.cap {
		// Move the last cap bytes to the front: amortised O(1) a byte,
		// and at most 2×cap bytes held.
		keep := t.buf[len(t.buf)-t.cap:]
		t.buf = append(t.buf[:0], keep...)
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

// String returns the kept tail and whether bytes before it were dropped.
// A tail cut inside a UTF-8 sequence starts after it.
func (t *tailBuffer) String() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.cap {
		b = b[len(b)-t.cap:]
	}
	truncated := t.total > int64(len(b))
	if truncated {
		for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
			b = b[1:]
		}
	}
	return string(b), truncated
}

// addOutput puts the tails of stdout and stderr into d.
func addOutput(d Detail, stdout, stderr *tailBuffer) (string, string) {
	out, outCut := stdout.String()
	errOut, errCut := stderr.String()
	d["stdout"], d["stderr"] = out, errOut
	if outCut {
		d["stdout_truncated"] = true
	}
	if errCut {
		d["stderr_truncated"] = true
	}
	return out, errOut
}
