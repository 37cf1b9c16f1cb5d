package fanout

import "time"

// deque is a double-ended queue on a ring buffer. The engine keeps one of
// tasks per key (re-queued tasks go back to the front) and one of runnable
// keys; none is shared between goroutines.
type deque[E any] struct {
	buf  []E
	head int
	n    int
}

func (q *deque[E]) len() int { return q.n }

func (q *deque[E]) grow() {
	if q.n < len(q.buf) {
		return
	}
	buf := make([]E, max(8, 2*len(q.buf)))
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

func (q *deque[E]) pushBack(e E) {
	q.grow()
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
}

func (q *deque[E]) pushFront(e E) {
	q.grow()
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[q.head] = e
	q.n++
}

func (q *deque[E]) popFront() E {
	var zero E
	e := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return e
}

// wakeKind says what a wake is for.
type wakeKind uint8

const (
	wakeOverdue wakeKind = iota // an attempt past its timeout and grace
	wakeTask                    // a task's backoff (retry or local resources) is over
	wakeKey                     // a key's cooldown or rate wait is over
	wakeGlobal                  // the global rate has a token again
)

// wake is something the dispatcher must look at again at a given time.
type wake struct {
	at      time.Time
	kind    wakeKind
	index   int // wakeOverdue, wakeTask: the task
	attempt int // wakeOverdue: the attempt
	key     *keyState
}

// wakeHeap is a min-heap of wakes ordered by time. It is written out rather
// than built on container/heap so that pushing a wake, once per attempt,
// does not allocate an interface value.
type wakeHeap []wake

func (h *wakeHeap) push(w wake) {
	*h = append(*h, w)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s[i].at.Before(s[parent].at) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *wakeHeap) pop() wake {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = wake{}
	s = s[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(s) && s[l].at.Before(s[small].at) {
			small = l
		}
		if r < len(s) && s[r].at.Before(s[small].at) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return top
}
