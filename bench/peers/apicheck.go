package peers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/internal/kafkax"
)

// checkAPI asks the query API (the api.Server over store, in process) for every series of r
// and compares each point with want: the answer a client gets, not only the store under it.
func checkAPI(store api.PeakSource, r Range, want Table) error {
	srv, err := api.NewServer(api.ServerConfig{Auth: api.NewInsecureAuthenticator(), Source: store})
	if err != nil {
		return err
	}
	const layout = "2006-01-02T15:04:05Z"
	got := Table{}
	for _, s := range r.Series {
		q := url.Values{"start_time": {time.Unix(r.First, 0).UTC().Format(layout)},
			"end_time": {time.Unix(r.Last, 0).UTC().Add(59 * time.Minute).Format(layout)}}
		if s.Domain != "" {
			q.Set("publish_domain", s.Domain)
		}
		req := httptest.NewRequest(http.MethodGet, "/v2/"+s.Project+"/stats/record?"+q.Encode(), nil)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return fmt.Errorf("API: %s: %d %s", req.URL, rec.Code, rec.Body)
		}
		var body struct {
			List []struct {
				Time  string `json:"time"`
				Count uint32 `json:"concurrent_count"`
			} `json:"record_data_list"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			return fmt.Errorf("API: %s: %w", req.URL, err)
		}
		if n := int((r.Last-r.First)/3600) + 1; len(body.List) != n {
			return fmt.Errorf("API: %s: %d points, want %d", req.URL, len(body.List), n)
		}
		for i, pt := range body.List {
			hour := r.First + int64(i)*3600
			t, err := time.Parse(layout, pt.Time)
			if err != nil || t.Unix() < hour || t.Unix() >= hour+3600 {
				return fmt.Errorf("API: %s: point %d has time %q", req.URL, i, pt.Time)
			}
			if pt.Count > 0 {
				got[HourKey{s, hour}] = api.Peak{Count: pt.Count, Minute: uint8((t.Unix() - hour) / 60)}
			}
		}
	}
	if ms := Compare(r, got, want); len(ms) > 0 {
		return MismatchError("the API against the expected table", ms)
	}
	return nil
}

// waitQuery waits until the materializer, whose metrics are in reg, has applied every record
// the results topic holds now.
func waitQuery(ctx context.Context, kc kafkax.Client, topic string, partitions int, reg *prometheus.Registry) error {
	ends := make([]int64, partitions)
	for p := range partitions {
		_, end, err := kc.Offsets(ctx, topic, p)
		if err != nil {
			return err
		}
		ends[p] = end
	}
	for {
		at := make([]int64, partitions)
		for i := range at {
			at[i] = -1
		}
		mfs, err := reg.Gather()
		if err != nil {
			return err
		}
		for _, mf := range mfs {
			if mf.GetName() != "recordusage_query_partition_offset" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if p, err := strconv.Atoi(l.GetValue()); l.GetName() == "partition" && err == nil && p < partitions {
						at[p] = int64(m.GetGauge().GetValue())
					}
				}
			}
		}
		done := true
		for p, end := range ends {
			done = done && at[p]+1 >= end
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("query did not read the results up to %v (at %v): %w", ends, at, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
