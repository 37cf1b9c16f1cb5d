package probe

import (
	"bytes"
	"fmt"
	"regexp"
	"time"

	"github.com/fanout-dev/fanout"
)

// httpConditions are what an HTTP answer must satisfy beyond its status.
// The zero value has none. They are only read after Build, so checks
// share them across goroutines.
type httpConditions struct {
	contains   string
	regex      *regexp.Regexp
	json       []*JSONCondition
	maxLatency time.Duration
}

// needBody reports whether a condition looks at the body, which is then
// kept (up to the body cap) rather than discarded.
func (c *httpConditions) needBody() bool {
	return c.contains != "" || c.regex != nil || len(c.json) > 0
}

// check evaluates every condition and returns those that failed, in the
// order body_contains, body_regex, json (in list order), max_latency, each
// saying what was seen. body is the capped body (truncated if it held more);
// latency the time to its last byte.
func (c *httpConditions) check(body []byte, truncated bool, latency time.Duration) []string {
	var failed []string
	if c.contains != "" && !bytes.Contains(body, []byte(c.contains)) {
		failed = append(failed, fmt.Sprintf("body lacks %q", c.contains))
	}
	if c.regex != nil && !c.regex.Match(body) {
		failed = append(failed, fmt.Sprintf("body does not match /%s/", c.regex))
	}
	if len(c.json) > 0 {
		doc, err := decodeJSON(body)
		for _, cond := range c.json {
			if err != nil {
				failed = append(failed, fmt.Sprintf("json: %s: body is not JSON: %v%s", cond, err, truncatedNote(truncated, len(body))))
			} else if err := cond.Eval(doc); err != nil {
				failed = append(failed, fmt.Sprintf("json: %s: %v", cond, err))
			}
		}
	}
	if c.maxLatency > 0 && latency > c.maxLatency {
		failed = append(failed, fmt.Sprintf("latency %s, want ≤ %s", showLatency(latency, c.maxLatency), c.maxLatency))
	}
	return failed
}

func truncatedNote(truncated bool, n int) string {
	if !truncated {
		return ""
	}
	return fmt.Sprintf(" (the body was cut at %d bytes)", n)
}

// showLatency rounds a latency above limit for a message, to the
// millisecond unless that would make it look equal to limit.
func showLatency(latency, limit time.Duration) string {
	if r := latency.Round(time.Millisecond); r > limit {
		return r.String()
	}
	return latency.Round(time.Microsecond).String()
}

// conditionsFailed returns the error of failed conditions: fail/condition
// naming the first, and how many more failed; the detail lists them all
// under failed_conditions.
func conditionsFailed(d Detail, failed []string) error {
	d["failed_conditions"] = failed
	msg := failed[0]
	if len(failed) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(failed)-1)
	}
	return fanout.Failf(fanout.ReasonCondition, "%s", msg)
}

// quoteSeen shows bytes read from a target in a message: quoted, escapes
// for what is not printable, shortened to n bytes.
func quoteSeen(b []byte, n int) string {
	if len(b) <= n {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q…", b[:n])
}
