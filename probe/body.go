package probe

import (
	"bytes"
	"errors"
	"io"
	"time"
)

// drainMax is how much of a body beyond the cap is read so that its
// connection can be reused. A longer body is cut off by closing the
// connection: reading megabytes to save one dial is the worse deal.
const drainMax = 64 << 10

// bodyRead is what reading a response body found.
type bodyRead struct {
	// body holds the bytes read within the cap, when asked to keep them.
	body []byte
	// n counts the bytes read within the cap.
	n int64
	// truncated reports that the body held more than the cap (or that
	// the drain did not reach its end).
	truncated bool
	// last is when the last byte within the cap arrived: the end of what
	// conditions see, before any drain.
	last time.Time
}

// readBody reads up to limit bytes of r, keeping them when keep is set,
// then drains at most drainMax more. An error is returned only for the
// first limit bytes: what lies beyond the cap is never seen by conditions.
func readBody(r io.Reader, limit int64, keep bool) (bodyRead, error) {
	var w io.Writer = io.Discard
	var buf *bytes.Buffer
	if keep {
		buf = new(bytes.Buffer)
		w = buf
	}
	var b bodyRead
	var err error
	b.n, err = io.Copy(w, io.LimitReader(r, limit))
	b.last = time.Now()
	if buf != nil {
		b.body = buf.Bytes()
	}
	if err != nil || b.n < limit {
		return b, err
	}
	extra, err := io.CopyN(io.Discard, r, drainMax)
	b.truncated = extra > 0 || !errors.Is(err, io.EOF)
	return b, nil
}
