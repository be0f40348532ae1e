package ingest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		c := DefaultConfig()
		c.Brokers = []string{"127.0.0.1:9092"}
		return c
	}
	require.NoError(t, valid().Validate())
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"heartbeat over a third of the session", func(c *Config) { c.HeartbeatInterval = 4 * time.Second },
			"heartbeat interval 4s is more than a third of the session timeout 10s"},
		{"no session timeout", func(c *Config) { c.SessionTimeout = 0 }, "must be positive"},
		{"no rebalance timeout", func(c *Config) { c.RebalanceTimeout = -time.Second }, "must be positive"},
		{"checkpoints more often than flushes", func(c *Config) { c.CheckpointInterval = time.Millisecond },
			"at most the checkpoint interval"},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "no brokers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			require.ErrorContains(t, c.Validate(), tc.want)
		})
	}
	c := valid()
	c.SessionTimeout, c.HeartbeatInterval = 6*time.Second, 2*time.Second // exactly a third
	require.NoError(t, c.Validate())
}
