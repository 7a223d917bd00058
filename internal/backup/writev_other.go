//go:build !linux

package backup

import "os"

// writeBuffers writes bufs to f in order, at its current offset.
func writeBuffers(f *os.File, bufs [][]byte) error {
	for _, b := range bufs {
		if _, err := f.Write(b); err != nil {
			return err
		}
	}
	return nil
}
