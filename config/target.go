// Package config turns what users write — target strings, list files and
// (later) YAML — into validated checks. Every error names where the bad
// input is: the argument, or the file and line.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fanout-dev/fanout/probe"
)

// Target is one target string, parsed and validated.
type Target struct {
	// Raw is the string as given. It may hold secrets: show Display.
	Raw string
	// Display is Raw with URL userinfo and secret query values redacted.
	Display string
	// Normal is the normalised form two spellings of one target share:
	// lower-case scheme and host, default port dropped, "/" for an empty
	// path. Inline and list targets are de-duplicated on it.
	Normal string
	// Source says where the target was given: "services.txt:12",
	// "stdin:3" or "argument 2".
	Source string
	// Secrets lists the secret values in Raw (password, secret query
	// values), for redacting text that might echo them.
	Secrets []string
	// Redactor masks Secrets (and, for a config's checks, every secret of
	// the file) in free text. It is built once here, not per result: nil
	// when there is nothing to mask.
	Redactor *Redactor
	// Check runs the target.
	Check probe.Check
	// Name, Tags and Timeout come from a YAML check. Name is Display for
	// a target given inline or in a list; Timeout 0 means the run's.
	Name    string
	Tags    []string
	Timeout time.Duration
}

// ParseTarget parses one target string: a URL whose scheme names the kind
// (http, https, tcp, ...) or a bare host:port, which means tcp.
func ParseTarget(raw, source string) (Target, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Target{}, errors.New("empty target")
	}
	u, err := parseURL(s)
	if err != nil {
		return Target{}, fmt.Errorf("malformed target %q: %w", Redact(s), err)
	}
	check, err := probe.FromURL(u)
	if err != nil {
		return Target{}, fmt.Errorf("malformed target %q: %w", Redact(s), err)
	}
	display, secrets := Redact(s), secretValues(u)
	t := Target{
		Raw: s, Display: display, Normal: normalise(u), Source: source,
		Secrets: secrets, Check: check, Name: display,
	}
	if len(secrets) > 0 {
		t.Redactor = NewRedactor(secrets)
	}
	return t, nil
}

var badPort = regexp.MustCompile(`^invalid port ":(.*)" after host$`)

// parseURL parses s, reading a bare host:port as tcp://host:port.
func parseURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			return nil, fmt.Errorf("want a URL (http://…, tcp://…) or host:port: %w", unwrapAddrErr(err))
		}
		if host == "" {
			return nil, fmt.Errorf("missing host in %q", s)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '+' {
			return nil, fmt.Errorf("invalid port %q", port)
		}
		s = "tcp://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		// url.Parse says `invalid port ":x" after host`; say what the port is.
		if m := badPort.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("invalid port %q", m[1])
		}
		return nil, err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u, nil
}

func unwrapAddrErr(err error) error {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return errors.New(ae.Err)
	}
	return err
}

// normalise gives the form two spellings of one target share.
func normalise(u *url.URL) string {
	n := *u
	n.User = nil
	n.Fragment, n.RawFragment = "", ""
	host := strings.ToLower(n.Hostname())
	port := n.Port()
	if port == probe.DefaultPort(n.Scheme) {
		port = ""
	}
	n.Host = host
	if strings.Contains(host, ":") {
		n.Host = "[" + host + "]"
	}
	if port != "" {
		n.Host = net.JoinHostPort(host, port)
	}
	if n.Path == "" && n.Opaque == "" && n.Scheme != "tcp" {
		n.Path = "/"
	}
	return n.String()
}
