package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// interrupted is the cause of a run cancelled by a signal.
type interrupted struct{ sig os.Signal }

func (i interrupted) Error() string { return "interrupted by " + signalName(i.sig) }

func signalName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// withSignals returns a context that the first SIGINT or SIGTERM cancels,
// so the run ends with a partial report. A second signal calls atExit and
// exits at once.
func withSignals(parent context.Context, atExit func()) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case sig := <-signals:
			cancel(interrupted{sig})
		case <-quit:
			return
		}
		select {
		case sig := <-signals:
			fmt.Fprintf(os.Stderr, "\nfanout: %s again: exiting at once\n", signalName(sig))
			atExit()
			os.Exit(exitCodeFor(sig))
		case <-quit:
		}
	}()
	return ctx, func() {
		signal.Stop(signals)
		close(quit)
		<-done
		cancel(nil)
	}
}

func exitCodeFor(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}

// interruption returns the signal that cancelled ctx, if one did.
func interruption(ctx context.Context) os.Signal {
	var in interrupted
	if errors.As(context.Cause(ctx), &in) {
		return in.sig
	}
	return nil
}
