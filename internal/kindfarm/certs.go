package kindfarm

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
	"time"
)

// How long the farm's certificates are valid.
const (
	// ValidFor is how long after Start the TLS services' certificate
	// expires: short-lived, so that `min_days_left: 14` fails and
	// `min_days_left: 1` passes.
	ValidFor = 3 * 24 * time.Hour
	// ExpiredFor is how long before Start the expired certificate
	// expired.
	ExpiredFor = 2 * 24 * time.Hour
	// caValidFor is the CA's lifetime: longer than any leaf, so the leaf
	// is what expires first.
	caValidFor = 365 * 24 * time.Hour
)

// certs are the farm's CA and the leaf certificates it signed.
type certs struct {
	caPEM          []byte
	valid, expired tls.Certificate
}

// newCerts makes a CA, a leaf valid for ValidFor and a leaf expired
// ExpiredFor ago, both for 127.0.0.1, ::1, localhost and tls.farm.test.
func newCerts() (*certs, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "fanout farm CA", Organization: []string{"fanout farm"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	c := &certs{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	if c.valid, err = leaf(ca, caKey, "fanout-farm", now.Add(-time.Hour), now.Add(ValidFor)); err != nil {
		return nil, err
	}
	if c.expired, err = leaf(ca, caKey, "fanout-farm-expired", now.Add(-ExpiredFor-7*24*time.Hour), now.Add(-ExpiredFor)); err != nil {
		return nil, err
	}
	return c, nil
}

// leaf makes a server certificate signed by ca.
func leaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, notBefore, notAfter time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"fanout farm"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "tls.farm.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Raw}, PrivateKey: key}, nil
}

// serverTLS is a server configuration presenting cert.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// serial returns a random certificate serial number.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		// crypto/rand does not fail on the platforms Go supports.
		panic(err)
	}
	return n
}
