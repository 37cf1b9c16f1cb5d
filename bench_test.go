package fanout_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/fanout-dev/fanout"
)

// BenchmarkRunNoop measures the engine's own cost per task: a no-op task
// spread over 100 keys, so the figure is dispatch, bookkeeping, the attempt
// goroutine and the result, not the work. The keys do not ramp (NoRamp):
// the ramp is a fixed 0.33 s of pacing per key, not a cost per task.
func BenchmarkRunNoop(b *testing.B) {
	for _, order := range []struct {
		name  string
		order fanout.Order
	}{{"completion", fanout.CompletionOrder}, {"input", fanout.InputOrder}} {
		b.Run(order.name, func(b *testing.B) {
			tasks := make([]fanout.Task[int], b.N)
			noop := func(context.Context) (int, error) { return 1, nil }
			for i := range tasks {
				tasks[i] = fanout.Task[int]{Key: fmt.Sprint("host", i%100), Do: noop}
			}
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			noRamp := fanout.KeyLimits(func(string) fanout.Limits { return fanout.Limits{NoRamp: true} })
			for range fanout.Run(context.Background(), tasks, fanout.WithOrder(order.order), noRamp) {
				n++
			}
			if n != b.N {
				b.Fatalf("%d results for %d tasks", n, b.N)
			}
		})
	}
}
