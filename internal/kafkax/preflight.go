package kafkax

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
)

// PreflightWait is how long Preflight keeps retrying brokers that cannot be reached at all
// (refused, unresolvable, silent), which may be brokers still starting. Security errors are
// not retried: a wrong password does not fix itself.
const PreflightWait = 30 * time.Second

// BrokerError says why a broker cannot be used with a Client's settings: the broker, what
// failed, and what to check.
type BrokerError struct {
	Broker string // host:port as configured
	Cause  string // what failed, e.g. `SASL authentication failed (SCRAM-SHA-512, user "ingest")`
	Hint   string // what to check; may be empty
	Err    error  // the error kafka-go or crypto/tls returned

	retry bool // the broker may be starting: worth another attempt
}

func (e *BrokerError) Error() string {
	s := "kafka " + e.Broker + ": " + e.Cause
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

func (e *BrokerError) Unwrap() error { return e.Err }

// Preflight checks that the brokers can be used with the Client's settings before anything
// else connects: kafka-go's readers, writers and consumer groups retry every error quietly, so
// a wrong password or an untrusted certificate would otherwise show as a service that never
// becomes ready. For each broker it connects (TCP, TLS handshake, SASL) and sends ApiVersions
// and a metadata request. It returns nil as soon as one broker answers, and otherwise an error
// with a *BrokerError per broker. Unreachable brokers are retried, with a warning in log (nil:
// no log), for up to PreflightWait; every other error is returned at once.
func (c Client) Preflight(ctx context.Context, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, PreflightWait)
	defer cancel()
	for {
		var errs []error
		retry := true
		for _, b := range c.brokers {
			be := c.checkBroker(ctx, b)
			if be == nil {
				log.Info("kafka reachable", "broker", b, "security", c.sec)
				return nil
			}
			errs = append(errs, be)
			retry = retry && be.retry
		}
		err := errors.Join(errs...)
		if !retry {
			return err
		}
		log.Warn("no Kafka broker reachable yet; retrying", "err", err.Error())
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

// checkBroker connects to one broker the way readers and writers will, and sends ApiVersions
// and a metadata request; it returns nil when that works.
func (c Client) checkBroker(ctx context.Context, broker string) *BrokerError {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	// With TLS, the handshake is first done on its own, so that its errors are told apart from
	// those of the Kafka protocol that follows.
	if c.tls != nil {
		if err := c.handshake(ctx, broker); err != nil {
			return c.explain(broker, err, true)
		}
	}
	conn, err := c.Dialer().DialContext(ctx, "tcp", broker)
	if err != nil {
		return c.explain(broker, err, false)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := conn.ApiVersions(); err != nil {
		return c.explain(broker, fmt.Errorf("api versions: %w", err), false)
	}
	if _, err := conn.Brokers(); err != nil {
		return c.explain(broker, fmt.Errorf("metadata: %w", err), false)
	}
	return nil
}

// handshake connects to broker and completes a TLS handshake with the Client's settings.
func (c Client) handshake(ctx context.Context, broker string) error {
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", broker)
	if err != nil {
		return err
	}
	defer raw.Close()
	cfg := c.tls
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(broker)
		if err != nil {
			return err
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	return tls.Client(raw, cfg).HandshakeContext(ctx)
}

// explain turns err into a BrokerError whose cause and hint name the setting to check.
// inHandshake is true for errors of the TLS handshake done on its own.
func (c Client) explain(broker string, err error, inHandshake bool) *BrokerError {
	e := &BrokerError{Broker: broker, Err: err}
	if c.explainTLS(e, inHandshake) || c.explainSASL(e) || explainNetwork(e) {
		return e
	}
	if closedByPeer(err) {
		e.Cause = "the broker closed the connection (" + err.Error() + ")"
		e.Hint = c.closedHint()
		return e
	}
	e.Cause = err.Error()
	return e
}

// explainTLS fills e for certificate and TLS protocol errors and reports whether it did.
func (c Client) explainTLS(e *BrokerError, inHandshake bool) bool {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var header tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.As(e.Err, &unknownCA):
		e.Cause = "TLS handshake: certificate signed by unknown authority"
		e.Hint = "set --kafka-tls-ca to the CA that signed the broker's certificate"
		if c.sec.CAFile != "" {
			e.Hint = "check --kafka-tls-ca (" + c.sec.CAFile + "): it does not hold the CA that signed the broker's certificate"
		}
	case errors.As(e.Err, &hostname):
		e.Cause = "TLS handshake: " + hostname.Error()
		e.Hint = "connect by a name the certificate is valid for, or set --kafka-tls-server-name"
	case errors.As(e.Err, &invalid):
		e.Cause = "TLS handshake: " + invalid.Error()
		e.Hint = "check the broker's certificate (expiry, key usage)"
	case errors.As(e.Err, &header):
		e.Cause = "TLS handshake: the broker did not answer in TLS"
		e.Hint = "this port is not a TLS listener: drop --kafka-tls or use the broker's TLS port"
	case errors.As(e.Err, &op) && op.Op == "remote error":
		e.Cause = "TLS handshake: the broker refused it (" + op.Err.Error() + ")"
		e.Hint = "the broker may require a client certificate it trusts (--kafka-tls-cert, --kafka-tls-key)"
	case inHandshake && closedByPeer(e.Err):
		e.Cause = "TLS handshake: the broker closed the connection"
		e.Hint = "is this a plaintext port? drop --kafka-tls or use the broker's TLS (SSL or SASL_SSL) port"
	default:
		return false
	}
	return true
}

// explainSASL fills e for SASL errors and reports whether it did.
func (c Client) explainSASL(e *BrokerError) bool {
	m, user := c.sec.SASLMechanism, c.sec.SASLUser
	switch {
	case errors.Is(e.Err, kafka.SASLAuthenticationFailed):
		e.Cause = fmt.Sprintf("SASL authentication failed (%s, user %q)", m, user)
		e.Hint = "check the user and password"
	case errors.Is(e.Err, kafka.UnsupportedSASLMechanism):
		e.Cause = fmt.Sprintf("SASL mechanism %s is not enabled on this listener", m)
		e.Hint = "check --kafka-sasl-mechanism against the broker's sasl.enabled.mechanisms"
	case errors.Is(e.Err, kafka.IllegalSASLState):
		e.Cause = "SASL: the broker did not expect this SASL exchange"
		e.Hint = "is SASL enabled on this listener (SASL_PLAINTEXT or SASL_SSL)?"
	default:
		return false
	}
	return true
}

// explainNetwork fills e for errors of reaching the broker at all, which are worth retrying,
// and reports whether it did.
func explainNetwork(e *BrokerError) bool {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		e.Cause = "connection refused"
		e.Hint = "is the broker running, and is the address in --brokers right?"
	case errors.As(e.Err, &dns):
		e.Cause = "cannot resolve " + dns.Name
		e.Hint = "check the host names in --brokers"
	case errors.Is(e.Err, context.DeadlineExceeded) || errors.As(e.Err, &ne) && ne.Timeout():
		e.Cause = fmt.Sprintf("no answer within %v", dialTimeout)
		e.Hint = "check the address, the port and firewalls"
	default:
		return false
	}
	e.retry = true
	return true
}

// closedByPeer reports whether err says the other end closed or reset the connection, which
// is how a broker answers a request it cannot parse: TLS on a plaintext port or the reverse.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// closedHint guesses, from the Client's settings, why a broker closed the connection after
// the handshake: listeners close connections that speak the wrong protocol.
func (c Client) closedHint() string {
	switch {
	case c.tls == nil && c.sasl == nil:
		return "does this listener expect TLS (--kafka-tls) or SASL (--kafka-sasl-mechanism)?"
	case c.tls == nil:
		return "does this listener expect TLS (--kafka-tls)?"
	case c.sasl == nil:
		return "does this listener require SASL (--kafka-sasl-mechanism)?"
	}
	return "see the broker's log for why"
}
