//go:build !unix

package probe

import (
	"context"
	"errors"

	"github.com/fanout-dev/fanout"
)

// errExecNeedsUnix is the outcome of every exec check off Unix: process
// groups and their signals are what make a timeout safe.
var errExecNeedsUnix = errors.New("exec checks need a Unix system")

// Run fails with error/spawn: exec checks need a Unix system.
func (e *Exec) Run(context.Context, *Env) (Detail, error) {
	return nil, classed(fanout.StateError, fanout.ReasonSpawn, errExecNeedsUnix.Error(), errExecNeedsUnix)
}

// KillCommands does nothing off Unix, where no command runs; it returns 0.
func (e *Env) KillCommands() int { return 0 }
