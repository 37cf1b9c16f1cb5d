package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// startedAtLayout is RFC 3339 in UTC with milliseconds, as "started_at"
// shows it.
const startedAtLayout = "2006-01-02T15:04:05.000Z"

// recordJSON is Record as the result schema lays it out, field by field in
// the documented order.
type recordJSON struct {
	Name       string         `json:"name"`
	Target     string         `json:"target"`
	Kind       string         `json:"kind"`
	Host       string         `json:"host"`
	State      string         `json:"state"`
	Reason     string         `json:"reason"`
	Error      string         `json:"error"`
	Attempts   int            `json:"attempts"`
	Retries    int            `json:"retries"`
	Throttled  int            `json:"throttled"`
	StartedAt  *string        `json:"started_at"`
	QueueMS    float64        `json:"queue_ms"`
	DurationMS float64        `json:"duration_ms"`
	Detail     map[string]any `json:"detail"`
}

// MarshalJSON encodes r as DESIGN.md's result schema: started_at is RFC
// 3339 UTC with milliseconds or null when the target never started,
// queue_ms and duration_ms are milliseconds rounded to 2 decimals, and
// detail is {} rather than null.
func (r Record) MarshalJSON() ([]byte, error) {
	w := recordJSON{
		Name: r.Name, Target: r.Target, Kind: r.Kind, Host: r.Host,
		State: r.State, Reason: r.Reason, Error: r.Error, Attempts: r.Attempts,
		Retries: r.Retries, Throttled: r.Throttled,
		QueueMS: msOf(r.Queue), DurationMS: msOf(r.Duration), Detail: r.Detail,
	}
	if !r.StartedAt.IsZero() {
		ts := r.StartedAt.UTC().Format(startedAtLayout)
		w.StartedAt = &ts
	}
	if w.Detail == nil {
		w.Detail = map[string]any{}
	}
	b, err := marshalCompact(w)
	if err != nil {
		return nil, fmt.Errorf("report: encoding the result of %q: %w", r.Target, err)
	}
	return b, nil
}

// UnmarshalJSON decodes the result schema written by MarshalJSON, so Go
// programs can read fanout's output back. Durations keep the schema's
// precision (10 µs).
func (r *Record) UnmarshalJSON(b []byte) error {
	var w recordJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("report: decoding a result: %w", err)
	}
	*r = Record{
		Name: w.Name, Target: w.Target, Kind: w.Kind, Host: w.Host,
		State: w.State, Reason: w.Reason, Error: w.Error, Attempts: w.Attempts,
		Retries: w.Retries, Throttled: w.Throttled,
		Queue: durationOfMS(w.QueueMS), Duration: durationOfMS(w.DurationMS), Detail: w.Detail,
	}
	if w.StartedAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *w.StartedAt)
		if err != nil {
			return fmt.Errorf("report: decoding started_at of %q: %w", w.Target, err)
		}
		r.StartedAt = t
	}
	return nil
}

// MarshalJSON encodes s as DESIGN.md's summary schema, with reasons as {}
// rather than null when there are none.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary // same fields, without this method
	p := plain(s)
	if p.Reasons == nil {
		p.Reasons = map[string]int{}
	}
	if p.Hosts == nil {
		p.Hosts = []Host{}
	}
	b, err := marshalCompact(p)
	if err != nil {
		return nil, fmt.Errorf("report: encoding the summary: %w", err)
	}
	return b, nil
}

// WriteJSON writes the whole run as one JSON object,
// {"results": [...], "summary": {...}}, followed by a newline. Each result
// and the summary sit on a line of their own, so the document greps as
// well as it parses; results is [] when there are none. Records are
// encoded one at a time, never as one large buffer.
func WriteJSON(w io.Writer, records []Record, s Summary) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n  \"results\": [")
	for i, r := range records {
		b, err := r.MarshalJSON()
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(b)
	}
	if len(records) > 0 {
		bw.WriteString("\n  ")
	}
	b, err := s.MarshalJSON()
	if err != nil {
		return err
	}
	bw.WriteString("],\n  \"summary\": ")
	bw.Write(b)
	bw.WriteString("\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: writing JSON: %w", err)
	}
	return nil
}
