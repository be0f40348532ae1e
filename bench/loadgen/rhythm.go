package loadgen

import "time"

// dayCurve is the relative rate of session starts at each local hour (0–23), the peak being 1:
// quiet before dawn, a plateau through the day, the peak in the evening. Between hours the rate
// is interpolated linearly.
var dayCurve = [24]float64{
	0.55, 0.38, 0.26, 0.18, 0.14, 0.13, 0.16, 0.25, 0.38, 0.48, 0.55, 0.60,
	0.62, 0.60, 0.58, 0.60, 0.65, 0.72, 0.80, 0.90, 0.98, 1.00, 0.92, 0.75,
}

// dayCurveMean is the mean of the interpolated curve over a day (that of its 24 points).
var dayCurveMean = func() float64 {
	s := 0.0
	for _, v := range dayCurve {
		s += v
	}
	return s / float64(len(dayCurve))
}()

// rhythm is the relative rate of session starts at Unix time t (nanoseconds), between 0 and 1,
// for an audience at the given UTC offset.
func rhythm(t int64, offset time.Duration) float64 {
	const hour, day = int64(time.Hour), int64(24 * time.Hour)
	local := (t + int64(offset)) % day
	if local < 0 {
		local += day
	}
	h := local / hour
	frac := float64(local%hour) / float64(hour)
	return dayCurve[h]*(1-frac) + dayCurve[(h+1)%24]*frac
}
