package loadgen

// ordered is an item of a minHeap: at gives its time and seq breaks ties, so that the order,
// and with it the output, does not depend on the heap's internals.
type ordered interface {
	key() (at int64, seq uint64)
}

// minHeap is a binary heap of values, earliest first. Unlike container/heap it stores values,
// not interfaces, so that pushing does not allocate.
type minHeap[T ordered] struct {
	a []T
}

func before[T ordered](x, y *T) bool {
	xa, xs := (*x).key()
	ya, ys := (*y).key()
	return xa < ya || xa == ya && xs < ys
}

func (h *minHeap[T]) len() int { return len(h.a) }

// top returns the earliest item; the heap must not be empty.
func (h *minHeap[T]) top() *T { return &h.a[0] }

func (h *minHeap[T]) push(x T) {
	h.a = append(h.a, x)
	i := len(h.a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !before(&h.a[i], &h.a[p]) {
			break
		}
		h.a[i], h.a[p] = h.a[p], h.a[i]
		i = p
	}
}

func (h *minHeap[T]) pop() T {
	x := h.a[0]
	n := len(h.a) - 1
	h.a[0] = h.a[n]
	h.a = h.a[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && before(&h.a[c+1], &h.a[c]) {
			c++
		}
		if !before(&h.a[c], &h.a[i]) {
			break
		}
		h.a[i], h.a[c] = h.a[c], h.a[i]
		i = c
	}
	return x
}
