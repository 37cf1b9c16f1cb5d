package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// TableOptions tunes WriteTable.
type TableOptions struct {
	// All shows every row; by default only the rows that are not ok.
	All bool
	// Color paints the STATE column with ANSI colours.
	Color bool
}

// WriteTable writes the human report: a header and one aligned row per
// result (only the non-ok ones unless o.All), failures first in the order
// fail, error, timeout, not_run, then ok, keeping the given order within a
// state; then a blank line and the SummaryLine. With no row to show, only
// the summary line is written. Text from targets is made single-line and
// stripped of control characters, so it cannot break the table or the
// terminal.
func WriteTable(w io.Writer, records []Record, s Summary, o TableOptions) error {
	var b strings.Builder
	if rows := tableRows(records, o.All); len(rows) > 0 {
		writeAligned(&b, tableColumns(), tableCells(rows, o.Color))
		b.WriteByte('\n')
	}
	b.WriteString(SummaryLine(s))
	b.WriteByte('\n')
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("report: writing the table: %w", err)
	}
	return nil
}

// stateRank orders states in the table: failures first, ok last, any
// unknown state just before ok.
func stateRank(state string) int {
	switch state {
	case stateFail:
		return 0
	case stateError:
		return 1
	case stateTimeout:
		return 2
	case stateNotRun:
		return 3
	case stateOK:
		return 5
	}
	return 4
}

// tableRows selects the records to show and sorts them by state, stably.
func tableRows(records []Record, all bool) []Record {
	rows := make([]Record, 0, len(records))
	for _, r := range records {
		if all || r.State != stateOK {
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b Record) int {
		return cmp.Compare(stateRank(a.State), stateRank(b.State))
	})
	return rows
}

// column is one column of an aligned table.
type column struct {
	title string
	right bool // right-aligned (numbers)
}

// cell is one table cell: its visible text and the colour it is painted
// with ("" for none).
type cell struct {
	text  string
	color string
}

// tableColumns are the columns of the human table.
func tableColumns() []column {
	return []column{{title: "STATE"}, {title: "REASON"}, {title: "TARGET"}, {title: "DURATION", right: true}, {title: "ERROR"}}
}

// tableCells renders the rows into cells, one slice per row, in the order
// of tableColumns.
func tableCells(rows []Record, color bool) [][]cell {
	out := make([][]cell, len(rows))
	for i, r := range rows {
		state := cell{text: sanitize(r.State)}
		if color {
			state.color = stateColor(r.State)
		}
		out[i] = []cell{state, {text: sanitize(r.Reason)}, {text: targetText(r)}, {text: durationText(r)}, {text: errorText(r)}}
	}
	return out
}

// targetText is the TARGET cell: the target, or "name (target)" when the
// check has a name of its own.
func targetText(r Record) string {
	t := r.Target
	switch {
	case r.Name == "" || r.Name == r.Target:
	case r.Target == "":
		t = r.Name
	default:
		t = r.Name + " (" + r.Target + ")"
	}
	return truncate(sanitize(t), maxCell)
}

// durationText is the DURATION cell: "-" for a target that never started.
func durationText(r Record) string {
	if r.Attempts == 0 && r.StartedAt.IsZero() {
		return "-"
	}
	return humanDuration(r.Duration)
}

// errorText is the ERROR cell: the error, or a few words of detail when
// there is none ("status 503").
func errorText(r Record) string {
	e := r.Error
	if e == "" {
		e = shortDetail(r.Detail, r.State != stateOK)
	}
	return truncate(sanitize(e), maxCell)
}

// writeAligned writes a header and rows with columns two spaces apart.
// Widths are measured on the visible text and padding is added outside the
// colour codes, so colour never breaks the alignment. Lines carry no
// trailing spaces.
func writeAligned(b *strings.Builder, cols []column, rows [][]cell) {
	widths := make([]int, len(cols))
	header := make([]cell, len(cols))
	for i, c := range cols {
		widths[i] = utf8.RuneCountInString(c.title)
		header[i] = cell{text: c.title}
	}
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	for _, row := range append([][]cell{header}, rows...) {
		writeLine(b, cols, widths, row)
	}
}

// writeLine writes one aligned line of writeAligned.
func writeLine(b *strings.Builder, cols []column, widths []int, row []cell) {
	var line strings.Builder
	for i, c := range row {
		pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text))
		if i > 0 {
			line.WriteString("  ")
		}
		if cols[i].right {
			line.WriteString(pad + paint(c.text, c.color))
		} else {
			line.WriteString(paint(c.text, c.color) + pad)
		}
	}
	b.WriteString(strings.TrimRight(line.String(), " "))
	b.WriteByte('\n')
}
