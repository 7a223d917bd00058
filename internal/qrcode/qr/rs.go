package qr

// Reed-Solomon error correction over GF(2^8) with the primitive polynomial
// x^8 + x^4 + x^3 + x^2 + 1 (0x11D), generator roots α^0 .. α^(n-1).

var (
	gfExp [512]uint8 // α^i, doubled so that gfExp[a+b] needs no reduction
	gfLog [256]uint8 // log_α(x) for x != 0
)

// genLog[n] holds the coefficients of the generator polynomial of degree n,
// highest degree first without the leading 1, as logarithms (all
// coefficients of these polynomials are non-zero).
var genLog [31][]uint8

func init() {
	x := 1
	for i := 0; i < 255; i++ {
		gfExp[i] = uint8(x)
		gfLog[x] = uint8(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < len(gfExp); i++ {
		gfExp[i] = gfExp[i-255]
	}
	for l := range ecPerBlock {
		for v := 1; v <= 40; v++ {
			if n := ecPerBlock[l][v]; genLog[n] == nil {
				genLog[n] = generator(int(n))
			}
		}
	}
}

func gfMul(a, b uint8) uint8 {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// generator computes Π (x - α^i) for i in [0, n) and returns its
// coefficients (highest degree first, leading 1 dropped) as logarithms.
func generator(n int) []uint8 {
	// poly[0] is the coefficient of x^k for the current degree k; poly is
	// kept highest degree first.
	poly := make([]uint8, 1, n+1)
	poly[0] = 1
	for i := 0; i < n; i++ {
		root := gfExp[i]
		next := make([]uint8, len(poly)+1)
		for j, c := range poly {
			next[j] ^= c                // c·x
			next[j+1] ^= gfMul(c, root) // c·α^i (subtraction is xor)
		}
		poly = next
	}
	out := make([]uint8, n)
	for i := 0; i < n; i++ {
		c := poly[i+1]
		if c == 0 {
			panic("qr: zero generator coefficient")
		}
		out[i] = gfLog[c]
	}
	return out
}

// rsRemainder writes into ec (len(ec) EC codewords) the remainder of
// data·x^n divided by the generator polynomial of degree n = len(ec).
func rsRemainder(data, ec []uint8) {
	g := genLog[len(ec)]
	g = g[:len(ec)]
	clear(ec)
	last := len(ec) - 1
	for _, b := range data {
		f := b ^ ec[0]
		copy(ec, ec[1:])
		ec[last] = 0
		if f == 0 {
			continue
		}
		lf := int(gfLog[f])
		for j, gl := range g {
			ec[j] ^= gfExp[lf+int(gl)]
		}
	}
}
