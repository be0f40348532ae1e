package main

import (
	"testing"

	"github.com/recordusage/recordusage/ingest"
	"github.com/stretchr/testify/require"
)

func TestDecideGC(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	const gib = int64(1) << 30
	cases := map[string]struct {
		percent  int
		limitMiB int64
		getenv   func(string) string
		cgroup   int64
		want     gcSettings
	}{
		"defaults, no cgroup limit":  {ingest.DefaultGCPercent, 0, env(), 0, gcSettings{percent: ingest.DefaultGCPercent, limit: -1}},
		"defaults, cgroup limit":     {ingest.DefaultGCPercent, 0, env(), 2 * gib, gcSettings{percent: ingest.DefaultGCPercent, limit: 2 * gib * 9 / 10}},
		"flag limit wins the cgroup": {200, 512, env(), 2 * gib, gcSettings{percent: 200, limit: 512 << 20}},
		"GOGC set":                   {ingest.DefaultGCPercent, 0, env("GOGC", "100"), 0, gcSettings{percent: -1, limit: -1}},
		"GOGC=off and GOMEMLIMIT":    {ingest.DefaultGCPercent, 512, env("GOGC", "off", "GOMEMLIMIT", "1GiB"), 2 * gib, gcSettings{percent: -1, limit: -1}},
		"GOMEMLIMIT set only":        {ingest.DefaultGCPercent, 0, env("GOMEMLIMIT", "1GiB"), 2 * gib, gcSettings{percent: ingest.DefaultGCPercent, limit: -1}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, c.want, decideGC(c.percent, c.limitMiB, c.getenv, c.cgroup))
		})
	}
}

func TestParseCgroupLimit(t *testing.T) {
	for in, want := range map[string]int64{
		"max\n":                 0, // cgroup v2, unlimited
		"9223372036854771712\n": 0, // cgroup v1, unlimited
		"1073741824\n":          1 << 30,
		"":                      0,
		"garbage":               0,
		"0":                     0,
		"-1":                    0,
	} {
		require.Equal(t, want, parseCgroupLimit(in), "%q", in)
	}
}
