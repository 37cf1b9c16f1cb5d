package report

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	cases := map[time.Duration]string{
		0:                         "0ms",
		400 * time.Microsecond:    "0.4ms",
		9940 * time.Microsecond:   "9.9ms",
		9960 * time.Microsecond:   "10ms",
		101300 * time.Microsecond: "101ms",
		999400 * time.Microsecond: "999ms",
		999600 * time.Microsecond: "1.0s",
		1234 * time.Millisecond:   "1.2s",
		99900 * time.Millisecond:  "99.9s",
		125 * time.Second:         "2m05s",
		3723 * time.Second:        "1h02m03s",
	}
	for d, want := range cases {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSanitizeAndTruncate(t *testing.T) {
	if got := sanitize("a\nb\tc\x1b[31md\x00\u009b\xffé"); got != "a b c?[31md???é" {
		t.Errorf("sanitize = %q", got)
	}
	if got := truncate("héllo world", 7); got != "héllo…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("héllo", 5); got != "héllo" {
		t.Errorf("truncate = %q", got)
	}
}

func TestShortDetail(t *testing.T) {
	cases := []struct {
		detail  map[string]any
		generic bool
		want    string
	}{
		{map[string]any{"status_code": 503, "x": 1}, false, "status 503"},
		{map[string]any{"status_code": float64(503)}, false, "status 503"},
		{map[string]any{"exit_code": 2}, false, "exit code 2"},
		{map[string]any{"rcode": "NXDOMAIN"}, false, "rcode NXDOMAIN"},
		{map[string]any{"b": []int{1}, "a": "x"}, false, ""},
		{map[string]any{"b": []int{1}, "a": "x", "c": 1.5}, true, "a=x, b=[1], c=1.5"},
		{nil, true, ""},
	}
	for _, c := range cases {
		if got := shortDetail(c.detail, c.generic); got != c.want {
			t.Errorf("shortDetail(%v, %v) = %q, want %q", c.detail, c.generic, got, c.want)
		}
	}
}
