package probe

import (
	"bytes"
	"errors"
	"io"
)

// drainMax is how much of a body beyond the cap is read so that its
// connection can be reused. A longer body is cut off by closing the
// connection: reading megabytes to save one dial is the worse deal.
const drainMax = 64 << 10

// readBody reads up to limit bytes of r, returning them when keep is set,
// then drains at most drainMax more. n counts the bytes within the limit;
// truncated reports that r held more than limit bytes (or that the drain
// did not reach its end). An error is returned only for the first limit
// bytes: what lies beyond the cap is never seen by conditions.
func readBody(r io.Reader, limit int64, keep bool) (body []byte, n int64, truncated bool, err error) {
	var w io.Writer = io.Discard
	var buf *bytes.Buffer
	if keep {
		buf = new(bytes.Buffer)
		w = buf
	}
	n, err = io.Copy(w, io.LimitReader(r, limit))
	if buf != nil {
		body = buf.Bytes()
	}
	if err != nil || n < limit {
		return body, n, false, err
	}
	extra, err := io.CopyN(io.Discard, r, drainMax)
	truncated = extra > 0 || !errors.Is(err, io.EOF)
	return body, n, truncated, nil
}
