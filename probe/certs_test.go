package probe_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// certOpts describes a certificate to make.
type certOpts struct {
	cn string
	// hosts are the DNS names and IP addresses the certificate is for.
	hosts []string
	// notBefore and notAfter bound its validity; zero: an hour ago and an
	// hour from now.
	notBefore, notAfter time.Time
	// client makes a leaf for client authentication, not a server's.
	client bool
}

// testCert is a certificate and its key made for one test, in memory and
// as PEM files in a directory of the test's.
type testCert struct {
	pair     tls.Certificate // the leaf, then its issuer's chain
	leaf     *x509.Certificate
	certFile string // pair's chain
	keyFile  string // pair's key, PKCS #8
}

// testCA is a certificate authority made for one test. Its self-signed
// certificate can serve too (for opts.hosts) and be trusted as it is.
type testCA struct{ testCert }

// newCA returns a CA described by o; o.client is ignored.
func newCA(t *testing.T, o certOpts) *testCA {
	t.Helper()
	return &testCA{makeCert(t, o, true, nil)}
}

// issue returns a leaf certificate signed by ca.
func (ca *testCA) issue(t *testing.T, o certOpts) *testCert {
	t.Helper()
	c := makeCert(t, o, false, ca)
	return &c
}

// selfSigned returns a leaf certificate signed by its own key, which is no
// CA's.
func selfSigned(t *testing.T, o certOpts) *testCert {
	t.Helper()
	c := makeCert(t, o, false, nil)
	return &c
}

// makeCert makes the certificate o describes, a CA's if isCA, signed by
// parent or, with parent nil, by its own key.
func makeCert(t *testing.T, o certOpts, isCA bool, parent *testCA) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: o.cn},
		NotBefore:    o.notBefore,
		NotAfter:     o.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(time.Hour)
	}
	for _, h := range o.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	switch {
	case isCA:
		// No extended key usage: the CA may sign server and client leaves.
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	case o.client:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	issuer, signer, chain := tmpl, any(key), [][]byte(nil)
	if parent != nil {
		issuer, signer, chain = parent.leaf, parent.pair.PrivateKey, parent.pair.Certificate
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := testCert{
		certFile: writePEM(t, dir, "cert.pem", "CERTIFICATE", append([][]byte{der}, chain...)...),
		keyFile:  writePEM(t, dir, "key.pem", "PRIVATE KEY", keyDER),
	}
	// Loaded from the files, so that they are known to be good.
	if c.pair, err = tls.LoadX509KeyPair(c.certFile, c.keyFile); err != nil {
		t.Fatal(err)
	}
	if c.leaf, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	c.pair.Leaf = c.leaf
	return c
}

// writePEM writes blocks of the given type to a file in dir and returns
// its path.
func writePEM(t *testing.T, dir, name, typ string, ders ...[]byte) string {
	t.Helper()
	var b strings.Builder
	for _, der := range ders {
		if err := pem.Encode(&b, &pem.Block{Type: typ, Bytes: der}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
