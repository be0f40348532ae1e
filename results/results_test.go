package results

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/engine"
)

func TestRoundTrip(t *testing.T) {
	hour := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for _, r := range []engine.Result{
		{ProjectID: "p1", Domain: "", Hour: hour.Unix(), Count: 3, Minute: hour.Add(7 * time.Minute).Unix(), Final: true},
		{ProjectID: "p1", Domain: "push.example.com", Hour: hour.Unix(), Count: 0, Minute: hour.Unix()},
	} {
		k, v := Encode(r)
		got, err := Decode(k, v)
		require.NoError(t, err)
		d := r.Domain
		if d == "" {
			d = AllDomains
		}
		require.Equal(t, Record{ProjectID: r.ProjectID, Domain: d, Hour: hour, Count: r.Count,
			Minute: time.Unix(r.Minute, 0).UTC(), Final: r.Final}, got)
		k2, v2 := Encode(r)
		require.Equal(t, k, k2, "same hour, same key bytes: compaction keeps one")
		require.Equal(t, v, v2)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, c := range [][2]string{
		{`nope`, `{}`},
		{`{"project_id":"p","domain":"*","hour":"2026-11-25T08:30:00Z"}`, `{"concurrent_count":1,"time":"2026-11-25T08:30:00Z"}`},
		{`{"project_id":"p","domain":"*","hour":"2026-11-25T08:00:00Z"}`, `{"concurrent_count":1,"time":"2026-11-25T09:00:00Z"}`},
		{`{"project_id":"","domain":"*","hour":"2026-11-25T08:00:00Z"}`, `{"concurrent_count":1,"time":"2026-11-25T08:00:00Z"}`},
	} {
		_, err := Decode([]byte(c[0]), []byte(c[1]))
		require.ErrorIs(t, err, ErrBadRecord, c[0])
	}
}
