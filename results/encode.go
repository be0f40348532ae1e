package results

import (
	"encoding/json"
	"math"
	"time"

	"github.com/recordusage/recordusage/internal/civil"
)

// Writing and reading the result records without reflection. The query service reads every
// record of the results topic when it starts and whenever ingest publishes, and ingest writes one
// per changed hour: encoding/json's reflection was most of their cost (about 3.5 µs a record to
// read). The bytes are exactly encoding/json's, and the reader takes only those bytes, leaving
// anything else to encoding/json; the tests compare both ways on random and fuzzed input.

// appendKey appends the key of an hour: encoding/json's Marshal of key.
func appendKey(dst []byte, project, domain string, hour time.Time) []byte {
	dst = append(dst, `{"project_id":`...)
	dst = appendString(dst, project)
	dst = append(dst, `,"domain":`...)
	dst = appendString(dst, domain)
	dst = append(dst, `,"hour":"`...)
	dst = hour.AppendFormat(dst, layout)
	return append(dst, `"}`...)
}

// appendValue appends the value of an hour: encoding/json's Marshal of value.
func appendValue(dst []byte, count uint32, minute time.Time, final bool) []byte {
	dst = append(dst, `{"concurrent_count":`...)
	dst = appendUint(dst, uint64(count))
	dst = append(dst, `,"time":"`...)
	dst = minute.AppendFormat(dst, layout)
	dst = append(dst, `","final":`...)
	if final {
		return append(dst, `true}`...)
	}
	return append(dst, `false}`...)
}

func appendUint(dst []byte, n uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// appendString appends s as encoding/json writes it: verbatim between quotes when every byte is
// printable ASCII that it does not escape, else as json.Marshal writes it (escapes, HTML
// characters, invalid UTF-8).
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plain(s[i]) {
			q, _ := json.Marshal(s)
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// plain reports whether encoding/json writes byte c of a string as it is.
func plain(c byte) bool {
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// decodeFast reads the key and value if they are exactly as Encode writes them, with strings
// whose bytes are all plain, and checks them as decodeJSON does; ok is false otherwise, and then
// decodeJSON decides (it may accept the record in another spelling, or refuse it).
func decodeFast(k, v []byte) (r Record, ok bool) {
	var project, domain []byte
	var hour int64
	rest, ok := literal(k, `{"project_id":"`)
	if ok {
		project, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = literal(rest, `,"domain":"`)
	}
	if ok {
		domain, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = literal(rest, `,"hour":"`)
	}
	if ok {
		hour, rest, ok = utcTime(rest)
	}
	if ok {
		rest, ok = literal(rest, `"}`)
	}
	if !ok || len(rest) != 0 || len(project) == 0 || len(domain) == 0 || hour%3600 != 0 {
		return Record{}, false
	}
	r = Record{ProjectID: string(project), Domain: string(domain), Hour: hour, Tombstone: v == nil}
	if r.Domain == AllDomains {
		r.Domain = ""
	}
	if v == nil {
		return r, true
	}
	var count uint64
	var minute int64
	rest, ok = literal(v, `{"concurrent_count":`)
	if ok {
		count, rest, ok = jsonUint(rest)
	}
	if ok {
		rest, ok = literal(rest, `,"time":"`)
	}
	if ok {
		minute, rest, ok = utcTime(rest)
	}
	if ok {
		rest, ok = literal(rest, `","final":`)
	}
	if !ok || count > math.MaxUint32 || minute < hour || minute >= hour+3600 || minute%60 != 0 {
		return Record{}, false
	}
	switch string(rest) {
	case "true}":
		r.Final = true
	case "false}":
	default:
		return Record{}, false
	}
	r.Peak = Peak{Count: uint32(count), Minute: uint8((minute - hour) / 60)}.Canonical()
	return r, true
}

// literal returns b after the prefix lit, if b starts with it.
func literal(b []byte, lit string) ([]byte, bool) {
	if len(b) < len(lit) || string(b[:len(lit)]) != lit {
		return nil, false
	}
	return b[len(lit):], true
}

// plainString returns the bytes of b up to the next '"' and b after it, if they are all plain.
func plainString(b []byte) (s, rest []byte, ok bool) {
	for i, c := range b {
		if c == '"' {
			return b[:i], b[i+1:], true
		}
		if !plain(c) {
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// jsonUint reads a JSON number that is a plain unsigned integer (no leading zero, no fraction or
// exponent) of at most 10 digits.
func jsonUint(b []byte) (n uint64, rest []byte, ok bool) {
	i := 0
	for i < len(b) && i < 11 && '0' <= b[i] && b[i] <= '9' {
		n = n*10 + uint64(b[i]-'0')
		i++
	}
	if i == 0 || i > 10 || (i > 1 && b[0] == '0') {
		return 0, nil, false
	}
	return n, b[i:], true
}

// utcTime reads a time in layout ("2006-01-02T15:04:05Z") whose fields time.Parse accepts, as
// Unix seconds, and returns b after it.
func utcTime(b []byte) (t int64, rest []byte, ok bool) {
	if len(b) < len(layout) {
		return 0, nil, false
	}
	s := b[:len(layout)]
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return 0, nil, false
	}
	num := func(i, n int) int64 {
		v := int64(0)
		for _, c := range s[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int64(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hh, mm, ss := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > civil.DaysIn(month, year) ||
		hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59 {
		return 0, nil, false
	}
	days := civil.DaysSinceEpoch(year, month, day)
	return days*86400 + hh*3600 + mm*60 + ss, b[len(layout):], true
}
