// Package fanout runs many independent I/O tasks concurrently, safely and
// with every task accounted for exactly once.
//
// It is the engine behind the fanout command, and it is meant to be imported
// on its own for any fan-out: health checks, SDK calls, API pages. A run
// takes a slice of [Task] values and yields one [Result] per task, in
// completion order (the default) or in input order, while it enforces:
//
//   - a global concurrency limit and a per-key limit (for probes the key is
//     the dialled host:port). A task waiting for its key holds no global
//     slot, and keys are served round-robin, so one key with thousands of
//     queued tasks never delays the others (no head-of-line blocking);
//   - a timeout per attempt and a wall-clock deadline for the whole run. At
//     the deadline, tasks not yet started end [StateNotRun], running ones are
//     cancelled, and the run ends within a short grace period even if a task
//     ignores its context;
//   - cancellation from the caller's context (Ctrl-C), with the same
//     guarantees;
//   - a panic inside a task becomes that task's [StateError] result with
//     reason [ReasonPanic]; the run goes on;
//   - rate limits, global ([Rate]) and per key ([KeyRate]), applied before
//     every attempt;
//   - retries of errors worth retrying, after a jittered backoff, only when
//     they can finish before the deadline, within a retry budget for the
//     run ([Retries], [RetryBudget]);
//   - throttles: a task returning a [Throttle] error pauses its key for
//     every task (for the pause it asked, capped) and is re-queued; the key's
//     concurrency and rate then adapt ([Adaptive]);
//   - exhausted descriptors (EMFILE) are waited out, not blamed on a target.
//
// A task waiting for a key, a rate token, a pause or a retry holds no
// slot.
//
// Every result that is not [StateOK] carries a [Reason] class so failures can
// be counted by cause, and the time the task waited for a slot
// ([Result.Queued]), so a slow target can be told apart from a saturated
// fan-out.
//
// # Tasks that ignore their context
//
// The engine never waits for a task forever. A task still running a grace
// period after its attempt timed out is reported [StateTimeout]; one still
// running a grace period after the run's deadline (or cancellation) is
// reported with reason [ReasonDeadline] (or [ReasonCancelled]) and the run
// ends. Such a goroutine cannot be killed in Go: it is abandoned, it keeps
// its concurrency slot while the run lasts (so the limits stay honest about
// the connections it may hold), and when it finally returns its value is
// dropped. It is the one goroutine the engine may leave behind.
package fanout
