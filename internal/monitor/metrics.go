package monitor

import (
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// familySpec: a family and how to read its labels from a dotted name split into parts.
type familySpec struct {
	name, help string
	labels     []string
	match      func(p []string) ([]string, bool)
}

var hostFamilies = []familySpec{
	{"painel_host_cpu_percent", "CPU busy, percent (cpu=total, or a core number).", []string{"cpu"}, func(p []string) ([]string, bool) {
		if len(p) == 2 && p[0] == "cpu" && p[1] == "total" {
			return []string{"total"}, true
		}
		if len(p) == 3 && p[0] == "cpu" && p[1] == "core" {
			return []string{p[2]}, true
		}
		return nil, false
	}},
	{"painel_host_load", "Load average over periodo minutes.", []string{"periodo"}, func(p []string) ([]string, bool) {
		return p[1:], len(p) == 2 && p[0] == "load"
	}},
	{"painel_host_memory_bytes", "Memory, bytes (tipo=total, used, available).", []string{"tipo"}, func(p []string) ([]string, bool) {
		return p[1:], len(p) == 2 && p[0] == "mem" && p[1] != "used_pct"
	}},
	{"painel_host_memory_used_percent", "Memory used, percent.", nil, func(p []string) ([]string, bool) {
		return nil, len(p) == 2 && p[0] == "mem" && p[1] == "used_pct"
	}},
	{"painel_host_swap_bytes", "Swap, bytes (tipo=total, used).", []string{"tipo"}, func(p []string) ([]string, bool) {
		return p[1:], len(p) == 2 && p[0] == "swap" && p[1] != "used_pct"
	}},
	{"painel_host_swap_used_percent", "Swap used, percent.", nil, func(p []string) ([]string, bool) {
		return nil, len(p) == 2 && p[0] == "swap" && p[1] == "used_pct"
	}},
	{"painel_host_filesystem_bytes", "Filesystem size, bytes, per mount point (tipo=total, used, free).", []string{"ponto", "tipo"}, func(p []string) ([]string, bool) {
		return []string{strings.Join(p[1:len(p)-1], "."), p[len(p)-1]}, len(p) >= 3 && p[0] == "disk" && p[len(p)-1] != "used_pct"
	}},
	{"painel_host_filesystem_used_percent", "Filesystem used, percent, per mount point.", []string{"ponto"}, func(p []string) ([]string, bool) {
		return []string{strings.Join(p[1:len(p)-1], ".")}, len(p) >= 3 && p[0] == "disk" && p[len(p)-1] == "used_pct"
	}},
	{"painel_host_disk_io_bytes_per_second", "Disk I/O, bytes per second (direcao=read, write).", []string{"dispositivo", "direcao"}, func(p []string) ([]string, bool) {
		ok := len(p) == 3 && p[0] == "io" && (p[2] == "read_bps" || p[2] == "write_bps")
		return []string{p[1], strings.TrimSuffix(p[len(p)-1], "_bps")}, ok
	}},
	{"painel_host_disk_io_operations_per_second", "Disk I/O, operations per second (direcao=read, write).", []string{"dispositivo", "direcao"}, func(p []string) ([]string, bool) {
		ok := len(p) == 3 && p[0] == "io" && (p[2] == "read_ops" || p[2] == "write_ops")
		return []string{p[1], strings.TrimSuffix(p[len(p)-1], "_ops")}, ok
	}},
	{"painel_host_network_bytes_per_second", "Network traffic, bytes per second (direcao=rx, tx).", []string{"interface", "direcao"}, func(p []string) ([]string, bool) {
		ok := len(p) >= 3 && p[0] == "net" && (p[len(p)-1] == "rx_bps" || p[len(p)-1] == "tx_bps")
		return []string{strings.Join(p[1:len(p)-1], "."), strings.TrimSuffix(p[len(p)-1], "_bps")}, ok
	}},
	{"painel_host_network_packets_per_second", "Network packets per second (direcao=rx, tx).", []string{"interface", "direcao"}, func(p []string) ([]string, bool) {
		ok := len(p) >= 3 && p[0] == "net" && (p[len(p)-1] == "rx_pps" || p[len(p)-1] == "tx_pps")
		return []string{strings.Join(p[1:len(p)-1], "."), strings.TrimSuffix(p[len(p)-1], "_pps")}, ok
	}},
	{"painel_host_network_errors_per_second", "Network errors per second (direcao=rx, tx).", []string{"interface", "direcao"}, func(p []string) ([]string, bool) {
		ok := len(p) >= 3 && p[0] == "net" && (p[len(p)-1] == "rx_errors" || p[len(p)-1] == "tx_errors")
		return []string{strings.Join(p[1:len(p)-1], "."), strings.TrimSuffix(p[len(p)-1], "_errors")}, ok
	}},
	{"painel_host_network_drops_per_second", "Network drops per second (direcao=rx, tx).", []string{"interface", "direcao"}, func(p []string) ([]string, bool) {
		ok := len(p) >= 3 && p[0] == "net" && (p[len(p)-1] == "rx_drops" || p[len(p)-1] == "tx_drops")
		return []string{strings.Join(p[1:len(p)-1], "."), strings.TrimSuffix(p[len(p)-1], "_drops")}, ok
	}},
	{"painel_host_processes", "Processes on the host.", nil, func(p []string) ([]string, bool) {
		return nil, len(p) == 2 && p[0] == "proc" && p[1] == "count"
	}},
	{"painel_host_self", "The service's own process (medida=cpu_pct, rss, goroutines, open_files).", []string{"medida"}, func(p []string) ([]string, bool) {
		return p[1:], len(p) == 2 && p[0] == "self"
	}},
	{"painel_host_cgroup", "Usage against the cgroup v2 limits (medida=cpu.limit_cores, cpu.used_pct, mem.limit, mem.current, mem.used_pct).", []string{"medida"}, func(p []string) ([]string, bool) {
		return []string{strings.Join(p[1:], ".")}, len(p) >= 2 && p[0] == "cgroup"
	}},
	{"painel_host_metric", "Any other host metric, by its dotted name.", []string{"metrica"}, func(p []string) ([]string, bool) {
		return []string{strings.Join(p, ".")}, true
	}},
}

// promCollector exposes the latest sample as painel_host_* gauges and every rule's state as
// painel_alert_state (0 inactive, 1 pending, 2 firing).
type promCollector struct {
	s      *Service
	descs  []*prometheus.Desc
	alerts *prometheus.Desc
}

// Collector returns the Prometheus collector of the host metrics and alert states.
func (s *Service) Collector() prometheus.Collector {
	c := &promCollector{s: s}
	for _, f := range hostFamilies {
		c.descs = append(c.descs, prometheus.NewDesc(f.name, f.help, f.labels, nil))
	}
	c.alerts = prometheus.NewDesc("painel_alert_state", "Alert rule state: 0 inactive, 1 pending, 2 firing.",
		[]string{"regra_id", "regra", "metrica", "severidade"}, nil)
	return c
}

func (c *promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
	ch <- c.alerts
}

func (c *promCollector) Collect(ch chan<- prometheus.Metric) {
	_, values := c.s.Latest()
	for name, v := range values {
		p := strings.Split(name, ".")
		for i, f := range hostFamilies {
			if lv, ok := f.match(p); ok {
				ch <- prometheus.MustNewConstMetric(c.descs[i], prometheus.GaugeValue, v, lv...)
				break
			}
		}
	}
	for _, r := range c.s.eng.states() {
		state := 0.0
		switch r.Estado {
		case StatePending:
			state = 1
		case StateFiring:
			state = 2
		}
		ch <- prometheus.MustNewConstMetric(c.alerts, prometheus.GaugeValue, state,
			strconv.FormatInt(r.ID, 10), r.Nome, r.Metrica, r.Severidade)
	}
}
