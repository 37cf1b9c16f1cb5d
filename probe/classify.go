package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"time"

	"github.com/fanout-dev/fanout"
)

// phase is where an attempt was when it failed.
type phase int

const (
	phaseDial    phase = iota // no connection yet: resolving, connecting, TLS handshake
	phaseHeaders              // connected, awaiting the response headers
	phaseBody                 // reading the response body
)

// described shows an error by a message of its own and keeps it in the
// chain for errors.Is and errors.As. The wrapped error's own text must not
// be shown: net/http puts the request URL, secrets included, into its
// errors.
type described struct {
	msg string
	err error
}

func (e *described) Error() string { return e.msg }
func (e *described) Unwrap() error { return e.err }

func classed(state fanout.State, reason fanout.Reason, msg string, err error) error {
	return &fanout.Error{State: state, Reason: reason, Err: &described{msg: msg, err: err}}
}

// classify turns err, met in phase p (and, for phaseDial, the stage named
// by [phases.dialStage]) of an attempt under ctx that started at start,
// into a [*fanout.Error] with the state and reason of DESIGN.md's table.
// timeout is the configured attempt timeout, which messages quote.
func classify(ctx context.Context, err error, p phase, stage string, start time.Time, timeout time.Duration) error {
	var fe *fanout.Error
	if errors.As(err, &fe) {
		return err
	}
	err = unwrapURL(err)
	var dnsErr *net.DNSError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return classed(fanout.StateError, fanout.ReasonCancelled, "attempt cancelled", err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return timedOut(err, p, stage, budget(ctx, start, timeout))
	case outOfDescriptors(err):
		// Before the catch-alls below (a dial's unknown error is
		// "refused", one in the tls stage "tls"): this machine's
		// problem, not the target's.
		return classed(fanout.StateError, fanout.ReasonLocalResources, describe(err), err)
	case p == phaseDial && errors.As(err, &dnsErr):
		// Also a resolver that timed out on its own: the name could
		// not be resolved.
		return lookupFailed(dnsErr, err)
	case isTimeout(err):
		// A dial, handshake or header timeout of the Env: they equal
		// the attempt timeout and may fire a hair before its context.
		return timedOut(err, p, stage, budget(ctx, start, timeout))
	case p == phaseDial && stage == "tls":
		// Also a connection closed or reset during the handshake.
		return classed(fanout.StateError, fanout.ReasonTLS, describe(err), err)
	}
	state, reason := fanout.Classify(err)
	if reason == fanout.ReasonOther {
		state, reason = fanout.StateError, nearestReason(p)
	}
	return classed(state, reason, describe(err), err)
}

// lookupFailed classes a failed name lookup as dns, unless this process
// is out of descriptors: Go's resolver does not pass on its failure to
// open /etc/hosts, resolv.conf or a socket, and then answers "no such
// host" for every name.
func lookupFailed(dnsErr *net.DNSError, err error) error {
	if openErr := descriptorsExhausted(); openErr != nil {
		return classed(fanout.StateError, fanout.ReasonLocalResources,
			fmt.Sprintf("lookup %s: too many open files", dnsErr.Name), errors.Join(err, openErr))
	}
	return classed(fanout.StateError, fanout.ReasonDNS, dnsErr.Error(), err)
}

// descriptorsExhausted returns the error of opening one more descriptor
// if it is EMFILE or ENFILE, else nil.
func descriptorsExhausted() error {
	f, err := os.Open(os.DevNull)
	if err != nil {
		if outOfDescriptors(err) {
			return err
		}
		return nil
	}
	f.Close()
	return nil
}

// outOfDescriptors reports whether err says the process (EMFILE) or the
// system (ENFILE) has no descriptor left.
func outOfDescriptors(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// nearestReason is the reason of an error no rule recognises (no route to
// host, a malformed response, a proxy's refusal), as the reason list is
// closed: before a connection the target could not be reached (refused),
// after it no complete response came back (reset).
func nearestReason(p phase) fanout.Reason {
	if p == phaseDial {
		return fanout.ReasonRefused
	}
	return fanout.ReasonReset
}

// timedOut classes a timeout by phase: before a connection it is
// connect_timeout, after it timeout.
func timedOut(err error, p phase, stage string, after time.Duration) error {
	switch p {
	case phaseHeaders:
		return classed(fanout.StateTimeout, fanout.ReasonTimeout,
			fmt.Sprintf("timeout awaiting response headers after %s", after), err)
	case phaseBody:
		return classed(fanout.StateTimeout, fanout.ReasonTimeout,
			fmt.Sprintf("timeout reading body after %s", after), err)
	}
	what := "connecting"
	switch stage {
	case "dns":
		what = "resolving host"
	case "tls":
		what = "in tls handshake"
	}
	return classed(fanout.StateTimeout, fanout.ReasonConnectTimeout,
		fmt.Sprintf("timeout %s after %s", what, after), err)
}

// timedOutDoing returns the timeout/timeout error of an attempt that ran
// out of time while doing what ("timeout <what> after <budget><tail>"),
// once connected, or nil if err is no timeout or the attempt was cancelled.
func timedOutDoing(ctx context.Context, err error, what, tail string, start time.Time, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.Canceled) || (ctx.Err() == nil && !isTimeout(err)) {
		return nil
	}
	return classed(fanout.StateTimeout, fanout.ReasonTimeout,
		fmt.Sprintf("timeout %s after %s%s", what, budget(ctx, start, timeout), tail), err)
}

// budget is the time the attempt had, as messages quote it: the configured
// timeout, or less when the run's deadline cut the attempt's context short.
func budget(ctx context.Context, start time.Time, timeout time.Duration) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		if left := deadline.Sub(start); left < timeout-timeout/20 {
			return max(left, 0).Round(time.Millisecond)
		}
	}
	return timeout
}

// unwrapURL strips the *url.Error net/http wraps around its errors: its
// text holds the URL.
func unwrapURL(err error) error {
	var ue *url.Error
	for errors.As(err, &ue) {
		err = ue.Err
	}
	return err
}

// describe says what went wrong without addresses or URLs: "connect:
// connection refused", "read: connection reset by peer".
func describe(err error) string {
	var sysErr *os.SyscallError
	var opErr *net.OpError
	switch {
	case errors.As(err, &sysErr):
		return sysErr.Error()
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before the end of the response (unexpected EOF)"
	case errors.Is(err, io.EOF):
		return "connection closed before a complete response (EOF)"
	case errors.As(err, &opErr) && opErr.Err != nil:
		return opErr.Op + ": " + opErr.Err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
