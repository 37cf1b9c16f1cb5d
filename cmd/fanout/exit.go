package main

import (
	"errors"
	"fmt"
)

// Exit statuses (DESIGN.md, "Exit status").
const (
	exitOK          = 0   // every target ok
	exitNotOK       = 1   // every target ran, at least one is not ok
	exitUsage       = 2   // bad invocation or config; nothing was run
	exitIncomplete  = 3   // the deadline came before every target finished
	exitInterrupted = 130 // SIGINT
	exitTerminated  = 143 // SIGTERM
)

// usageError is a bad invocation: reported on one line, exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitStatus carries a status out of a command that ran.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// statusOf maps a command's error to the process's exit status.
func statusOf(err error) int {
	var st exitStatus
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &st):
		return int(st)
	default:
		return exitUsage
	}
}
