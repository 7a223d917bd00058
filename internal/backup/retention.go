package backup

import (
	"fmt"
	"sort"
	"time"
)

// Retention says which backups to keep, like restic's forget: the last N, and the newest backup
// in each of the last N hours, days, weeks, months and years that have one (periods without a
// backup do not count). Zero keeps nothing by that rule; a backup kept by any rule is kept. When
// every field is zero nothing is removed.
type Retention struct {
	ManterUltimos  int `json:"manter_ultimos" minimum:"0" maximum:"100000" doc:"Keep the N most recent backups" required:"false"`
	ManterHorarios int `json:"manter_horarios" minimum:"0" maximum:"100000" doc:"Keep the newest backup of each of the last N hours that have one" required:"false"`
	ManterDiarios  int `json:"manter_diarios" minimum:"0" maximum:"100000" required:"false"`
	ManterSemanais int `json:"manter_semanais" minimum:"0" maximum:"100000" doc:"ISO weeks" required:"false"`
	ManterMensais  int `json:"manter_mensais" minimum:"0" maximum:"100000" required:"false"`
	ManterAnuais   int `json:"manter_anuais" minimum:"0" maximum:"100000" required:"false"`
}

func (r Retention) empty() bool {
	return r.ManterUltimos == 0 && r.ManterHorarios == 0 && r.ManterDiarios == 0 && r.ManterSemanais == 0 &&
		r.ManterMensais == 0 && r.ManterAnuais == 0
}

// retained is one backup as retention sees it.
type retained struct {
	ID     string
	At     time.Time
	Parent string
}

// Decision is the outcome of applying a retention policy.
type Decision struct {
	Keep    map[string][]string // id -> the reasons it is kept
	Removes []string            // ids to remove, newest first
}

// apply decides which backups to keep. Times are bucketed in loc (restic uses local time).
// Then every kept backup's ancestors are kept too ("base de ..."), so no chain is broken.
func (r Retention) apply(list []retained, loc *time.Location) Decision {
	d := Decision{Keep: map[string][]string{}}
	sorted := append([]retained(nil), list...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At.After(sorted[j].At) })
	if r.empty() {
		for _, b := range sorted {
			d.Keep[b.ID] = []string{"sem política de retenção"}
		}
		return d
	}
	type rule struct {
		name   string
		n      int
		bucket func(time.Time) string
	}
	rules := []rule{
		{"últimos", r.ManterUltimos, func(t time.Time) string { return t.Format(time.RFC3339Nano) }},
		{"horário", r.ManterHorarios, func(t time.Time) string { return t.Format("2006-01-02T15") }},
		{"diário", r.ManterDiarios, func(t time.Time) string { return t.Format("2006-01-02") }},
		{"semanal", r.ManterSemanais, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{"mensal", r.ManterMensais, func(t time.Time) string { return t.Format("2006-01") }},
		{"anual", r.ManterAnuais, func(t time.Time) string { return t.Format("2006") }},
	}
	for _, ru := range rules {
		if ru.n <= 0 {
			continue
		}
		last, count := "", 0
		for i, b := range sorted {
			key := ru.bucket(b.At.In(loc))
			if ru.name == "últimos" {
				key = fmt.Sprint(i) // every backup is its own bucket
			}
			if key == last {
				continue
			}
			last = key
			if count >= ru.n {
				break
			}
			count++
			d.Keep[b.ID] = append(d.Keep[b.ID], ru.name+" "+key)
		}
	}
	// Keep the chains the kept backups need.
	byID := map[string]retained{}
	for _, b := range sorted {
		byID[b.ID] = b
	}
	for _, b := range sorted {
		if _, ok := d.Keep[b.ID]; !ok {
			continue
		}
		for p := b.Parent; p != ""; p = byID[p].Parent {
			if _, ok := byID[p]; !ok {
				break
			}
			d.Keep[p] = append(d.Keep[p], "base de "+b.ID)
		}
	}
	for _, b := range sorted {
		if _, ok := d.Keep[b.ID]; !ok {
			d.Removes = append(d.Removes, b.ID)
		}
	}
	return d
}
