package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/results"
	"github.com/recordusage/recordusage/window"
)

// The crash tests replay what ingest does around a kill -9, deterministically: a producer
// appends arrivals to the partition in parts, with the wall clock at the arrival time of the
// newest one; an instance reads them in batches, flushing after each (caught up when it has read
// everything produced), checkpoints now and then, and is dropped at a crash point, possibly in
// the middle of publishing one flush. The next instance restores the last checkpoint (or starts
// empty), begins recovery, replays from the checkpoint's offset and reconciles once it has read
// everything that existed when it started. The results topic is a map of last values, and at the
// end it must hold exactly what an uninterrupted run's holds: every hour of every series, zeros
// and final flags included.

// topic is the compacted results topic: the last value of every key; a tombstone deletes it.
type topic struct {
	t    *testing.T
	last map[reference.SeriesHour]results.Record
	n    int // records written
}

func newTopic(t *testing.T) *topic {
	return &topic{t: t, last: map[reference.SeriesHour]results.Record{}}
}

func (tp *topic) write(r results.Record) {
	tp.n++
	k := reference.Key(r.ProjectID, r.Domain, r.Hour)
	if prev, ok := tp.last[k]; ok && prev.Final {
		// A final value never changes: a restarted instance may only repeat it, or delete a
		// final zero (which reads the same).
		same := !r.Tombstone && r.Final && r.Peak == prev.Peak
		require.True(tp.t, same || (r.Tombstone && prev.Peak.Count == 0),
			"hour %v changed after it was final: %+v, then %+v", k, prev, r)
	}
	if r.Tombstone {
		delete(tp.last, k)
		return
	}
	tp.last[k] = r
}

// partition is the simulated input partition, its producer and the wall clock.
type partition struct {
	arr      []arrival
	produced int   // arrivals written so far: the high watermark
	clock    int64 // wall clock, Unix ns
}

func (p *partition) produce(n int) {
	p.produced = min(len(p.arr), p.produced+n)
	if p.produced > 0 {
		p.clock = max(p.clock, p.arr[p.produced-1].at)
	}
}

func (p *partition) now() time.Time { return time.Unix(0, p.clock) }

// checkpoint is an engine snapshot with the next offset. clean says its writer published
// nothing after it (it was the last thing a stopping instance did).
type checkpoint struct {
	snap  []byte
	next  int
	clean bool
}

// instance is one process owning the partition.
type instance struct {
	e           *Engine
	next        int // next arrival to apply
	reconcileAt int // the high watermark when recovery began
}

// cluster runs the instances of one partition one after the other, as kill -9 and restarts do.
type cluster struct {
	t    *testing.T
	r    *rand.Rand
	cfg  Config
	p    *partition
	out  *topic
	ckpt *checkpoint // nil: the partition has never been processed
	inst *instance
}

// start gives the partition to a new instance, as ingest's partition loop does: restore the
// last checkpoint, or write a first one for a partition never processed; recover unless the
// checkpoint is clean.
func (c *cluster) start() {
	var e *Engine
	var err error
	if c.ckpt == nil {
		e, err = New(c.cfg, c.p.now)
		require.NoError(c.t, err)
		c.ckpt = &checkpoint{snap: e.AppendSnapshot(nil)}
	} else {
		e, err = Restore(c.cfg, c.p.now, c.ckpt.snap)
		require.NoError(c.t, err)
		if !c.ckpt.clean {
			e.BeginRecovery()
		}
		// Before it publishes anything, the new owner marks the checkpoint as no longer clean:
		// whoever restores it next must recover from what this one publishes.
		c.ckpt.clean = false
	}
	c.inst = &instance{e: e, next: c.ckpt.next, reconcileAt: c.p.produced}
}

// read applies up to n of the produced arrivals in batches, flushing after each batch. cut,
// when at least 0, is a crash in the middle of the first flush that has results: only its first
// cut records reach the topic, and read returns false.
func (c *cluster) read(n, cut int) bool {
	in := c.inst
	for n > 0 && in.next < c.p.produced {
		batch := min(n, 1+c.r.IntN(40), c.p.produced-in.next)
		for _, a := range c.p.arr[in.next : in.next+batch] {
			_ = in.e.Apply(toEvent(a.Event), a.Off) // rejections are checked against the reference
		}
		in.next += batch
		n -= batch
		if !c.flush(cut) {
			return false
		}
	}
	return true
}

// flush publishes, as the partition loop does after a batch; see read for cut.
func (c *cluster) flush(cut int) bool {
	in := c.inst
	var out []results.Record
	emit := func(r results.Record) { out = append(out, r) }
	in.e.Flush(in.next >= c.p.produced, emit)
	if in.e.Recovering() && in.next >= in.reconcileAt {
		in.e.Reconcile(emit)
	}
	if cut >= 0 && len(out) > 0 {
		for _, r := range out[:min(cut, len(out))] {
			c.out.write(r)
		}
		return false
	}
	for _, r := range out {
		c.out.write(r)
	}
	return true
}

// catchUp reads everything produced.
func (c *cluster) catchUp() { c.read(len(c.p.arr), -1) }

func (c *cluster) checkpoint(clean bool) {
	c.ckpt = &checkpoint{snap: c.inst.e.AppendSnapshot(nil), next: c.inst.next, clean: clean}
}

// stop is a graceful stop: flush, checkpoint, give the partition up.
func (c *cluster) stop() {
	c.flush(-1)
	c.checkpoint(true)
	c.inst = nil
}

func (c *cluster) crash() { c.inst = nil }

// newCluster returns a cluster over the arrivals of one generated workload.
func newCluster(t *testing.T, r *rand.Rand, arr []arrival) *cluster {
	return &cluster{t: t, r: r, cfg: DefaultConfig(), p: &partition{arr: arr, clock: base}, out: newTopic(t)}
}

// uninterrupted runs the same production schedule with one instance that never crashes.
func uninterrupted(t *testing.T, arr []arrival, parts []int, seed uint64) *cluster {
	c := newCluster(t, rand.New(rand.NewPCG(seed, 1)), arr)
	c.start()
	for _, n := range parts {
		c.p.produce(n)
		c.catchUp()
	}
	c.flush(-1)
	return c
}

// requireTopicExact checks every hour of every series from before the first event to after the
// frontier: the topic's value (an absent key reads as 0 at hh:00) equals the reference model, a
// key present is final exactly when its hour is, and both runs agree.
func requireTopicExact(t *testing.T, got, want *cluster) {
	t.Helper()
	ge, we := got.inst.e, want.inst.e
	require.Equal(t, we.frontier, ge.frontier, "both runs count up to the same minute")
	require.Equal(t, we.finalTo, ge.finalTo, "both runs have the same final hours")
	accepted := acceptedBy(want.cfg, want.p.arr)
	ref := reference.Hours(accepted, ge.frontier)
	series := map[[2]string]bool{}
	first := int64(1) << 62
	for _, e := range accepted {
		series[[2]string{e.Project, ""}] = true
		series[[2]string{e.Project, e.Domain}] = true
		first = min(first, floorDiv(minuteOf(e.Time), 60))
	}
	for k := range got.out.last {
		series[[2]string{k.Project, k.Domain}] = true
	}
	last := max(floorDiv(ge.frontier, 60), ge.withheldTo) + 2
	for s := range series {
		for hour := first - 3; hour <= last; hour++ {
			k := reference.Key(s[0], s[1], hour*3600)
			name := fmt.Sprintf("hour %s of %q/%q", time.Unix(hour*3600, 0).UTC().Format(time.RFC3339), s[0], s[1])
			require.Equal(t, ref[k], got.out.peakOf(k), "%s: crashed run against the reference", name)
			require.Equal(t, want.out.peakOf(k), got.out.peakOf(k), "%s: crashed run against the uninterrupted one", name)
			if r, ok := got.out.last[k]; ok {
				require.Equal(t, hour < ge.finalTo, r.Final, "%s: final flag", name)
			}
			if r, ok := want.out.last[k]; ok {
				require.Equal(t, hour < we.finalTo, r.Final, "%s: final flag of the uninterrupted run", name)
			}
		}
	}
}

// peakOf returns the value of an hour on the topic: an absent key reads as 0 at hh:00.
func (tp *topic) peakOf(k reference.SeriesHour) window.Peak {
	r, ok := tp.last[k]
	if !ok {
		return window.Peak{}
	}
	return r.Peak
}

// acceptedBy returns the arrivals an engine accepts, in arrival order: the time rules reject
// only events too far behind the watermark, which depends on the arrival order alone.
func acceptedBy(cfg Config, arr []arrival) []reference.Event {
	var out []reference.Event
	rule := lateRule{cfg: cfg}
	for _, a := range arr {
		if rule.accept(a.Time) {
			out = append(out, a.Event)
		}
	}
	return out
}

// crashWorkload is a generated workload delivered out of order, cut into four parts.
func crashWorkload(seed uint64) ([]arrival, []int) {
	r := rand.New(rand.NewPCG(seed, 11))
	evs := genEvents(r, genOptions{sessions: 80, span: 8 * time.Hour, maxDelay: 30 * time.Minute, dupShare: 0.1})
	arr := deliver(r, evs, 30*time.Minute)
	q := len(arr) / 4
	return arr, []int{q, q, q, len(arr) - 3*q}
}

// TestCrashRecoveryExact drops an instance at the three places where the damage is largest, with
// the timing: the first instance reads part 1 while caught up (open recordings extended
// to the wall clock and published), dies, and its successor starts only after part 2 is produced,
// so that it reads the stops of those recordings in the same batch as their starts and never
// extends them itself.
func TestCrashRecoveryExact(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash func(c *cluster, part int)
	}{
		{"killed before its first checkpoint", func(c *cluster, part int) {
			c.catchUp()
			c.crash()
		}},
		{"killed after a checkpoint and more publishing", func(c *cluster, part int) {
			c.read(part/2, -1)
			c.checkpoint(false)
			c.catchUp()
			c.crash()
		}},
		{"killed in the middle of publishing a flush", func(c *cluster, part int) {
			c.read(part/2, -1)
			c.checkpoint(false)
			c.catchUp()
			c.p.produce(part)
			c.read(part, 3)
			c.crash()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(40) {
				arr, parts := crashWorkload(seed)
				want := uninterrupted(t, arr, parts, seed)

				c := newCluster(t, rand.New(rand.NewPCG(seed, 1)), arr)
				c.start()
				c.p.produce(parts[0])
				tc.crash(c, parts[0])
				c.p.produce(parts[1]) // produced while no instance runs
				c.start()
				c.catchUp()
				for _, n := range parts[2:] {
					c.p.produce(n)
					c.catchUp()
				}
				c.p.produce(len(arr)) // the crash cases may have produced part 2 early
				c.catchUp()
				c.flush(-1)
				requireTopicExact(t, c, want)
			}
		})
	}
}

// TestCrashExtendedHourBackToZero is the case by hand: a recording extended to the wall
// clock while caught up is published for hours it never ran in; the instance dies before a
// checkpoint; the stop arrives; the successor reads start and stop in one batch.
func TestCrashExtendedHourBackToZero(t *testing.T) {
	ev := func(typ event.Type, tm string, at string, off int64) arrival {
		e := reference.Event{Project: "p", Domain: "d", App: "live", Stream: "s", Type: typ, Time: parse(t, tm)}
		e.Off = off
		return arrival{Event: e, at: parse(t, at)}
	}
	arr := []arrival{
		ev(event.RecordStart, "2026-11-25T10:05:00Z", "2026-11-25T13:30:00Z", 0),
		ev(event.RecordOver, "2026-11-25T10:20:00Z", "2026-11-25T13:31:00Z", 1),
	}
	c := newCluster(t, rand.New(rand.NewPCG(1, 1)), arr)
	c.start()
	c.p.produce(1)
	c.catchUp() // caught up at 13:30: hours 10–13 published with 1
	require.Equal(t, uint32(1), c.out.last[reference.Key("p", "", parse(t, "2026-11-25T12:00:00Z")/1e9)].Peak.Count)
	c.crash()
	c.p.produce(1)
	c.start()
	c.catchUp()
	c.flush(-1)
	want := uninterrupted(t, arr, []int{1, 1}, 1)
	requireTopicExact(t, c, want)
	require.Equal(t, window.Peak{}, c.out.peakOf(reference.Key("p", "", parse(t, "2026-11-25T12:00:00Z")/1e9)))
}

func parse(t *testing.T, s string) int64 { return at(t, s).UnixNano() }

// TestPropertyCrashes runs the generated workloads with several crashes per run at random
// points — between batches, in the middle of a flush, right after a checkpoint or long after
// one, before any — and graceful handovers, with restarts after random amounts of production.
func TestPropertyCrashes(t *testing.T) {
	iterations := 300
	if testing.Short() {
		iterations = 40
	}
	total := 0
	for i := range iterations {
		seed := uint64(1000 + i)
		arr, _ := crashWorkload(seed)
		r := rand.New(rand.NewPCG(seed, 3))
		var parts []int
		for left := len(arr); left > 0; {
			n := min(left, 1+r.IntN(len(arr)/3+1))
			parts = append(parts, n)
			left -= n
		}
		want := uninterrupted(t, arr, parts, seed)

		c := newCluster(t, r, arr)
		c.start()
		crashes := 0
		for _, n := range parts {
			c.p.produce(n)
			if c.inst == nil {
				c.start()
			}
			for c.inst != nil && c.inst.next < c.p.produced {
				switch x := r.IntN(10); {
				case x < 5:
					c.read(1+r.IntN(n+1), -1)
				case x < 7:
					c.checkpoint(false)
				case x < 8:
					c.read(1+r.IntN(n+1), r.IntN(8)) // killed in the middle of a flush
					c.crash()
					crashes++
				case x < 9:
					c.crash()
					crashes++
				default:
					c.stop()
				}
				if c.inst == nil && r.IntN(2) == 0 {
					c.start() // else the next part is produced while no instance runs
				}
			}
			if c.inst != nil && r.IntN(3) == 0 {
				c.crash() // caught up, published, no checkpoint since
				crashes++
			}
		}
		if c.inst == nil {
			c.start()
		}
		c.catchUp()
		c.flush(-1)
		requireTopicExact(t, c, want)
		total += crashes
	}
	require.Greater(t, total, 2*iterations, "several crashes per run on average")
}
