package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// formatNames are the recording formats a channel records in.
var formatNames = [...][]byte{[]byte("HLS"), []byte("FLV"), []byte("MP4")}

// appNames are the application names of a project's streams.
var appNames = [...]string{"live", "game", "show"}

// project is one tenant.
type project struct {
	id []byte
	// otherID is a valid project id that is not id, for key-mismatch messages.
	otherID  []byte
	channels int
}

// channel is one stream of a project; each of its formats is a recording.
type channel struct {
	project int32
	// formats holds the indexes into formatNames of its nFormats formats.
	formats  [2]uint8
	nFormats uint8
	domain   []byte
	app      []byte
	stream   []byte
}

// population is every project and channel. It never changes once built.
type population struct {
	projects []project
	channels []channel
}

// zipfSizes splits total channels (at least n) over n projects, the one of rank r (from 1)
// getting a share proportional to r^-s and every project at least one. The largest projects
// absorb the rounding.
func zipfSizes(n, total int, s float64) []int {
	w := make([]float64, n)
	sum := 0.0
	for i := range w {
		w[i] = math.Pow(float64(i+1), -s)
		sum += w[i]
	}
	sizes := make([]int, n)
	used := 0
	for i := range sizes {
		sizes[i] = max(1, int(float64(total)*w[i]/sum))
		used += sizes[i]
	}
	sizes[0] += total - used // flooring leaves a few channels over: the head takes them
	for i := 0; sizes[i] < 1; i++ {
		// Raising the tail to one channel each took too many: take them back from the head.
		sizes[i+1] += sizes[i] - 1
		sizes[i] = 1
	}
	return sizes
}

// newPopulation builds the projects and channels from the config.
func newPopulation(cfg *Config, r *rand.Rand) *population {
	sizes := zipfSizes(cfg.Projects, cfg.Channels, cfg.ZipfExponent)
	p := &population{projects: make([]project, cfg.Projects), channels: make([]channel, 0, cfg.Channels)}
	for i, size := range sizes {
		id := fmt.Sprintf("proj-%04d", i)
		p.projects[i] = project{id: []byte(id), otherID: []byte(id + "x"), channels: size}
		nd, na := 1+r.IntN(3), 1+r.IntN(3)
		domains := make([][]byte, nd)
		for d := range domains {
			domains[d] = fmt.Appendf(nil, "push%d.%s.example.com", d+1, id)
		}
		apps := make([][]byte, na)
		for a := range apps {
			apps[a] = []byte(appNames[a])
		}
		for j := range size {
			ch := channel{project: int32(i), domain: domains[j%nd], app: apps[(j/nd)%na],
				stream: fmt.Appendf(nil, "stream-%05d", j)}
			ch.formats[0] = uint8(r.IntN(len(formatNames)))
			ch.nFormats = 1
			if r.IntN(2) == 0 {
				ch.formats[1] = (ch.formats[0] + 1 + uint8(r.IntN(len(formatNames)-1))) % uint8(len(formatNames))
				ch.nFormats = 2
			}
			p.channels = append(p.channels, ch)
		}
	}
	return p
}
