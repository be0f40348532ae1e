// Package civil is the proleptic Gregorian calendar arithmetic that the hand-written parsers of
// event times (package event) and of result records (package results) share.
package civil

// DaysIn returns the number of days in a month (1–12) of a year.
func DaysIn(month, year int64) int64 {
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

// DaysSinceEpoch returns the number of days from 1970-01-01 to the given date (0 <= year <= 9999),
// by Howard Hinnant's days_from_civil algorithm.
func DaysSinceEpoch(year, month, day int64) int64 {
	if month <= 2 {
		year--
	}
	era := (year+400)/400 - 1 // floor(year/400) for year >= -1
	yoe := year - era*400
	doy := (153*((month+9)%12)+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
