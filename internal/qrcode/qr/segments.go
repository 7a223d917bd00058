package qr

import "unicode/utf8"

// Character classes: which modes can carry a character.
const (
	clsDigit = iota // numeric, alphanumeric or byte
	clsAlnum        // alphanumeric or byte
	clsOther        // byte only
)

// analysis describes the characters (runes) of the text being encoded.
type analysis struct {
	cls  []uint8 // character class
	blen []uint8 // bytes the character takes in byte mode
	off  []int32 // byte offset of each character in the text; off[n] = len(text)
	utf8 bool    // some rune is outside ISO-8859-1: byte mode carries UTF-8 after ECI 26
}

func (a *analysis) n() int { return len(a.cls) }

// analyze fills a from text and reports whether text is valid UTF-8. With
// forceUTF8, any non-ASCII rune selects UTF-8 for byte mode.
func (a *analysis) analyze(text string, forceUTF8 bool) bool {
	a.cls = a.cls[:0]
	a.blen = a.blen[:0]
	a.off = a.off[:0]
	a.utf8 = false
	for i := 0; i < len(text); {
		c := text[i]
		a.off = append(a.off, int32(i))
		if c < utf8.RuneSelf {
			cl := uint8(clsOther)
			if c >= '0' && c <= '9' {
				cl = clsDigit
			} else if alnumValue[c] != 0xFF {
				cl = clsAlnum
			}
			a.cls = append(a.cls, cl)
			a.blen = append(a.blen, 1)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		if r > 0xFF || forceUTF8 {
			a.utf8 = true
		}
		a.cls = append(a.cls, clsOther)
		a.blen = append(a.blen, uint8(size))
		i += size
	}
	a.off = append(a.off, int32(len(text)))
	if !a.utf8 {
		// ISO-8859-1: every character is a single byte.
		for i := range a.blen {
			a.blen[i] = 1
		}
	}
	return true
}

// DP states: the mode of the open segment and, for numeric and
// alphanumeric, the number of its characters modulo 3 or 2, which decides
// how many bits the next character adds.
const (
	stN1 = iota // numeric, count%3 == 1
	stN2        // numeric, count%3 == 2
	stN0        // numeric, count%3 == 0
	stA1        // alphanumeric, odd count
	stA0        // alphanumeric, even count
	stB         // byte
	numStates

	stStart = 7    // back pointer of the first character
	bpNew   = 0x08 // back pointer flag: the character opens a new segment
)

var stateMode = [numStates]Mode{Numeric, Numeric, Numeric, Alphanumeric, Alphanumeric, Byte}

const inf = 1 << 40

// optimize finds, for the character count widths of version group g, the
// segmentation with the fewest bits, by dynamic programming over the
// characters with exact bit costs. It returns the bit count (ECI
// included) and records back pointers for segments.
func (sc *scratch) optimize(g int) (int, bool) {
	a := &sc.an
	n := a.n()
	if n == 0 {
		sc.endState = stStart
		return 0, true
	}
	hdrN := 4 + int(countBits[g][Numeric])
	hdrA := 4 + int(countBits[g][Alphanumeric])
	hdrB := 4 + int(countBits[g][Byte])

	sc.bp = grow(sc.bp, n*numStates)
	bp := sc.bp
	var cost [numStates]int
	for i := range cost {
		cost[i] = inf
	}
	best, bestSt := 0, uint8(stStart)
	for i := 0; i < n; i++ {
		// Values that start from an unreachable (inf) state stay above
		// inf by at most a few bits: every state is reset to inf or to a
		// finite cost whenever its mode cannot continue.
		var next [numStates]int
		p := bp[i*numStates : i*numStates+numStates : i*numStates+numStates]
		newFrom := bestSt | bpNew
		bl := 8 * int(a.blen[i])

		// Byte mode carries every character.
		next[stB], p[stB] = cost[stB]+bl, stB
		if c := best + hdrB + bl; c < next[stB] {
			next[stB], p[stB] = c, newFrom
		}
		next[stA1], next[stA0] = inf, inf
		next[stN1], next[stN2], next[stN0] = inf, inf, inf
		if cl := a.cls[i]; cl <= clsAlnum {
			next[stA1], p[stA1] = cost[stA0]+6, stA0
			if c := best + hdrA + 6; c < next[stA1] {
				next[stA1], p[stA1] = c, newFrom
			}
			next[stA0], p[stA0] = cost[stA1]+5, stA1
			if cl == clsDigit {
				next[stN1], p[stN1] = cost[stN0]+4, stN0
				if c := best + hdrN + 4; c < next[stN1] {
					next[stN1], p[stN1] = c, newFrom
				}
				next[stN2], p[stN2] = cost[stN1]+3, stN1
				next[stN0], p[stN0] = cost[stN2]+3, stN2
			}
		}
		best, bestSt = next[0], 0
		for s := 1; s < numStates; s++ {
			if next[s] < best {
				best, bestSt = next[s], uint8(s)
			}
		}
		cost = next
	}
	sc.endState = bestSt
	if a.utf8 {
		best += 12 // ECI designator for UTF-8
	}
	// A segment longer than its character count field allows cannot fit
	// the versions of this group anyway; the check keeps the encoder
	// honest should that assumption ever fail.
	if sc.countOverflows(g) {
		return 0, false
	}
	return best, true
}

// countOverflows reports whether a segment of the last optimisation
// overflows its character count field in group g.
func (sc *scratch) countOverflows(g int) bool {
	a := &sc.an
	s := sc.endState
	count := 0
	for i := a.n() - 1; i >= 0 && s != stStart; i-- {
		if stateMode[s] == Byte {
			count += int(a.blen[i])
		} else {
			count++
		}
		p := sc.bp[i*numStates+int(s)]
		if p&bpNew != 0 {
			if count >= 1<<countBits[g][stateMode[s]] {
				return true
			}
			count = 0
		}
		s = p &^ bpNew
	}
	return false
}

// segPlan is one segment of the chosen segmentation, as character indexes.
type segPlan struct {
	mode       Mode
	start, end int // characters [start, end)
}

// segments rebuilds the segments of the last optimisation (which must be
// for group g) and returns them in the public form.
func (sc *scratch) segments(text string, g int) []Segment {
	a := &sc.an
	sc.segs = sc.segs[:0]
	s := sc.endState
	end := a.n()
	for i := a.n() - 1; i >= 0 && s != stStart; i-- {
		p := sc.bp[i*numStates+int(s)]
		if p&bpNew != 0 {
			sc.segs = append(sc.segs, segPlan{mode: stateMode[s], start: i, end: end})
			end = i
		}
		s = p &^ bpNew
	}
	// Reverse into text order.
	for i, j := 0, len(sc.segs)-1; i < j; i, j = i+1, j-1 {
		sc.segs[i], sc.segs[j] = sc.segs[j], sc.segs[i]
	}

	n := len(sc.segs)
	if a.utf8 {
		n++
	}
	out := make([]Segment, 0, n)
	if a.utf8 {
		out = append(out, Segment{Mode: ECI, Chars: eciUTF8, Bits: 12})
	}
	for _, sp := range sc.segs {
		seg := Segment{Mode: sp.mode, Text: text[a.off[sp.start]:a.off[sp.end]]}
		chars := sp.end - sp.start
		var data int
		switch sp.mode {
		case Numeric:
			data = 10*(chars/3) + [3]int{0, 4, 7}[chars%3]
		case Alphanumeric:
			data = 11*(chars/2) + 6*(chars%2)
		case Byte:
			if a.utf8 {
				chars = len(seg.Text)
			}
			data = 8 * chars
		}
		seg.Chars = chars
		seg.Bits = 4 + int(countBits[g][sp.mode]) + data
		out = append(out, seg)
	}
	return out
}

// bitWriter appends bits, most significant first, to a zeroed byte slice.
type bitWriter struct {
	buf  []byte
	pos  int    // bytes flushed
	acc  uint64 // pending bits, right aligned
	nacc uint   // number of pending bits
}

// write appends the n (<= 32) low bits of v.
func (w *bitWriter) write(v uint32, n uint) {
	w.acc = w.acc<<n | uint64(v)&(1<<n-1)
	w.nacc += n
	for w.nacc >= 8 {
		w.nacc -= 8
		w.buf[w.pos] = byte(w.acc >> w.nacc)
		w.pos++
	}
}

// bits returns the number of bits written so far.
func (w *bitWriter) bits() int { return w.pos*8 + int(w.nacc) }

// flushPartial pads the pending bits with zeros up to a byte boundary.
func (w *bitWriter) flushPartial() {
	if w.nacc > 0 {
		w.write(0, 8-w.nacc)
	}
}

// writeData writes the segments of c, the terminator and the pad codewords
// into sc.data (the data codewords of c.Version at c.Level).
func (sc *scratch) writeData(text string, c *Code) {
	a := &sc.an
	capBytes := c.CapacityBits / 8
	sc.data = grow(sc.data, capBytes)
	clear(sc.data)
	w := bitWriter{buf: sc.data}
	g := groupOf(c.Version)
	for _, seg := range c.Segments {
		w.write(modeIndicator[seg.Mode], 4)
		if seg.Mode == ECI {
			w.write(uint32(seg.Chars), 8)
			continue
		}
		w.write(uint32(seg.Chars), uint(countBits[g][seg.Mode]))
		s := seg.Text
		switch seg.Mode {
		case Numeric:
			k := 0
			for ; k+3 <= len(s); k += 3 {
				w.write(uint32(s[k]-'0')*100+uint32(s[k+1]-'0')*10+uint32(s[k+2]-'0'), 10)
			}
			switch len(s) - k {
			case 1:
				w.write(uint32(s[k]-'0'), 4)
			case 2:
				w.write(uint32(s[k]-'0')*10+uint32(s[k+1]-'0'), 7)
			}
		case Alphanumeric:
			k := 0
			for ; k+2 <= len(s); k += 2 {
				w.write(uint32(alnumValue[s[k]])*45+uint32(alnumValue[s[k+1]]), 11)
			}
			if k < len(s) {
				w.write(uint32(alnumValue[s[k]]), 6)
			}
		case Byte:
			if a.utf8 {
				for k := 0; k < len(s); k++ {
					w.write(uint32(s[k]), 8)
				}
			} else {
				for _, r := range s {
					w.write(uint32(r), 8)
				}
			}
		}
	}
	// Terminator: up to four zero bits, then zero bits to the byte
	// boundary, then alternating pad codewords.
	if t := c.CapacityBits - w.bits(); t > 0 {
		w.write(0, uint(min(t, 4)))
	}
	w.flushPartial()
	for pad := byte(0xEC); w.pos < capBytes; pad ^= 0xEC ^ 0x11 {
		w.buf[w.pos] = pad
		w.pos++
	}
}

// hasByte reports whether segs holds a byte segment.
func (a *analysis) hasByte(segs []Segment) bool {
	for _, s := range segs {
		if s.Mode == Byte {
			return true
		}
	}
	return false
}
