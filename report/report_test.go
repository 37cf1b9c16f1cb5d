package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start is the fixed start of the fixture run.
var start = time.Date(2026, 11, 30, 10, 0, 0, 123_000_000, time.UTC)

// fixture returns ~8 records covering every state, a redacted target, a
// long error, a detail map and a never-started record.
func fixture() []Record {
	return []Record{
		{
			Name: "api", Target: "https://api.internal/healthz", Kind: "http", Host: "api.internal:443",
			State: "ok", Attempts: 1, StartedAt: start, Queue: 400 * time.Microsecond,
			Duration: 101300 * time.Microsecond, Detail: map[string]any{"status_code": 200},
		},
		{
			Target: "https://user:xxxxx@api.example/health?token=xxxxx", Kind: "http", Host: "api.example:443",
			State: "fail", Reason: "http_status", Attempts: 3, Throttled: 2, StartedAt: start.Add(time.Millisecond),
			Queue: 1234 * time.Microsecond, Duration: 312054 * time.Microsecond,
			Detail: map[string]any{"status_code": 503, "body_truncated": false},
		},
		{
			Target: "db.internal:5432", Kind: "tcp", Host: "db.internal:5432",
			State: "error", Reason: "refused", Error: "dial tcp 10.0.0.7:5432: connect: connection refused",
			Attempts: 3, Retries: 2, StartedAt: start.Add(2 * time.Millisecond), Duration: 3200 * time.Microsecond,
		},
		{
			Name: "search", Target: "https://search.internal/q?a=1&b=<2>", Kind: "http", Host: "search.internal:443",
			State: "timeout", Reason: "timeout", Attempts: 1, StartedAt: start.Add(3 * time.Millisecond),
			Duration: 5 * time.Second,
			Error: "Get \"https://search.internal/q?a=1&b=<2>\": context deadline exceeded (Client.Timeout exceeded while awaiting headers) " +
				"after the server accepted the connection and then said nothing at all for the whole attempt",
		},
		{
			Target: "tls://cert.internal:443", Kind: "tls", Host: "cert.internal:443",
			State: "not_run", Reason: "deadline", Queue: 10 * time.Second,
		},
		{
			Name: "disk", Target: "df -P /", Kind: "exec", Host: "exec",
			State: "fail", Reason: "exit_code", Error: "exit status 1", Attempts: 1,
			StartedAt: start.Add(4 * time.Millisecond), Duration: 12500 * time.Microsecond,
			Detail: map[string]any{"exit_code": 1, "stderr": "df: /: No such file or directory"},
		},
		{
			Name: "dns", Target: "dns://example.org?type=A", Kind: "dns", Host: "system-resolver",
			State: "ok", Attempts: 1, StartedAt: start.Add(5 * time.Millisecond), Duration: 1234 * time.Millisecond,
			Detail: map[string]any{"rcode": "NOERROR", "answers": []string{"93.184.216.34"}},
		},
		{
			Name: "slow", Target: "https://slow.internal/", Kind: "http", Host: "slow.internal:443",
			State: "timeout", Reason: "deadline", Error: "context deadline exceeded", Attempts: 2, Retries: 1,
			StartedAt: start.Add(6 * time.Millisecond), Queue: 2 * time.Second, Duration: 8 * time.Second,
		},
	}
}

// fixtureSummary is the Tally of fixture() over a 10.02 s run with one
// duplicate.
func fixtureSummary() Summary {
	var t Tally
	for _, r := range fixture() {
		t.Add(r)
	}
	return t.Summary(10020*time.Millisecond, 1)
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// ansi matches the colour codes this package writes.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// stripANSI removes colour codes.
func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

// TestGoldens renders every format from the fixture.
func TestGoldens(t *testing.T) {
	recs, sum := fixture(), fixtureSummary()
	cases := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"table.golden", func(b *bytes.Buffer) error { return WriteTable(b, recs, sum, TableOptions{}) }},
		{"table_all.golden", func(b *bytes.Buffer) error { return WriteTable(b, recs, sum, TableOptions{All: true}) }},
		{"table_color.golden", func(b *bytes.Buffer) error { return WriteTable(b, recs, sum, TableOptions{All: true, Color: true}) }},
		{"json.golden", func(b *bytes.Buffer) error { return WriteJSON(b, recs, sum) }},
		{"jsonl.golden", func(b *bytes.Buffer) error {
			j := NewJSONL(b)
			for _, r := range recs {
				if err := j.Result(r); err != nil {
					return err
				}
			}
			return j.Summary(sum)
		}},
		{"junit.golden", func(b *bytes.Buffer) error { return WriteJUnit(b, recs, sum) }},
		{"lines.golden", func(b *bytes.Buffer) error {
			b.WriteString(strings.Join([]string{SummaryLine(sum), LatencyLine(sum), ReasonsLine(sum)}, "\n") + "\n")
			return nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, b.Bytes())
		})
	}
}
