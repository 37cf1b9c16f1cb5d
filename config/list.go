package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLine bounds one line of a list file; a longer line is an error, not a
// silent truncation.
const maxLine = 1 << 20

// ReadList reads a list file: one target per line; blank lines and lines
// starting with '#' are ignored, as is a " #" comment after a target. name
// is what errors and Source call the file ("stdin" for -). An error names
// name:line; a list with no target at all is an error too.
func ReadList(r io.Reader, name string) ([]Target, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var out []Target
	for line := 1; sc.Scan(); line++ {
		text := stripComment(sc.Text())
		if text == "" {
			continue
		}
		where := fmt.Sprintf("%s:%d", name, line)
		t, err := ParseTarget(text, where)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s: a line is longer than %d bytes", name, maxLine)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no targets in the list", name)
	}
	return out, nil
}

func stripComment(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "#") {
		return ""
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "\t#"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// Duplicate is a target dropped because an earlier one has the same
// normalised form.
type Duplicate struct {
	Target Target // the one dropped
	First  Target // the one kept
}

// Dedupe keeps the first of each normalised target, in order, and returns
// the ones it dropped.
func Dedupe(targets []Target) (kept []Target, dups []Duplicate) {
	first := make(map[string]int, len(targets))
	for _, t := range targets {
		if i, seen := first[t.Normal]; seen {
			dups = append(dups, Duplicate{Target: t, First: kept[i]})
			continue
		}
		first[t.Normal] = len(kept)
		kept = append(kept, t)
	}
	return kept, dups
}
