package event

import (
	"encoding/json"
	"testing"
)

// BenchmarkDecode decodes a typical ~220-byte message with every field.
func BenchmarkDecode(b *testing.B) {
	key, value := []byte("proj_7f3a9c"), []byte(validMsg)
	var d Decoder
	var ev Event
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(key, value, &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeEscaped decodes a message whose strings have escapes and an unknown nested field.
func BenchmarkDecodeEscaped(b *testing.B) {
	value := []byte(msg("stream", `"room\u002d1024\/hd \"main\""`, "meta", `{"tags":["a","b"],"n":1.5,"ok":true}`))
	var d Decoder
	var ev Event
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode([]byte("p1"), value, &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeEncodingJSON is the baseline: json.Unmarshal of the same message into a struct,
// without any of Decode's validation.
func BenchmarkDecodeEncodingJSON(b *testing.B) {
	var ev struct {
		ProjectID     string `json:"project_id"`
		PublishDomain string `json:"publish_domain"`
		App           string `json:"app"`
		Stream        string `json:"stream"`
		RecordFormat  string `json:"record_format"`
		EventType     string `json:"event_type"`
		EventTime     string `json:"event_time"`
		EventID       string `json:"event_id"`
	}
	value := []byte(validMsg)
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		if err := json.Unmarshal(value, &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendJSON encodes a typical event into a reused buffer.
func BenchmarkAppendJSON(b *testing.B) {
	var d Decoder
	var ev Event
	if err := d.Decode(nil, []byte(validMsg), &ev); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], &ev)
	}
}
