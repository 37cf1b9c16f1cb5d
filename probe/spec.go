package probe

import (
	"fmt"
	"net/url"
	"strings"
)

// Spec is the block of options of one kind in a YAML check (its `http:`,
// `tls:`, `dns:`… block). The config package decodes the block strictly
// into the value NewSpec returns (fields carry yaml tags; a zero field takes
// the kind's default), then calls Build. A target given without a block
// (on the command line, in a list file) is built from the kind's zero Spec.
type Spec interface {
	// Build validates the options and returns the check of target with
	// them. target is the check's parsed URL, nil for a kind that takes
	// none (exec). A bad option is returned as a *FieldError naming it.
	Build(target *url.URL) (Check, error)
}

// Secretive is implemented by Specs whose options hold secrets (an
// Authorization header, a password): reports mask those values wherever
// they would appear.
type Secretive interface {
	Secrets() []string
}

// FieldError is a bad option in a Spec. Path names it inside the kind's
// block, as YAML keys and list indexes: ["status", "2"], ["headers",
// "Accept"]. Offset, if positive, is the 1-based position inside the
// field's string value where the problem is (a JSON condition, a regular
// expression), so that the config can point at the column.
type FieldError struct {
	Path   []string
	Offset int
	Err    error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %v", strings.Join(e.Path, "."), e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// hostOnly checks a target that is a host and port and nothing more
// (kind://host:port, an optional "/"): no user info, path or query. A
// port is required if needPort; pathHint is added to the path's error.
func hostOnly(u *url.URL, kind string, needPort bool, pathHint string) error {
	switch {
	case u == nil:
		return fmt.Errorf("a %s check needs a target", kind)
	case needPort && u.Port() == "":
		return fmt.Errorf("%s target needs a port (%s://host:port)", kind, kind)
	case u.User != nil:
		return fmt.Errorf("%s target takes no user info", kind)
	case u.Path != "" && u.Path != "/":
		return fmt.Errorf("%s target takes no path (got %q)%s", kind, u.Path, pathHint)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("%s target takes no query", kind)
	}
	return nil
}

// fieldErr returns a *FieldError for the field at path.
func fieldErr(err error, path ...string) *FieldError {
	return &FieldError{Path: path, Err: err}
}

// fieldErrf returns a *FieldError with a formatted message.
func fieldErrf(path []string, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Err: fmt.Errorf(format, args...)}
}
