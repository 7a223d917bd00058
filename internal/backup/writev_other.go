//go:build !linux

package backup

import "os"

// writeBuffers writes bufs to f in order, at its current offset (pos).
func writeBuffers(f *os.File, pos int64, bufs [][]byte) error {
	for _, b := range bufs {
		if _, err := f.Write(b); err != nil {
			return err
		}
	}
	return nil
}
