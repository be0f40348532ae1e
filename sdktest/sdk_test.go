package sdktest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	live "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v2/model"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/internal/ops"
	"github.com/recordusage/recordusage/internal/tlstest"
	"github.com/recordusage/recordusage/query"
	"github.com/recordusage/recordusage/results"
)

const layout = "2006-01-02T15:04:05Z"

// testServer is the real query handler over a real store, with AK/SK credentials, served over
// HTTPS by the same server as cmd/query (ops.Start: limits, the service's own answers to
// malformed requests) with a certificate of a CA made for the test.
type testServer struct {
	endpoint string
	ca       *tlstest.CA
}

// startServer starts a testServer. now is the server's clock (time.Now when nil): the SDK
// signs with the wall clock, so a server clock ahead of it makes the SDK's dates old.
func startServer(t *testing.T, store *query.Store, now func() time.Time) *testServer {
	t.Helper()
	creds := api.Credentials{AccessKeys: []api.AccessKeyEntry{
		{AK: "AK_PROJ_A", SK: "sk-a-0123456789", ProjectID: "proj_a"},
		{AK: "AK_OPERATOR", SK: "sk-op-0123456789", ProjectID: "*"},
	}}
	data, err := json.Marshal(creds)
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	cs, err := api.NewStore(path)
	require.NoError(t, err)
	srv, err := api.NewServer(api.ServerConfig{Auth: api.NewAuthenticator(cs, now), Source: store})
	require.NoError(t, err)

	ca := tlstest.NewCA(t)
	certs, err := ops.NewCertReloader(ca.WriteFiles(t, dir, 1))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	hs, err := ops.Start(ctx, ops.ServerConfig{Addr: "127.0.0.1:0", Handler: srv, TLS: ops.TLSConfig(certs),
		Refuse: srv.Refuse}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { cancel(); <-hs.Done() })
	return &testServer{endpoint: "https://" + hs.Addr().String(), ca: ca}
}

// client returns an official SDK client for the server that trusts the test CA, and nothing
// else: the certificate is verified for real. wrap, when given, wraps the transport, to watch
// or alter what the SDK sends.
func (s *testServer) client(t *testing.T, ak, sk, project string, wrap ...func(http.RoundTripper) http.RoundTripper) *live.LiveClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	require.NoError(t, err)
	// WithHttpTransport (or WithHttpRoundTripper) replaces the SDK's default transport, whose
	// only TLS option is to skip verification; this one trusts the test CA.
	var rt http.RoundTripper = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.ca.Pool, MinVersion: tls.VersionTLS12}}
	for _, w := range wrap {
		rt = w(rt)
	}
	hc, err := live.LiveClientBuilder().
		WithEndpoints([]string{s.endpoint}). // "https://127.0.0.1:port": the SDK keeps an explicit scheme
		WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithHttpRoundTripper(rt).WithTimeout(10 * time.Second)).
		SafeBuild()
	require.NoError(t, err)
	return live.NewLiveClient(hc)
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func put(store *query.Store, project, domain string, minute time.Time, count uint32) {
	hour := minute.Truncate(time.Hour)
	if domain == results.AllDomains {
		domain = ""
	}
	store.Put(results.Record{ProjectID: project, Domain: domain, Hour: hour.Unix(),
		Peak: results.Peak{Count: count, Minute: uint8(minute.Sub(hour) / time.Minute)}})
}

func ptr(s string) *string { return &s }

func TestOfficialSDKListRecordData(t *testing.T) {
	store := query.NewStore()
	cur := time.Now().UTC().Truncate(time.Hour)
	start := cur.Add(-5 * time.Hour)
	put(store, "proj_a", "*", start.Add(1*time.Hour+17*time.Minute), 12)
	put(store, "proj_a", "*", start.Add(3*time.Hour+59*time.Minute), 3)
	put(store, "proj_a", "push.example.com", start.Add(1*time.Hour+20*time.Minute), 8)
	put(store, "proj_b", "*", start.Add(1*time.Hour), 1000)
	srv := startServer(t, store, nil)
	c := srv.client(t, "AK_PROJ_A", "sk-a-0123456789", "proj_a")

	resp, err := c.ListRecordData(&model.ListRecordDataRequest{
		StartTime: ptr(start.Add(20 * time.Minute).Format(layout)), // truncated to the hour
		EndTime:   ptr(start.Add(4 * time.Hour).Format(layout)),
	})
	require.NoError(t, err)
	require.Equal(t, 200, resp.HttpStatusCode)
	require.NotNil(t, resp.XRequestId)
	require.Regexp(t, `^[0-9a-f]{32}$`, *resp.XRequestId)
	type pt struct {
		time  string
		count int32
	}
	got := func(r *model.ListRecordDataResponse) []pt {
		var out []pt
		for _, d := range *r.RecordDataList {
			out = append(out, pt{*d.Time, *d.ConcurrentCount})
		}
		return out
	}
	at := func(h int, m int) string {
		return start.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).Format(layout)
	}
	require.Equal(t, []pt{{at(0, 0), 0}, {at(1, 17), 12}, {at(2, 0), 0}, {at(3, 59), 3}, {at(4, 0), 0}}, got(resp))

	// The domain filter, through the SDK's own query encoding.
	resp, err = c.ListRecordData(&model.ListRecordDataRequest{
		PublishDomain: ptr("push.example.com"),
		StartTime:     ptr(start.Format(layout)),
		EndTime:       ptr(start.Add(2 * time.Hour).Format(layout)),
	})
	require.NoError(t, err)
	require.Equal(t, []pt{{at(0, 0), 0}, {at(1, 20), 8}, {at(2, 0), 0}}, got(resp))

	// No parameters: the last 24 hours, ending with the current hour.
	resp, err = c.ListRecordData(&model.ListRecordDataRequest{})
	require.NoError(t, err)
	require.Len(t, *resp.RecordDataList, 24)
	last := *(*resp.RecordDataList)[23].Time
	require.Contains(t, []string{cur.Format(layout), cur.Add(time.Hour).Format(layout)}, last, "the hour may have turned")

	// An invalid parameter is a ServiceResponseError with the contract's code.
	_, err = c.ListRecordData(&model.ListRecordDataRequest{StartTime: ptr("yesterday")})
	requireCode(t, err, 400, api.CodeInvalidParam)
}

func TestOfficialSDKAuthErrors(t *testing.T) {
	store := query.NewStore()
	put(store, "proj_b", "*", time.Now().UTC().Truncate(time.Hour), 1000)
	srv := startServer(t, store, nil)

	// A wrong secret key.
	_, err := srv.client(t, "AK_PROJ_A", "wrong-secret", "proj_a").
		ListRecordData(&model.ListRecordDataRequest{PublishDomain: ptr("a.example.com")})
	requireCode(t, err, 401, api.CodeAuthFailed)
	// An unknown access key.
	_, err = srv.client(t, "AK_NOBODY", "sk-a-0123456789", "proj_a").
		ListRecordData(&model.ListRecordDataRequest{PublishDomain: ptr("b.example.com")})
	requireCode(t, err, 401, api.CodeAuthFailed)
	// A key of project A asking for project B.
	_, err = srv.client(t, "AK_PROJ_A", "sk-a-0123456789", "proj_b").
		ListRecordData(&model.ListRecordDataRequest{PublishDomain: ptr("c.example.com")})
	requireCode(t, err, 401, api.CodeForbiddenProject)
	// The operator key reads project B.
	resp, err := srv.client(t, "AK_OPERATOR", "sk-op-0123456789", "proj_b").
		ListRecordData(&model.ListRecordDataRequest{})
	require.NoError(t, err)
	list := *resp.RecordDataList
	require.EqualValues(t, 1000, *list[23].ConcurrentCount+*list[22].ConcurrentCount, "the hour may have turned")
}

func requireCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	require.Error(t, err)
	var sre *sdkerr.ServiceResponseError
	require.True(t, errors.As(err, &sre), "%T: %v", err, err)
	require.Equal(t, status, sre.StatusCode, sre.ErrorMessage)
	require.Equal(t, code, sre.ErrorCode, sre.ErrorMessage)
	require.Regexp(t, `^[0-9a-f]{32}$`, sre.RequestId)
}

// TestOfficialSDKSameRequestTwice is two SDK clients polling the same range in the same second:
// the SDK dates its signatures to the second, so they send byte-identical signed requests, and
// both are answered (CONTRACT.md §6: a signature is valid for its whole window).
func TestOfficialSDKSameRequestTwice(t *testing.T) {
	store := query.NewStore()
	cur := time.Now().UTC().Truncate(time.Hour)
	put(store, "proj_a", "*", cur.Add(-2*time.Hour+7*time.Minute), 4)
	srv := startServer(t, store, nil)
	var mu sync.Mutex
	var sent []string // Authorization and X-Sdk-Date of each request
	record := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			sent = append(sent, r.Header.Get("X-Sdk-Date")+" "+r.Header.Get("Authorization"))
			mu.Unlock()
			return next.RoundTrip(r)
		})
	}
	c1 := srv.client(t, "AK_PROJ_A", "sk-a-0123456789", "proj_a", record)
	c2 := srv.client(t, "AK_PROJ_A", "sk-a-0123456789", "proj_a", record)
	req := &model.ListRecordDataRequest{StartTime: ptr(cur.Add(-3 * time.Hour).Format(layout)),
		EndTime: ptr(cur.Add(-time.Hour).Format(layout))}
	// The two requests are identical only when both fall within the same second of the
	// clock; a pair that straddles a second is tried again (a handful of attempts is plenty).
	for attempt := 0; ; attempt++ {
		require.Less(t, attempt, 5, "no two requests within one second")
		mu.Lock()
		sent = nil
		mu.Unlock()
		r1, err := c1.ListRecordData(req)
		require.NoError(t, err)
		r2, err := c2.ListRecordData(req)
		require.NoError(t, err, "the same signed request, a second time")
		require.Equal(t, 200, r1.HttpStatusCode)
		require.Equal(t, 200, r2.HttpStatusCode)
		require.Equal(t, *r1.RecordDataList, *r2.RecordDataList)
		require.Equal(t, int32(4), *(*r2.RecordDataList)[1].ConcurrentCount)
		require.NotEqual(t, *r1.XRequestId, *r2.XRequestId)
		mu.Lock()
		same := len(sent) == 2 && sent[0] == sent[1]
		mu.Unlock()
		if same {
			return
		}
	}
}

// TestOfficialSDKOldAndTamperedSignatures checks that what the window and the signature
// protect is still refused: a signature dated more than 15 minutes before the server clock,
// and a signed request altered on the way.
func TestOfficialSDKOldAndTamperedSignatures(t *testing.T) {
	store := query.NewStore()
	// The server's clock is 16 minutes ahead of the SDK's, so every SDK signature is too old.
	ahead := startServer(t, store, func() time.Time { return time.Now().Add(16 * time.Minute) })
	_, err := ahead.client(t, "AK_PROJ_A", "sk-a-0123456789", "proj_a").ListRecordData(&model.ListRecordDataRequest{})
	requireCode(t, err, 401, api.CodeAuthFailed)
	// 14 minutes is within the window.
	within := startServer(t, store, func() time.Time { return time.Now().Add(14 * time.Minute) })
	_, err = within.client(t, "AK_PROJ_A", "sk-a-0123456789", "proj_a").ListRecordData(&model.ListRecordDataRequest{})
	require.NoError(t, err)

	srv := startServer(t, store, nil)
	tamper := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			q := r.URL.Query()
			q.Set("publish_domain", "other.example.com") // after signing
			r.URL.RawQuery = q.Encode()
			return next.RoundTrip(r)
		})
	}
	_, err = srv.client(t, "AK_PROJ_A", "sk-a-0123456789", "proj_a", tamper).
		ListRecordData(&model.ListRecordDataRequest{PublishDomain: ptr("push.example.com")})
	requireCode(t, err, 401, api.CodeAuthFailed)
}
