package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxPolite429s is the most 429s the bar lets any one host send in a run.
const maxPolite429s = 10

// gridRow is one point of the grid with one set of fanout flags.
type gridRow struct {
	Rate  int    `json:"rate"`
	Burst int    `json:"burst"`
	URLs  int    `json:"urls_per_host"`
	Hosts int    `json:"hosts"`
	Flags string `json:"fanout_flags"`
	// FloorS is (U − B)/R: the time the hosts' buckets need to let U requests through;
	// BarS is 1.5 × FloorS + 1 s.
	FloorS float64 `json:"floor_s"`
	BarS   float64 `json:"bar_s"`
	result
	WallPass   bool `json:"wall_pass"`
	Polite     bool `json:"max_429_pass"`
	AllOK      bool `json:"all_ok"`
	ExitedZero bool `json:"exit_0"`
}

// point is one point of the grid.
type point struct{ rate, burst, urls int }

// gridPoints returns every point: R in rates, B in {1, R/2}, U in urls.
func gridPoints(rates, urls []int) []point {
	var ps []point
	for _, r := range rates {
		bursts := slices.Compact([]int{1, max(r/2, 1)})
		for _, b := range bursts {
			for _, u := range urls {
				ps = append(ps, point{r, b, u})
			}
		}
	}
	return ps
}

// runGrid measures fanout at every point of the grid, with its defaults and with
// --per-host-rate R, and prints each row as it comes.
func runGrid(ctx context.Context, o options) ([]gridRow, error) {
	printGridHeader(o)
	var rows []gridRow
	for _, p := range gridPoints(o.rates, o.urls) {
		spec := hostsSpec(o.hosts, p.urls, p.rate, p.burst)
		for _, extra := range [][]string{nil, {"--per-host-rate", strconv.Itoa(p.rate)}} {
			res, err := repeat(ctx, o.runs, spec, fanoutClient(o.fanout, o.deadline, extra...))
			if err != nil {
				return rows, fmt.Errorf("rate %d, burst %d, %d urls, %s: %w", p.rate, p.burst, p.urls, flagsLabel(extra), err)
			}
			row := judge(p, o.hosts, extra, res)
			printGridRow(row)
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// judge fills in a row's floor, bar and criteria.
func judge(p point, hosts int, extra []string, res result) gridRow {
	floor := float64(max(p.urls-p.burst, 0)) / float64(p.rate)
	row := gridRow{Rate: p.rate, Burst: p.burst, URLs: p.urls, Hosts: hosts, Flags: flagsLabel(extra),
		FloorS: floor, BarS: 1.5*floor + 1, result: res}
	row.WallPass = res.Note == "" && row.WallS <= row.BarS
	row.Polite = res.Note == "" && res.MaxRejected <= maxPolite429s
	row.AllOK = res.Note == "" && res.OK == res.Total
	row.ExitedZero = slices.Equal(res.Exits, []int{0})
	return row
}

// flagsLabel names a set of extra fanout flags for the table.
func flagsLabel(extra []string) string {
	if len(extra) == 0 {
		return "(defaults)"
	}
	return strings.Join(extra, " ")
}
