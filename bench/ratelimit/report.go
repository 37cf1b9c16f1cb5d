package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// report is everything measured, as written by -json.
type report struct {
	Grid    []gridRow   `json:"grid,omitempty"`
	Figures []figureRow `json:"figures,omitempty"`
}

// writeJSON writes r to the file named path; nothing if path is "".
func (r report) writeJSON(path string) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printGridHeader explains the grid and prints its column names.
func printGridHeader(o options) {
	fmt.Printf("politeness bar: %d hosts × U URLs, %v latency, token bucket of R req/s and burst B per host, 429 + Retry-After: 1 beyond\n",
		o.hosts, latency)
	fmt.Printf("fanout check -f urls.txt -o json -q --deadline %s [flags]; wall = the fanout process, exec to exit; median of %d run(s)\n",
		o.deadline, o.runs)
	fmt.Printf("floor = (U − B)/R; bar = 1.5 × floor + 1 s; max 429/host = the most 429s one host sent (≤ %d); ok = every target ok\n\n",
		maxPolite429s)
	fmt.Printf("%3s %3s %4s  %-20s %8s %7s %7s %-4s %9s %-4s %9s %-4s %4s %9s  %s\n",
		"R", "B", "U", "fanout flags", "wall", "floor", "bar", "", "max429/h", "", "ok/total", "", "exit", "throttled", "note")
}

// printGridRow prints one row of the grid.
func printGridRow(r gridRow) {
	fmt.Printf("%3d %3d %4d  %-20s %7.2fs %6.2fs %6.2fs %-4s %9d %-4s %9s %-4s %4s %9d  %s\n",
		r.Rate, r.Burst, r.URLs, r.Flags, r.WallS, r.FloorS, r.BarS, pass(r.WallPass), r.MaxRejected, pass(r.Polite),
		fmt.Sprintf("%d/%d", r.OK, r.Total), pass(r.AllOK), r.exits(), r.Throttled, r.Note)
}

// printFiguresHeader explains one set of figures and prints its column names.
func printFiguresHeader(o options, burst int) {
	fmt.Printf("\nfigures: %d targets on %d hosts × %d URLs; each host allows %d req/s, burst %d, 429 + Retry-After: 1 beyond; %v latency; median of %d run(s)\n",
		figureHosts*figureURLs, figureHosts, figureURLs, figureRate, burst, latency, o.runs)
	fmt.Println("wall: fanout = its process, exec to exit; in-process clients = first request to last answer; floor = computed")
	fmt.Printf("%-56s %9s %9s %9s %8s %5s  %s\n", "client", "429s sent", "max/host", "ended ok", "wall", "exit", "note")
}

// printFigureRow prints one client's figures.
func printFigureRow(r figureRow) {
	rejected, perHost, exit := fmt.Sprint(r.Rejected), fmt.Sprint(r.MaxRejected), r.exits()
	if r.Computed {
		rejected, perHost, exit = "0", "0", "-"
	}
	fmt.Printf("%-56s %9s %9s %9s %7.2fs %5s  %s\n", r.Client, rejected, perHost,
		fmt.Sprintf("%d/%d", r.OK, r.Total), r.WallS, exit, r.Note)
}

// pass spells a criterion's outcome.
func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
