package token

// The text form is the 82 token bytes read as a big-endian integer and
// written in decimal, zero-padded to 198 digits (2^656 < 10^198). The
// conversion works on 21 big-endian 32-bit limbs (84 bytes; the top two
// are always zero) in base 10^9: 22 groups of 9 digits make 198.

const (
	limbs     = 21
	groupLen  = 9
	groupBase = 1_000_000_000
	groups    = TextLen / groupLen // 22
)

// encodeDigits returns the 198-digit text of raw.
func encodeDigits(raw *[RawSize]byte) string {
	var l [limbs]uint32
	// raw occupies the low 82 bytes of the 84-byte number.
	l[0] = uint32(raw[0])<<8 | uint32(raw[1])
	for i := 1; i < limbs; i++ {
		j := 2 + (i-1)*4
		l[i] = uint32(raw[j])<<24 | uint32(raw[j+1])<<16 | uint32(raw[j+2])<<8 | uint32(raw[j+3])
	}
	var out [TextLen]byte
	top := 0 // limbs before top are zero
	for g := groups - 1; g >= 0; g-- {
		// Divide the number by 10^9; the remainder is the next group.
		var rem uint64
		for i := top; i < limbs; i++ {
			cur := rem<<32 | uint64(l[i])
			l[i] = uint32(cur / groupBase)
			rem = cur % groupBase
		}
		for top < limbs && l[top] == 0 {
			top++
		}
		r := uint32(rem)
		for k := groupLen - 1; k >= 0; k-- {
			out[g*groupLen+k] = byte('0' + r%10)
			r /= 10
		}
	}
	return string(out[:])
}

// decodeDigits reads a 198-digit text into raw.
func decodeDigits(text string, raw *[RawSize]byte) error {
	if len(text) != TextLen {
		return errLength
	}
	var l [limbs]uint32
	for g := 0; g < groups; g++ {
		var v uint32
		for _, c := range []byte(text[g*groupLen : (g+1)*groupLen]) {
			d := c - '0'
			if d > 9 {
				return errDigit
			}
			v = v*10 + uint32(d)
		}
		// Multiply the number by 10^9 and add the group. 10^198 < 2^672,
		// so the carry out of the top limb is always zero.
		carry := uint64(v)
		for i := limbs - 1; i >= 0; i-- {
			cur := uint64(l[i])*groupBase + carry
			l[i] = uint32(cur)
			carry = cur >> 32
		}
	}
	if l[0]>>16 != 0 {
		return errTooLarge // at least 2^656: more than 82 bytes
	}
	raw[0] = byte(l[0] >> 8)
	raw[1] = byte(l[0])
	for i := 1; i < limbs; i++ {
		j := 2 + (i-1)*4
		raw[j] = byte(l[i] >> 24)
		raw[j+1] = byte(l[i] >> 16)
		raw[j+2] = byte(l[i] >> 8)
		raw[j+3] = byte(l[i])
	}
	return nil
}
