package fanout

import "time"

// fifo is a first-in first-out queue on a slice. The engine keeps one per
// key and one of runnable keys; none of them is shared between goroutines.
type fifo[E any] struct {
	items []E
	head  int
}

func (q *fifo[E]) len() int { return len(q.items) - q.head }

func (q *fifo[E]) push(e E) { q.items = append(q.items, e) }

func (q *fifo[E]) pop() E {
	var zero E
	e := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head > 64 && q.head*2 > len(q.items):
		// Reclaim the consumed front once it is most of the slice.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return e
}

// wake is something the dispatcher must look at again at a given time.
type wake struct {
	at      time.Time
	index   int // the task concerned
	attempt int // the attempt concerned
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
