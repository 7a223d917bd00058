package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/painel-universal/painel/internal/auth"
	"github.com/painel-universal/painel/internal/config"
	"github.com/painel-universal/painel/internal/store"
)

const userUsage = `usage:
  painel user create -email E -nome N [-papel admin|operador|leitura] [-admin]
      creates a user; the password is read from the first line of standard input
      (e.g. echo "$SENHA" | painel user create ...), at least 8 characters
  painel user list
      lists the users

The service's settings (PAINEL_DATA_DIR, PAINEL_DATABASE_URL, ...) come from the environment;
the service may be running or stopped.
`

func runUserCmd(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(e.stdout, userUsage)
		return exitOK
	}
	action, rest := args[0], args[1:]
	fs := flag.NewFlagSet("painel user "+action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "e-mail (the login)")
	nome := fs.String("nome", "", "name")
	papel := fs.String("papel", string(auth.RoleOperador), "role: admin, operador or leitura")
	admin := fs.Bool("admin", false, "same as -papel admin")
	if err := fs.Parse(rest); err != nil || fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "painel user %s: bad arguments\n\n%s", action, userUsage)
		return exitUsage
	}
	if action != "create" && action != "list" {
		fmt.Fprintf(e.stderr, "painel user: unknown action %q\n\n%s", action, userUsage)
		return exitUsage
	}
	cfg, log, st, code := openCLIStore(ctx, e, "painel user")
	if st == nil {
		return code
	}
	defer st.Close()
	a, err := auth.NewService(st, authOptions(cfg), log)
	if err != nil {
		fmt.Fprintf(e.stderr, "painel user: %v\n", err)
		return exitError
	}
	if action == "list" {
		page, err := a.ListUsers(ctx, 500, "")
		if err != nil {
			fmt.Fprintf(e.stderr, "painel user list: %v\n", err)
			return exitError
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNOME\tPAPEL\tATIVO")
		for _, u := range page.Usuarios {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\n", u.ID, u.Email, u.Nome, u.Papel, u.Ativo)
		}
		tw.Flush()
		return exitOK
	}
	if *admin {
		*papel = string(auth.RoleAdmin)
	}
	senha, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(e.stderr, "painel user create: reading the password: %v\n", err)
		return exitError
	}
	senha = strings.TrimRight(senha, "\r\n")
	ctx = auth.WithClientIP(ctx, "cli")
	u, err := a.CreateUser(ctx, auth.UserInput{Nome: *nome, Email: *email, Papel: auth.Role(*papel), Senha: senha})
	if err != nil {
		fmt.Fprintf(e.stderr, "painel user create: %v\n", err)
		return exitError
	}
	fmt.Fprintf(e.stdout, "created user %d %s (%s)\n", u.ID, u.Email, u.Papel)
	return exitOK
}

// openCLIStore reads the service's settings from the environment and opens its store, for a
// command that works on the data of a running or stopped service (warnings and errors go to
// stderr). On failure it reports under name and returns a nil store and the exit code.
func openCLIStore(ctx context.Context, e *env, name string) (*config.Config, *slog.Logger, *store.Store, int) {
	cfg, err := config.Bind(flag.NewFlagSet("x", flag.ContinueOnError), e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
		return nil, nil, nil, exitUsage
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
		return nil, nil, nil, exitError
	}
	return cfg, log, st, exitOK
}
