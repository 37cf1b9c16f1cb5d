package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math"
	"net"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fanout-dev/fanout"
)

// TLS checks a TLS server: a handshake that verifies the certificate chain
// and name (unless Insecure), then the earliest expiry in the chain
// against MinDaysLeft. Build it with [TLSSpec.Build]: the zero value has no
// TLS configuration.
type TLS struct {
	// Address is the dialled host:port.
	Address string
	// Options are the TLS options the check was built with.
	Options TLSOptions
	// MinDaysLeft is the fewest days the earliest-expiring certificate
	// may have left; 0 fails only an expired certificate.
	MinDaysLeft int

	// config is built from Options by Build, files read once. It is
	// only read afterwards, so checks share it across goroutines.
	config *tls.Config
}

var _ Check = (*TLS)(nil)

// TLSSpec is the `tls:` block of a YAML check: the TLS options every kind
// shares (ca_file, cert_file, key_file, insecure, server_name), inlined,
// and min_days_left.
type TLSSpec struct {
	TLSOptions `yaml:",inline"`
	// MinDaysLeft fails the check (cert_expiry) when the earliest
	// certificate of the chain expires in fewer days than this
	// (default 0: only an expired certificate fails).
	MinDaysLeft int `yaml:"min_days_left"`
}

func newTLSSpec() Spec { return &TLSSpec{} }

// Build returns the TLS check of target: tls://host[:port], port 443 by
// default, with nothing after the port but an optional "/". It reads the
// CA and client certificate files now.
func (s *TLSSpec) Build(u *url.URL) (Check, error) {
	if err := hostOnly(u, "tls", false, ""); err != nil {
		return nil, err
	}
	if s.MinDaysLeft < 0 {
		return nil, fieldErrf([]string{"min_days_left"}, "must be 0 or more, got %d", s.MinDaysLeft)
	}
	config, err := s.TLSOptions.Config(u.Hostname())
	if err != nil {
		return nil, err
	}
	return &TLS{
		Address:     hostPort(u.Hostname(), u.Port(), DefaultPort("tls")),
		Options:     s.TLSOptions,
		MinDaysLeft: s.MinDaysLeft,
		config:      config,
	}, nil
}

// Kind returns "tls".
func (t *TLS) Kind() string { return "tls" }

// Host returns the dialled address with the host lower-cased.
func (t *TLS) Host() string {
	host, port, err := net.SplitHostPort(t.Address)
	if err != nil {
		return t.Address
	}
	if t.Options.ServerName != "" {
		// DESIGN.md: the host is taken after any SNI override.
		host = t.Options.ServerName
	}
	return hostPort(host, port, DefaultPort("tls"))
}

// Run dials the address with env's dialer, completes a TLS handshake under
// ctx (bounded by env's Timeout if it has no deadline), and closes the
// connection. The detail holds
// not_after (RFC 3339, of the earliest-expiring certificate), days_left
// (to one decimal, negative once expired), subject, issuer and sans of
// the leaf, version ("TLS1.3") and verified. A failed verification is
// error/tls (an expired chain fails verification), with the detail of the
// chain the server sent, verified false and no version; an expiry within
// MinDaysLeft, or an expired certificate when Insecure skipped
// verification, is fail/cert_expiry.
func (t *TLS) Run(ctx context.Context, env *Env) (Detail, error) {
	config, err := t.tlsConfig()
	if err != nil {
		return nil, classed(fanout.StateError, fanout.ReasonTLS, "tls options: "+err.Error(), err)
	}
	ctx, cancel := env.bound(ctx)
	defer cancel()
	tr := newTracer()
	raw, err := env.opts.Dialer.DialContext(httptrace.WithClientTrace(ctx, tr.clientTrace()), "tcp", t.Address)
	p := tr.finish()
	if err != nil {
		return nil, classify(ctx, err, phaseDial, p.dialStage(), p.start, env.quotedTimeout(ctx, p.start))
	}
	conn := tls.Client(raw, config)
	// The attempt's deadline reaches the socket.
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	err = conn.HandshakeContext(ctx)
	// The handshake answered the check, whatever Close says.
	defer func() { _ = conn.Close() }()
	if err != nil {
		// A chain that failed verification is still reported on: an
		// expired one is the commonest failure.
		var verifyErr *tls.CertificateVerificationError
		var d Detail
		if errors.As(err, &verifyErr) && len(verifyErr.UnverifiedCertificates) > 0 {
			d, _, _ = tlsCertDetail(verifyErr.UnverifiedCertificates, verifyErr.UnverifiedCertificates, false, time.Now())
		}
		return d, tlsHandshakeFailed(ctx, err, p.start, env.quotedTimeout(ctx, p.start))
	}
	return t.expiry(conn.ConnectionState(), time.Now())
}

// tlsHandshakeFailed classes a failed handshake: a timeout there is
// timeout/timeout (the server accepted the connection, then did not
// answer), anything else tls, unless the attempt was cancelled or this
// machine is out of descriptors.
func tlsHandshakeFailed(ctx context.Context, err error, start time.Time, timeout time.Duration) error {
	if te := timedOutDoing(ctx, err, "in tls handshake", "", start, timeout); te != nil {
		return te
	}
	return classify(ctx, err, phaseDial, "tls", start, timeout)
}

// tlsConfig returns the configuration Build made, or, for a check built
// by hand, one made now from Options.
func (t *TLS) tlsConfig() (*tls.Config, error) {
	if t.config != nil {
		return t.config, nil
	}
	host, _, err := net.SplitHostPort(t.Address)
	if err != nil {
		return nil, err
	}
	return t.Options.Config(host)
}

// expiry reports on the certificates of a completed handshake, at now.
func (t *TLS) expiry(cs tls.ConnectionState, now time.Time) (Detail, error) {
	chain := cs.PeerCertificates
	verified := len(cs.VerifiedChains) > 0
	if verified {
		chain = tlsBestChain(cs.VerifiedChains)
	}
	if len(chain) == 0 || len(cs.PeerCertificates) == 0 {
		return nil, classed(fanout.StateError, fanout.ReasonTLS, "the server sent no certificate", nil)
	}
	d, earliest, left := tlsCertDetail(chain, cs.PeerCertificates, verified, now)
	d["version"] = strings.ReplaceAll(tls.VersionName(cs.Version), " ", "")
	name := tlsCertName(earliest)
	switch {
	case left <= 0:
		return d, fanout.Failf(fanout.ReasonCertExpiry, "certificate %q expired %s ago", name, tlsDayCount(-d["days_left"].(float64)))
	case left < time.Duration(t.MinDaysLeft)*24*time.Hour:
		return d, fanout.Failf(fanout.ReasonCertExpiry, "certificate %q expires in %s (%s), want ≥ %d",
			name, tlsDayCount(d["days_left"].(float64)), d["not_after"], t.MinDaysLeft)
	}
	return d, nil
}

// tlsCertDetail describes the certificates a server sent (peer, leaf first)
// and the chain judged (the verified one, else peer): its earliest expiry,
// and the leaf. It returns the earliest-expiring certificate and its time
// left at now.
func tlsCertDetail(chain, peer []*x509.Certificate, verified bool, now time.Time) (Detail, *x509.Certificate, time.Duration) {
	earliest := tlsEarliest(chain)
	leaf := peer[0]
	left := earliest.NotAfter.Sub(now)
	return Detail{
		"not_after": earliest.NotAfter.UTC().Format(time.RFC3339),
		"days_left": tlsRoundDays(left),
		"subject":   leaf.Subject.String(),
		"issuer":    leaf.Issuer.String(),
		"sans":      tlsSANs(leaf),
		"verified":  verified,
	}, earliest, left
}

// tlsBestChain returns the verified chain that stays valid longest: when a
// cross-signed certificate gives several chains, a client may take any,
// so one chain's expiring root does not make the certificate expire.
func tlsBestChain(chains [][]*x509.Certificate) []*x509.Certificate {
	best := chains[0]
	for _, c := range chains[1:] {
		if tlsEarliest(c).NotAfter.After(tlsEarliest(best).NotAfter) {
			best = c
		}
	}
	return best
}

// tlsEarliest returns the certificate of chain that expires first.
func tlsEarliest(chain []*x509.Certificate) *x509.Certificate {
	first := chain[0]
	for _, c := range chain[1:] {
		if c.NotAfter.Before(first.NotAfter) {
			first = c
		}
	}
	return first
}

// tlsCertName names a certificate in messages: its common name, else its
// first DNS name, else its whole subject.
func tlsCertName(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	}
	return c.Subject.String()
}

// tlsSANs lists the certificate's DNS names, then its IP addresses.
func tlsSANs(c *x509.Certificate) []string {
	out := make([]string, 0, len(c.DNSNames)+len(c.IPAddresses))
	out = append(out, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// tlsRoundDays returns d in days, rounded to one decimal (never -0).
func tlsRoundDays(d time.Duration) float64 {
	days := math.Round(d.Hours()/24*10) / 10
	if days == 0 {
		return 0
	}
	return days
}

// tlsDayCount says n days: "1 day", "3.2 days".
func tlsDayCount(n float64) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.FormatFloat(n, 'f', -1, 64) + " days"
}
