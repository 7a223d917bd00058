package chunk

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Dump format constants (see PGDumpHeader).
const (
	pgDumpFormat  = "painel-pgdump"
	pgDumpVersion = 1

	recHeader   = 'H'
	recTable    = 'T'
	recData     = 'D'
	recEnd      = 'E'
	recSequence = 'S'
	recTrailer  = 'Z'

	pgDataBlock   = 1 << 20  // target size of a 'D' record
	maxMetaRecord = 64 << 20 // largest non-data record a reader accepts
)

// PGDumpHeader is the JSON payload of a PostgreSQL dump's header record.
//
// The dump format written by DumpPostgres (version 1) is a sequence of
// records, each a kind byte, a 4-byte big-endian payload length and the
// payload:
//
//	'H' header, JSON PGDumpHeader: format "painel-pgdump", version 1, the
//	    source schema and server version, every table (in load order, with
//	    its columns and types) and every sequence of the schema
//	then per table, in the header's order:
//	'T' the table's name (UTF-8, unquoted, no schema)
//	'D' zero or more blocks of COPY text-format data (COPY ... TO STDOUT
//	    with the header's column list: one line per row, columns separated by
//	    tabs, \N for NULL, backslash escapes; bytea as \x hex); a block holds
//	    whole rows, about 1 MiB (more only for a larger row)
//	'E' end of the table, JSON {"rows": N}, the number of rows COPY sent
//	then per sequence, in the header's order:
//	'S' JSON {"name", "last_value", "is_called"}: the sequence's state
//	'Z' trailer, JSON {"tables": N, "sequences": M}: a dump without it is
//	    truncated
//
// Everything is read in one REPEATABLE READ READ ONLY transaction, so the
// rows of all tables are one consistent snapshot. Sequences are not
// transactional: their state is read after the tables, so it is at least
// what any dumped row used.
type PGDumpHeader struct {
	// Format is "painel-pgdump".
	Format string `json:"format"`
	// Version is the format version, 1.
	Version int `json:"version"`
	// Schema is the schema that was dumped (current_schema() of the
	// connection); RestorePostgres loads into its own connection's schema,
	// whatever its name.
	Schema string `json:"schema"`
	// ServerVersion is the source server's server_version.
	ServerVersion string `json:"server_version"`
	// Tables lists every ordinary table of the schema in load order:
	// referenced tables before the tables whose foreign keys point to them.
	Tables []PGTable `json:"tables"`
	// Sequences names every sequence of the schema, sorted.
	Sequences []string `json:"sequences"`
}

// PGTable is one table of a PostgreSQL dump.
type PGTable struct {
	// Name is the table's name, without schema.
	Name string `json:"name"`
	// Columns are the table's stored columns in order (generated columns
	// are left out: PostgreSQL recomputes them).
	Columns []PGColumn `json:"columns"`
}

// PGColumn is one column of a dumped table.
type PGColumn struct {
	// Name is the column's name.
	Name string `json:"name"`
	// Type is the column's type as format_type() spells it.
	Type string `json:"type"`
}

type pgEnd struct {
	Rows int64 `json:"rows"`
}

type pgSequence struct {
	Name      string `json:"name"`
	LastValue int64  `json:"last_value"`
	IsCalled  bool   `json:"is_called"`
}

type pgTrailer struct {
	Tables    int `json:"tables"`
	Sequences int `json:"sequences"`
}

// DumpPostgres writes a consistent logical dump of every ordinary table in
// the connection's schema (current_schema(), the first schema of the
// search_path: "public" by default, where the service's migrations create
// its tables, schema_migrations and meta included) to w, in the format
// described at PGDumpHeader: one REPEATABLE READ READ ONLY transaction,
// COPY ... TO STDOUT per table, then the state of every sequence of the
// schema. Views, foreign tables and partitioned parents (no rows of their
// own) are not dumped; partitions are, as tables.
//
// db must come from the pgx database/sql driver ("pgx", as internal/store
// opens PostgreSQL): the dump runs on one connection of db's pool, reached
// with (*sql.Conn).Raw as a *pgx.Conn for COPY, so it uses that pool's
// credentials, TLS and search_path. Writers are not blocked; a dump holds
// back vacuum of rows deleted while it runs.
func DumpPostgres(ctx context.Context, db *sql.DB, w io.Writer) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("dump postgres: %w", err)
	}
	defer conn.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	err = conn.Raw(func(dc any) error {
		pc, err := pgxConn(dc)
		if err != nil {
			return err
		}
		tx, err := pc.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit
		if err := dumpTx(ctx, tx, bw); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return fmt.Errorf("dump postgres: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("dump postgres: %w", err)
	}
	return nil
}

func dumpTx(ctx context.Context, tx pgx.Tx, w io.Writer) error {
	sch, err := describeSchema(ctx, tx)
	if err != nil {
		return err
	}
	hdr := PGDumpHeader{
		Format: pgDumpFormat, Version: pgDumpVersion, Schema: sch.name,
		Tables: sch.tables, Sequences: sch.sequences,
	}
	if err := tx.QueryRow(ctx, `SHOW server_version`).Scan(&hdr.ServerVersion); err != nil {
		return fmt.Errorf("server version: %w", err)
	}
	if err := writeJSONRecord(w, recHeader, hdr); err != nil {
		return err
	}
	for _, t := range sch.tables {
		if err := writeRecord(w, recTable, []byte(t.Name)); err != nil {
			return err
		}
		cw := &copyBlockWriter{w: w}
		tag, err := tx.Conn().PgConn().CopyTo(ctx, cw, "COPY "+pgx.Identifier{sch.name, t.Name}.Sanitize()+
			" ("+columnList(t.Columns)+") TO STDOUT")
		if err == nil {
			err = cw.flush()
		}
		if err != nil {
			return fmt.Errorf("copy %s: %w", t.Name, err)
		}
		if err := writeJSONRecord(w, recEnd, pgEnd{Rows: tag.RowsAffected()}); err != nil {
			return err
		}
	}
	for _, name := range sch.sequences {
		s := pgSequence{Name: name}
		err := tx.QueryRow(ctx, `SELECT last_value, is_called FROM `+pgx.Identifier{sch.name, name}.Sanitize()).
			Scan(&s.LastValue, &s.IsCalled)
		if err != nil {
			return fmt.Errorf("sequence %s: %w", name, err)
		}
		if err := writeJSONRecord(w, recSequence, s); err != nil {
			return err
		}
	}
	return writeJSONRecord(w, recTrailer, pgTrailer{Tables: len(sch.tables), Sequences: len(sch.sequences)})
}

// RestorePostgres loads a dump written by DumpPostgres into the
// connection's schema (current_schema()), which must hold the same tables,
// columns (names and types) and sequences, i.e. be at the same migration
// version: an empty migrated schema or the live one. In one transaction it
// defers deferrable constraints, TRUNCATEs every table of the schema (one
// statement, so foreign keys between them do not get in the way), COPYs
// each table back in the dump's order (referenced tables first; rows of a
// self-referencing table are checked at the end of its COPY), checks each
// table's row count, sets every sequence to its dumped state and then
// raises each column-owned sequence (identity and serial columns) to at
// least max(column), so new rows continue after the restored ones; then it
// commits. On any error nothing changes. Triggers on the tables fire
// during the load as for any COPY (the service defines none). Other
// sessions wait on the TRUNCATE's locks until the restore commits.
//
// db must come from the pgx database/sql driver, as for DumpPostgres.
func RestorePostgres(ctx context.Context, db *sql.DB, r io.Reader) error {
	fr := &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
	var hdr PGDumpHeader
	if err := fr.readJSON(recHeader, &hdr); err != nil {
		return fmt.Errorf("restore postgres: header: %w", err)
	}
	if hdr.Format != pgDumpFormat || hdr.Version != pgDumpVersion {
		return fmt.Errorf("restore postgres: not a %s version %d dump (format %q, version %d)",
			pgDumpFormat, pgDumpVersion, hdr.Format, hdr.Version)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("restore postgres: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc, err := pgxConn(dc)
		if err != nil {
			return err
		}
		tx, err := pc.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit
		if err := restoreTx(ctx, tx, &hdr, fr); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return fmt.Errorf("restore postgres: %w", err)
	}
	return nil
}

func restoreTx(ctx context.Context, tx pgx.Tx, hdr *PGDumpHeader, fr *frameReader) error {
	if _, err := tx.Exec(ctx, `SET CONSTRAINTS ALL DEFERRED`); err != nil {
		return err
	}
	sch, err := describeSchema(ctx, tx)
	if err != nil {
		return err
	}
	if err := sameShape(hdr, sch); err != nil {
		return err
	}
	if len(sch.tables) > 0 {
		names := make([]string, len(sch.tables))
		for i, t := range sch.tables {
			names[i] = pgx.Identifier{sch.name, t.Name}.Sanitize()
		}
		if _, err := tx.Exec(ctx, `TRUNCATE TABLE `+strings.Join(names, ", ")); err != nil {
			return fmt.Errorf("truncate: %w", err)
		}
	}
	for _, t := range hdr.Tables {
		kind, n, err := fr.next()
		if err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
		if kind != recTable || n > maxMetaRecord {
			return fmt.Errorf("table %s: %w: record %q where a table starts", t.Name, errBadDump, kind)
		}
		name, err := fr.payload(n)
		if err != nil {
			return err
		}
		if string(name) != t.Name {
			return fmt.Errorf("%w: table %q where the header lists %q", errBadDump, name, t.Name)
		}
		cr := &copyDataReader{fr: fr}
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, cr, "COPY "+pgx.Identifier{sch.name, t.Name}.Sanitize()+
			" ("+columnList(t.Columns)+") FROM STDIN")
		if cr.err != nil {
			return fmt.Errorf("table %s: %w", t.Name, cr.err)
		}
		if err != nil {
			return fmt.Errorf("copy %s: %w", t.Name, err)
		}
		if !cr.done {
			return fmt.Errorf("table %s: %w: COPY ended before the table's end record", t.Name, errBadDump)
		}
		if tag.RowsAffected() != cr.end.Rows {
			return fmt.Errorf("table %s: loaded %d rows, the dump has %d", t.Name, tag.RowsAffected(), cr.end.Rows)
		}
	}
	for _, name := range hdr.Sequences {
		var s pgSequence
		if err := fr.readJSON(recSequence, &s); err != nil {
			return fmt.Errorf("sequence %s: %w", name, err)
		}
		if s.Name != name {
			return fmt.Errorf("%w: sequence %q where the header lists %q", errBadDump, s.Name, name)
		}
		if _, err := tx.Exec(ctx, `SELECT setval($1::regclass, $2, $3)`,
			pgx.Identifier{sch.name, name}.Sanitize(), s.LastValue, s.IsCalled); err != nil {
			return fmt.Errorf("sequence %s: %w", name, err)
		}
	}
	var tr pgTrailer
	if err := fr.readJSON(recTrailer, &tr); err != nil {
		return fmt.Errorf("trailer: %w", err)
	}
	if tr.Tables != len(hdr.Tables) || tr.Sequences != len(hdr.Sequences) {
		return fmt.Errorf("%w: trailer counts %d tables, %d sequences; header %d, %d",
			errBadDump, tr.Tables, tr.Sequences, len(hdr.Tables), len(hdr.Sequences))
	}
	return raiseOwnedSequences(ctx, tx, sch.name)
}

// raiseOwnedSequences sets every sequence owned by a column of the schema
// (identity or serial) to at least the column's maximum, so the next
// default value does not collide with a restored row.
func raiseOwnedSequences(ctx context.Context, tx pgx.Tx, schema string) error {
	rows, err := tx.Query(ctx, `
		SELECT seq.relname, tbl.relname, att.attname
		FROM pg_depend d
		JOIN pg_class seq ON seq.oid = d.objid AND seq.relkind = 'S'
		JOIN pg_class tbl ON tbl.oid = d.refobjid
		JOIN pg_namespace n ON n.oid = tbl.relnamespace
		JOIN pg_attribute att ON att.attrelid = d.refobjid AND att.attnum = d.refobjsubid
		WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND d.deptype IN ('a', 'i') AND n.nspname = $1
		ORDER BY 1`, schema)
	if err != nil {
		return fmt.Errorf("owned sequences: %w", err)
	}
	type owned struct{ seq, table, column string }
	var list []owned
	for rows.Next() {
		var o owned
		if err := rows.Scan(&o.seq, &o.table, &o.column); err != nil {
			rows.Close()
			return err
		}
		list = append(list, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("owned sequences: %w", err)
	}
	for _, o := range list {
		seq := pgx.Identifier{schema, o.seq}.Sanitize()
		_, err := tx.Exec(ctx, `
			SELECT setval($1::regclass, m.v, true)
			FROM (SELECT max(`+pgx.Identifier{o.column}.Sanitize()+`)::bigint AS v FROM `+
			pgx.Identifier{schema, o.table}.Sanitize()+`) m, `+seq+` s
			WHERE m.v IS NOT NULL AND (m.v > s.last_value OR (m.v = s.last_value AND NOT s.is_called))`, seq)
		if err != nil {
			return fmt.Errorf("sequence %s of %s.%s: %w", o.seq, o.table, o.column, err)
		}
	}
	return nil
}

// pgSchema is what describeSchema found in the connection's schema.
type pgSchema struct {
	name      string
	tables    []PGTable // load order
	sequences []string  // sorted
}

// describeSchema lists the ordinary tables (relkind 'r': partitions count
// as tables of their own; views, foreign tables and partitioned parents,
// which hold no rows, do not), their stored columns and the sequences of
// current_schema(), ordering the tables so that referenced ones come
// before the ones whose foreign keys point to them (ties and cycles by
// name; a cycle needs deferrable constraints to load).
func describeSchema(ctx context.Context, tx pgx.Tx) (*pgSchema, error) {
	var name *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&name); err != nil {
		return nil, fmt.Errorf("current schema: %w", err)
	}
	if name == nil {
		return nil, errors.New("no schema of the search_path exists")
	}
	sch := &pgSchema{name: *name}

	byOID := map[uint32]*PGTable{}
	oidOf := map[string]uint32{}
	rows, err := tx.Query(ctx, `
		SELECT c.oid, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		WHERE n.nspname = $1 AND c.relkind = 'r'
		ORDER BY c.relname, a.attnum`, sch.name)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	for rows.Next() {
		var oid uint32
		var table string
		var col, typ *string
		if err := rows.Scan(&oid, &table, &col, &typ); err != nil {
			rows.Close()
			return nil, err
		}
		t := byOID[oid]
		if t == nil {
			t = &PGTable{Name: table}
			byOID[oid] = t
			oidOf[table] = oid
		}
		if col != nil {
			t.Columns = append(t.Columns, PGColumn{Name: *col, Type: *typ})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}

	deps := map[uint32]map[uint32]bool{} // table → tables it references
	rows, err = tx.Query(ctx, `
		SELECT con.conrelid, con.confrelid
		FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
		WHERE con.contype = 'f' AND n.nspname = $1`, sch.name)
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	for rows.Next() {
		var from, to uint32
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return nil, err
		}
		if from != to && byOID[from] != nil && byOID[to] != nil {
			if deps[from] == nil {
				deps[from] = map[uint32]bool{}
			}
			deps[from][to] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	for _, table := range loadOrder(slices.Sorted(maps.Keys(oidOf)), func(a, b string) bool {
		return deps[oidOf[a]][oidOf[b]]
	}) {
		sch.tables = append(sch.tables, *byOID[oidOf[table]])
	}

	rows, err = tx.Query(ctx, `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY c.relname`, sch.name)
	if err != nil {
		return nil, fmt.Errorf("list sequences: %w", err)
	}
	sch.sequences, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list sequences: %w", err)
	}
	return sch, nil
}

// loadOrder orders names (sorted) so that every name comes after the names
// it depends on (dependsOn(a, b): a needs b first), picking the smallest
// ready name each time; names left in a cycle follow in sorted order.
func loadOrder(names []string, dependsOn func(a, b string) bool) []string {
	done := map[string]bool{}
	out := make([]string, 0, len(names))
	for len(out) < len(names) {
		picked := ""
		for _, a := range names {
			if done[a] {
				continue
			}
			ready := true
			for _, b := range names {
				if !done[b] && b != a && dependsOn(a, b) {
					ready = false
					break
				}
			}
			if ready {
				picked = a
				break
			}
		}
		if picked == "" { // a cycle: take the smallest remaining name
			for _, a := range names {
				if !done[a] {
					picked = a
					break
				}
			}
		}
		done[picked] = true
		out = append(out, picked)
	}
	return out
}

// sameShape checks that the target schema has exactly the dump's tables,
// columns and sequences.
func sameShape(hdr *PGDumpHeader, sch *pgSchema) error {
	target := map[string]PGTable{}
	for _, t := range sch.tables {
		target[t.Name] = t
	}
	var problems []string
	dumped := map[string]bool{}
	for _, t := range hdr.Tables {
		dumped[t.Name] = true
		tt, ok := target[t.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("table %s is missing", t.Name))
			continue
		}
		cols := map[string]string{}
		for _, c := range tt.Columns {
			cols[c.Name] = c.Type
		}
		for _, c := range t.Columns {
			typ, ok := cols[c.Name]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("column %s.%s is missing", t.Name, c.Name))
			case typ != c.Type:
				problems = append(problems, fmt.Sprintf("column %s.%s is %s, the dump has %s", t.Name, c.Name, typ, c.Type))
			}
			delete(cols, c.Name)
		}
		for _, c := range slices.Sorted(maps.Keys(cols)) {
			problems = append(problems, fmt.Sprintf("column %s.%s is not in the dump", t.Name, c))
		}
	}
	for _, t := range sch.tables {
		if !dumped[t.Name] {
			problems = append(problems, fmt.Sprintf("table %s is not in the dump", t.Name))
		}
	}
	if !slices.Equal(hdr.Sequences, sch.sequences) {
		problems = append(problems, fmt.Sprintf("sequences %v, the dump has %v", sch.sequences, hdr.Sequences))
	}
	if len(problems) > 0 {
		return fmt.Errorf("schema %s does not match the dump (a different migration version?): %s",
			sch.name, strings.Join(problems, "; "))
	}
	return nil
}

func columnList(cols []PGColumn) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	return strings.Join(names, ", ")
}

func pgxConn(dc any) (*pgx.Conn, error) {
	c, ok := dc.(interface{ Conn() *pgx.Conn })
	if !ok {
		return nil, fmt.Errorf("the database/sql connection is %T, not the pgx driver's (open PostgreSQL with driver \"pgx\")", dc)
	}
	return c.Conn(), nil
}

// errBadDump reports a malformed or truncated dump.
var errBadDump = errors.New("malformed PostgreSQL dump")

func writeRecord(w io.Writer, kind byte, payload []byte) error {
	var h [5]byte
	h[0] = kind
	binary.BigEndian.PutUint32(h[1:], uint32(len(payload)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func writeJSONRecord(w io.Writer, kind byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeRecord(w, kind, b)
}

// copyBlockWriter gathers COPY data (one Write per row) into 'D' records
// of about pgDataBlock bytes.
type copyBlockWriter struct {
	w   io.Writer
	buf []byte
}

func (c *copyBlockWriter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	if len(c.buf) >= pgDataBlock {
		if err := c.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (c *copyBlockWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	if len(c.buf) > 1<<32-1 {
		return fmt.Errorf("a COPY block of %d bytes is too large", len(c.buf))
	}
	err := writeRecord(c.w, recData, c.buf)
	c.buf = c.buf[:0]
	return err
}

// frameReader reads the records of a dump.
type frameReader struct {
	r *bufio.Reader
}

// next reads a record's kind and payload length.
func (f *frameReader) next() (byte, int64, error) {
	var h [5]byte
	if _, err := io.ReadFull(f.r, h[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, 0, fmt.Errorf("%w: truncated", errBadDump)
		}
		return 0, 0, err
	}
	return h[0], int64(binary.BigEndian.Uint32(h[1:])), nil
}

func (f *frameReader) payload(n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(f.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated", errBadDump)
		}
		return nil, err
	}
	return b, nil
}

// readJSON reads the next record, which must be of the given kind, into v.
func (f *frameReader) readJSON(kind byte, v any) error {
	k, n, err := f.next()
	if err != nil {
		return err
	}
	if k != kind {
		return fmt.Errorf("%w: record %q where %q was expected", errBadDump, k, kind)
	}
	if n > maxMetaRecord {
		return fmt.Errorf("%w: %q record of %d bytes", errBadDump, k, n)
	}
	b, err := f.payload(n)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %q record: %v", errBadDump, k, err)
	}
	return nil
}

// copyDataReader streams the 'D' records of one table, up to its 'E'
// record, as the COPY FROM input.
type copyDataReader struct {
	fr   *frameReader
	left int64 // bytes left in the current 'D' record
	done bool  // the 'E' record was read
	end  pgEnd
	err  error // a malformed dump; COPY is aborted with it
}

func (c *copyDataReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		kind, n, err := c.fr.next()
		if err != nil {
			c.err = err
			return 0, err
		}
		switch kind {
		case recData:
			c.left = n
		case recEnd:
			if n > maxMetaRecord {
				c.err = fmt.Errorf("%w: end record of %d bytes", errBadDump, n)
				return 0, c.err
			}
			b, err := c.fr.payload(n)
			if err == nil {
				err = json.Unmarshal(b, &c.end)
			}
			if err != nil {
				c.err = fmt.Errorf("%w: end record: %v", errBadDump, err)
				return 0, c.err
			}
			c.done = true
		default:
			c.err = fmt.Errorf("%w: record %q inside table data", errBadDump, kind)
			return 0, c.err
		}
	}
	n, err := c.fr.r.Read(p[:min(int64(len(p)), c.left)])
	c.left -= int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: truncated table data", errBadDump)
		}
		c.err = err
		return n, err
	}
	return n, nil
}
