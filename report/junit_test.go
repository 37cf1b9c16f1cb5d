package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// parsedSuite is how a JUnit consumer reads the suite back.
type parsedSuite struct {
	XMLName  xml.Name `xml:"testsuite"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     float64  `xml:"time,attr"`
	Cases    []struct {
		Name      string  `xml:"name,attr"`
		Classname string  `xml:"classname,attr"`
		Time      float64 `xml:"time,attr"`
		Failure   *struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
			Body    string `xml:",chardata"`
		} `xml:"failure"`
		Error *struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
			Body    string `xml:",chardata"`
		} `xml:"error"`
		Skipped *struct {
			Message string `xml:"message,attr"`
		} `xml:"skipped"`
	} `xml:"testcase"`
}

func parseJUnit(t *testing.T, recs []Record, s Summary) parsedSuite {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJUnit(&b, recs, s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), xml.Header) || !strings.HasSuffix(b.String(), "</testsuite>\n") {
		t.Errorf("no XML header or no final newline:\n%s", b.String())
	}
	var got parsedSuite
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("parse back: %v\n%s", err, b.String())
	}
	return got
}

func TestJUnitParsesBack(t *testing.T) {
	recs, s := fixture(), fixtureSummary()
	got := parseJUnit(t, recs, s)
	if got.Name != "fanout" || got.Tests != 8 || got.Failures != s.Fail || got.Errors != s.Error+s.Timeout ||
		got.Skipped != s.NotRun || got.Time != 10.02 {
		t.Errorf("suite = %+v", got)
	}
	var failures, errs, skipped int
	for i, c := range got.Cases {
		r := recs[i]
		wantName := r.Name
		if wantName == "" {
			wantName = r.Target
		}
		if c.Name != wantName || c.Classname != r.Kind || c.Time != roundTo(r.Duration.Seconds(), 3) {
			t.Errorf("case %d = %q %q %v", i, c.Name, c.Classname, c.Time)
		}
		if c.Failure != nil {
			failures++
			if c.Failure.Type != r.Reason || !strings.Contains(c.Failure.Body, "target: "+r.Target+"\n") ||
				!strings.Contains(c.Failure.Body, "detail: {") {
				t.Errorf("case %d failure = %+v", i, *c.Failure)
			}
		}
		if c.Error != nil {
			errs++
			if c.Error.Message != r.Error || c.Error.Type != r.Reason {
				t.Errorf("case %d error = %+v", i, *c.Error)
			}
		}
		if c.Skipped != nil {
			skipped++
		}
	}
	if failures != got.Failures || errs != got.Errors || skipped != got.Skipped {
		t.Errorf("counted %d/%d/%d elements, attributes say %d/%d/%d", failures, errs, skipped, got.Failures, got.Errors, got.Skipped)
	}
}

func TestJUnitHostileText(t *testing.T) {
	recs := []Record{{
		Target: "x", Kind: "exec", State: "fail", Reason: "condition",
		Error:  "bad \x1b[31m\x00 output ]]> <tag>",
		Detail: map[string]any{"output": "]]>\x07\xff"},
	}}
	got := parseJUnit(t, recs, Summary{})
	if len(got.Cases) != 1 || got.Cases[0].Failure == nil {
		t.Fatalf("cases = %+v", got.Cases)
	}
	f := got.Cases[0].Failure
	if !strings.Contains(f.Message, "]]> <tag>") || !strings.Contains(f.Body, "]]>") {
		t.Errorf("failure = %+v", *f)
	}
}

func TestJUnitEmpty(t *testing.T) {
	got := parseJUnit(t, nil, Summary{})
	if got.Tests != 0 || len(got.Cases) != 0 {
		t.Errorf("suite = %+v", got)
	}
}
