package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// JSONL writes JSON lines: one {"type":"result", ...} line per result as it
// completes, then one {"type":"summary", ...} line. Each line is written
// with a single Write call and flushed at once (nothing is buffered across
// lines), so a reader of a pipe sees every result as soon as it exists.
// A JSONL is safe for concurrent use.
type JSONL struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONL returns a JSONL writing to w, typically os.Stdout. If w has a
// Flush method (a *bufio.Writer, say), it is called after every line.
func NewJSONL(w io.Writer) *JSONL {
	return &JSONL{w: w}
}

// Result writes one result line: "type" first, then the record's fields in
// the order of the result schema.
func (j *JSONL) Result(r Record) error {
	return j.line("result", r)
}

// Summary writes the summary line, the last one of a run.
func (j *JSONL) Summary(s Summary) error {
	return j.line("summary", s)
}

// line writes v's JSON object with a leading "type" member.
func (j *JSONL) line(typ string, v json.Marshaler) error {
	obj, err := v.MarshalJSON()
	if err != nil {
		return err
	}
	obj = bytes.TrimPrefix(obj, []byte("{"))
	var b bytes.Buffer
	b.Grow(len(obj) + len(typ) + 16)
	b.WriteString(`{"type":"` + typ + `"`)
	if len(obj) > 1 { // more than the closing brace
		b.WriteByte(',')
	}
	b.Write(obj)
	b.WriteByte('\n')
	return j.write(typ, b.Bytes())
}

// write sends one line to the writer and flushes it.
func (j *JSONL) write(typ string, line []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(line); err != nil {
		return fmt.Errorf("report: writing a %s line: %w", typ, err)
	}
	if f, ok := j.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("report: flushing a %s line: %w", typ, err)
		}
	}
	return nil
}
