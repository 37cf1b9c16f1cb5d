package probe

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// scheme is one URL scheme a target may use, and the kind it selects.
type scheme struct {
	name string
	// port is the port dialled when the URL names none; "" means the
	// URL must name one.
	port string
	// parse builds the check from a URL whose scheme is name, whose host
	// is present and whose port, if any, is valid.
	parse func(u *url.URL) (Check, error)
}

// schemes is the only list of kind names. Adding a kind is a new file with
// its check and parse function, plus one line here.
func schemes() []scheme {
	return []scheme{
		{name: "http", port: "80", parse: parseHTTP},
		{name: "https", port: "443", parse: parseHTTP},
		{name: "tcp", parse: parseTCP},
	}
}

// Kinds returns the URL schemes a target may use, sorted.
func Kinds() []string {
	var names []string
	for _, s := range schemes() {
		names = append(names, s.name)
	}
	slices.Sort(names)
	return names
}

// DefaultPort returns the port dialled for a URL of the given scheme that
// names none: "80" for http, "443" for https, and "" for a scheme without
// a default (tcp) or unknown.
func DefaultPort(name string) string {
	s, ok := lookup(name)
	if !ok {
		return ""
	}
	return s.port
}

func lookup(name string) (scheme, bool) {
	name = strings.ToLower(name)
	for _, s := range schemes() {
		if s.name == name {
			return s, true
		}
	}
	return scheme{}, false
}

// FromURL returns the check u names: its lower-case scheme picks the kind
// (http and https: [HTTP]; tcp: [TCP]). It checks that u has a host and
// that a port, if given, is a number from 1 to 65535; each kind checks the
// rest. Errors never echo the URL, which may hold secrets.
func FromURL(u *url.URL) (Check, error) {
	s, ok := lookup(u.Scheme)
	if !ok {
		return nil, unknownScheme(strings.ToLower(u.Scheme))
	}
	if u.Hostname() == "" {
		return nil, errors.New("missing host")
	}
	if err := validPort(rawPort(u.Host)); err != nil {
		return nil, err
	}
	return s.parse(u)
}

// rawPort returns what follows the host in host[:port], even when it is not
// a number (url.URL.Port returns "" then).
func rawPort(host string) string {
	if i := strings.LastIndexByte(host, ']'); i >= 0 {
		host = host[i+1:]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		return host[i+1:]
	}
	return ""
}

// validPort accepts "" (no port) and the numbers 1 to 65535.
func validPort(p string) error {
	if p == "" {
		return nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || strings.TrimLeft(p, "0123456789") != "" {
		return fmt.Errorf("invalid port %q", p)
	}
	return nil
}

// unknownScheme names the schemes there are, and the nearest one when it
// is close enough to be a typo.
func unknownScheme(name string) error {
	kinds := Kinds()
	want := strings.Join(kinds, ", ")
	if name == "" {
		return fmt.Errorf("missing scheme (want one of %s)", want)
	}
	best, bestDist := "", 3
	for _, k := range kinds {
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return fmt.Errorf("unknown scheme %q (want one of %s)", name, want)
	}
	return fmt.Errorf("unknown scheme %q (want one of %s) (did you mean %q?)", name, want, best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
