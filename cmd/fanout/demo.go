package main

import (
	"fmt"
	"time"

	"github.com/fanout-dev/fanout/config"
	"github.com/fanout-dev/fanout/internal/testfarm"
	"github.com/fanout-dev/fanout/report"
	"github.com/spf13/cobra"
)

// The demo farm: 200 services at ~100 ms, a few broken on purpose.
var demoSpec = testfarm.Spec{
	Services: 200, Latency: 100 * time.Millisecond, Jitter: 10 * time.Millisecond,
	SlowLatency: 600 * time.Millisecond,
	Slow:        3, Fail: 3, Hang: 2, Refused: 1, Reset: 1, Seed: 7,
}

func newDemoCmd(io stdio) *cobra.Command {
	var flags runFlags
	var farm bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start a loopback farm of 200 slow services and check them",
		Long: `Start an embedded farm of 200 HTTP services on loopback, each answering in
about 100 ms (a few slow, failing, hanging, refusing or resetting on purpose),
check them all, and show what the same checks would have cost one after another.
Exits 0 when every service behaved as the farm designed it.

With --farm, start instead a farm with a service of every kind (HTTP, TCP,
TLS with a short-lived certificate, DNS, gRPC), print the export lines of its
FANOUT_FARM_… variables and a config that checks them (examples/farm.yaml),
and keep it running until interrupted (then exit 0).`,
		Example: `  fanout demo
  fanout demo --farm     # then, in another shell: eval the exports, and
                         # fanout check --config examples/farm.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.validate(cmd.Flags()); err != nil {
				return err
			}
			if farm {
				return runFarmDemo(cmd.Context(), flags.quiet, io)
			}
			warn(io.err, flags.quiet, fitDescriptors(&flags, descriptorLimit()))
			return runDemo(cmd, &flags, io)
		},
	}
	flags.register(cmd.Flags())
	cmd.Flags().BoolVar(&farm, "farm", false, "run a farm with a service of every kind until interrupted, and print a config that checks it")
	cmd.Flags().Lookup("timeout").DefValue = "1s"
	flags.timeout = time.Second
	// No retries by default, so that the demo ends in about a second: a
	// hanging service would otherwise be tried three times.
	cmd.Flags().Lookup("retries").DefValue = "0"
	flags.retries = 0
	cmd.Flags().Lookup("deadline").DefValue = "30s"
	flags.deadline = 30 * time.Second
	return cmd
}

func runDemo(cmd *cobra.Command, flags *runFlags, io stdio) error {
	farm, err := testfarm.Start(demoSpec)
	if err != nil {
		return fmt.Errorf("starting the demo farm: %w", err)
	}
	defer farm.Close()
	urls := farm.URLs()
	targets := make([]config.Target, len(urls))
	for i, u := range urls {
		if targets[i], err = config.ParseTarget(u, fmt.Sprintf("farm:%d", i+1)); err != nil {
			return err
		}
	}
	if !flags.quiet {
		fmt.Fprintf(io.err, "demo: %d services on loopback, ~%s each; checking with --timeout %s, --retries %d, -c %d, --per-host %d\n",
			len(urls), demoSpec.Latency, flags.timeout, flags.retries, flags.concurrency, flags.perHost)
	}
	judge := demoJudge{farm: farm, timeout: flags.timeout, io: io}
	res := execute(cmd.Context(), targets, 0, flags, io, judge.observe)
	if res.signal != nil {
		return res.status()
	}
	if judge.wrong > 0 {
		return exitStatus(exitNotOK)
	}
	if !flags.quiet {
		fmt.Fprintf(io.err, "demo: all %d services behaved as designed (%d of them broken on purpose)\n", len(urls), judge.broken)
	}
	return nil
}

// demoJudge compares every result with what its service was built to do.
type demoJudge struct {
	farm          *testfarm.Farm
	timeout       time.Duration
	io            stdio
	broken, wrong int
}

func (j *demoJudge) observe(rec report.Record) {
	svc, ok := j.farm.Lookup(rec.Target)
	if !ok {
		j.wrong++
		fmt.Fprintf(j.io.err, "demo: %s is not a farm service\n", rec.Target)
		return
	}
	state, reason := svc.Expect(j.timeout)
	if state != "ok" {
		j.broken++
	}
	if rec.State != state || rec.Reason != reason {
		j.wrong++
		fmt.Fprintf(j.io.err, "demo: %s (%s) ended %s/%s, designed to end %s/%s\n",
			svc.Name, svc.Behaviour, rec.State, rec.Reason, state, reason)
	}
}
