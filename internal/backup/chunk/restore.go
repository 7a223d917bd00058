package chunk

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"modernc.org/sqlite"
)

// restorer is what modernc.org/sqlite's driver connection offers to copy a database file into
// an open database.
type restorer interface {
	NewRestore(srcURI string) (*sqlite.Backup, error)
}

// RestoreSQLiteInto replaces the content of the live database behind db with the SQLite file at
// srcPath, with the online backup API in one step on one of db's connections: the copy runs
// inside a write transaction of the live database, so its other connections see either the old
// database or the new one, never a mix, and the file is never swapped under an open connection.
// db must be a modernc.org/sqlite pool; srcPath should have passed integrity_check.
func RestoreSQLiteInto(ctx context.Context, db *sql.DB, srcPath string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		r, ok := dc.(restorer)
		if !ok {
			return fmt.Errorf("driver connection %T has no online backup API", dc)
		}
		bk, err := r.NewRestore(fileURI(srcPath) + "?mode=ro")
		if err != nil {
			return fmt.Errorf("start restore: %w", err)
		}
		for {
			more, err := bk.Step(-1)
			if err == nil && !more {
				break
			}
			if err == nil || isBusy(err) {
				select {
				case <-ctx.Done():
					_ = bk.Finish()
					return ctx.Err()
				case <-time.After(10 * time.Millisecond):
				}
				continue
			}
			_ = bk.Finish()
			return fmt.Errorf("restore step: %w", err)
		}
		return bk.Finish()
	})
}
