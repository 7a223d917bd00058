package backup

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"
)

func TestRetentionLikeRestic(t *testing.T) {
	loc := time.UTC
	at := func(s string) time.Time {
		ts, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	// Two backups on some days, none on others.
	list := []retained{
		{ID: "a", At: at("2026-11-01 10:00")},
		{ID: "b", At: at("2026-11-01 22:00")},
		{ID: "c", At: at("2026-11-03 09:00")},
		{ID: "d", At: at("2026-11-10 09:00")},
		{ID: "e", At: at("2026-11-10 09:30")},
		{ID: "f", At: at("2026-11-28 12:00")},
		{ID: "g", At: at("2026-10-15 12:00")},
		{ID: "h", At: at("2025-12-31 23:00")},
	}
	kept := func(r Retention) []string {
		var out []string
		for id := range r.apply(list, loc).Keep {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	cases := []struct {
		r    Retention
		want []string
	}{
		{Retention{ManterUltimos: 2}, []string{"e", "f"}},
		// Days that have a backup count, empty days do not: the last 3 such days are
		// 28th (f), 10th (e, the newest of that day) and 3rd (c).
		{Retention{ManterDiarios: 3}, []string{"c", "e", "f"}},
		{Retention{ManterHorarios: 2}, []string{"e", "f"}},
		// ISO weeks with a backup: W48 (f), W46 (e), W45 (c; Nov 3 is a Tuesday of W45)...
		{Retention{ManterSemanais: 3}, []string{"c", "e", "f"}},
		{Retention{ManterMensais: 2}, []string{"f", "g"}},
		{Retention{ManterAnuais: 5}, []string{"f", "h"}},
		{Retention{ManterUltimos: 1, ManterMensais: 3}, []string{"f", "g", "h"}},
		{Retention{}, []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
	}
	for _, c := range cases {
		if got := kept(c.r); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: kept %v, want %v", c.r, got, c.want)
		}
	}
}

func TestRetentionKeepsChains(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// full1 <- diff1 <- incr1 <- incr2 ; full2 <- incr3
	var list []retained
	add := func(id, parent string, h int) {
		list = append(list, retained{ID: id, Parent: parent, At: t0.Add(time.Duration(h) * time.Hour)})
	}
	add("full1", "", 0)
	add("diff1", "full1", 1)
	add("incr1", "diff1", 2)
	add("incr2", "incr1", 3)
	add("full2", "", 4)
	add("incr3", "full2", 5)
	d := Retention{ManterUltimos: 1}.apply(list, time.UTC)
	if len(d.Keep) != 2 || d.Keep["incr3"] == nil || d.Keep["full2"] == nil {
		t.Fatalf("keep %v", d.Keep)
	}
	// Keeping incr2 keeps its whole chain.
	d = Retention{ManterUltimos: 1}.apply(list[:4], time.UTC)
	got := fmt.Sprint(len(d.Keep), d.Removes)
	if got != "4 []" {
		t.Fatalf("chain of incr2: keep %v removes %v", d.Keep, d.Removes)
	}
	if r := d.Keep["full1"]; len(r) == 0 || r[0] != "base de incr2" {
		t.Errorf("full1 kept for %v", r)
	}
	d = Retention{ManterUltimos: 2}.apply(list, time.UTC)
	if !reflect.DeepEqual(d.Removes, []string{"incr2", "incr1", "diff1", "full1"}) {
		t.Errorf("removes %v", d.Removes)
	}
}
