package event

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the JSON syntax: a scanner that validates the message byte by byte and never
// allocates. It follows RFC 8259 and, where RFC 8259 leaves a choice, encoding/json (the nesting
// limit of 10000, and lone UTF-16 surrogates in \u escapes becoming U+FFFD), so that the two
// agree on which messages are JSON; unlike encoding/json it rejects invalid UTF-8.

// maxDepth is the deepest nesting of objects and arrays accepted, the top-level object counting
// as 1. It is the limit of encoding/json.
const maxDepth = 10000

// nestStack records, one bit per nesting level, whether the container at that level is an
// array (1) or an object (0). It lives in the Decoder so that a scan needs no allocation.
type nestStack [maxDepth/64 + 1]uint64

func (s *nestStack) set(depth int, isArray bool) {
	w, bit := depth/64, uint64(1)<<(depth%64)
	if isArray {
		s[w] |= bit
	} else {
		s[w] &^= bit
	}
}

func (s *nestStack) isArray(depth int) bool { return s[depth/64]&(1<<(depth%64)) != 0 }

// plain[c] is true for the bytes that stand for themselves inside a JSON string and need no
// further check: printable ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Eight bytes at a time: a word of the message, loaded as a little-endian integer, has a byte that
// is not plain exactly when stopBytes is not 0, and its lowest set bit is in the first such byte.
// (The byte tests below may also flag bytes after a true one, through a borrow, never before it.)
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// zeroBytes flags the bytes of w that are 0.
func zeroBytes(w uint64) uint64 { return (w - ones) &^ w & highs }

// stopBytes flags the bytes of w that end a run of plain bytes: control characters, '"', '\\'
// and the bytes of multi-byte UTF-8 sequences. A byte under 0x20 sets its high bit in w-0x20
// (as zeroBytes tests for 0), a byte from 0x80 has it in w, so w-0x20|w covers both with a single
// mask; the same goes for the two equality tests, which are masked once at the end.
func stopBytes(w uint64) uint64 {
	q, bs := w^'"'*ones, w^'\\'*ones
	return (w - 0x20*ones | w | (q-ones)&^q | (bs-ones)&^bs) & highs
}

// plainRun returns the offset of the first byte at or after i that is not plain, or len(b).
// It tests two words per round: they do not depend on each other, so the processor works on
// both at once, and most strings of a message end within the first two.
func plainRun(b []byte, i int) int {
	rest := b[i:] // a shrinking slice, whose length the compiler knows, needs no bounds checks
	for len(rest) >= 16 {
		stop0 := stopBytes(binary.LittleEndian.Uint64(rest))
		stop1 := stopBytes(binary.LittleEndian.Uint64(rest[8:]))
		if stop0 != 0 {
			return len(b) - len(rest) + bits.TrailingZeros64(stop0)/8
		}
		if stop1 != 0 {
			return len(b) - len(rest) + 8 + bits.TrailingZeros64(stop1)/8
		}
		rest = rest[16:]
	}
	if len(rest) >= 8 {
		if stop := stopBytes(binary.LittleEndian.Uint64(rest)); stop != 0 {
			return len(b) - len(rest) + bits.TrailingZeros64(stop)/8
		}
		rest = rest[8:]
	}
	for len(rest) > 0 && plain[rest[0]] {
		rest = rest[1:]
	}
	return len(b) - len(rest)
}

// scanner walks one message. After a syntax error, err holds a constant description and pos
// the byte offset where it was found; every method then returns false.
type scanner struct {
	b     []byte
	i     int
	err   string
	pos   int
	stack *nestStack
}

// fail records a syntax error at offset i and returns false.
func (s *scanner) fail(i int, what string) bool {
	s.err, s.pos = what, i
	return false
}

// failHere records the error for the byte at s.i: "unexpected end of input" when there is
// none, otherwise what.
func (s *scanner) failHere(what string) bool {
	if s.i >= len(s.b) {
		return s.fail(s.i, "unexpected end of input")
	}
	return s.fail(s.i, what)
}

// ws skips JSON whitespace. Most messages have none between tokens, so the test for that case
// is small enough to be inlined at every call; every whitespace byte is at most ' '.
func (s *scanner) ws() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return
	}
	s.wsSlow()
}

func (s *scanner) wsSlow() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips whitespace and reports whether the next byte is c, consuming it if so.
func (s *scanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// peek skips whitespace and returns the next byte, or 0 at the end of input.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// str scans the string that starts at s.b[s.i] (which must be '"'). It returns the raw bytes
// between the quotes and whether they contain escapes, and leaves s.i after the closing quote.
func (s *scanner) str() (raw []byte, escaped, ok bool) {
	b := s.b
	start := s.i + 1
	i := start
	for {
		// Strings are most of a message: skip their plain bytes a word at a time.
		if i = plainRun(b, i); i >= len(b) {
			return nil, false, s.fail(i, "unexpected end of input in a string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return b[start:i], escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return nil, false, s.fail(i+1, "unexpected end of input in a string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					return nil, false, s.fail(i, `invalid \u escape (want \u and 4 hex digits)`)
				}
				i += 6
			default:
				return nil, false, s.fail(i, "invalid escape in a string")
			}
		case c < 0x20:
			return nil, false, s.fail(i, "unescaped control character in a string")
		default: // c >= utf8.RuneSelf
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, false, s.fail(i, "invalid UTF-8 in a string")
			}
			i += n
		}
	}
}

// hex4 returns the value of 4 hex digits, or -1 when b holds anything else.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unescape appends to dst the string that raw (the validated bytes between the quotes of a JSON
// string) stands for. The result is never longer than raw. A \u escape of a lone UTF-16
// surrogate becomes U+FFFD, as in encoding/json.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		j := i
		for j < len(raw) && raw[j] != '\\' {
			j++
		}
		dst = append(dst, raw[i:j]...)
		if j == len(raw) {
			break
		}
		i = j + 2
		switch raw[j+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[j+2:])
			i = j + 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = hex4(raw[i+2:])
				}
				if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
					i += 6 // a valid pair
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, raw[j+1])
		}
	}
	return dst
}

// literal scans true, false or null at s.i.
func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return s.fail(s.i, "invalid literal (want true, false or null)")
}

// number scans a JSON number at s.i.
func (s *scanner) number() bool {
	b, i := s.b, s.i
	digits := func() bool {
		n := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > n
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return s.fail(i, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return s.fail(i, "invalid number (want a digit after '.')")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return s.fail(i, "invalid number (want a digit in the exponent)")
		}
	}
	s.i = i
	return true
}

// key scans an object key and the colon after it, leaving s.i at the value.
func (s *scanner) key() (raw []byte, escaped, ok bool) {
	if s.peek() != '"' {
		return nil, false, s.failHere(`invalid character (want an object key in "")`)
	}
	if raw, escaped, ok = s.str(); !ok {
		return nil, false, false
	}
	if !s.next(':') {
		return nil, false, s.failHere("invalid character (want ':' after an object key)")
	}
	return raw, escaped, true
}

// skip scans one JSON value of any kind, nested to any depth up to maxDepth, inside a container
// at nesting level depth. It uses no recursion: s.stack remembers the kind of each open container.
func (s *scanner) skip(depth int) bool {
	base := depth
	needValue := true
	for {
		if needValue {
			switch c := s.peek(); c {
			case '{', '[':
				if depth++; depth > maxDepth {
					return s.fail(s.i, "nesting too deep")
				}
				s.stack.set(depth, c == '[')
				s.i++
				if c == '{' {
					if s.next('}') {
						depth--
						needValue = false
					} else if _, _, ok := s.key(); !ok {
						return false
					}
				} else if s.next(']') {
					depth--
					needValue = false
				}
				continue
			case '"':
				if _, _, ok := s.str(); !ok {
					return false
				}
			case 't':
				if !s.literal("true") {
					return false
				}
			case 'f':
				if !s.literal("false") {
					return false
				}
			case 'n':
				if !s.literal("null") {
					return false
				}
			default:
				if c != '-' && (c < '0' || c > '9') {
					return s.failHere("invalid character (want a JSON value)")
				}
				if !s.number() {
					return false
				}
			}
			needValue = false
			continue
		}
		if depth == base {
			return true
		}
		isArray := s.stack.isArray(depth)
		switch c := s.peek(); {
		case c == ',':
			s.i++
			if !isArray {
				if _, _, ok := s.key(); !ok {
					return false
				}
			}
			needValue = true
		case c == ']' && isArray, c == '}' && !isArray:
			s.i++
			depth--
		case isArray:
			return s.failHere("invalid character (want ',' or ']' in an array)")
		default:
			return s.failHere("invalid character (want ',' or '}' in an object)")
		}
	}
}
