// Package buildinfo reports what binary is running: version, commit, build
// date and Go version.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// These are set at link time, for example:
//
//	go build -ldflags "-X github.com/painel-universal/painel/internal/buildinfo.version=1.2.3 \
//	  -X github.com/painel-universal/painel/internal/buildinfo.commit=$(git rev-parse HEAD) \
//	  -X github.com/painel-universal/painel/internal/buildinfo.date=$(date -u +%FT%TZ)"
//
// They are written only by the linker; nothing assigns them at run time.
var (
	version = ""
	commit  = ""
	date    = ""
)

// Info describes the running binary.
type Info struct {
	Version   string
	Commit    string
	BuildDate string
	GoVersion string
}

// Get returns the build information, falling back to what the Go toolchain
// stamped into the binary (module version, VCS revision and time) when the
// linker flags were not given.
func Get() Info {
	in := Info{Version: version, Commit: commit, BuildDate: date, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Commit == "" {
					in.Commit = s.Value
				}
			case "vcs.time":
				if in.BuildDate == "" {
					in.BuildDate = s.Value
				}
			}
		}
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	if in.BuildDate == "" {
		in.BuildDate = "unknown"
	}
	return in
}
