package qr

// Tables transcribed from ISO/IEC 18004 (Table 9: error correction
// characteristics; Annex E: alignment pattern positions). Levels are indexed
// in the order of the Level constants: L, M, Q, H. Index 0 of the version
// dimension is unused.

// ecPerBlock is the number of error correction codewords in each block.
var ecPerBlock = [4][41]uint8{
	{0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
		28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
	{0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
		26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28},
	{0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
		28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
	{0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
		30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
}

// numBlocks is the number of error correction blocks the codewords are split
// into.
var numBlocks = [4][41]uint8{
	{0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
		8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25},
	{0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
		17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49},
	{0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
		23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68},
	{0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
		25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81},
}

// alignPos lists the row/column coordinates of the alignment pattern
// centres. Every combination of two coordinates holds a pattern, except the
// three that would overlap a finder pattern.
var alignPos = [41][]uint8{
	1:  nil,
	2:  {6, 18},
	3:  {6, 22},
	4:  {6, 26},
	5:  {6, 30},
	6:  {6, 34},
	7:  {6, 22, 38},
	8:  {6, 24, 42},
	9:  {6, 26, 46},
	10: {6, 28, 50},
	11: {6, 30, 54},
	12: {6, 32, 58},
	13: {6, 34, 62},
	14: {6, 26, 46, 66},
	15: {6, 26, 48, 70},
	16: {6, 26, 50, 74},
	17: {6, 30, 54, 78},
	18: {6, 30, 56, 82},
	19: {6, 30, 58, 86},
	20: {6, 34, 62, 90},
	21: {6, 28, 50, 72, 94},
	22: {6, 26, 50, 74, 98},
	23: {6, 30, 54, 78, 102},
	24: {6, 28, 54, 80, 106},
	25: {6, 32, 58, 84, 110},
	26: {6, 30, 58, 86, 114},
	27: {6, 34, 62, 90, 118},
	28: {6, 26, 50, 74, 98, 122},
	29: {6, 30, 54, 78, 102, 126},
	30: {6, 26, 52, 78, 104, 130},
	31: {6, 30, 56, 82, 108, 134},
	32: {6, 34, 60, 86, 112, 138},
	33: {6, 30, 58, 86, 114, 142},
	34: {6, 34, 62, 90, 118, 146},
	35: {6, 30, 54, 78, 102, 126, 150},
	36: {6, 24, 50, 76, 102, 128, 154},
	37: {6, 28, 54, 80, 106, 132, 158},
	38: {6, 32, 58, 84, 110, 136, 162},
	39: {6, 26, 54, 82, 110, 138, 166},
	40: {6, 30, 58, 86, 114, 142, 170},
}

// Version groups share the width of the character count indicators
// (Table 3): versions 1-9, 10-26 and 27-40.
const numGroups = 3

var (
	groupFirst = [numGroups]int{1, 10, 27}
	groupLast  = [numGroups]int{9, 26, 40}
)

// countBits[group][mode] is the width of the character count indicator.
var countBits = [numGroups][5]uint8{
	{Numeric: 10, Alphanumeric: 9, Byte: 8},
	{Numeric: 12, Alphanumeric: 11, Byte: 16},
	{Numeric: 14, Alphanumeric: 13, Byte: 16},
}

// modeIndicator holds the 4-bit mode indicators (Table 2).
var modeIndicator = [5]uint32{Numeric: 0b0001, Alphanumeric: 0b0010, Byte: 0b0100, ECI: 0b0111}

// eciUTF8 is the ECI assignment number of UTF-8.
const eciUTF8 = 26

// alnumValue maps a byte to its value in the alphanumeric character set
// (Table 5) or 0xFF when the byte is not in the set.
var alnumValue = func() (t [256]uint8) {
	for i := range t {
		t[i] = 0xFF
	}
	const set = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	for i := 0; i < len(set); i++ {
		t[set[i]] = uint8(i)
	}
	return t
}()

// groupOf returns the version group of version v.
func groupOf(v int) int {
	switch {
	case v <= 9:
		return 0
	case v <= 26:
		return 1
	}
	return 2
}

// rawDataModules counts the modules of version v that are not function
// patterns, i.e. those that carry codeword bits (including remainder bits).
func rawDataModules(v int) int {
	size := 17 + 4*v
	n := size * size
	n -= 3 * 8 * 8       // finder patterns with their separators
	n -= 2 * (size - 16) // timing patterns between the separators
	n -= 2*15 + 1        // format information and the dark module
	if k := len(alignPos[v]); k > 0 {
		patterns := k*k - 3
		n -= 25 * patterns
		// Alignment patterns on row/column 6 cover timing modules that
		// were already subtracted: 5 per pattern on the timing lines.
		n += 2 * (k - 2) * 5
	}
	if v >= 7 {
		n -= 2 * 18 // version information
	}
	return n
}

// totalCodewords returns the number of codewords of version v.
func totalCodewords(v int) int { return rawDataModules(v) / 8 }

// dataCW caches the number of data codewords per level and version.
var dataCW = func() (t [4][41]int) {
	for l := range t {
		for v := 1; v <= 40; v++ {
			t[l][v] = totalCodewords(v) - int(ecPerBlock[l][v])*int(numBlocks[l][v])
		}
	}
	return t
}()

// dataCodewords returns the number of data codewords of version v at level l.
func dataCodewords(v int, l Level) int { return dataCW[l][v] }
