package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// junitSuite is the one <testsuite> of a JUnit report.
type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

// junitCase is one <testcase>, for one result.
type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

// junitProblem is a <failure> or an <error>. The body is CDATA so its
// lines and quotes stay readable in the file.
type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

// junitSkipped is a <skipped>.
type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the run as JUnit XML: one <testsuite name="fanout">
// whose time is the wall time, and one <testcase> per record (name = the
// check's name or else its target, classname = its kind, time = its
// duration, in seconds with 3 decimals). fail becomes <failure>, error and
// timeout (and any unknown state) <error>, not_run <skipped>; their
// message is the error and their type the reason. The suite's counts are
// those of the test cases written.
func WriteJUnit(w io.Writer, records []Record, s Summary) error {
	suite := junitSuite{Name: "fanout", Time: seconds3(durationOfMS(s.WallMS))}
	for _, r := range records {
		c := junitCaseOf(r)
		suite.Tests++
		switch {
		case c.Failure != nil:
			suite.Failures++
		case c.Error != nil:
			suite.Errors++
		case c.Skipped != nil:
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, c)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(suite); err != nil {
		return fmt.Errorf("report: encoding JUnit XML: %w", err)
	}
	b.WriteByte('\n')
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("report: writing JUnit XML: %w", err)
	}
	return nil
}

// junitCaseOf turns one record into a test case.
func junitCaseOf(r Record) junitCase {
	c := junitCase{Name: r.Name, Classname: r.Kind, Time: seconds3(r.Duration)}
	if c.Name == "" {
		c.Name = r.Target
	}
	switch r.State {
	case stateOK:
	case stateFail:
		c.Failure = junitProblemOf(r)
	case stateNotRun:
		c.Skipped = &junitSkipped{Message: problemMessage(r)}
	default:
		c.Error = junitProblemOf(r)
	}
	return c
}

// junitProblemOf describes a failed record for <failure> or <error>.
func junitProblemOf(r Record) *junitProblem {
	typ := r.Reason
	if typ == "" {
		typ = r.State
	}
	return &junitProblem{Message: problemMessage(r), Type: typ, Body: xmlText(problemBody(r))}
}

// problemMessage is the error, or a few words when there is none.
func problemMessage(r Record) string {
	if r.Error != "" {
		return r.Error
	}
	if d := shortDetail(r.Detail, false); d != "" {
		return d
	}
	if r.Reason != "" {
		return r.State + ": " + r.Reason
	}
	return r.State
}

// problemBody is the text of a <failure> or <error>: where, what and the
// detail as compact JSON.
func problemBody(r Record) string {
	detail := "{}"
	if len(r.Detail) > 0 {
		if b, err := marshalCompact(r.Detail); err == nil {
			detail = string(b)
		} else {
			detail = fmt.Sprintf("%v", r.Detail)
		}
	}
	state := r.State
	if r.Reason != "" {
		state += "/" + r.Reason
	}
	return "target: " + r.Target +
		"\nhost: " + r.Host +
		"\nstate: " + state +
		"\nattempts: " + strconv.Itoa(r.Attempts) +
		"\ndetail: " + detail
}

// xmlText replaces what XML 1.0 cannot carry (most control characters,
// invalid UTF-8) with U+FFFD. Attributes and character data are cleaned by
// encoding/xml itself; CDATA is written as is, so it needs this.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// seconds3 renders d in seconds with 3 decimals, as JUnit's time attributes.
func seconds3(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
