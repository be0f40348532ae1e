package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/recordusage/recordusage/event"
)

// Kind says what a Message is.
type Kind uint8

const (
	// KindEvent is a good event, delivered for the first time.
	KindEvent Kind = iota
	// KindDuplicate is an exact copy of a KindEvent message, delivered again.
	KindDuplicate
	// KindBad is a message that breaks a rule of CONTRACT.md §2 and must be dead-lettered.
	KindBad
)

// String returns "event", "duplicate" or "bad".
func (k Kind) String() string {
	switch k {
	case KindEvent:
		return "event"
	case KindDuplicate:
		return "duplicate"
	case KindBad:
		return "bad"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is one message to produce. Key is the project id; Value is the JSON of the event
// (or a broken form of it, for KindBad). Key and Value alias memory of the Generator and of the
// buffer given to Next: they are valid until that buffer is reused.
type Message struct {
	Key, Value []byte
	// EventTime is the time of the event (for KindBad, of the event it was made from).
	EventTime time.Time
	Kind      Kind
}

// genKind says what happens at a genItem.
type genKind uint8

const (
	genSession genKind = iota // a channel starts a session
	genEvent                  // a recording event happens
)

// genItem is something that happens at an event time: the simulation's agenda.
type genItem struct {
	at   int64
	seq  uint64
	ch   int32
	fmt  uint8 // the format slot of the channel (0 or 1)
	typ  event.Type
	kind genKind
}

func (x genItem) key() (int64, uint64) { return x.at, x.seq }

// sendItem is a message waiting for its delivery time.
type sendItem struct {
	at   int64 // delivery time
	seq  uint64
	t    int64  // event time
	id   uint64 // the event's number, for event_id
	ch   int32
	fmt  uint8
	typ  event.Type
	kind Kind
	bad  badKind
}

func (x sendItem) key() (int64, uint64) { return x.at, x.seq }

// Generator produces the messages of a load in delivery order. It is not safe for concurrent
// use. Create it with New.
type Generator struct {
	cfg  Config
	r    *rand.Rand
	pop  *population
	from int64 // no event time is earlier

	gen  minHeap[genItem]  // what happens next, by event time
	send minHeap[sendItem] // what is delivered next, by delivery time
	seq  uint64            // tie-breaker of both heaps, in insertion order
	ids  uint64            // events generated

	frontier int64 // event time of the last event generated
	open     int   // recordings open at the frontier

	lambdaMax float64 // session starts per nanosecond per idle channel, at the day's peak
	mu        float64 // log of the median duration in nanoseconds
	pDup      float64 // probability that an event gets a duplicate
	pBad      float64 // probability that an event gets a bad message beside it

	ev       event.Event // scratch for encoding
	idPrefix []byte
	idBuf    []byte
}

// New returns a Generator for cfg, whose population and sessions open at the start are drawn
// from cfg.Seed. A zero From or To is taken from the clock as Run does.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.resolve()
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f616467656e)) // "loadgen"
	extra := 1 - cfg.DupShare - cfg.BadShare               // the share of first deliveries
	g := &Generator{
		cfg: cfg, r: r, pop: newPopulation(&cfg, r), from: cfg.From.UnixNano(),
		lambdaMax: cfg.SessionsPerDay / float64(24*time.Hour) / dayCurveMean,
		mu:        math.Log(float64(cfg.MedianSession)),
		pDup:      cfg.DupShare / extra, pBad: cfg.BadShare / extra,
		idPrefix: fmt.Appendf(nil, "lg%x-", cfg.Seed),
	}
	g.frontier = g.from
	g.warmUp()
	return g, nil
}

// warmUp schedules every channel's first session: the platform has been running for a while,
// so a channel may be in a session that began before From. Such a session's RECORD_START is
// sent within five seconds of From, as a producer that has just been switched on would see it.
func (g *Generator) warmUp() {
	for ci := range g.pop.channels {
		t := g.from - int64(12*time.Hour)
		for {
			s := g.nextStart(t)
			if s >= g.from {
				g.push(genItem{at: s, ch: int32(ci), kind: genSession})
				break
			}
			d := g.duration()
			if s+d > g.from {
				g.startSession(int32(ci), s, d)
				break
			}
			t = s + d + int64(time.Second)
		}
	}
}

// nextStart returns the time of the next session start of an idle channel after t: a Poisson
// process whose rate follows the day curve, drawn by thinning.
func (g *Generator) nextStart(t int64) int64 {
	for {
		t += int64(g.r.ExpFloat64() / g.lambdaMax)
		if g.r.Float64() < rhythm(t, g.cfg.UTCOffset) {
			return t
		}
	}
}

// duration draws a session duration from the log-normal law, at least ten seconds.
func (g *Generator) duration() int64 {
	d := math.Exp(g.mu + g.cfg.SessionSigma*g.r.NormFloat64())
	return int64(min(max(d, float64(10*time.Second)), float64(g.cfg.MaxSession)))
}

func (g *Generator) jitter() int64 { return g.r.Int64N(int64(g.cfg.FormatJitter) + 1) }

func (g *Generator) push(it genItem) {
	it.seq = g.seq
	g.seq++
	g.gen.push(it)
}

// pushEvent schedules an event. Its time is cut to the millisecond, as live platforms report it.
func (g *Generator) pushEvent(at int64, ch int32, slot uint8, typ event.Type) {
	at -= at % int64(time.Millisecond)
	g.push(genItem{at: at, ch: ch, fmt: slot, typ: typ, kind: genEvent})
}

// startSession schedules the events of a session of channel ci from s lasting d, for each of its
// formats, and the channel's next session. Events before From are not sent (see warmUp).
func (g *Generator) startSession(ci int32, s, d int64) {
	const second = int64(time.Second)
	c := &g.pop.channels[ci]
	stop, last, failed := s+d, s+d, false
	interval := int64(g.cfg.FileInterval)
	for slot := range c.nFormats {
		sf, ef := s+g.jitter(), stop+g.jitter()
		startAt := sf
		if startAt < g.from {
			startAt = g.from + g.r.Int64N(5*second)
		}
		ef = max(ef, startAt+second)
		g.pushEvent(startAt, ci, slot, event.RecordStart)
		for k := sf + interval; k < ef-second; k += interval {
			if k <= startAt {
				continue
			}
			g.pushEvent(k, ci, slot, event.RecordFileComplete)
			if g.r.Float64() < g.cfg.NewFileShare {
				g.pushEvent(k+second/2, ci, slot, event.RecordNewFileStart)
			}
		}
		typ := event.RecordOver
		if g.r.Float64() < g.cfg.FailShare {
			typ, failed = event.RecordFailed, true
		}
		g.pushEvent(ef, ci, slot, typ)
		last = max(last, ef)
	}
	next, restart := last+second, g.cfg.RestartShare
	if failed {
		restart = max(restart, 0.6)
	}
	if g.r.Float64() < restart {
		next += 5*second + g.r.Int64N(115*second)
	} else {
		next = g.nextStart(next)
	}
	g.push(genItem{at: next, ch: ci, kind: genSession})
}

// happen makes an event happen: it is queued for delivery after a random delay, with a
// duplicate or a bad message beside it as configured.
func (g *Generator) happen(it *genItem) {
	g.frontier = it.at
	switch {
	case it.typ == event.RecordStart:
		g.open++
	case it.typ.Closes():
		g.open--
	}
	s := sendItem{t: it.at, id: g.ids, ch: it.ch, fmt: it.fmt, typ: it.typ, kind: KindEvent}
	g.ids++
	g.queue(s)
	if g.pDup > 0 && g.r.Float64() < g.pDup {
		s.kind = KindDuplicate
		g.queue(s)
	}
	if g.pBad > 0 && g.r.Float64() < g.pBad {
		s.kind, s.bad = KindBad, badKind(g.r.IntN(int(numBadKinds)))
		g.queue(s)
	}
}

// queue schedules the delivery of s after a delay of at most MaxDelay, most delays short.
func (g *Generator) queue(s sendItem) {
	s.at = s.t
	if g.cfg.MaxDelay > 0 {
		u := g.r.Float64()
		s.at += int64(u * u * float64(g.cfg.MaxDelay))
	}
	s.seq = g.seq
	g.seq++
	g.send.push(s)
}

// Next fills m with the next message due for delivery at or before until, appending its value
// to buf, and returns the extended buffer and true; or buf and false when no message is due yet.
// Messages come in delivery order; no event time is after until.
func (g *Generator) Next(until time.Time, buf []byte, m *Message) ([]byte, bool) {
	u := until.UnixNano()
	return g.next(u, u, buf, m)
}

// Drain is Next for the end of a backfill: the events up to until happen, and then every
// message still waiting is delivered, however late its delivery time.
func (g *Generator) Drain(until time.Time, buf []byte, m *Message) ([]byte, bool) {
	return g.next(until.UnixNano(), math.MaxInt64, buf, m)
}

// next delivers the earliest waiting message once no event still to happen by genUntil could be
// delivered before it; deliverUntil is at most genUntil, except for Drain.
func (g *Generator) next(genUntil, deliverUntil int64, buf []byte, m *Message) ([]byte, bool) {
	for {
		if g.send.len() > 0 {
			s := g.send.top()
			if s.at <= deliverUntil && (g.gen.len() == 0 || s.at <= g.gen.top().at || g.gen.top().at > genUntil) {
				it := g.send.pop()
				return g.encode(&it, buf, m), true
			}
		}
		if g.gen.len() == 0 || g.gen.top().at > genUntil {
			return buf, false
		}
		it := g.gen.pop()
		if it.kind == genSession {
			g.startSession(it.ch, it.at, g.duration())
		} else {
			g.happen(&it)
		}
	}
}

// NextDue returns the earliest time at which Next may have a message: the next delivery or the
// next event, whichever is first.
func (g *Generator) NextDue() time.Time {
	t := int64(math.MaxInt64)
	if g.send.len() > 0 {
		t = g.send.top().at
	}
	if g.gen.len() > 0 {
		t = min(t, g.gen.top().at)
	}
	return time.Unix(0, t).UTC()
}

// Frontier returns the event time up to which events have happened.
func (g *Generator) Frontier() time.Time { return time.Unix(0, g.frontier).UTC() }

// Open returns the number of recordings open at the frontier.
func (g *Generator) Open() int { return g.open }

// Config returns the generator's configuration, with From and To resolved.
func (g *Generator) Config() Config { return g.cfg }

// encode appends the message of s to buf and describes it in m.
func (g *Generator) encode(s *sendItem, buf []byte, m *Message) []byte {
	c := &g.pop.channels[s.ch]
	p := &g.pop.projects[c.project]
	g.idBuf = strconv.AppendUint(append(g.idBuf[:0], g.idPrefix...), s.id, 36)
	g.ev = event.Event{ProjectID: p.id, PublishDomain: c.domain, App: c.app, Stream: c.stream,
		RecordFormat: formatNames[c.formats[s.fmt]], EventID: g.idBuf, Type: s.typ, Time: s.t}
	start := len(buf)
	if s.kind == KindBad {
		buf = appendBad(buf, &g.ev, p, s.bad)
	} else {
		buf = event.AppendJSON(buf, &g.ev)
	}
	*m = Message{Key: p.id, Value: buf[start:len(buf):len(buf)], EventTime: time.Unix(0, s.t).UTC(), Kind: s.kind}
	return buf
}
