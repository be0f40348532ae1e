// Package results encodes the hourly results that ingest publishes to the compacted topic
// record-usage-hourly and that query materializes (CONTRACT.md §7).
//
// Key: {"project_id":"…","domain":"…","hour":"YYYY-MM-DDThh:00:00Z"} with domain "*" for the
// whole project. Value: {"concurrent_count":N,"time":"YYYY-MM-DDThh:mm:00Z","final":bool}.
// Both are JSON so that operators can read the topic with any console consumer; the key's field
// order is fixed, so the same hour always has byte-identical keys and compaction keeps only the
// latest value. Publishing is idempotent: a replay writes the same key with the same value.
package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/recordusage/recordusage/engine"
)

// AllDomains is the domain of a project's whole-project series on the topic.
const AllDomains = "*"

// Key identifies one hour of one series.
type Key struct {
	ProjectID string `json:"project_id"`
	Domain    string `json:"domain"`
	Hour      string `json:"hour"`
}

// Value is the hour's peak.
type Value struct {
	Count  uint32 `json:"concurrent_count"`
	Minute string `json:"time"`
	Final  bool   `json:"final"`
}

// ErrBadRecord is returned for a record that is not a result.
var ErrBadRecord = errors.New("results: bad record")

const layout = "2006-01-02T15:04:05Z"

// Encode returns the key and value of an engine result. A tombstone has a nil value: the
// compacted topic deletes the key, and the hour reads as 0.
func Encode(r engine.Result) (key, value []byte) {
	d := r.Domain
	if d == "" {
		d = AllDomains
	}
	key, _ = json.Marshal(Key{ProjectID: r.ProjectID, Domain: d, Hour: time.Unix(r.Hour, 0).UTC().Format(layout)})
	if r.Tombstone {
		return key, nil
	}
	value, _ = json.Marshal(Value{Count: r.Count, Minute: time.Unix(r.Minute, 0).UTC().Format(layout), Final: r.Final})
	return key, value
}

// Record is a decoded result.
type Record struct {
	ProjectID string
	Domain    string // AllDomains for the whole project
	Hour      time.Time
	Count     uint32
	Minute    time.Time
	Final     bool
}

// Decode parses a key and value written by Encode.
func Decode(key, value []byte) (Record, error) {
	var k Key
	var v Value
	if err := json.Unmarshal(key, &k); err != nil {
		return Record{}, fmt.Errorf("%w: key %q: %v", ErrBadRecord, key, err)
	}
	if err := json.Unmarshal(value, &v); err != nil {
		return Record{}, fmt.Errorf("%w: value %q: %v", ErrBadRecord, value, err)
	}
	hour, err := time.Parse(layout, k.Hour)
	if err != nil || k.ProjectID == "" || k.Domain == "" || hour.Truncate(time.Hour) != hour {
		return Record{}, fmt.Errorf("%w: key %q", ErrBadRecord, key)
	}
	minute, err := time.Parse(layout, v.Minute)
	if err != nil || minute.Before(hour) || !minute.Before(hour.Add(time.Hour)) {
		return Record{}, fmt.Errorf("%w: value %q for key %q", ErrBadRecord, value, key)
	}
	return Record{ProjectID: k.ProjectID, Domain: k.Domain, Hour: hour, Count: v.Count, Minute: minute, Final: v.Final}, nil
}
