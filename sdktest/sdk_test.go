package sdktest

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	live "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v2/model"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/query"
	"github.com/recordusage/recordusage/results"
)

const layout = "2006-01-02T15:04:05Z"

// startServer serves the real query handler over a real store, with AK/SK credentials, on a
// loopback httptest server. The clock is the wall clock: the SDK signs with time.Now.
func startServer(t *testing.T, store *query.Store) string {
	t.Helper()
	creds := api.Credentials{AccessKeys: []api.AccessKeyEntry{
		{AK: "AK_PROJ_A", SK: "sk-a-0123456789", ProjectID: "proj_a"},
		{AK: "AK_OPERATOR", SK: "sk-op-0123456789", ProjectID: "*"},
	}}
	data, err := json.Marshal(creds)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "credentials.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	cs, err := api.NewStore(path)
	require.NoError(t, err)
	srv, err := api.NewServer(api.ServerConfig{Auth: api.NewAuthenticator(cs, nil), Source: store})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

func client(t *testing.T, endpoint, ak, sk, project string) *live.LiveClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	require.NoError(t, err)
	hc, err := live.LiveClientBuilder().
		WithEndpoints([]string{endpoint}). // "http://127.0.0.1:port": the SDK keeps an explicit scheme
		WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithIgnoreSSLVerification(true).WithTimeout(10 * time.Second)).
		SafeBuild()
	require.NoError(t, err)
	return live.NewLiveClient(hc)
}

func put(store *query.Store, project, domain string, minute time.Time, count uint32) {
	store.Put(results.Record{ProjectID: project, Domain: domain, Hour: minute.Truncate(time.Hour),
		Count: count, Minute: minute})
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
	endpoint := startServer(t, store)
	c := client(t, endpoint, "AK_PROJ_A", "sk-a-0123456789", "proj_a")

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
	endpoint := startServer(t, store)

	// A wrong secret key.
	_, err := client(t, endpoint, "AK_PROJ_A", "wrong-secret", "proj_a").
		ListRecordData(&model.ListRecordDataRequest{PublishDomain: ptr("a.example.com")})
	requireCode(t, err, 401, api.CodeAuthFailed)
	// An unknown access key.
	_, err = client(t, endpoint, "AK_NOBODY", "sk-a-0123456789", "proj_a").
		ListRecordData(&model.ListRecordDataRequest{PublishDomain: ptr("b.example.com")})
	requireCode(t, err, 401, api.CodeAuthFailed)
	// A key of project A asking for project B.
	_, err = client(t, endpoint, "AK_PROJ_A", "sk-a-0123456789", "proj_b").
		ListRecordData(&model.ListRecordDataRequest{PublishDomain: ptr("c.example.com")})
	requireCode(t, err, 401, api.CodeForbiddenProject)
	// The operator key reads project B.
	resp, err := client(t, endpoint, "AK_OPERATOR", "sk-op-0123456789", "proj_b").
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
