package report

import (
	"io"
	"strconv"
	"sync"
	"time"
)

// progressInterval is how often the progress line is redrawn.
const progressInterval = 100 * time.Millisecond

// Progress draws a live status line, indented by two spaces and redrawn
// in place every 100 ms:
//
//	37/200 · 35 ok · 2 failed · 0.4s elapsed · ETA 0.7s
//
// Write it to a terminal (stderr) only: it uses "\r" and "\x1b[K". Nothing
// else should write to that terminal between NewProgress and Stop, or the
// line will be drawn over it. Write errors are ignored: progress is best
// effort.
type Progress struct {
	w     io.Writer
	total int
	color bool
	start time.Time

	mu    sync.Mutex // guards tally, between Add and the redraw goroutine
	tally Tally

	stop chan struct{} // closed by Stop
	done chan struct{} // closed when the redraw goroutine has returned
	once sync.Once
}

// NewProgress starts drawing the progress of total targets on w and
// returns at once; total ≤ 0 means unknown (no "/total" and no ETA). With
// color the ok and failed counts are coloured. Call Stop when done.
func NewProgress(w io.Writer, total int, color bool) *Progress {
	p := &Progress{
		w: w, total: total, color: color, start: time.Now(),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go p.loop()
	return p
}

// Add counts one completed result. Call it from one goroutine at a time;
// it is safe together with the redraw goroutine.
func (p *Progress) Add(r Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tally.Add(r)
}

// Stop stops the redraw goroutine, waits for it to return and erases the
// line, so what follows prints cleanly. Stop is idempotent and safe to call
// from several goroutines.
func (p *Progress) Stop() {
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		_, _ = io.WriteString(p.w, clearLine)
	})
}

// loop redraws the line every progressInterval until Stop.
func (p *Progress) loop() {
	defer close(p.done)
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			_, _ = io.WriteString(p.w, clearLine+p.line(time.Since(p.start)))
		}
	}
}

// line renders the current status after elapsed.
func (p *Progress) line(elapsed time.Duration) string {
	p.mu.Lock()
	done, ok, failed := p.tally.Done(), p.tally.OK(), p.tally.Failed()
	p.mu.Unlock()
	return progressLine(done, ok, failed, p.total, elapsed, p.color)
}

// progressLine renders a status line (without the leading "\r\x1b[K"):
// "  37/200 · 35 ok · 2 failed · 0.4s elapsed · ETA 0.7s". The ETA is
// elapsed × (total−done)/done, shown once done > 0 and while done < total.
func progressLine(done, ok, failed, total int, elapsed time.Duration, color bool) string {
	count := strconv.Itoa(done)
	if total > 0 {
		count += "/" + strconv.Itoa(total)
	}
	okText, failedText := strconv.Itoa(ok)+" ok", strconv.Itoa(failed)+" failed"
	if color {
		okText = paint(okText, ansiGreen)
		if failed > 0 {
			failedText = paint(failedText, ansiRed)
		}
	}
	line := "  " + count + sep + okText + sep + failedText + sep + shortSeconds(elapsed) + " elapsed"
	if done > 0 && done < total {
		eta := time.Duration(float64(elapsed) * float64(total-done) / float64(done))
		line += sep + "ETA " + shortSeconds(eta)
	}
	return line
}
