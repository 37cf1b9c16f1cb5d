package main

import "fmt"

// descriptorMargin is what the process keeps for its own files: the
// standard streams, the poller, list files, the runtime's pipes.
const descriptorMargin = 32

// fitDescriptors lowers f.concurrency so that the checks fit under limit
// file descriptors (Go raised the soft limit to the hard one at start):
// each running check holds one socket, and the HTTP pool may keep as many
// idle ones. It returns the warning to print once, or "".
func fitDescriptors(f *runFlags, limit uint64) string {
	need := uint64(2*f.concurrency + descriptorMargin)
	if limit == 0 || need <= limit {
		return ""
	}
	fit := max(1, (int(min(limit, 1<<20))-descriptorMargin)/2)
	old := f.concurrency
	f.concurrency = fit
	return fmt.Sprintf("-c %d needs about %d file descriptors but the limit is %d: running with -c %d (raise the limit with ulimit -n)",
		old, need, limit, fit)
}
