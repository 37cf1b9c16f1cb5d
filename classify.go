package fanout

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Classify returns the state and reason of a task's error. An [*Error] in
// the chain decides; otherwise common network and system errors are
// recognised (refused, reset, dns, connect_timeout, timeout, tls,
// local_resources), and anything else is StateError with ReasonOther.
// A nil error is StateOK.
//
// Probes and library tasks can call it to class an error they wrap.
func Classify(err error) (State, Reason) {
	if err == nil {
		return StateOK, ReasonNone
	}
	var fe *Error
	if errors.As(err, &fe) && fe.State != "" {
		return fe.State, fe.Reason
	}
	if r, ok := networkReason(err); ok {
		if r == ReasonConnectTimeout || r == ReasonTimeout {
			return StateTimeout, r
		}
		return StateError, r
	}
	return StateError, ReasonOther
}

// networkReason recognises the errors of net, syscall and crypto/tls.
func networkReason(err error) (Reason, bool) {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return ReasonLocalResources, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonRefused, true
	case errors.As(err, &dnsErr):
		return ReasonDNS, true
	case errors.As(err, &opErr) && opErr.Op == "dial" && isTimeout(err):
		return ReasonConnectTimeout, true
	case isTimeout(err):
		return ReasonTimeout, true
	case isTLS(err):
		return ReasonTLS, true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return ReasonReset, true
	}
	return ReasonNone, false
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func isTLS(err error) bool {
	var (
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		verifyErr  *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	return errors.As(err, &recordErr) || errors.As(err, &alertErr) ||
		errors.As(err, &verifyErr) || errors.As(err, &unknownCA) ||
		errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}
