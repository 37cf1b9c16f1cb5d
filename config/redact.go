package config

import (
	"net/url"
	"slices"
	"strings"
)

// Mask replaces every secret value in what fanout shows.
const Mask = "xxxxx"

// Redact returns target with URL userinfo and secret query values masked:
// https://user:pw@h/?token=t → https://user:xxxxx@h/?token=xxxxx. A user
// name alone is masked too (tokens are often passed that way). Strings that
// are not URLs come back unchanged.
func Redact(target string) string {
	i := strings.Index(target, "://")
	if i < 0 {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return redactUnparsed(target, i+3)
	}
	changed := false
	if u.User != nil {
		if _, hasPW := u.User.Password(); hasPW {
			u.User = url.UserPassword(u.User.Username(), Mask)
		} else {
			u.User = url.User(Mask)
		}
		changed = true
	}
	if q, ok := redactQuery(u.RawQuery); ok {
		u.RawQuery = q
		changed = true
	}
	if !changed {
		return target
	}
	return u.String()
}

// redactUnparsed masks anything between the scheme and an '@', and secret
// query values, when the string is not a valid URL, so a malformed target
// is still safe to echo.
func redactUnparsed(s string, from int) string {
	rest := s[from:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		s = s[:from] + Mask + rest[at:]
	}
	q := strings.Index(s, "?")
	if q < 0 {
		return s
	}
	query, fragment, hasFragment := strings.Cut(s[q+1:], "#")
	if red, ok := redactQuery(query); ok {
		s = s[:q+1] + red
		if hasFragment {
			s += "#" + fragment
		}
	}
	return s
}

// redactQuery masks the values of secret-looking parameters, keeping the
// order and encoding of everything else.
func redactQuery(raw string) (string, bool) {
	if raw == "" {
		return raw, false
	}
	parts := strings.Split(raw, "&")
	changed := false
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(name)
		if err != nil {
			key = name
		}
		if hasValue && IsSecretName(key) {
			parts[i] = name + "=" + Mask
			changed = true
		}
	}
	return strings.Join(parts, "&"), changed
}

// IsSecretName reports whether a query parameter or header name looks like
// it carries a secret: token, key, secret, password, auth, signature,
// session, credential and their common spellings.
func IsSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "secret", "passw", "auth", "apikey", "api_key", "api-key",
		"signature", "credential", "session", "cookie", "jwt", "private"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	switch n {
	case "key", "pwd", "pass", "sig", "code":
		return true
	}
	return strings.HasSuffix(n, "key") || strings.HasPrefix(n, "key_") || strings.HasPrefix(n, "key-")
}

// secretValues lists the secrets a target URL carries: its userinfo and
// the values of secret query parameters, raw and decoded.
func secretValues(u *url.URL) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
			if esc := url.QueryEscape(s); esc != s {
				out = append(out, esc)
			}
		}
	}
	if u.User != nil {
		pw, hasPW := u.User.Password()
		if hasPW {
			add(pw)
		} else {
			add(u.User.Username())
		}
	}
	for name, values := range u.Query() {
		if IsSecretName(name) {
			for _, v := range values {
				add(v)
			}
		}
	}
	return out
}

// Redactor masks known secret values in free text such as error messages.
// Values shorter than MinSecretLen are left alone: masking every "a" of a
// message would hide more than it protects (targets themselves are always
// redacted structurally by Redact).
type Redactor struct{ r *strings.Replacer }

// MinSecretLen is the shortest secret a Redactor masks in free text.
const MinSecretLen = 4

// NewRedactor returns a Redactor for the given secret values.
func NewRedactor(secrets []string) *Redactor {
	// Longest first: a Replacer tries its pairs in order, and a secret
	// that contains another must be masked whole.
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, s := range secrets {
		if len(s) >= MinSecretLen {
			pairs = append(pairs, s, Mask)
		}
	}
	if len(pairs) == 0 {
		return &Redactor{}
	}
	return &Redactor{r: strings.NewReplacer(pairs...)}
}

// Redact masks the secrets in s.
func (r *Redactor) Redact(s string) string {
	if r == nil || r.r == nil {
		return s
	}
	return r.r.Replace(s)
}
