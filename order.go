package fanout

import (
	"fmt"
	"runtime"
	"strings"
)

// orderer hands results to the consumer in the order the run asked for.
type orderer[T any] struct {
	inOrder bool
	next    int         // InputOrder: the index to yield next
	held    []Result[T] // InputOrder: results waiting for earlier ones
	have    []bool
}

func newOrderer[T any](o Order, n int) orderer[T] {
	if o != InputOrder {
		return orderer[T]{}
	}
	return orderer[T]{inOrder: true, held: make([]Result[T], n), have: make([]bool, n)}
}

// emit yields res, or holds it until its turn. It reports false once the
// consumer stopped.
func (o *orderer[T]) emit(res Result[T], yield func(Result[T]) bool) bool {
	if !o.inOrder {
		return yield(res)
	}
	o.held[res.Index], o.have[res.Index] = res, true
	for o.next < len(o.have) && o.have[o.next] {
		r := o.held[o.next]
		o.held[o.next] = Result[T]{}
		o.next++
		if !yield(r) {
			return false
		}
	}
	return true
}

// panicSite names the function and line that panicked: the first frame
// below the runtime's panic machinery.
func panicSite() string {
	pc := make([]uintptr, 16)
	n := runtime.Callers(3, pc)
	frames := runtime.CallersFrames(pc[:n])
	for inPanic := false; ; {
		f, more := frames.Next()
		if f.Function == "runtime.gopanic" {
			inPanic = true
		} else if inPanic && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf(" (at %s:%d)", f.File[strings.LastIndex(f.File, "/")+1:], f.Line)
		}
		if !more {
			return ""
		}
	}
}
