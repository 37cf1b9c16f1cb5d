// Package probe holds one file per check kind (http.go, tcp.go, ...) and
// what they share (env.go, registry.go). A check performs one attempt
// against one target and returns what it saw; it never sleeps, retries or
// limits: the engine does that. Failures are returned as errors classed with
// [fanout.Error] (or left to [fanout.Classify]) so every failed result
// carries a reason.
package probe

import (
	"context"
)

// Detail holds what a check saw: protocol specifics such as an HTTP status
// or phase timings. It is reported under "detail" and is returned also when
// the check fails.
type Detail map[string]any

// Check is one target, parsed and validated, ready to run.
type Check interface {
	// Kind names the check kind as reports show it: "http", "tcp", ...
	Kind() string
	// Host is the key of every per-host limit: the dialled host:port,
	// lower-case, with the default port filled in.
	Host() string
	// Run performs one attempt. It honours ctx (its deadline is the
	// attempt's timeout) and is safe to call from many goroutines.
	Run(ctx context.Context, env *Env) (Detail, error)
}
