package event

import (
	"encoding/binary"
	"math/bits"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStopBytesFindsTheFirstNonPlainByte checks the word-at-a-time test of str against the plain
// table: for every byte value at every position of a word, after plain bytes and followed by any
// other byte, the first flagged byte is the first byte that is not plain.
func TestStopBytesFindsTheFirstNonPlainByte(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			for _, after := range []byte{'a', 0, '"', '\\', 0x1f, 0x20, 0x7f, 0x80, 0xff} {
				var w [8]byte
				for i := range w {
					w[i] = 'a'
				}
				w[pos] = byte(c)
				if pos < 7 {
					w[pos+1] = after
				}
				want := 8
				for i, b := range w {
					if !plain[b] {
						want = i
						break
					}
				}
				got := 8
				if stop := stopBytes(binary.LittleEndian.Uint64(w[:])); stop != 0 {
					got = bits.TrailingZeros64(stop) / 8
				}
				require.Equal(t, want, got, "byte %#x at %d, then %#x", c, pos, after)
			}
		}
	}
}
