// Package engine holds the exact state of one input partition and turns recording events into
// hourly peaks of concurrent recordings (CONTRACT.md §3–§4).
//
// # Model
//
// A recording is (project, publish_domain, app, stream, record_format). Its events, in event-time
// order, form sessions; a session [s, e] makes the recording active in every minute from floor(s)
// to floor(e), both included. C(m) is the number of distinct recordings of a project (or of one of
// its domains) active in minute m; an hour's value is the maximum of C over its minutes and the
// earliest minute reaching it.
//
// # Representation
//
// Recordings get dense uint32 ids from a dictionary. For every series (a project, and each
// (project, domain) pair) the engine keeps, per minute:
//
//   - a roaring bitmap of the recordings that have a session boundary (a start or a stop) in that
//     minute, and
//   - a difference counter of the sessions that span the minute strictly (start minute < m <
//     stop minute, or start minute < m for an open session).
//
// A session that spans minute m strictly covers all of it, so no other session of the same
// recording can touch m: the two parts never share a recording and C(m) = |boundary(m)| +
// spanning(m), exactly. Open recordings therefore cost nothing per minute, the minute tick is
// O(series) instead of O(open recordings), and the bitmaps still make a restart within one minute
// count once.
//
// # Time
//
// The event watermark (largest event time − lateness) decides which events are too late (behind
// it by more than the correction horizon), when an hour is final, when memory is released and,
// while the partition reads a backlog, which minutes are published. While the partition is
// caught up, the frontier of published minutes follows the injected wall clock through its
// current minute, so a start shows at once and open recordings keep counting without events.
// Late events are applied to the history of their recording and the minutes they change are
// recounted.
//
// # Recovery
//
// After a crash, the results topic may hold values that the killed instance published after its
// last checkpoint. BeginRecovery withholds every hour it may have published until Reconcile
// publishes them all again (recovery.go, docs/reliability.md).
//
// # Ownership
//
// An Engine belongs to one goroutine (the partition's). Its window.Hour values may be read from
// other goroutines; nothing else may be.
package engine
