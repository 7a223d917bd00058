package monitor

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// WebSocket tuning.
const (
	wsWriteTimeout = 2 * time.Second  // a client whose write takes longer is dropped
	wsPingEvery    = 20 * time.Second // keepalive
	wsEventQueue   = 64               // alert events waiting for one client; overflow drops it
	wsMaxFilter    = 200              // names in ?metricas=
)

// hub fans the live stream out to WebSocket clients. Every message is encoded once per distinct
// filter and the same bytes are written to every client that shares it. A client has a
// latest-wins slot for samples (a slow client skips samples, never delays the others) and a
// small queue for alert events (which must not be skipped: a client that lets 64 pile up is
// dropped). Each client has one writer goroutine, and each write a 2 s deadline: a client stuck
// that long is disconnected.
type hub struct {
	mu      sync.Mutex
	clients map[*wsClient]struct{}
	dropped atomic.Int64 // clients dropped for being slow
}

type wsClient struct {
	filter map[string]bool // nil: everything
	key    string          // the filter, canonical, for sharing encodings
	sample chan []byte     // capacity 1, latest wins
	events chan []byte
	kill   chan struct{} // closed to drop the client
	once   sync.Once
}

func newHub() *hub { return &hub{clients: map[*wsClient]struct{}{}} }

func (c *wsClient) drop() { c.once.Do(func() { close(c.kill) }) }

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

func (h *hub) add(c *wsClient) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) remove(c *wsClient) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// wsSample is the "amostra" message.
type wsSample struct {
	Tipo    string             `json:"tipo"`
	Momento time.Time          `json:"momento"`
	T       float64            `json:"t"`
	Valores map[string]float64 `json:"valores"`
}

// wsEvent is the "alerta" message.
type wsEvent struct {
	Tipo      string `json:"tipo"`
	Evento    Event  `json:"evento"`
	Repeticao bool   `json:"repeticao,omitempty"`
}

func filterValues(values map[string]float64, f map[string]bool) map[string]float64 {
	if f == nil {
		return values
	}
	out := make(map[string]float64, len(f))
	for k := range f {
		if v, ok := values[k]; ok {
			out[k] = v
		}
	}
	return out
}

// broadcastSample offers a sample to every client.
func (h *hub) broadcastSample(at time.Time, values map[string]float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) == 0 {
		return
	}
	enc := map[string][]byte{}
	for c := range h.clients {
		msg, ok := enc[c.key]
		if !ok {
			msg, _ = json.Marshal(wsSample{Tipo: "amostra", Momento: at.UTC(), T: float64(at.UnixMilli()) / 1000, Valores: filterValues(values, c.filter)})
			enc[c.key] = msg
		}
		offerLatest(c.sample, msg)
	}
}

// offerLatest puts msg in a capacity-1 slot, replacing what a slow reader left there.
func offerLatest(slot chan []byte, msg []byte) {
	for {
		select {
		case slot <- msg:
			return
		default:
			select {
			case <-slot:
			default:
			}
		}
	}
}

// broadcastEvent queues an alert event for every client whose filter admits its metric.
func (h *hub) broadcastEvent(ev Event, repeat bool) {
	msg, _ := json.Marshal(wsEvent{Tipo: "alerta", Evento: ev, Repeticao: repeat})
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.events <- msg:
		default:
			h.dropped.Add(1)
			c.drop()
		}
	}
}

// parseFilter reads ?metricas=a,b,c; empty means everything.
func parseFilter(q string) (map[string]bool, string, bool) {
	if strings.TrimSpace(q) == "" {
		return nil, "", true
	}
	names := strings.Split(q, ",")
	if len(names) > wsMaxFilter {
		return nil, "", false
	}
	f := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !validMetricName(n) {
			return nil, "", false
		}
		f[n] = true
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return f, strings.Join(keys, ","), true
}

// serveWS handles GET /monitoramento/ws: it upgrades, sends the snapshot, registers the client
// and writes until the client leaves, is too slow, or the service stops.
func (s *Service) serveWS(w http.ResponseWriter, r *http.Request) {
	filter, key, ok := parseFilter(r.URL.Query().Get("metricas"))
	if !ok {
		writeProblem(w, r, http.StatusUnprocessableEntity, "validation failed", "query.metricas",
			"lista de nomes de métricas separados por vírgula (no máximo 200)")
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		writeProblem(w, r, http.StatusUpgradeRequired, "Upgrade Required", "header.Upgrade", "use uma conexão WebSocket")
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	defer conn.CloseNow()
	conn.SetReadLimit(4096)
	ctx := conn.CloseRead(s.runCtx(r.Context()))

	c := &wsClient{filter: filter, key: key, sample: make(chan []byte, 1), events: make(chan []byte, wsEventQueue), kill: make(chan struct{})}
	// Register before building the snapshot, so nothing published after it is missed (a
	// sample may arrive twice, which the console tolerates).
	s.hub.add(c)
	defer s.hub.remove(c)
	snap, err := json.Marshal(s.snapshot(ctx, filter))
	if err != nil || s.write(ctx, conn, snap) != nil {
		return
	}
	ping := time.NewTicker(wsPingEvery)
	defer ping.Stop()
	for {
		var msg []byte
		select { // events first: they must not wait behind samples
		case msg = <-c.events:
		default:
			select {
			case msg = <-c.events:
			case msg = <-c.sample:
			case <-ping.C:
				pctx, cancel := context.WithTimeout(ctx, 2*wsWriteTimeout)
				err := conn.Ping(pctx)
				cancel()
				if err != nil {
					return
				}
				continue
			case <-c.kill:
				conn.Close(websocket.StatusPolicyViolation, "cliente lento demais")
				return
			case <-ctx.Done():
				if s.stopping() {
					conn.Close(websocket.StatusGoingAway, "serviço encerrando")
				}
				return
			}
		}
		if s.write(ctx, conn, msg) != nil {
			s.hub.dropped.Add(1)
			return
		}
	}
}

func (s *Service) write(ctx context.Context, conn *websocket.Conn, msg []byte) error {
	wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, msg)
}
