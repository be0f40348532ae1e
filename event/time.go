package event

import (
	"encoding/binary"

	"github.com/recordusage/recordusage/internal/civil"
)

// parseTime parses an RFC 3339 date-time, YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm), and
// returns it as Unix nanoseconds. It accepts what RFC 3339 section 5.6 allows, with these
// choices:
//   - 'T' and 'Z' may be lower case, as RFC 3339 permits (time.Parse does not accept them);
//   - the fraction has 1 to 9 digits (nanoseconds; time.Parse also takes more and truncates);
//   - a leap second (ss = 60) is rejected, as time.Parse rejects it: producers should send :59;
//   - the zone offset is at most 23:59;
//   - the instant must fit Unix nanoseconds in an int64 (1677-09-21 to 2262-04-11 UTC).
//
// On every input that both accept, the result equals time.Parse(time.RFC3339Nano, s).UnixNano().
func parseTime(b []byte) (int64, bool) {
	var c minuteCache
	return c.parseTime(b)
}

// minuteCache remembers the date, hour and minute ("YYYY-MM-DDThh:mm") of the last time that
// parsed, and their Unix seconds. The events of a partition come roughly in time order, so most
// times are in the minute of the one before: for them, the date need not be checked and
// converted again, only the seconds and what follows. The cache changes only the work, never
// the result (TestMinuteCache, FuzzParseTime).
type minuteCache struct {
	prefix [2]uint64 // the first 16 bytes, as two little-endian words; 0 when none is cached
	base   int64     // the Unix seconds of that minute, before any zone offset
}

// parseTime is parseTime, using and updating the cache.
func (c *minuteCache) parseTime(b []byte) (int64, bool) {
	const minLen = len("2006-01-02T15:04:05Z")
	if len(b) < minLen {
		return 0, false
	}
	var base, sec int64
	p := [2]uint64{binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16])}
	if p == c.prefix && p[0] != 0 { // the same minute, checked and converted already (0: none yet)
		if b[16] != ':' || b[17]-'0' > 5 || b[18]-'0' > 9 {
			return 0, false
		}
		base, sec = c.base, int64(b[17]-'0')*10+int64(b[18]-'0')
	} else {
		if !dateTimeShape(b) {
			return 0, false
		}
		// Every digit of YYYY-MM-DDThh:mm:ss is now known to be '0' to '9'.
		d := func(i int) int64 { return int64(b[i] - '0') }
		year := d(0)*1000 + d(1)*100 + d(2)*10 + d(3)
		month, day := d(5)*10+d(6), d(8)*10+d(9)
		hour, minute := d(11)*10+d(12), d(14)*10+d(15)
		if sec = d(17)*10 + d(18); month < 1 || month > 12 || day < 1 || day > civil.DaysIn(month, year) ||
			hour > 23 || minute > 59 || sec > 59 {
			return 0, false
		}
		base = civil.DaysSinceEpoch(year, month, day)*86400 + hour*3600 + minute*60
		c.prefix, c.base = p, base
	}
	rest := b[19:]
	var nsec int64
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n]-'0' <= 9 {
			nsec = nsec*10 + int64(rest[n]-'0') // wraps harmlessly on over 9 digits, rejected below
			n++
		}
		if n == 1 || n > 10 {
			return 0, false
		}
		nsec *= fracScale[n-1]
		rest = rest[n:]
	}
	var offset int64
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	unix := base + sec - offset
	// Unix nanoseconds in an int64 span -9223372036.854775808 s to 9223372036.854775807 s.
	const minSec, maxSec = -9223372037, 9223372036
	if unix < minSec || unix > maxSec || unix == minSec && nsec < 145224192 || unix == maxSec && nsec > 854775807 {
		return 0, false
	}
	return unix*1e9 + nsec, true
}

// fracScale[n] turns a fraction of n digits into nanoseconds.
var fracScale = [10]int64{1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1}

// dateTimeShape reports whether b (at least 19 bytes) starts with YYYY-MM-DDThh:mm:ss, every
// digit and separator in place ('T' in either case), without looking at the values. It reads
// three overlapping words, at offsets 0 ("YYYY-MM-"), 8 ("DDThh:mm", of which it checks "DDT")
// and 11 ("hh:mm:ss"), instead of testing 19 bytes one by one.
func dateTimeShape(b []byte) bool {
	// The constants are little-endian: byte k of the text is byte k of the word, written from
	// the right. 0xdf folds 't' onto 'T'.
	return hasShape(binary.LittleEndian.Uint64(b[0:8]), 0x00_ff_ff_00_ff_ff_ff_ff, 0xff_00_00_ff_00_00_00_00, 0x2d_00_00_2d_00_00_00_00) &&
		hasShape(binary.LittleEndian.Uint64(b[8:16]), 0x00_00_00_00_00_00_ff_ff, 0x00_00_00_00_00_df_00_00, 0x00_00_00_00_00_54_00_00) &&
		hasShape(binary.LittleEndian.Uint64(b[11:19]), 0xff_ff_00_ff_ff_00_ff_ff, 0x00_00_ff_00_00_ff_00_00, 0x00_00_3a_00_00_3a_00_00)
}

// hasShape reports whether the word w has a decimal digit in each byte where digits is 0xff, and
// w&sepMask == seps. The first test puts each digit byte in 0x30 to 0x3f and pins the separators;
// adding 6 then takes 0x3a to 0x3f out of the 0x30 row. After the first test passes a digit
// byte plus 6 is at most 0x45, so no carry reaches its neighbour.
func hasShape(w, digits, sepMask, seps uint64) bool {
	const threes, sixes, highNibbles = 0x3030303030303030, 0x0606060606060606, 0xf0f0f0f0f0f0f0f0
	return w&(digits&highNibbles|sepMask) == digits&threes|seps &&
		(w+digits&sixes)&(digits&highNibbles) == digits&threes
}

// digits returns the value of the decimal digits in b.
func digits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
