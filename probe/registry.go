package probe

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// kind is one check kind: its name (the YAML block key and what reports
// show), the URL schemes that select it, and its Spec.
type kind struct {
	name    string
	schemes []scheme
	newSpec func() Spec
}

// scheme is one URL scheme a target may use.
type scheme struct {
	name string
	// port is the port dialled when the URL names none; "" means the URL
	// must name one.
	port string
}

// kinds is the only list of kinds. Adding one is a new file with its Spec
// and check, plus one line here.
func kinds() []kind {
	return []kind{
		{name: "http", schemes: []scheme{{"http", "80"}, {"https", "443"}}, newSpec: func() Spec { return &HTTPSpec{} }},
		{name: "tcp", schemes: []scheme{{"tcp", ""}}, newSpec: func() Spec { return &TCPSpec{} }},
		{name: "tls", schemes: []scheme{{"tls", "443"}}, newSpec: newTLSSpec},
		{name: "dns", schemes: []scheme{{"dns", ""}}, newSpec: newDNSSpec},
		{name: "grpc", schemes: []scheme{{"grpc", ""}}, newSpec: newGRPCSpec},
		{name: "exec", newSpec: newExecSpec},
	}
}

// Kinds returns the URL schemes a target may use, sorted.
func Kinds() []string {
	var names []string
	for _, k := range kinds() {
		for _, s := range k.schemes {
			names = append(names, s.name)
		}
	}
	slices.Sort(names)
	return names
}

// KindNames returns the names of the kinds, as YAML blocks name them.
func KindNames() []string {
	var names []string
	for _, k := range kinds() {
		names = append(names, k.name)
	}
	return names
}

// NewSpec returns a fresh Spec of the named kind, with its defaults.
func NewSpec(kindName string) (Spec, bool) {
	for _, k := range kinds() {
		if k.name == kindName {
			return k.newSpec(), true
		}
	}
	return nil, false
}

// KindOfScheme returns the name of the kind a URL scheme selects.
func KindOfScheme(name string) (string, bool) {
	k, _, ok := lookup(name)
	return k.name, ok
}

// DefaultPort returns the port dialled for a URL of the given scheme that
// names none: "80" for http, "443" for https and tls, and "" for a scheme
// without a default or unknown.
func DefaultPort(name string) string {
	_, s, ok := lookup(name)
	if !ok {
		return ""
	}
	return s.port
}

func lookup(name string) (kind, scheme, bool) {
	name = strings.ToLower(name)
	for _, k := range kinds() {
		for _, s := range k.schemes {
			if s.name == name {
				return k, s, true
			}
		}
	}
	return kind{}, scheme{}, false
}

// FromURL returns the check u names, with its kind's default options: the
// lower-case scheme picks the kind. It checks that u has a host and that a
// port, if given, is a number from 1 to 65535; each kind checks the rest.
// Errors never echo the URL, which may hold secrets.
func FromURL(u *url.URL) (Check, error) {
	if err := ValidateURL(u); err != nil {
		return nil, err
	}
	k, _, _ := lookup(u.Scheme)
	return k.newSpec().Build(u)
}

// ValidateURL checks what every kind needs of a target URL: a known
// scheme, a host, and a valid port if any.
func ValidateURL(u *url.URL) error {
	if _, _, ok := lookup(u.Scheme); !ok {
		return unknownScheme(strings.ToLower(u.Scheme))
	}
	if u.Hostname() == "" {
		return errors.New("missing host")
	}
	return validPort(rawPort(u.Host))
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
		if d := EditDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return fmt.Errorf("unknown scheme %q (want one of %s)", name, want)
	}
	return fmt.Errorf("unknown scheme %q (want one of %s) (did you mean %q?)", name, want, best)
}

// EditDistance is the optimal-string-alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and transpositions of two
// neighbours each count one ("tpc" is one from "tcp"). The config uses it
// too, for its "did you mean".
func EditDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
