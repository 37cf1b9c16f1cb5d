// Command fanout fans out ops checks — HTTP, TCP and more — concurrently
// and safely: bounded global and per-host concurrency, a timeout per
// attempt and a deadline for the run, one result per target, streamed.
//
// This package is the thin shell: flags → config → engine → report. It is
// the only place that reads os.Args, the environment and signals, and the
// only one that exits.
package main

import (
	"context"
	"io"
	"os"
	"runtime/debug"

	"google.golang.org/grpc/grpclog"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	// grpc-go logs to stderr by default; fanout reports gRPC failures in
	// its results, and stderr is for fanout's own words.
	grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard))
	os.Exit(run(context.Background(), os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}))
}

// versionString is the version the binary reports and sends as User-Agent.
func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
