package probe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSOptions are the TLS fields the http, tls and grpc blocks share
// (inlined into each: `ca_file: …` sits directly in the block).
// Verification is on unless Insecure is set.
type TLSOptions struct {
	// CAFile is a PEM bundle of CAs to trust instead of the system's.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key (PEM),
	// both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Insecure skips verification of the server's certificate chain and
	// name. Opt-in only.
	Insecure bool `yaml:"insecure"`
	// ServerName overrides the name sent in SNI and verified in the
	// certificate (default: the target's host).
	ServerName string `yaml:"server_name"`
}

// Config returns the tls.Config of these options for a target whose host
// is host, reading the files now. Errors are *FieldError naming the field.
func (o TLSOptions) Config(host string) (*tls.Config, error) {
	c := &tls.Config{ServerName: host, InsecureSkipVerify: o.Insecure, MinVersion: tls.VersionTLS12}
	if o.ServerName != "" {
		c.ServerName = o.ServerName
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fieldErr(err, "ca_file")
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fieldErrf([]string{"ca_file"}, "no PEM certificate in %s", o.CAFile)
		}
		c.RootCAs = pool
	}
	switch {
	case o.CertFile != "" && o.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fieldErr(fmt.Errorf("loading the client certificate: %w", err), "cert_file")
		}
		c.Certificates = []tls.Certificate{cert}
	case o.CertFile != "":
		return nil, fieldErr(errors.New("cert_file needs key_file"), "key_file")
	case o.KeyFile != "":
		return nil, fieldErr(errors.New("key_file needs cert_file"), "cert_file")
	}
	return c, nil
}

// Key identifies the options for sharing a transport between checks: one
// transport (and connection pool) per distinct TLS setting.
func (o TLSOptions) Key() string {
	return fmt.Sprintf("%q|%q|%q|%t|%q", o.CAFile, o.CertFile, o.KeyFile, o.Insecure, o.ServerName)
}
