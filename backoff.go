package fanout

import (
	"math/rand/v2"
	"time"
)

// backoff is the wait before error retry n (n ≥ 1): "full jitter", a
// uniformly random time in [0, min(BackoffCap, BackoffBase × 2^(n-1))], so
// that the retries of many tasks that failed together spread out. It is a
// pure function of n and the random source, so 100,000 tasks need no
// backoff objects (and no library: those sleep inside the caller).
func backoff(n int, rnd *rand.Rand) time.Duration {
	ceiling := BackoffCap
	if n <= 8 {
		ceiling = min(BackoffCap, BackoffBase<<(n-1))
	}
	return time.Duration(rnd.Int64N(int64(ceiling) + 1))
}

// localBackoff is the wait before re-running an attempt that met exhausted
// local resources for the n-th time: short, growing, jittered.
func localBackoff(n int, rnd *rand.Rand) time.Duration {
	ceiling := min(time.Second, 20*time.Millisecond<<min(n-1, 6))
	return ceiling/2 + time.Duration(rnd.Int64N(int64(ceiling/2)+1))
}
