package collect

import "strings"

// Units returned by Describe.
const (
	unitPct     = "%"
	unitBytes   = "bytes"
	unitBps     = "bytes/s"
	unitOps     = "ops/s"
	unitPackets = "pacotes/s"
	unitErrors  = "erros/s"
	unitCores   = "núcleos"
	unitNone    = ""
)

type metricInfo struct {
	unit, desc string
	prec       float64
}

// fixedMetrics describes the metrics whose name has no variable part.
var fixedMetrics = map[string]metricInfo{
	"cpu.total":              {unitPct, "Uso de CPU (todos os núcleos)", 0.01},
	"load.1":                 {unitNone, "Carga média em 1 minuto", 0.01},
	"load.5":                 {unitNone, "Carga média em 5 minutos", 0.01},
	"load.15":                {unitNone, "Carga média em 15 minutos", 0.01},
	"mem.total":              {unitBytes, "Memória total", 1},
	"mem.used":               {unitBytes, "Memória usada (total menos disponível)", 1},
	"mem.available":          {unitBytes, "Memória disponível", 1},
	"mem.used_pct":           {unitPct, "Uso de memória", 0.01},
	"swap.total":             {unitBytes, "Swap total", 1},
	"swap.used":              {unitBytes, "Swap usada", 1},
	"swap.used_pct":          {unitPct, "Uso de swap", 0.01},
	"proc.count":             {unitNone, "Número de processos", 1},
	"self.cpu_pct":           {unitPct, "Uso de CPU do serviço (% de um núcleo)", 0.01},
	"self.rss":               {unitBytes, "Memória residente do serviço", 1},
	"self.goroutines":        {unitNone, "Goroutines do serviço", 1},
	"self.open_files":        {unitNone, "Arquivos abertos pelo serviço", 1},
	"cgroup.cpu.limit_cores": {unitCores, "Limite de CPU do cgroup", 0.01},
	"cgroup.cpu.used_pct":    {unitPct, "Uso de CPU em relação ao limite do cgroup", 0.01},
	"cgroup.mem.limit":       {unitBytes, "Limite de memória do cgroup", 1},
	"cgroup.mem.current":     {unitBytes, "Memória usada pelo cgroup", 1},
	"cgroup.mem.used_pct":    {unitPct, "Uso de memória em relação ao limite do cgroup", 0.01},
}

// familySuffix describes one metric of a family whose name is
// prefix + subject + suffix; %s in desc stands for the subject.
type familySuffix struct {
	suffix string
	metricInfo
}

type family struct {
	prefix   string
	suffixes []familySuffix
}

var families = []family{
	{"disk.", []familySuffix{
		{".total", metricInfo{unitBytes, "Tamanho do sistema de arquivos em %s", 1}},
		{".used_pct", metricInfo{unitPct, "Uso do disco em %s", 0.01}},
		{".used", metricInfo{unitBytes, "Espaço usado em %s", 1}},
		{".free", metricInfo{unitBytes, "Espaço livre em %s (disponível para usuários comuns)", 1}},
	}},
	{"io.", []familySuffix{
		{".read_bps", metricInfo{unitBps, "Leitura do disco %s", 1}},
		{".write_bps", metricInfo{unitBps, "Escrita no disco %s", 1}},
		{".read_ops", metricInfo{unitOps, "Operações de leitura do disco %s", 0.01}},
		{".write_ops", metricInfo{unitOps, "Operações de escrita do disco %s", 0.01}},
	}},
	{"net.", []familySuffix{
		{".rx_bps", metricInfo{unitBps, "Recebido pela interface %s", 1}},
		{".tx_bps", metricInfo{unitBps, "Enviado pela interface %s", 1}},
		{".rx_pps", metricInfo{unitPackets, "Pacotes recebidos pela interface %s", 0.01}},
		{".tx_pps", metricInfo{unitPackets, "Pacotes enviados pela interface %s", 0.01}},
		{".rx_errors", metricInfo{unitErrors, "Erros de recepção na interface %s", 0.01}},
		{".tx_errors", metricInfo{unitErrors, "Erros de transmissão na interface %s", 0.01}},
		{".rx_drops", metricInfo{unitPackets, "Pacotes descartados na recepção da interface %s", 0.01}},
		{".tx_drops", metricInfo{unitPackets, "Pacotes descartados na transmissão da interface %s", 0.01}},
	}},
}

// lookup finds the description of name and the variable part of its name
// (the core, mount point, device or interface), if any.
func lookup(name string) (metricInfo, string, bool) {
	if mi, ok := fixedMetrics[name]; ok {
		return mi, "", true
	}
	if core, ok := strings.CutPrefix(name, "cpu.core."); ok && core != "" {
		if _, isNum := parseUint([]byte(core)); isNum {
			return metricInfo{unitPct, "Uso de CPU do núcleo %s", 0.01}, core, true
		}
	}
	for _, f := range families {
		rest, ok := strings.CutPrefix(name, f.prefix)
		if !ok {
			continue
		}
		for _, s := range f.suffixes {
			if subject, ok := strings.CutSuffix(rest, s.suffix); ok && subject != "" {
				return s.metricInfo, subject, true
			}
		}
	}
	return metricInfo{}, "", false
}

// Describe returns the unit and the Portuguese description of a metric
// name. The unit is one of "%", "bytes", "bytes/s", "ops/s", "pacotes/s",
// "erros/s", "núcleos" or "" (a count or the load average). Unknown names
// give two empty strings.
func Describe(name string) (unit, description string) {
	mi, subject, ok := lookup(name)
	if !ok {
		return "", ""
	}
	if subject != "" {
		return mi.unit, strings.Replace(mi.desc, "%s", subject, 1)
	}
	return mi.unit, mi.desc
}

// Precision returns the quantum a metric's values are stored with: 0.01 for
// percentages, load averages, cores and per-second rates other than bytes;
// 1 for bytes, bytes per second and counts. Unknown names get 0.01.
func Precision(name string) float64 {
	mi, _, ok := lookup(name)
	if !ok {
		return 0.01
	}
	return mi.prec
}
