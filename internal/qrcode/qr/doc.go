// Package qr encodes text into QR code symbols (ISO/IEC 18004 model 2,
// versions 1-40, levels L/M/Q/H), choosing the mix of numeric,
// alphanumeric and byte segments that needs the fewest bits, with ECI for
// UTF-8 text.
package qr
