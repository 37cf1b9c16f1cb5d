package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRecordJSONFields(t *testing.T) {
	b, err := json.Marshal(fixture()[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"api","target":"https://api.internal/healthz","kind":"http","host":"api.internal:443",` +
		`"state":"ok","reason":"","error":"","attempts":1,"retries":0,"throttled":0,"started_at":"2026-11-30T10:00:00.123Z",` +
		`"queue_ms":0.4,"duration_ms":101.3,"detail":{"status_code":200}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestRecordJSONTypes(t *testing.T) {
	for _, r := range fixture() {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if len(m) != 14 {
			t.Errorf("%s: %d fields, want 14: %s", r.Target, len(m), b)
		}
		for _, k := range []string{"name", "target", "kind", "host", "state", "reason", "error"} {
			if _, ok := m[k].(string); !ok {
				t.Errorf("%s: %s is %T, want a string", r.Target, k, m[k])
			}
		}
		for _, k := range []string{"attempts", "queue_ms", "duration_ms"} {
			if _, ok := m[k].(float64); !ok {
				t.Errorf("%s: %s is %T, want a number", r.Target, k, m[k])
			}
		}
		if d, ok := m["detail"].(map[string]any); !ok || (r.Detail == nil && len(d) != 0) {
			t.Errorf("%s: detail is %#v, want an object ({} when nil)", r.Target, m["detail"])
		}
		switch r.State {
		case "not_run":
			if v, ok := m["started_at"]; !ok || v != nil {
				t.Errorf("%s: started_at = %#v, want null", r.Target, v)
			}
		default:
			s, _ := m["started_at"].(string)
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, "Z") || len(s) != len("2026-11-30T10:00:00.123Z") {
				t.Errorf("%s: started_at = %q, want RFC 3339 UTC with ms", r.Target, s)
			}
		}
	}
}

func TestRecordJSONRounding(t *testing.T) {
	r := Record{Queue: 1234567 * time.Nanosecond, Duration: 2*time.Second + 5*time.Microsecond,
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, time.FixedZone("x", 3600))}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"queue_ms":1.23`, `"duration_ms":2000.01`, `"started_at":"2026-01-02T02:04:05.999Z"`, `"detail":{}`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}

func TestRecordJSONRoundTrip(t *testing.T) {
	for _, r := range fixture() {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var got Record
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		b2, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, b2) {
			t.Errorf("round trip changed\n%s\n%s", b, b2)
		}
		if got.StartedAt.IsZero() != r.StartedAt.IsZero() || !got.StartedAt.Equal(r.StartedAt) {
			t.Errorf("%s: started %v, want %v", r.Target, got.StartedAt, r.StartedAt)
		}
	}
}

func TestRecordJSONBadDetail(t *testing.T) {
	_, err := json.Marshal(Record{Target: "x", Detail: map[string]any{"f": func() {}}})
	var ue *json.UnsupportedTypeError
	if !errors.As(err, &ue) {
		t.Errorf("err = %v, want a wrapped *json.UnsupportedTypeError", err)
	}
}

func TestSummaryJSON(t *testing.T) {
	b, err := json.Marshal(Summary{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"total":0,"ok":0,"fail":0,"error":0,"timeout":0,"not_run":0,"duplicates":0,"wall_ms":0,"sum_ms":0,` +
		`"speedup":0,"latency_ms":{"p50":0,"p95":0,"max":0},"retries":0,"throttled":0,"reasons":{},` +
		`"retry_budget_exhausted":false,"hosts":[]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back Summary
	s := fixtureSummary()
	b, _ = json.Marshal(s)
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("round trip: %v\n%+v\n%+v", err, back, s)
	}
}

func TestWriteJSONEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, nil, Summary{}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if r, ok := doc["results"].([]any); !ok || len(r) != 0 {
		t.Errorf("results = %#v, want []", doc["results"])
	}
	if !strings.HasSuffix(b.String(), "}\n") || !strings.HasPrefix(b.String(), "{\n  \"results\": [],\n") {
		t.Errorf("layout:\n%s", b.String())
	}
}

func TestJSONLLines(t *testing.T) {
	var b bytes.Buffer
	j := NewJSONL(&b)
	recs := fixture()
	for _, r := range recs {
		if err := j.Result(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Summary(fixtureSummary()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(recs)+1 {
		t.Fatalf("%d lines, want %d", len(lines), len(recs)+1)
	}
	for i, line := range lines {
		want := `{"type":"result","name":`
		if i == len(recs) {
			want = `{"type":"summary","total":`
		}
		if !strings.HasPrefix(line, want) {
			t.Errorf("line %d = %.40s…, want prefix %s", i, line, want)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("line %d: %v", i, err)
		}
	}
}

// lineCounter records how many Write calls it saw.
type lineCounter struct{ writes []string }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func TestJSONLOneWritePerLine(t *testing.T) {
	var c lineCounter
	j := NewJSONL(&c)
	_ = j.Result(fixture()[1])
	_ = j.Result(fixture()[4])
	if len(c.writes) != 2 || !strings.HasSuffix(c.writes[0], "}\n") {
		t.Errorf("writes = %q", c.writes)
	}
}

func TestJSONLFlushes(t *testing.T) {
	var b bytes.Buffer
	bw := bufio.NewWriterSize(&b, 1<<16)
	j := NewJSONL(bw)
	if err := j.Result(fixture()[0]); err != nil {
		t.Fatal(err)
	}
	if bw.Buffered() != 0 || !strings.HasSuffix(b.String(), "}\n") {
		t.Errorf("line not flushed: %d bytes buffered", bw.Buffered())
	}
}

// failWriter fails every write.
type failWriter struct{}

var errClosed = errors.New("closed")

func (failWriter) Write([]byte) (int, error) { return 0, errClosed }

func TestWriteErrorsWrapped(t *testing.T) {
	recs, s := fixture(), fixtureSummary()
	for name, err := range map[string]error{
		"json":  WriteJSON(failWriter{}, recs, s),
		"jsonl": NewJSONL(failWriter{}).Result(recs[0]),
		"junit": WriteJUnit(failWriter{}, recs, s),
		"table": WriteTable(failWriter{}, recs, s, TableOptions{}),
	} {
		if !errors.Is(err, errClosed) {
			t.Errorf("%s: err = %v, want it to wrap errClosed", name, err)
		}
	}
}
