package touchpoint

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/bits"
	"slices"
)

// Sketch counts distinct customers. Up to exactLimit customers it keeps
// their 64-bit hashes (exact but for hash collisions, 1 in 10^15 for these
// sizes); beyond, a HyperLogLog with 2^hllP registers (standard error
// 1.04/sqrt(2048) = 2.3 %). Sketches of days merge into a period's reach.
//
// Encoding: empty = nothing; 'E' followed by sorted 8-byte hashes; 'H'
// followed by the registers.
type Sketch struct {
	exact []uint64 // sorted, nil when hll is set
	hll   []uint8
}

const (
	hllP       = 11
	hllM       = 1 << hllP
	exactLimit = 256
)

// HashCustomer is the sketch's hash of a customer id.
func HashCustomer(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	x := h.Sum64()
	// splitmix64 finaliser: FNV's low bits are weak for short strings.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// DecodeSketch reads an encoded sketch (nil or empty: an empty sketch).
func DecodeSketch(b []byte) Sketch {
	var s Sketch
	if len(b) == 0 {
		return s
	}
	switch b[0] {
	case 'E':
		n := (len(b) - 1) / 8
		s.exact = make([]uint64, n)
		for i := range n {
			s.exact[i] = binary.BigEndian.Uint64(b[1+8*i:])
		}
	case 'H':
		if len(b) == 1+hllM {
			s.hll = slices.Clone(b[1:])
		}
	}
	return s
}

// Encode writes the sketch.
func (s *Sketch) Encode() []byte {
	if s.hll != nil {
		return append([]byte{'H'}, s.hll...)
	}
	if len(s.exact) == 0 {
		return []byte{}
	}
	b := make([]byte, 1+8*len(s.exact))
	b[0] = 'E'
	for i, h := range s.exact {
		binary.BigEndian.PutUint64(b[1+8*i:], h)
	}
	return b
}

func (s *Sketch) toHLL() {
	s.hll = make([]uint8, hllM)
	for _, h := range s.exact {
		s.hllAdd(h)
	}
	s.exact = nil
}

func (s *Sketch) hllAdd(h uint64) {
	idx := h >> (64 - hllP)
	rank := uint8(bits.LeadingZeros64(h<<hllP|1<<(hllP-1)) + 1)
	if rank > s.hll[idx] {
		s.hll[idx] = rank
	}
}

// Add counts a hash.
func (s *Sketch) Add(h uint64) {
	if s.hll != nil {
		s.hllAdd(h)
		return
	}
	i, found := slices.BinarySearch(s.exact, h)
	if found {
		return
	}
	s.exact = slices.Insert(s.exact, i, h)
	if len(s.exact) > exactLimit {
		s.toHLL()
	}
}

// Merge adds every customer of o.
func (s *Sketch) Merge(o *Sketch) {
	if o.hll != nil {
		if s.hll == nil {
			s.toHLL()
		}
		for i, r := range o.hll {
			if r > s.hll[i] {
				s.hll[i] = r
			}
		}
		return
	}
	for _, h := range o.exact {
		s.Add(h)
	}
}

// Count estimates the number of distinct customers.
func (s *Sketch) Count() int64 {
	if s.hll == nil {
		return int64(len(s.exact))
	}
	m := float64(hllM)
	sum, zeros := 0.0, 0
	for _, r := range s.hll {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros)) // linear counting
	}
	return int64(est + 0.5)
}
