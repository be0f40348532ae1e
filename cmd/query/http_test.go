package main

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/internal/logbuf"
	"github.com/recordusage/recordusage/internal/tlstest"
	"github.com/recordusage/recordusage/query"
)

func TestTLSFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	require.NoError(t, os.WriteFile(bad, []byte("not a certificate"), 0o600))
	certFile, keyFile := tlstest.NewCA(t).WriteFiles(t, dir, 1)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", certFile}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-key", keyFile}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", bad, "--tls-key", keyFile}, "TLS certificate " + bad},
		{[]string{"--tls-cert", certFile, "--tls-key", bad}, "TLS key " + bad},
		{[]string{"--tls-cert", filepath.Join(dir, "nope.crt"), "--tls-key", keyFile}, "nope.crt"},
		{[]string{"--http-idle-timeout", "0"}, "--http-idle-timeout must be positive"},
		{[]string{"--http-max-header-bytes", "-1"}, "--http-max-header-bytes must be positive"},
		{[]string{"--http-max-query-params", "0"}, "--http-max-query-params must be positive"},
		{[]string{"--http-read-header-timeout", "1m", "--http-read-timeout", "10s"}, "longer than the read timeout"},
	} {
		err := run(append([]string{"--insecure-no-auth", "--brokers", "127.0.0.1:1", "--log-level", "error"}, c.args...))
		require.ErrorContains(t, err, c.want, c.args)
	}
	// The environment works like the flags (CONTRACT.md §8).
	t.Setenv("RECORD_TLS_CERT", certFile)
	err := run([]string{"--insecure-no-auth", "--brokers", "127.0.0.1:1", "--log-level", "error"})
	require.ErrorContains(t, err, "--tls-cert and --tls-key go together")
}

// TestReloadSwapsCertificate serves HTTPS as run does, replaces the certificate files, calls the
// function SIGHUP calls, and checks that the new certificate is served; then that a broken
// file is logged and the certificate in force is kept.
func TestReloadSwapsCertificate(t *testing.T) {
	ca := tlstest.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.WriteFiles(t, dir, 1)
	httpf := &httpFlags{tlsCert: certFile, tlsKey: keyFile}
	certs, err := httpf.certificates()
	require.NoError(t, err)
	var logBuf logbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&logBuf, nil))
	srv, err := api.NewServer(api.ServerConfig{Auth: api.NewInsecureAuthenticator(), Source: query.NewStore()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	hs, err := httpf.serve(ctx, "127.0.0.1:0", srv, certs, log)
	require.NoError(t, err)
	defer func() { cancel(); require.NoError(t, <-hs.Done()) }()
	addr := hs.Addr().String()

	served := func() int64 {
		t.Helper()
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr,
			&tls.Config{RootCAs: ca.Pool, ServerName: "localhost"})
		require.NoError(t, err)
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	require.EqualValues(t, 1, served())
	reload := reloader(nil, "", certs, log)

	ca.WriteFiles(t, dir, 2)
	reload()
	require.EqualValues(t, 2, served())
	require.Contains(t, logBuf.String(), `"msg":"TLS certificate reloaded"`)

	require.NoError(t, os.WriteFile(keyFile, []byte("garbage"), 0o600))
	reload()
	require.EqualValues(t, 2, served(), "a failed reload keeps the certificate in force")
	require.Contains(t, logBuf.String(), `"msg":"TLS certificate reload failed; keeping the previous certificate"`)
	require.Contains(t, logBuf.String(), "TLS key "+keyFile)
}
