package report

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The five states of DESIGN.md, as they appear in records.
const (
	stateOK      = "ok"
	stateFail    = "fail"
	stateError   = "error"
	stateTimeout = "timeout"
	stateNotRun  = "not_run"
)

// ANSI escape sequences used when colour is on.
const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
	clearLine  = "\r\x1b[K"
)

// maxCell is the number of runes after which a table cell is cut with "…".
const maxCell = 100

// roundTo rounds x to the given number of decimals.
func roundTo(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}

// msOf returns d in milliseconds rounded to 2 decimals, as the JSON schema
// shows durations.
func msOf(d time.Duration) float64 {
	return roundTo(float64(d)/float64(time.Millisecond), 2)
}

// durationOfMS is the inverse of msOf, to the nanosecond.
func durationOfMS(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

// humanDuration renders a duration the way the table and the latency line
// show it: "0.4ms", "101ms", "1.2s", "2m05s".
func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0ms"
	case d < 9950*time.Microsecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < 999500*time.Microsecond:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	case d < 99950*time.Millisecond:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return clock(d)
	}
}

// shortSeconds renders a duration with one decimal of seconds, as the
// progress line shows elapsed time and ETA: "0.4s", "12.5s", "2m05s".
func shortSeconds(d time.Duration) string {
	if d < 99950*time.Millisecond {
		return fmt.Sprintf("%.1fs", max(d, 0).Seconds())
	}
	return clock(d)
}

// clock renders a long duration rounded to the second: "2m05s", "1h02m05s".
func clock(d time.Duration) string {
	secs := int64(d.Round(time.Second) / time.Second)
	h, m, s := secs/3600, secs/60%60, secs%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	}
	return fmt.Sprintf("%dm%02ds", m, s)
}

// stateColor returns the ANSI colour of a state, or "" for none.
func stateColor(state string) string {
	switch state {
	case stateOK:
		return ansiGreen
	case stateFail, stateError:
		return ansiRed
	case stateTimeout:
		return ansiYellow
	case stateNotRun:
		return ansiDim
	}
	return ""
}

// paint wraps s in the colour code, if any.
func paint(s, code string) string {
	if code == "" || s == "" {
		return s
	}
	return code + s + ansiReset
}

// sanitize makes text that may come from a remote target safe and
// single-line for a terminal: whitespace controls become spaces, other
// control characters (ESC included) and invalid UTF-8 become '?'.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "?")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return '?'
		}
		return r
	}, s)
}

// truncate cuts s to at most n runes, the last one being "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return strings.TrimRight(string(runes[:n-1]), " ") + "…"
}

// shortDetail describes a detail map in a few words: "status 503" for a
// known key; with generic, every key as "k=v" when none is known.
func shortDetail(detail map[string]any, generic bool) string {
	// The detail keys worth a word, in order of preference, with their label.
	known := [...]struct{ key, label string }{
		{"status_code", "status"},
		{"exit_code", "exit code"},
		{"rcode", "rcode"},
		{"grpc_status", "grpc status"},
	}
	for _, k := range known {
		if v, ok := detail[k.key]; ok {
			return k.label + " " + scalarText(v)
		}
	}
	if !generic || len(detail) == 0 {
		return ""
	}
	keys := make([]string, 0, len(detail))
	for k := range detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + scalarText(detail[k])
	}
	return strings.Join(parts, ", ")
}

// scalarText renders one detail value: scalars as themselves, anything
// else as compact JSON.
func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v)
	}
	b, err := marshalCompact(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// marshalCompact encodes v as compact JSON without escaping <, > and &, so
// URLs stay readable.
func marshalCompact(v any) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}
