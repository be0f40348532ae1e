// Package query materializes the compacted topic record-usage-hourly into memory and answers
// the read path of ListRecordData (CONTRACT.md §5, §7).
//
// # Data flow
//
// A Materializer reads every partition of the results topic from its first offset with one
// goroutine and one kafka-go Reader per partition (no consumer group: every replica reads
// everything) and keeps tailing it. Each record is decoded with results.Decode and written to a
// Store. The Materializer is caught up once every partition has reached the end offset it had
// when the Materializer started; the query service answers 503 until then.
//
// # The store
//
// A Store holds one Series per (project, domain) pair, domain "*" being the whole project.
// A Series indexes its hours in blocks of BlockHours consecutive hours, so a 31-day query
// (744 points) reads at most four blocks. Each hour is a window.Cell, one atomic 64-bit word
// packing the peak count and the minute of the peak: a reader never sees a torn (count, minute)
// pair and never blocks on a value write.
//
// Concurrency and ownership:
//   - Store.mu (an RWMutex) guards only the index from series key to *Series. Readers hold its
//     read lock for one map lookup; writers take the write lock only to add a series.
//   - A Series' block table is immutable and published through an atomic.Pointer; a writer
//     that needs a new block copies the table under Series.mu (held by writers only) and
//     swaps it in. Readers are therefore lock-free once they have the *Series.
//   - Values are written with atomic stores. A key of the topic always lives in one partition
//     and each partition has one goroutine, so the writes of one hour are serialized in offset
//     order and the latest record wins, as compaction would keep it.
//
// Bad records (undecodable key or value, an invalid hour or minute) are counted in
// recordusage_query_bad_records_total and skipped; they never stop a partition. A record
// with an empty value (a tombstone, which a recovering ingest writes) deletes its hour, which
// then reads as zero.
package query
