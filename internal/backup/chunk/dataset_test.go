package chunk

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestBenchmarkDataset measures page chunks against CDC on the shared
// backup benchmark dataset (../shared/tools/backup-dataset: gen.py, then
// mutate.py scatter and cluster). It runs only when
// PAINEL_BACKUP_DATASET_TOOL names that folder (python3 needed);
// PAINEL_BACKUP_DATASET_ROWS sets gen.py's row count (default 100000,
// ~47 MB; 900000 is the 421 MB reference database). Results are logged.
func TestBenchmarkDataset(t *testing.T) {
	tool := os.Getenv("PAINEL_BACKUP_DATASET_TOOL")
	if tool == "" {
		t.Skip("set PAINEL_BACKUP_DATASET_TOOL=<path to shared/tools/backup-dataset> to measure on the benchmark dataset")
	}
	rows := 100000
	if v := os.Getenv("PAINEL_BACKUP_DATASET_ROWS"); v != "" {
		var err error
		if rows, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	run := func(script string, args ...string) {
		t.Helper()
		cmd := exec.Command("python3", append([]string{filepath.Join(tool, script)}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", script, args, err, out)
		}
		t.Logf("%s: %s", script, out)
	}
	run("gen.py", dir, strconv.Itoa(rows))
	db := filepath.Join(dir, "app.db")
	snap := func(name string) []byte {
		t.Helper()
		p := filepath.Join(dir, name)
		start := time.Now()
		if err := readImage(t.Context(), db, p); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("snapshot %s: %.1f MB in %v", name, float64(len(data))/1e6, time.Since(start).Round(time.Millisecond))
		return data
	}
	full := snap("full.db")
	run("mutate.py", dir, "scatter")
	scatter := snap("scatter.db")
	t.Log("after mutate.py scatter (1% of rows at random):")
	compareSplitters(t, full, scatter)
	run("mutate.py", dir, "cluster")
	cluster := snap("cluster.db")
	t.Log("after mutate.py cluster (the last 1% of rows):")
	compareSplitters(t, scatter, cluster)
}
