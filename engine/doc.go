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
// Recordings get dense uint32 ids from a dictionary, and keep their recent events in a
// pointer-free slab of fixed-size blocks (history.go); the recording itself keeps the session
// going on after its newest event and that event's time, so that an event after all the others
// (the common case) is applied without reading or replaying the block's events. For every
// retained minute the partition keeps a roaring bitmap of the recordings that have a session
// boundary (a start or a stop) in that minute (minutes.go); a minute that the frontier has not
// reached yet, the one that events are arriving in, stages its set in a plain bitset (one bit per
// event, in any id order) and compresses it into the roaring bitmap when the frontier passes it.
// For every series (a project, and each (project, domain) pair) it
// keeps, per minute with a boundary, a cell of counters (series.go): how many of its recordings
// are in that bitmap, and how many sessions start there and go on, or end there after starting
// before. A recording belongs to exactly two series, so whether its id is new to the minute's
// bitmap says whether it is new to both cells: a restart within one minute counts once.
//
// A session that spans minute m strictly covers all of it, so no other session of the same
// recording can touch m: C(m) = |boundary(m) ∩ series| + spanning(m), exactly, where spanning
// follows from the running sum of the cells. Open recordings therefore cost nothing per minute,
// an event changes the cell of its own minute only, and a minute without a cell counts no more
// than the one before it, so the hourly windows need a value only at the minutes with a cell and
// at the first minute of each hour: the minute tick recounts the series with a boundary in the
// new minutes, and every series once an hour (tick.go).
//
// # Batching
//
// Most of an event's cost is waiting for memory: its dictionary slot, key, recording, history
// block, series and cells are each a likely cache miss, and each is found through the one
// before. Apply therefore checks the time rules at once (they decide its error and depend only on
// the largest event time) and queues the start or stop; the queue is processed 64 events at a
// time, first in passes that only load what the events will touch, one level of indirection per
// pass, so that the misses of the whole batch are in flight together, then event by event in
// arrival order exactly as before (batch.go). Every method that reads or changes the state
// processes the queue first, so it is invisible from outside. The minute tick and the hourly
// pass over the live series load their lists the same way (prefetch.go).
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
// An Engine belongs to one goroutine (the partition's), its window.Hour values included; other
// goroutines see what it publishes (results.Record), never its state. Under -race, Flush checks
// the engine's redundant state (invariants.go).
package engine
