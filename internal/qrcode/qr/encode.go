package qr

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Level is the error correction level.
type Level int

// Error correction levels, recovering about 7%, 15%, 25% and 30% of the
// codewords.
const (
	L Level = iota
	M
	Q
	H
)

// String returns "L", "M", "Q" or "H".
func (l Level) String() string {
	switch l {
	case L:
		return "L"
	case M:
		return "M"
	case Q:
		return "Q"
	case H:
		return "H"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

func (l Level) valid() bool { return l >= L && l <= H }

// ParseLevel parses "L", "M", "Q" or "H" (case-insensitive, surrounding
// spaces ignored).
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "L":
		return L, nil
	case "M":
		return M, nil
	case "Q":
		return Q, nil
	case "H":
		return H, nil
	}
	return 0, fmt.Errorf("qr: invalid error correction level %q (want L, M, Q or H)", s)
}

// Mode is the encoding mode of a segment.
type Mode int

// Segment modes.
const (
	Numeric Mode = iota + 1
	Alphanumeric
	Byte
	ECI
)

// String returns "numerico", "alfanumerico", "byte" or "eci".
func (m Mode) String() string {
	switch m {
	case Numeric:
		return "numerico"
	case Alphanumeric:
		return "alfanumerico"
	case Byte:
		return "byte"
	case ECI:
		return "eci"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Segment is one run of the encoded data.
type Segment struct {
	Mode Mode
	// Chars is the number of characters (numeric, alphanumeric), of bytes
	// (byte mode) or, for ECI, the assignment number.
	Chars int
	// Bits is the number of bits the segment takes in the chosen version:
	// mode indicator + character count + data.
	Bits int
	// Text holds the characters the segment carries (empty for ECI).
	Text string
}

// Options tunes Encode. The zero value means: any version from 1 to 40,
// automatic mask, no level boost.
type Options struct {
	// MinVersion and MaxVersion bound the version; 0 means 1 and 40.
	MinVersion, MaxVersion int
	// Mask selects the mask pattern. When FixedMask is false, Mask values
	// 1..7 force that pattern and 0 or -1 ask for the automatic choice
	// (lowest penalty score). When FixedMask is true, Mask (0..7) is
	// always forced, which is the only way to force pattern 0.
	Mask      int
	FixedMask bool
	// BoostLevel raises the error correction level as long as the data
	// still fits the version chosen for the requested level.
	BoostLevel bool
	// UTF8 carries non-ASCII text as UTF-8 after ECI 26 even when it fits
	// ISO-8859-1. Readers that guess the charset of byte segments without
	// ECI (ZXing and its ports) take runs of two or more upper-case
	// accented letters, as in "AÇÃO", for Shift_JIS katakana; with ECI
	// they read UTF-8 as announced. ASCII-only text is not affected.
	UTF8 bool
}

// Code is an encoded QR symbol.
type Code struct {
	Version int
	Level   Level
	Mask    int
	Size    int // modules per side (17 + 4*Version)
	// Modules holds Size*Size modules, row-major, true = dark.
	Modules []bool
	// Function marks the modules of function patterns: finder patterns and
	// separators, timing, alignment patterns, format and version
	// information and the dark module.
	Function []bool
	Segments []Segment
	// DataBits is the number of bits of all segments (without the
	// terminator and padding).
	DataBits int
	// CapacityBits is the data capacity in bits of Version at Level.
	CapacityBits int
	// Charset is "iso-8859-1" when byte segments carry ISO-8859-1, "utf-8"
	// when they carry UTF-8 (announced by ECI 26) and "" without byte
	// segments.
	Charset string
}

// Dark reports whether the module at column x, row y is dark; false outside
// the symbol.
func (c *Code) Dark(x, y int) bool {
	if x < 0 || y < 0 || x >= c.Size || y >= c.Size {
		return false
	}
	return c.Modules[y*c.Size+x]
}

// ErrTooLong is returned when the text does not fit the largest allowed
// version at the requested level.
var ErrTooLong = errors.New("qr: text too long for a QR code")

// ErrInvalidUTF8 is returned for text that is not valid UTF-8.
var ErrInvalidUTF8 = errors.New("qr: text is not valid UTF-8")

// scratch holds the per-call working memory, recycled through a pool so
// that an Encode call allocates little more than its result.
type scratch struct {
	an       analysis
	bp       []uint8 // DP back pointers, numStates per character
	endState uint8   // DP state after the last character
	segs     []segPlan
	data     []byte // data codewords
	final    []byte // interleaved data and EC codewords
	ec       []byte
	rows     []uint64 // unmasked symbol, one bitset per row
	cols     []uint64 // unmasked symbol, one bitset per column
	mrows    []uint64 // masked candidate
	mcols    []uint64
	bestRows []uint64 // best masked candidate so far
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// grow returns s resized to n elements (contents unspecified).
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// Encode encodes text at the given level into the smallest QR version (within
// opts) that holds it, using the segmentation with the fewest bits.
func Encode(text string, level Level, opts Options) (*Code, error) {
	if !level.valid() {
		return nil, fmt.Errorf("qr: invalid error correction level %d", int(level))
	}
	minV, maxV := opts.MinVersion, opts.MaxVersion
	if minV == 0 {
		minV = 1
	}
	if maxV == 0 {
		maxV = 40
	}
	if minV < 1 || maxV > 40 || minV > maxV {
		return nil, fmt.Errorf("qr: invalid version range %d..%d", opts.MinVersion, opts.MaxVersion)
	}
	mask := -1
	switch {
	case opts.FixedMask:
		if opts.Mask < 0 || opts.Mask > 7 {
			return nil, fmt.Errorf("qr: invalid mask %d", opts.Mask)
		}
		mask = opts.Mask
	case opts.Mask >= 1 && opts.Mask <= 7:
		mask = opts.Mask
	case opts.Mask == 0 || opts.Mask == -1:
	default:
		return nil, fmt.Errorf("qr: invalid mask %d", opts.Mask)
	}

	sc := scratchPool.Get().(*scratch)
	c, err := sc.encode(text, level, minV, maxV, mask, opts.BoostLevel, opts.UTF8)
	scratchPool.Put(sc)
	return c, err
}

// encode does the work of Encode with validated arguments (mask < 0 means
// automatic), leaving the codewords in sc.data and sc.final.
func (sc *scratch) encode(text string, level Level, minV, maxV, mask int, boost, forceUTF8 bool) (*Code, error) {
	an := &sc.an
	if !an.analyze(text, forceUTF8) {
		return nil, ErrInvalidUTF8
	}

	// Try the version groups from the smallest up: the minimal bit count
	// of a group does not depend on the version inside it.
	version, bits, group := 0, 0, 0
	for g := 0; g < numGroups && version == 0; g++ {
		lo, hi := max(groupFirst[g], minV), min(groupLast[g], maxV)
		if lo > hi {
			continue
		}
		b, ok := sc.optimize(g)
		if !ok {
			continue
		}
		for v := lo; v <= hi; v++ {
			if b <= dataCodewords(v, level)*8 {
				version, bits, group = v, b, g
				break
			}
		}
	}
	if version == 0 {
		return nil, ErrTooLong
	}
	// The loop stopped right after optimising group, so the DP back
	// pointers describe its segmentation.
	if boost {
		for l := level + 1; l <= H; l++ {
			if bits <= dataCodewords(version, l)*8 {
				level = l
			}
		}
	}

	c := &Code{
		Version:      version,
		Level:        level,
		Size:         17 + 4*version,
		CapacityBits: dataCodewords(version, level) * 8,
		DataBits:     bits,
	}
	c.Segments = sc.segments(text, group)
	switch {
	case an.utf8:
		c.Charset = "utf-8"
	case an.hasByte(c.Segments):
		c.Charset = "iso-8859-1"
	}

	sc.writeData(text, c)
	sc.addECC(version, level)
	vi := versionInfo(version)
	c.Mask = sc.place(vi, level, mask)
	c.Modules = make([]bool, c.Size*c.Size)
	sc.exportModules(vi, c.Modules)
	c.Function = make([]bool, len(vi.fn))
	copy(c.Function, vi.fn)
	return c, nil
}

// addECC splits sc.data into blocks, computes their error correction
// codewords and interleaves everything into sc.final.
func (sc *scratch) addECC(v int, l Level) {
	total := totalCodewords(v)
	nb := int(numBlocks[l][v])
	ecLen := int(ecPerBlock[l][v])
	shortLen := total / nb // codewords of a short block, data + ec
	numShort := nb - total%nb
	shortData := shortLen - ecLen

	sc.ec = grow(sc.ec, nb*ecLen)
	sc.final = grow(sc.final, total)
	data, final := sc.data, sc.final

	off := 0
	for b := 0; b < nb; b++ {
		n := shortData
		if b >= numShort {
			n++
		}
		rsRemainder(data[off:off+n], sc.ec[b*ecLen:(b+1)*ecLen])
		off += n
	}

	// Interleave the data codewords: column i of every block, the long
	// blocks having one extra codeword at the end.
	k := 0
	for i := 0; i <= shortData; i++ {
		off := 0
		for b := 0; b < nb; b++ {
			n := shortData
			if b >= numShort {
				n++
			}
			if i < n {
				final[k] = data[off+i]
				k++
			}
			off += n
		}
	}
	for i := 0; i < ecLen; i++ {
		for b := 0; b < nb; b++ {
			final[k] = sc.ec[b*ecLen+i]
			k++
		}
	}
}
