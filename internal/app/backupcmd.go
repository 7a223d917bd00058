package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/painel-universal/painel/internal/backup"
	"github.com/painel-universal/painel/internal/backup/storage"
	"github.com/painel-universal/painel/internal/config"
	"github.com/painel-universal/painel/internal/store"
)

// openBackupBackend opens the backup store named by PAINEL_BACKUP_STORE: empty for
// <data>/backups, a folder, or s3://KEY:SECRET@host:port/bucket[/prefix][?ssl=true&region=R].
func openBackupBackend(ctx context.Context, cfg *config.Config) (storage.Backend, string, error) {
	v := cfg.BackupStore
	if v == "" {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "backups"))
		if err != nil {
			return nil, "", err
		}
		be, err := storage.OpenLocal(dir)
		return be, dir, err
	}
	if !strings.HasPrefix(v, "s3://") {
		be, err := storage.OpenLocal(v)
		return be, v, err
	}
	u, err := url.Parse(v)
	if err != nil {
		return nil, "", errors.New("PAINEL_BACKUP_STORE: not an s3:// URL")
	}
	secret, _ := u.User.Password()
	bucket, prefix, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	q := u.Query()
	be, err := storage.OpenS3(ctx, storage.S3Config{Endpoint: u.Host, Bucket: bucket, Prefix: prefix,
		AccessKey: u.User.Username(), SecretKey: secret, Region: q.Get("region"), UseSSL: q.Get("ssl") == "true"})
	return be, "", err
}

// openBackup opens the backup service for a store.
func openBackup(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger,
	maintenance func(context.Context, string, func(context.Context) error) error, reload func(context.Context) error) (*backup.Service, error) {
	be, localDir, err := openBackupBackend(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("backup store: %w", err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	restore := cfg.BackupRestoreDir
	if restore == "" {
		restore = filepath.Join(dataDir, "restauracoes")
	}
	restore, err = filepath.Abs(restore)
	if err != nil {
		return nil, err
	}
	dbPath := ""
	if st.Dialect == store.SQLiteDialect {
		dbPath, _ = filepath.Abs(st.Target)
	}
	return backup.Open(ctx, st, backup.Options{
		DataDir: dataDir, DatabasePath: dbPath, StoreDir: localDir, RestoreDir: restore,
		Backend: be, Passphrase: cfg.BackupPassphrase, Log: log,
		Compression: compressionLevel(cfg.BackupCompression),
		Maintenance: maintenance, AfterLiveRestore: reload,
	})
}

// compressionLevel is the zstd level (1-4) of a PAINEL_BACKUP_COMPRESSION name; "" (a config
// not bound from the settings) is the setting's default, fastest.
func compressionLevel(name string) int {
	if i := slices.Index(config.BackupCompressionLevels, name); i >= 0 {
		return i + 1
	}
	return 1
}

const backupUsage = `Usage:
  painel backup run [-tipo completo|diferencial|incremental]
  painel backup list [-json]
  painel backup show ID
  painel backup verify ID
  painel backup restore ID -destino NAME [-integridade rapida|completa]
  painel backup prune [-simular]
  painel backup config [-json]

Works on a stopped service too (same settings: PAINEL_DATA_DIR, PAINEL_DATABASE_URL,
PAINEL_BACKUP_STORE, PAINEL_BACKUP_PASSPHRASE, PAINEL_BACKUP_RESTORE_DIR). run and restore show a
progress line on a terminal. Exit status 1 when the operation fails (or a verification finds a
problem), 2 on bad usage.
`

func runBackupCmd(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(e.stdout, backupUsage)
		return exitOK
	}
	action, rest := args[0], args[1:]
	fs := flag.NewFlagSet("painel backup "+action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	tipo := fs.String("tipo", backup.Full, "completo, diferencial or incremental")
	destino := fs.String("destino", "", "restore folder under PAINEL_BACKUP_RESTORE_DIR")
	integridade := fs.String("integridade", backup.CheckQuick, "check of restored SQLite files: rapida (quick_check) or completa (integrity_check)")
	asJSON := fs.Bool("json", false, "print JSON")
	simular := fs.Bool("simular", false, "only report what retention would remove")
	// The service's own settings come from the environment; the flags above are the action's.
	var pos []string
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			fmt.Fprintf(e.stderr, "painel backup %s: %v\n\n%s", action, err, backupUsage)
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	needID := action == "show" || action == "verify" || action == "restore"
	if (needID && len(pos) != 1) || (!needID && len(pos) != 0) {
		fmt.Fprintf(e.stderr, "painel backup %s: wrong arguments\n\n%s", action, backupUsage)
		return exitUsage
	}
	switch action {
	case "run", "list", "show", "verify", "restore", "prune", "config":
	default:
		fmt.Fprintf(e.stderr, "painel backup: unknown action %q\n\n%s", action, backupUsage)
		return exitUsage
	}
	cfg, log, st, code := openCLIStore(ctx, e, "painel backup")
	if st == nil {
		return code
	}
	defer st.Close()
	// A stopped service has nothing to drain: a live restore just runs.
	direct := func(ctx context.Context, _ string, fn func(context.Context) error) error { return fn(ctx) }
	svc, err := openBackup(ctx, cfg, st, log, direct, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "painel backup: %v\n", err)
		return exitError
	}
	out := func(v any) {
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
	}
	switch action {
	case "run", "restore":
		var j *backup.Job
		if action == "run" {
			j, err = svc.StartBackup(ctx, *tipo)
		} else if *destino == "ativo" {
			j, err = svc.StartLiveRestore(ctx, pos[0])
		} else {
			j, err = svc.StartRestore(ctx, pos[0], *destino, *integridade)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "painel backup %s: %v\n", action, err)
			return exitError
		}
		final := waitJob(ctx, svc, j, e.stderr)
		if final.Status != "concluido" {
			fmt.Fprintf(e.stderr, "painel backup %s: %s\n", action, final.Erro)
			return exitError
		}
		if action == "run" {
			fmt.Fprintf(e.stdout, "backup %s (%s): %d files, %s read, %s stored\n", final.BackupID, final.Tipo,
				final.ArquivosTotal, config.FormatSize(final.BytesLidos), config.FormatSize(final.BytesArmazenados))
		} else {
			fmt.Fprintf(e.stdout, "restored %s to %s: %d files\n", final.BackupID, final.Destino, final.Arquivos)
		}
	case "list":
		list, _ := svc.List(1, 100000)
		if *asJSON {
			out(list)
			break
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIPO\tPAI\tARQUIVOS\tLÓGICO\tARMAZENADO\tDURAÇÃO\tVERIFICADO")
		for _, b := range list {
			ver := "-"
			if b.VerificadoEm != nil {
				ver = b.VerificadoEm.Local().Format(time.DateTime)
				if !*b.VerificadoOK {
					ver += " FALHOU"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%.1fs\t%s\n", b.ID, b.Tipo, orDash(b.Pai), b.Arquivos,
				config.FormatSize(b.BytesLogicos), config.FormatSize(b.BytesArmazenados), b.DuracaoSegundos, ver)
		}
		tw.Flush()
	case "show":
		d, err := svc.Get(pos[0])
		if err != nil {
			fmt.Fprintf(e.stderr, "painel backup show: %v\n", err)
			return exitError
		}
		out(d)
	case "verify":
		v, err := svc.Verify(ctx, pos[0])
		if err != nil {
			fmt.Fprintf(e.stderr, "painel backup verify: %v\n", err)
			return exitError
		}
		out(v)
		if !v.OK {
			return exitError
		}
	case "prune":
		c, err := svc.GetConfig(ctx)
		if err == nil {
			var res backup.RetentionResult
			res, err = svc.ApplyRetention(ctx, c.Retencao, *simular)
			if err == nil {
				out(res)
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "painel backup prune: %v\n", err)
			return exitError
		}
	case "config":
		c, err := svc.GetConfig(ctx)
		if err != nil {
			fmt.Fprintf(e.stderr, "painel backup config: %v\n", err)
			return exitError
		}
		out(c)
	}
	return exitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// waitJob waits for a job, drawing a progress line on w when it is a terminal.
func waitJob(ctx context.Context, svc *backup.Service, j *backup.Job, w io.Writer) backup.JobInfo {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	done := make(chan struct{})
	go func() { _ = j.Wait(ctx); close(done) }()
	for {
		select {
		case <-done:
			if tty {
				fmt.Fprint(w, "\r\033[K")
			}
			return svc.JobView(j)
		case <-tick.C:
			if tty {
				v := svc.JobView(j)
				eta := ""
				if v.ETASegundos != nil {
					eta = fmt.Sprintf(" ETA %.0fs", *v.ETASegundos)
				}
				fmt.Fprintf(w, "\r\033[K%s: %d/%d arquivos, %s lidos, %s armazenados%s", v.Fase, v.Arquivos, v.ArquivosTotal,
					config.FormatSize(v.BytesLidos), config.FormatSize(v.BytesArmazenados), eta)
			}
		}
	}
}
