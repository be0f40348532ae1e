package ops

import (
	"testing"

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
	const defaultPercent = 400 // ingest.DefaultGCPercent
	cases := map[string]struct {
		percent  int
		limitMiB int64
		getenv   func(string) string
		cgroup   int64
		want     GCSettings
	}{
		"defaults, no cgroup limit":  {defaultPercent, 0, env(), 0, GCSettings{Percent: defaultPercent, Limit: -1}},
		"defaults, cgroup limit":     {defaultPercent, 0, env(), 2 * gib, GCSettings{Percent: defaultPercent, Limit: 2 * gib * 9 / 10}},
		"flag limit wins the cgroup": {200, 512, env(), 2 * gib, GCSettings{Percent: 200, Limit: 512 << 20}},
		"GOGC set":                   {defaultPercent, 0, env("GOGC", "100"), 0, GCSettings{Percent: -1, Limit: -1}},
		"GOGC=off and GOMEMLIMIT":    {defaultPercent, 512, env("GOGC", "off", "GOMEMLIMIT", "1GiB"), 2 * gib, GCSettings{Percent: -1, Limit: -1}},
		"GOMEMLIMIT set only":        {defaultPercent, 0, env("GOMEMLIMIT", "1GiB"), 2 * gib, GCSettings{Percent: defaultPercent, Limit: -1}},
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
