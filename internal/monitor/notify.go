package monitor

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// notifyQueue bounds the notifications waiting to be sent; beyond it new ones are dropped
// (and counted), so a dead webhook never holds the collector.
const notifyQueue = 256

type job struct {
	kind string // "webhook" or "email"
	to   string
	body []byte // webhook JSON
	subj string // e-mail
	text string
}

// notifier sends webhook and e-mail notifications from its own goroutines: the collector only
// queues them (never blocks). A webhook is a JSON POST with a timeout, retried with exponential
// backoff (1 s, 2 s, 4 s by default) on network errors and 5xx/429 answers.
type notifier struct {
	cfg     Config
	log     *slog.Logger
	client  *http.Client
	queue   chan job
	wg      sync.WaitGroup
	ctx     context.Context
	sent    atomic.Int64
	failed  atomic.Int64
	dropped atomic.Int64
}

func newNotifier(cfg Config, log *slog.Logger) *notifier {
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = 5 * time.Second
	}
	if cfg.WebhookRetries == 0 {
		cfg.WebhookRetries = 3
	}
	cfg.WebhookRetries = max(cfg.WebhookRetries, 0)
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = time.Second
	}
	return &notifier{cfg: cfg, log: log, queue: make(chan job, notifyQueue),
		client: &http.Client{Timeout: cfg.WebhookTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// start runs two senders until ctx ends.
func (n *notifier) start(ctx context.Context) {
	n.ctx = ctx
	for range 2 {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-n.queue:
					n.send(ctx, j)
				}
			}
		}()
	}
}

func (n *notifier) wait() { n.wg.Wait() }

func (n *notifier) enqueue(j job) {
	select {
	case n.queue <- j:
	default:
		n.dropped.Add(1)
		n.log.Warn("monitor: notification queue full, dropped", "tipo", j.kind, "para", j.to)
	}
}

// WebhookPayload is what a webhook receives.
type WebhookPayload struct {
	Tipo   string `json:"tipo"` // disparado, resolvido or repeticao
	Evento Event  `json:"evento"`
	Regra  Rule   `json:"regra"`
}

func kindName(kind int) string {
	switch kind {
	case Resolved:
		return StateResolved
	case Repeated:
		return "repeticao"
	}
	return StateFiring
}

func (n *notifier) webhook(url string, ev Event, r Rule, kind int) {
	body, _ := json.Marshal(WebhookPayload{Tipo: kindName(kind), Evento: ev, Regra: r})
	n.enqueue(job{kind: "webhook", to: url, body: body})
}

func (n *notifier) email(to string, ev Event, r Rule, kind int) {
	if n.cfg.SMTP.Addr == "" {
		n.log.Warn("monitor: e-mail channel without PAINEL_SMTP_ADDR", "regra", r.Nome)
		return
	}
	label := map[string]string{StateFiring: "DISPARADO", StateResolved: "RESOLVIDO", "repeticao": "AINDA DISPARADO"}[kindName(kind)]
	subj := fmt.Sprintf("[%s] %s: %s", strings.ToUpper(r.Severidade), label, r.Nome)
	text := fmt.Sprintf("Regra: %s\nMétrica: %s\nValor: %s\nLimite: %s %s\nEstado: %s\nDisparado em: %s\n",
		r.Nome, r.Metrica, formatValue(ev.Valor), r.Operador, formatValue(r.Limite), ev.Estado, ev.DisparadoEm.Format(time.RFC3339))
	n.enqueue(job{kind: "email", to: to, subj: subj, text: text})
}

func (n *notifier) send(ctx context.Context, j job) {
	var err error
	for attempt := 0; attempt <= n.cfg.WebhookRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(n.cfg.RetryBackoff << (attempt - 1)):
			}
		}
		if j.kind == "webhook" {
			var retry bool
			retry, err = n.post(ctx, j)
			if err == nil || !retry {
				break
			}
		} else {
			if err = n.sendMail(ctx, j); err == nil {
				break
			}
		}
	}
	if err != nil {
		n.failed.Add(1)
		n.log.Warn("monitor: notification failed", "tipo", j.kind, "para", j.to, "error", err)
		return
	}
	n.sent.Add(1)
}

// post sends one webhook attempt; retry reports whether another attempt may succeed.
func (n *notifier) post(ctx context.Context, j job) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.to, bytes.NewReader(j.body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "painel-universal-monitor")
	resp, err := n.client.Do(req)
	if err != nil {
		return ctx.Err() == nil, err
	}
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests,
		fmt.Errorf("webhook answered %s", resp.Status)
}

// sendMail delivers one e-mail over SMTP (STARTTLS when offered; AUTH PLAIN when a user is
// configured), with the webhook timeout as its deadline.
func (n *notifier) sendMail(ctx context.Context, j job) error {
	cfg := n.cfg.SMTP
	d := net.Dialer{Timeout: n.cfg.WebhookTimeout}
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * n.cfg.WebhookTimeout))
	host, _, _ := net.SplitHostPort(cfg.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.User, cfg.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(cfg.From); err != nil {
		return err
	}
	if err := c.Rcpt(j.to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	msg := "From: " + cfg.From + "\r\nTo: " + j.to + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", j.subj) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(j.text, "\n", "\r\n")
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
