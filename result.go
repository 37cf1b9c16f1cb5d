package fanout

import (
	"fmt"
	"time"
)

// State is how a task ended. Every task ends in exactly one state.
type State string

// The states, as they appear in reports.
const (
	StateOK      State = "ok"      // the task succeeded
	StateFail    State = "fail"    // the target answered and a condition failed
	StateError   State = "error"   // the task could not complete
	StateTimeout State = "timeout" // an attempt or the run ran out of time
	StateNotRun  State = "not_run" // the task was never started
)

// Reason classes a result that is not [StateOK], so failures can be counted
// by cause. The list is closed: protocol specifics (an HTTP status, a DNS
// rcode, an exit code) belong in the task's own value.
type Reason string

// The reasons. Which state goes with which reason is listed in DESIGN.md.
const (
	ReasonNone           Reason = ""
	ReasonRefused        Reason = "refused"         // connection refused
	ReasonReset          Reason = "reset"           // connection reset, EOF before a complete answer
	ReasonDNS            Reason = "dns"             // a name could not be resolved while dialling
	ReasonConnectTimeout Reason = "connect_timeout" // the dial did not complete in time
	ReasonTLS            Reason = "tls"             // TLS handshake or verification failed
	ReasonCertExpiry     Reason = "cert_expiry"     // a certificate expires too soon
	ReasonTimeout        Reason = "timeout"         // the attempt timed out after connecting
	ReasonDeadline       Reason = "deadline"        // the run's deadline came first
	ReasonCancelled      Reason = "cancelled"       // the run was cancelled (Ctrl-C)
	ReasonHTTPStatus     Reason = "http_status"     // HTTP status outside the expected set
	ReasonRateLimited    Reason = "rate_limited"    // still throttled when the run had to stop waiting
	ReasonCondition      Reason = "condition"       // any other failed condition
	ReasonExitCode       Reason = "exit_code"       // a command exited with an unexpected code
	ReasonSpawn          Reason = "spawn"           // a command could not be started
	ReasonPanic          Reason = "panic"           // the task panicked
	ReasonLocalResources Reason = "local_resources" // this machine ran out of descriptors
	// ReasonOther is for library tasks whose error the engine cannot class.
	// The probes of the fanout command never produce it.
	ReasonOther Reason = "other"
)

// Result is the one report of one task.
type Result[T any] struct {
	// Index is the task's position in the slice given to Run.
	Index int
	// Key is the task's Key.
	Key string
	// Value is what the last attempt returned, also when it returned an
	// error; the zero value when no attempt ran or the last one was
	// abandoned.
	Value T
	// Err is nil exactly when State is StateOK.
	Err error
	// State and Reason class the outcome; Reason is empty for StateOK.
	State  State
	Reason Reason
	// Attempts counts the attempts started (0 for StateNotRun), error
	// retries and re-queues after throttles included.
	Attempts int
	// Retries counts the error retries among the attempts.
	Retries int
	// Throttled counts the attempts that were throttled (and re-queued).
	Throttled int
	// StartedAt is when the first attempt started; zero if none did.
	StartedAt time.Time
	// Queued is the time the task was ready to run but waited for a global
	// or per-key slot: high values mean the fan-out, not the target, was
	// the bottleneck.
	Queued time.Duration
	// Duration is the time spent in attempts, summed over all of them.
	Duration time.Duration
}

// Error classes a task's failure. A task returns one (possibly wrapped) to
// set its result's State and Reason; other errors are classed by [Classify].
type Error struct {
	State  State
	Reason Reason
	Err    error
	// Throttled marks an answer that asks the client to slow down (an HTTP
	// 429, or a 503 with Retry-After). The engine pauses the task's key for
	// every task, then re-queues this one: a throttle is not a retry.
	Throttled bool
	// RetryAfter is the pause a throttled target asked for; 0 means it
	// gave none, and the key's pause grows with consecutive throttles.
	RetryAfter time.Duration
	// Retryable marks a failure worth retrying (an HTTP 502, say) beyond
	// the network errors the engine retries anyway.
	Retryable bool
}

// Error returns the message of the wrapped error.
func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Reason)
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// Failf returns an error that ends a task in [StateFail] with the given
// reason: the target answered, and the answer was not the expected one.
func Failf(reason Reason, format string, args ...any) error {
	return &Error{State: StateFail, Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Errorf returns an error that ends a task in the given state and reason.
func Errorf(state State, reason Reason, format string, args ...any) error {
	return &Error{State: state, Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Throttle returns the error of an answer that asks the client to slow down
// and to wait retryAfter (0 if it did not say). It ends the task in
// StateFail with ReasonRateLimited only if the task is still throttled when
// its re-queues or the run's deadline run out.
func Throttle(retryAfter time.Duration, err error) error {
	return &Error{State: StateFail, Reason: ReasonRateLimited, Err: err, Throttled: true, RetryAfter: retryAfter}
}

// Retryable marks err as worth retrying, keeping its class.
func Retryable(err error) error {
	state, reason := Classify(err)
	return &Error{State: state, Reason: reason, Err: err, Retryable: true}
}
