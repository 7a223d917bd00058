package app

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/painel-universal/painel/internal/store"
)

func runMigrate(ctx context.Context, e *env, args []string) int {
	cfg, fs, code := loadConfig(e, "migrate", "[up|status] [flags]", args)
	if cfg == nil {
		return code
	}
	action := "up"
	if fs.NArg() > 0 {
		action = fs.Arg(0)
		if fs.NArg() > 1 {
			fmt.Fprintf(e.stderr, "painel migrate: unexpected argument %q\n", fs.Arg(1))
			return exitUsage
		}
	}
	log := newLogger(e, cfg)
	switch action {
	case "up":
		st, err := openStore(ctx, cfg, log)
		if err != nil {
			fmt.Fprintf(e.stderr, "painel migrate: %v\n", err)
			return exitError
		}
		defer st.Close()
		return printStatus(ctx, e, st)
	case "status":
		st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
		if err != nil {
			fmt.Fprintf(e.stderr, "painel migrate: %v\n", err)
			return exitError
		}
		defer st.Close()
		return printStatus(ctx, e, st)
	default:
		fmt.Fprintf(e.stderr, "painel migrate: unknown action %q (use up or status)\n", action)
		return exitUsage
	}
}

// printStatus lists the migrations; it exits non-zero when one is pending
// or was changed after it was applied, so scripts can check.
func printStatus(ctx context.Context, e *env, st *store.Store) int {
	list, err := st.MigrationStatus(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "painel migrate: %v\n", err)
		return exitError
	}
	fmt.Fprintf(e.stdout, "database: %s %s\n", st.Dialect.Name(), st.Target)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED AT")
	code := exitOK
	for _, m := range list {
		state, at := "pending", "-"
		switch {
		case m.Unknown:
			state = "applied (unknown to this binary)"
		case m.Changed:
			state, code = "CHANGED after it was applied", exitError
		case m.Applied:
			state = "applied"
		default:
			code = exitError
		}
		if m.Applied {
			at = m.AppliedAt.Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\t%s\n", m.Version, m.Name, state, at)
	}
	tw.Flush()
	return code
}
