// Package loadgen generates realistic recording events (CONTRACT.md §2) for load tests and
// demonstrations, and writes them to Kafka or to a stream of newline-delimited JSON.
//
// # The model
//
// A population of projects whose sizes (channels per project) follow a Zipf law; each project
// has one to three push domains and apps, each channel records in one or two formats (HLS, FLV,
// MP4), and each format is a separate recording that starts and stops with the channel's
// session, a few seconds apart. Channels start sessions as a non-homogeneous Poisson process
// whose rate follows a day curve in the audience's local time (UTC+8 by default: quiet before
// dawn, busy in the evening), so hourly peaks look like a real platform's. Session durations are
// log-normal (median 25 minutes, a tail of hours); a recording closes a file every ten minutes
// (RECORD_FILE_COMPLETE), sometimes starts a new one (RECORD_NEW_FILE_START), rarely stops with
// RECORD_FAILED, and a share of sessions is followed by a quick restart.
//
// # Delivery
//
// The Generator is a discrete-event simulation in event-time order. Every event is given a
// delivery time, its event time plus a random delay of at most Config.MaxDelay, and messages
// leave in delivery-time order: an event is never delivered more than MaxDelay after a later
// event, which keeps the disorder within the engine's correction horizon. A share of events is
// delivered twice (exact duplicates, each copy with its own delay) and a share of bad messages
// (not JSON, a missing field, an unknown type, a bad time, a key that differs from project_id) is
// mixed in, each keyed by its project.
//
// # Modes
//
// A backfill produces the event times from Config.From to Config.To as fast as Config.Rate allows;
// live mode produces events as the wall clock reaches them, so no event time is ever ahead of
// the clock; a backfill with ThenLive continues live from where it ended with the same open
// sessions. The same seed and time range give the same messages in the same order.
//
// Run drives a Generator into a Sink (KafkaSink, WriterSink) with rate limiting and progress
// output; the command bench/cmd/loadgen is a thin layer of flags over it.
package loadgen
