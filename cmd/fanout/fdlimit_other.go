//go:build !unix

package main

// descriptorLimit is unknown here: no cap is applied.
func descriptorLimit() uint64 { return 0 }
