package main

import (
	"context"
	"fmt"
	"strconv"
)

// The figures: 200 targets on 10 hosts that each allow 20 req/s.
const (
	figureHosts = 10
	figureURLs  = 20 // per host
	figureRate  = 20 // req/s per host
)

// figureRow is one client's figures at one burst.
type figureRow struct {
	Burst  int    `json:"burst"`
	Client string `json:"client"`
	// Computed is true for the floor, which is worked out, not measured.
	Computed bool `json:"computed,omitempty"`
	result
}

// runFigures measures every client against fresh hosts, once per burst, and prints a
// table per burst.
func runFigures(ctx context.Context, o options) ([]figureRow, error) {
	var rows []figureRow
	for _, b := range o.figureBursts {
		printFiguresHeader(o, b)
		spec := hostsSpec(figureHosts, figureURLs, figureRate, b)
		for _, c := range []struct {
			name string
			run  client // nil: the floor, worked out rather than measured
		}{
			{"(a) fanout (defaults)", fanoutClient(o.fanout, o.deadline)},
			{"(b) fanout --per-host-rate " + strconv.Itoa(figureRate), fanoutClient(o.fanout, o.deadline, "--per-host-rate", strconv.Itoa(figureRate))},
			{"(c) naive: a goroutine per URL, no retry", naive},
			{"(d) floor: max(U − B, 0)/R per host, hosts in parallel", nil},
			{"(e) sleeps on Retry-After, 8 workers/host", sleeperClient(o.deadline)},
		} {
			row := figureRow{Burst: b, Client: c.name, Computed: c.run == nil, result: floor(b)}
			if c.run != nil {
				res, err := repeat(ctx, o.runs, spec, c.run)
				if err != nil {
					return rows, fmt.Errorf("figures, burst %d, %s: %w", b, c.name, err)
				}
				row.result = res
			}
			printFigureRow(row)
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// floor is the figures' floor at burst b: each host lets its first b requests through at
// once and then one every 1/R, so its URLs need max(U − b, 0)/R seconds; the hosts run in
// parallel. Every target ends ok and no host sends a 429.
func floor(b int) result {
	return result{WallS: float64(max(figureURLs-b, 0)) / figureRate,
		OK: figureHosts * figureURLs, Total: figureHosts * figureURLs, Exits: []int{0}}
}
