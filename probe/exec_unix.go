//go:build unix

package probe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fanout-dev/fanout"
)

// Run starts the command with stdin from /dev/null in a process group of
// its own and waits for it. When ctx is done the group gets SIGTERM, and
// the command KillGrace to exit; then it gets SIGKILL and its stdout and
// stderr pipes are closed, so a grandchild holding them cannot hang the
// attempt. Whatever is left of the group when the command has ended is
// killed with SIGKILL: a check leaves no process behind.
//
// The detail holds pid, duration_ms, exit_code (or signal, when a signal
// ended the command), stdout and stderr (their last 64 KiB, which the
// regexes see), stdout_truncated and stderr_truncated (only when true),
// and pipes_held (only when true: the command exited, but a process it
// left behind held its output open for KillGrace, and its output may be
// incomplete). An unexpected exit code fails with reason exit_code, an
// output that does not match with reason condition; a command killed at
// its timeout is timeout/timeout; one that could not be started is
// error/spawn.
func (e *Exec) Run(ctx context.Context, env *Env) (Detail, error) {
	ctx, cancel := env.bound(ctx)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, e.Command[0], e.Command[1:]...)
	cmd.Dir = e.Dir
	if len(e.Env) > 0 {
		// Environ adds PWD=Dir to fanout's environment; later entries
		// win over earlier ones of the same name.
		cmd.Env = append(cmd.Environ(), e.Env...)
	}
	stdout, stderr := newTailBuffer(ExecOutputCap), newTailBuffer(ExecOutputCap)
	cmd.Stdout, cmd.Stderr = stdout, stderr // Stdin stays nil: /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stopped atomic.Bool // SIGTERM was sent at ctx's end
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		if err == nil {
			stopped.Store(true)
		}
		return err
	}
	// After KillGrace, os/exec kills the command with SIGKILL and closes
	// the pipes; the rest of the group is killed below.
	cmd.WaitDelay = e.KillGrace
	if err := e.checkDir(); err != nil {
		return Detail{"duration_ms": millis(time.Since(start))}, err
	}
	if err := cmd.Start(); err != nil {
		d := Detail{"duration_ms": millis(time.Since(start))}
		return d, e.startError(ctx, err, start, env.quotedTimeout(ctx, start))
	}
	pid := cmd.Process.Pid
	env.groups.add(pid)
	waitErr := cmd.Wait()
	// The group is named after its leader, whose pid cannot be reused as
	// long as the group has a member: this reaches only the command's own
	// leftovers (ESRCH when there are none).
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	env.groups.remove(pid)

	d := Detail{"pid": pid, "duration_ms": millis(time.Since(start))}
	out, errOut := addOutput(d, stdout, stderr)
	ps := cmd.ProcessState
	if ps == nil {
		return d, classed(fanout.StateError, fanout.ReasonSpawn, "waiting for the command: "+waitErr.Error(), waitErr)
	}
	ws, _ := ps.Sys().(syscall.WaitStatus)
	signal := ""
	if ws.Signaled() {
		signal = signalName(ws.Signal())
		d["signal"] = signal
	} else {
		d["exit_code"] = ps.ExitCode()
	}
	if stopped.Load() {
		return d, e.stoppedError(ctx, signal, ps.ExitCode(), start, env.quotedTimeout(ctx, start))
	}
	if errors.Is(waitErr, exec.ErrWaitDelay) {
		d["pipes_held"] = true
	}
	return d, e.outcome(ps.ExitCode(), signal, out, errOut)
}

// KillCommands sends SIGKILL to the process group of every exec check of
// this Env still running, and returns how many there were. A process that
// exits before its command's kill_grace is over would leave them behind
// (they run in groups of their own, so a Ctrl-C at the terminal does not
// reach them): call it on the way out, after the run's deadline and grace.
// The checks concerned then end as killed by SIGKILL.
func (e *Env) KillCommands() int {
	e.groups.mu.Lock()
	defer e.groups.mu.Unlock()
	for pgid := range e.groups.m {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	return len(e.groups.m)
}

// stoppedError is the outcome of a command stopped at ctx's end.
func (e *Exec) stoppedError(ctx context.Context, signal string, exitCode int, start time.Time, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return classed(fanout.StateError, fanout.ReasonCancelled, "attempt cancelled; the command was stopped", ctx.Err())
	}
	msg := fmt.Sprintf("command timed out after %s", budget(ctx, start, timeout))
	switch signal {
	case "SIGTERM":
		msg += "; stopped by SIGTERM"
	case "SIGKILL":
		msg += fmt.Sprintf("; killed by SIGKILL after ignoring SIGTERM for kill_grace %s", e.KillGrace)
	case "":
		msg += fmt.Sprintf("; exited with code %d on SIGTERM", exitCode)
	default:
		msg += "; ended by " + signal + " after SIGTERM"
	}
	return classed(fanout.StateTimeout, fanout.ReasonTimeout, msg, context.DeadlineExceeded)
}

// checkDir fails with error/spawn when Dir is not a directory: the child's
// chdir would fail with an error that names the program, not Dir (os
// checks Dir itself only without SysProcAttr).
func (e *Exec) checkDir() error {
	if e.Dir == "" {
		return nil
	}
	fi, err := os.Stat(e.Dir)
	switch {
	case err != nil:
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return classed(fanout.StateError, fanout.ReasonSpawn,
			fmt.Sprintf("cannot start %q: working directory %s: %v", e.Command[0], e.Dir, err), err)
	case !fi.IsDir():
		return classed(fanout.StateError, fanout.ReasonSpawn,
			fmt.Sprintf("cannot start %q: working directory %s: not a directory", e.Command[0], e.Dir), syscall.ENOTDIR)
	}
	return nil
}

// startError classes an error of Start: the command could not be started.
func (e *Exec) startError(ctx context.Context, err error, start time.Time, timeout time.Duration) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.Canceled) {
			return classed(fanout.StateError, fanout.ReasonCancelled, "attempt cancelled before the command started", err)
		}
		return classed(fanout.StateTimeout, fanout.ReasonTimeout,
			fmt.Sprintf("timed out after %s before the command started", budget(ctx, start, timeout)), err)
	}
	if outOfDescriptors(err) {
		return classed(fanout.StateError, fanout.ReasonLocalResources,
			fmt.Sprintf("cannot start %q: too many open files", e.Command[0]), err)
	}
	var execErr *exec.Error
	var pathErr *fs.PathError
	var msg string
	switch {
	case errors.As(err, &execErr):
		msg = fmt.Sprintf("cannot start %q: %v", execErr.Name, execErr.Err)
	case errors.As(err, &pathErr):
		msg = fmt.Sprintf("cannot start %q: %v", e.Command[0], pathErr.Err)
	default:
		msg = fmt.Sprintf("cannot start %q: %v", e.Command[0], err)
	}
	return classed(fanout.StateError, fanout.ReasonSpawn, msg, err)
}

// signalName names a signal as people write it: "SIGTERM".
func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGILL:
		return "SIGILL"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGBUS:
		return "SIGBUS"
	case syscall.SIGFPE:
		return "SIGFPE"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	case syscall.SIGALRM:
		return "SIGALRM"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return fmt.Sprintf("signal %d (%s)", int(sig), sig)
}
