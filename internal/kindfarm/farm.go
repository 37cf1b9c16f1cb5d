// Package kindfarm runs, on loopback, one fake service of every check kind
// fanout has: HTTP, TLS (with a certificate that expires in 3 days, and
// another that has expired), TCP (a mail-style banner, and a Redis-style
// PING/PONG), DNS (a small zone, over UDP and TCP on one port) and gRPC
// (the standard health service, in plaintext and over TLS).
//
// It is the farm behind `fanout demo --farm` and the one every file of
// examples/ is tested against: [Farm.Env] gives the FANOUT_FARM_…
// variables the examples read, so no example points at the outside world.
// [Farm.Close] stops every service and waits for every goroutine the farm
// started.
package kindfarm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Zone is the DNS zone the farm's DNS server answers for.
const Zone = "farm.test."

// Names of the gRPC health services the farm knows, besides "" (the
// server's overall health, SERVING).
const (
	// GRPCServing is a service whose health is SERVING.
	GRPCServing = "farm.Checkout"
	// GRPCNotServing is a service whose health is NOT_SERVING.
	GRPCNotServing = "farm.Billing"
)

// BasicUser is the user name /private accepts with the password Token.
const BasicUser = "farm"

// Farm is a running set of services, one of each kind. Its fields are set
// by Start and never change; its methods are safe for concurrent use.
type Farm struct {
	// HTTP is the host:port of the plain HTTP service (see http.go
	// for its paths: /healthz, /status, /slow, /fail, /redirect, /loop,
	// /text, /echo, /private, /vhost).
	HTTP string
	// TLS is the host:port of the same HTTP service over TLS, with a
	// certificate for 127.0.0.1, ::1, localhost and tls.farm.test that
	// expires about 3 days after Start, signed by the farm's CA.
	TLS string
	// TLSExpired is the same over TLS with a certificate that expired 2
	// days before Start, signed by the same CA.
	TLSExpired string
	// TCP is the host:port of a banner service: it sends Banner and a
	// CRLF, then closes the connection.
	TCP string
	// Redis is the host:port of a line service that answers "PING" with
	// "+PONG", "QUIT" with "+OK" (and closes), and anything else with an
	// error line, as a Redis server does.
	Redis string
	// DNS is the host:port (UDP and TCP) of a DNS server that answers for
	// Zone (see dns.go) and NXDOMAIN for any other name.
	DNS string
	// GRPC is the host:port of a plaintext gRPC server with the health
	// service: "" and GRPCServing SERVING, GRPCNotServing NOT_SERVING.
	GRPC string
	// GRPCTLS is the same gRPC server over TLS, with the certificate of
	// TLS.
	GRPCTLS string
	// CAFile is the path of the PEM file of the CA that signed every
	// certificate of the farm. Close removes it.
	CAFile string
	// Token is a random secret: /private wants it as a bearer token, or as
	// the password of BasicUser.
	Token string

	dir      string
	stoppers []func() // in the order services were started
	closeErr error
	once     sync.Once
}

// Banner is the greeting line of the TCP service.
const Banner = "220 fanout-farm ESMTP ready"

// Start starts every service on 127.0.0.1 and returns once each one
// accepts connections. The caller must call Close. On error nothing is
// left running.
func Start() (_ *Farm, err error) {
	f := &Farm{}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	f.Token = "farm-" + hex.EncodeToString(token)
	if f.dir, err = os.MkdirTemp("", "fanout-farm-"); err != nil {
		return nil, fmt.Errorf("kindfarm: %w", err)
	}
	certs, err := newCerts()
	if err != nil {
		return nil, fmt.Errorf("kindfarm: certificates: %w", err)
	}
	f.CAFile = filepath.Join(f.dir, "ca.pem")
	if err := os.WriteFile(f.CAFile, certs.caPEM, 0o644); err != nil {
		return nil, fmt.Errorf("kindfarm: %w", err)
	}
	steps := []struct {
		name  string
		start func() (string, func(), error)
		addr  *string
	}{
		{"http", func() (string, func(), error) { return serveHTTP(f.handler(), nil) }, &f.HTTP},
		{"tls", func() (string, func(), error) { return serveHTTP(f.handler(), serverTLS(certs.valid)) }, &f.TLS},
		{"tls (expired)", func() (string, func(), error) { return serveHTTP(f.handler(), serverTLS(certs.expired)) }, &f.TLSExpired},
		{"tcp", func() (string, func(), error) { return serveLines(bannerConn) }, &f.TCP},
		{"redis", func() (string, func(), error) { return serveLines(redisConn) }, &f.Redis},
		{"dns", serveDNS, &f.DNS},
		{"grpc", func() (string, func(), error) { return serveGRPC(nil) }, &f.GRPC},
		{"grpc (tls)", func() (string, func(), error) { return serveGRPC(serverTLS(certs.valid)) }, &f.GRPCTLS},
	}
	for _, s := range steps {
		addr, stop, err := s.start()
		if err != nil {
			return nil, fmt.Errorf("kindfarm: %s: %w", s.name, err)
		}
		*s.addr = addr
		f.stoppers = append(f.stoppers, stop)
	}
	return f, nil
}

// Env returns the variables the examples use, each service's address (or
// the CA file's path, or the token) by name:
//
//	FANOUT_FARM_HTTP         host:port of the HTTP service
//	FANOUT_FARM_TLS          host:port of the HTTP service over TLS (expires in 3 days)
//	FANOUT_FARM_TLS_EXPIRED  host:port of the same with an expired certificate
//	FANOUT_FARM_CA           path of the PEM file of the farm's CA
//	FANOUT_FARM_TOKEN        the secret /private wants
//	FANOUT_FARM_TCP          host:port of the banner service
//	FANOUT_FARM_REDIS        host:port of the PING/PONG service
//	FANOUT_FARM_DNS          host:port of the DNS server (UDP and TCP)
//	FANOUT_FARM_GRPC         host:port of the gRPC health server
//	FANOUT_FARM_GRPC_TLS     host:port of the same over TLS
func (f *Farm) Env() map[string]string {
	return map[string]string{
		"FANOUT_FARM_HTTP":        f.HTTP,
		"FANOUT_FARM_TLS":         f.TLS,
		"FANOUT_FARM_TLS_EXPIRED": f.TLSExpired,
		"FANOUT_FARM_CA":          f.CAFile,
		"FANOUT_FARM_TOKEN":       f.Token,
		"FANOUT_FARM_TCP":         f.TCP,
		"FANOUT_FARM_REDIS":       f.Redis,
		"FANOUT_FARM_DNS":         f.DNS,
		"FANOUT_FARM_GRPC":        f.GRPC,
		"FANOUT_FARM_GRPC_TLS":    f.GRPCTLS,
	}
}

// Close stops every service, closing their listeners and connections,
// waits for every goroutine the farm started, and removes the CA file.
// Calling it again returns the first call's result.
func (f *Farm) Close() error {
	f.once.Do(func() {
		for i := len(f.stoppers) - 1; i >= 0; i-- {
			f.stoppers[i]()
		}
		if f.dir != "" {
			f.closeErr = os.RemoveAll(f.dir)
		}
		if f.closeErr != nil {
			f.closeErr = errors.Join(errors.New("kindfarm: close"), f.closeErr)
		}
	})
	return f.closeErr
}
