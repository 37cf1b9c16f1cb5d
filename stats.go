package fanout

import (
	"slices"
	"strings"
)

// Stats are a run's counters, filled in when the run ends (see WithStats).
type Stats struct {
	// Retries counts the error retries started.
	Retries int
	// RetryBudget is the most error retries the run could start.
	RetryBudget int
	// RetryBudgetExhausted reports that a retry was not started because
	// the budget was spent.
	RetryBudgetExhausted bool
	// Throttled counts throttled answers; each re-queued its task.
	Throttled int
	// LocalWaits counts attempts that met exhausted local resources (too
	// many open files) and were run again later; they are not attempts.
	LocalWaits int
	// ConcurrencyCap is the lowest the global limit went after local
	// resources ran out (0 if they never did).
	ConcurrencyCap int
	// Keys lists, by key, every key that was throttled or whose limits
	// the engine changed.
	Keys []KeyStats
}

// KeyStats are the counters and limits of one key.
type KeyStats struct {
	Key string
	// Attempts counts the attempts started for the key; Throttled those
	// that were throttled; Cooldowns the pauses of the key.
	Attempts, Throttled, Cooldowns int
	// Concurrency is the configured limit and ConcurrencyEnd the adaptive
	// limit when the run ended.
	Concurrency, ConcurrencyEnd int
	// Rate is the configured rate (0: none) and RateEnd the rate in force
	// when the run ended (0: none), learned if the key throttled.
	Rate, RateEnd float64
}

// ThrottleRate is the share of the key's attempts that were throttled.
func (k KeyStats) ThrottleRate() float64 {
	if k.Attempts == 0 {
		return 0
	}
	return float64(k.Throttled) / float64(k.Attempts)
}

// Dropped reports whether the key's limits ended below what was configured.
func (k KeyStats) Dropped() bool {
	return k.ConcurrencyEnd < k.Concurrency || (k.RateEnd > 0 && (k.Rate == 0 || k.RateEnd < k.Rate))
}

func (r *runner[T]) fillStats() {
	st := r.s.stats
	if st == nil {
		return
	}
	*st = Stats{
		Retries: r.retries, RetryBudget: r.retryBudget, RetryBudgetExhausted: r.budgetExhausted,
		Throttled: r.throttled, LocalWaits: r.localWaits, ConcurrencyCap: r.lowestCap,
	}
	for name, k := range r.keys {
		ks := k.stats(name)
		if ks.Throttled > 0 || ks.Dropped() {
			st.Keys = append(st.Keys, ks)
		}
	}
	slices.SortFunc(st.Keys, func(a, b KeyStats) int { return strings.Compare(a.Key, b.Key) })
}
