package event

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
	const minLen = len("2006-01-02T15:04:05Z")
	if len(b) < minLen || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') ||
		b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	rest := b[19:]
	var nsec int64
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && '0' <= rest[n] && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return 0, false
		}
		for i := 1; i < 10; i++ {
			nsec *= 10
			if i < n {
				nsec += int64(rest[i] - '0')
			}
		}
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
	unix := daysSinceEpoch(year, month, day)*86400 + hour*3600 + minute*60 + sec - offset
	// Unix nanoseconds in an int64 span -9223372036.854775808 s to 9223372036.854775807 s.
	const minSec, maxSec = -9223372037, 9223372036
	if unix < minSec || unix > maxSec || unix == minSec && nsec < 145224192 || unix == maxSec && nsec > 854775807 {
		return 0, false
	}
	return unix*1e9 + nsec, true
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

// daysIn returns the number of days in a month of the proleptic Gregorian calendar.
func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch returns the number of days from 1970-01-01 to the given date (0 <= year <= 9999),
// by Howard Hinnant's days_from_civil algorithm.
func daysSinceEpoch(year, month, day int64) int64 {
	if month <= 2 {
		year--
	}
	era := (year+400)/400 - 1 // floor(year/400) for year >= -1
	yoe := year - era*400
	doy := (153*((month+9)%12)+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
