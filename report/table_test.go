package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func render(t *testing.T, recs []Record, s Summary, o TableOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTable(&b, recs, s, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestTableColorKeepsAlignment(t *testing.T) {
	recs, s := fixture(), fixtureSummary()
	for _, all := range []bool{false, true} {
		plain := render(t, recs, s, TableOptions{All: all})
		colored := render(t, recs, s, TableOptions{All: all, Color: true})
		if colored == plain || !strings.Contains(colored, "\x1b[") {
			t.Fatalf("All=%v: no colour codes", all)
		}
		if stripped := stripANSI(colored); stripped != plain {
			t.Errorf("All=%v: colour changes the layout\n%s\n---\n%s", all, stripped, plain)
		}
	}
}

func TestTableColumnsAligned(t *testing.T) {
	out := render(t, fixture(), fixtureSummary(), TableOptions{All: true})
	lines := strings.Split(out, "\n")
	header := lines[0]
	for _, col := range []string{"REASON", "TARGET", "ERROR"} {
		at := utf8.RuneCountInString(header[:strings.Index(header, col)])
		for _, line := range lines[1:9] {
			runes := []rune(line)
			if len(runes) > at && (runes[at-1] != ' ' || runes[at-2] != ' ') {
				t.Errorf("column %s not aligned at %d in %q", col, at, line)
			}
		}
	}
	durEnd := strings.Index(header, "DURATION") + len("DURATION")
	for _, line := range lines[1:9] {
		if runes := []rune(line); runes[durEnd-1] == ' ' || (len(runes) > durEnd && runes[durEnd] != ' ') {
			t.Errorf("DURATION not right-aligned in %q", line)
		}
	}
	for _, line := range lines {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing space in %q", line)
		}
	}
}

func TestTableOrderAndFilter(t *testing.T) {
	recs := []Record{
		{Target: "ok1", State: "ok", Attempts: 1},
		{Target: "nr1", State: "not_run"},
		{Target: "to1", State: "timeout", Attempts: 1},
		{Target: "f1", State: "fail", Attempts: 1},
		{Target: "e1", State: "error", Attempts: 1},
		{Target: "f2", State: "fail", Attempts: 1},
		{Target: "ok2", State: "ok", Attempts: 1},
	}
	var order []string
	for _, r := range tableRows(recs, true) {
		order = append(order, r.Target)
	}
	if got := strings.Join(order, " "); got != "f1 f2 e1 to1 nr1 ok1 ok2" {
		t.Errorf("order = %s", got)
	}
	if n := len(tableRows(recs, false)); n != 5 {
		t.Errorf("%d non-ok rows, want 5", n)
	}
	if recs[0].Target != "ok1" {
		t.Error("tableRows reordered its input")
	}
}

func TestTableNoRows(t *testing.T) {
	recs := []Record{{Target: "a", State: "ok", Attempts: 1, Duration: time.Millisecond}}
	s := Summary{Total: 1, OK: 1, WallMS: 1, SumMS: 1}
	if got, want := render(t, recs, s, TableOptions{Color: true}), SummaryLine(s)+"\n"; got != want {
		t.Errorf("got %q, want only the summary line %q", got, want)
	}
	if got := render(t, recs, s, TableOptions{All: true}); !strings.HasPrefix(got, "STATE") {
		t.Errorf("All: %q", got)
	}
}

func TestTableCells(t *testing.T) {
	long := strings.Repeat("x", 300)
	cases := []struct {
		r              Record
		target, errTxt string
	}{
		{Record{Name: "api", Target: "https://a/"}, "api (https://a/)", ""},
		{Record{Name: "https://a/", Target: "https://a/"}, "https://a/", ""},
		{Record{Name: "disk"}, "disk", ""},
		{Record{Target: "t", State: "fail", Detail: map[string]any{"status_code": 503}}, "t", "status 503"},
		{Record{Target: "t", State: "fail", Detail: map[string]any{"matched": false}}, "t", "matched=false"},
		{Record{Target: "t", State: "ok", Detail: map[string]any{"matched": true}}, "t", ""},
		{Record{Target: "t\x1b[2J", State: "error", Error: "line1\nline2\x1b]0;pwned\x07"}, "t?[2J", "line1 line2?]0;pwned?"},
		{Record{Target: "t", State: "error", Error: long}, "t", strings.Repeat("x", 99) + "…"},
	}
	for _, c := range cases {
		if got := targetText(c.r); got != c.target {
			t.Errorf("target of %+v = %q, want %q", c.r, got, c.target)
		}
		if got := errorText(c.r); got != c.errTxt {
			t.Errorf("error of %+v = %q, want %q", c.r, got, c.errTxt)
		}
	}
	if durationText(Record{State: "not_run"}) != "-" || durationText(Record{Attempts: 1, Duration: 1234 * time.Millisecond}) != "1.2s" {
		t.Error("durationText")
	}
}
