//go:build unix

package main

import "syscall"

// descriptorLimit is the soft RLIMIT_NOFILE in force (0 if unknown).
func descriptorLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return rl.Cur
}
