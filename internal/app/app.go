// Package app is the painel command: it parses the subcommand and settings,
// wires configuration, logger, store and HTTP server together, and runs
// them until the context is cancelled. Everything is reachable through Run,
// so tests drive the real program with fake arguments and environment.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/painel-universal/painel/internal/buildinfo"
	"github.com/painel-universal/painel/internal/config"
	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/logging"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2 // bad command line or configuration
)

// Run runs the painel command with args (args[0] is the program name) and
// returns its exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, getenv, stdin, stdout, stderr, hooks{})
}

// hooks let tests add to the real program (for example a slow route to
// prove graceful shutdown) without changing what the binary does.
type hooks struct {
	routes func(*httpapi.Server)
	// recheckEvery, when set, replaces how often a WebSocket's credentials are checked again.
	recheckEvery time.Duration
}

type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	hooks  hooks
}

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "[flags]", "start the HTTP service (the default command)", runServe},
		{"migrate", "[up|status] [flags]", "apply pending database migrations (up, the default) or list them (status)", runMigrate},
		{"config", "[flags]", "print the effective configuration, secrets redacted", runConfig},
		{"backup", "run|list|show|verify|restore|prune|config", "make, list, verify and restore backups (painel backup -h)", runBackupCmd},
		{"user", "create|list", "create the first admin and other users from the command line (painel user -h)", runUserCmd},
		{"cache", "simulate ...", "replay a cache trace through the policies (painel cache -h)", runCache},
		{"qr", "gerar|pix|validar ...", "issue or validate QR codes from the command line (painel qr -h)", runQR},
		{"version", "[-json]", "print version, commit, build date and Go version", runVersion},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer, h hooks) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, hooks: h}
	rest := []string{}
	if len(args) > 1 {
		rest = args[1:]
	}
	name := "serve"
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	} else if len(rest) > 0 && isHelp(rest[0]) {
		usage(stdout)
		return exitOK
	}
	if name == "help" {
		if len(rest) > 0 {
			return run(ctx, []string{args[0], rest[0], "-h"}, getenv, stdin, stdout, stderr, h)
		}
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, rest)
		}
	}
	fmt.Fprintf(stderr, "painel: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

func usage(w io.Writer) {
	fmt.Fprintln(w, "painel — Painel Universal: monitoring, backups, an intelligent cache and QR codes for events and venues.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  painel %-8s %-22s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "  painel %-8s %-22s %s\n", "help", "[command]", "show help for a command")
	fmt.Fprintln(w)
	printSettings(w)
}

func printSettings(w io.Writer) {
	fmt.Fprintln(w, "Settings (a flag overrides its environment variable, which overrides the default):")
	config.PrintSettings(w)
}

// loadConfig reads the settings from the environment and args, with the
// flag set holding the remaining positional arguments. A nil config means
// it has already reported a problem (or printed help) and the command ends
// with the returned exit code.
func loadConfig(e *env, name, argsUsage string, args []string) (*config.Config, *flag.FlagSet, int) {
	fs := flag.NewFlagSet("painel "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfg, envErr := config.Bind(fs, e.getenv)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: painel %s %s\n\n", name, argsUsage)
		for _, c := range commands() {
			if c.name == name {
				fmt.Fprintf(out, "%s.\n\n", strings.ToUpper(c.summary[:1])+c.summary[1:])
			}
		}
		printSettings(out)
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if isHelp(a) { // help goes to stdout; flag would print it to stderr
			fs.SetOutput(e.stdout)
			fs.Usage()
			return nil, nil, exitOK
		}
	}
	if !parseFlags(e, fs, name, args) {
		return nil, nil, exitUsage
	}
	if envErr != nil {
		fmt.Fprintf(e.stderr, "painel: %v\n", envErr)
		return nil, nil, exitUsage
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(e.stderr, "painel: %v\n", err)
		return nil, nil, exitUsage
	}
	return cfg, fs, exitOK
}

// parseFlags parses args into fs, flags and positional arguments in any
// order (flag alone stops at the first positional one); fs.Args() holds
// the positional ones afterwards. On error it prints the message itself:
// flag's own message quotes the raw value, which may hold a password.
func parseFlags(e *env, fs *flag.FlagSet, name string, args []string) bool {
	fs.SetOutput(io.Discard)
	defer fs.SetOutput(e.stderr)
	var positional []string
	for rest := args; len(rest) > 0; {
		if err := fs.Parse(rest); err != nil {
			fmt.Fprintf(e.stderr, "painel %s: %s\nRun 'painel %s --help' for the settings.\n", name, config.RedactArgs(err.Error(), args), name)
			return false
		}
		left := fs.Args()
		if n := len(rest) - len(left); n > 0 && rest[n-1] == "--" {
			positional = append(positional, left...) // everything after -- is positional
			break
		}
		if len(left) == 0 {
			break
		}
		positional = append(positional, left[0])
		rest = left[1:]
	}
	_ = fs.Parse(append([]string{"--"}, positional...))
	return true
}

func newLogger(e *env, cfg *config.Config) *slog.Logger {
	return logging.New(e.stderr, cfg.LogFormat, cfg.LogLevel)
}

func runConfig(_ context.Context, e *env, args []string) int {
	cfg, fs, code := loadConfig(e, "config", "[flags]", args)
	if cfg == nil {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "painel config: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	for _, en := range cfg.Effective() {
		fmt.Fprintf(e.stdout, "%s=%s\n", en.Env, en.Value)
	}
	return exitOK
}

func runVersion(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("painel version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	v := versionInfo()
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "painel %s (commit %s, built %s, %s)\n", v.Versao, v.Commit, v.DataBuild, v.VersaoGo)
	return exitOK
}

func versionInfo() httpapi.VersionInfo {
	b := buildinfo.Get()
	return httpapi.VersionInfo{Versao: b.Version, Commit: b.Commit, DataBuild: b.BuildDate, VersaoGo: b.GoVersion}
}
