package ops

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryLimitShare is the share of the cgroup's memory limit that becomes the soft memory limit
// when --memory-limit-mib is 0: the rest is left for memory the Go runtime does not manage.
const memoryLimitShare = 0.9

// GCSettings is what TuneGC applies; a negative field is left as the runtime has it.
type GCSettings struct {
	Percent int   // debug.SetGCPercent
	Limit   int64 // debug.SetMemoryLimit, bytes
}

// decideGC returns the settings for the --gc-percent and --memory-limit-mib flags. The GOGC and
// GOMEMLIMIT environment variables, which the runtime has applied already, win over the flags.
// A memory limit of 0 means memoryLimitShare of cgroupLimit when that is positive, and no limit
// otherwise.
func decideGC(percent int, limitMiB int64, getenv func(string) string, cgroupLimit int64) GCSettings {
	s := GCSettings{Percent: -1, Limit: -1}
	if getenv("GOGC") == "" {
		s.Percent = percent
	}
	if getenv("GOMEMLIMIT") == "" {
		switch {
		case limitMiB > 0:
			s.Limit = limitMiB << 20
		case cgroupLimit > 0:
			s.Limit = int64(float64(cgroupLimit) * memoryLimitShare)
		}
	}
	return s
}

// TuneGC sets the garbage-collection target and the soft memory limit of this process from the
// flags of a stream processor (cmd/ingest --gc-percent and --memory-limit-mib; see decideGC)
// and returns what it applied.
func TuneGC(percent int, limitMiB int64) GCSettings {
	s := decideGC(percent, limitMiB, os.Getenv, cgroupMemoryLimit())
	if s.Percent >= 0 {
		debug.SetGCPercent(s.Percent)
	}
	if s.Limit >= 0 {
		debug.SetMemoryLimit(s.Limit)
	}
	return s
}

// cgroupMemoryLimit returns the memory limit of the process's cgroup (v2, else v1) in bytes, or
// 0 when there is none or it cannot be read.
func cgroupMemoryLimit() int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if raw, err := os.ReadFile(path); err == nil {
			return parseCgroupLimit(string(raw))
		}
	}
	return 0
}

// parseCgroupLimit parses the content of memory.max ("max" when unlimited) or of
// memory.limit_in_bytes (a number near 2^63 when unlimited); anything else is 0, no limit.
func parseCgroupLimit(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0
	}
	return n
}
