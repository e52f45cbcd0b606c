// Package mailer delivers the e-mail outbox (store.Outbox) over SMTP.
//
// Messages are written to the outbox by the change that causes them, in
// its transaction (a user created with Notify), so a message exists
// exactly when its change committed, whether or not a mail server is
// configured. A Sender claims due messages in small batches under a lease
// (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the single writer), so
// senders on every replica share the outbox and a message is held by one
// sender at a time. It marks a message sent only after the mail server
// accepted it (the 250 answer to the end of DATA), and records every
// failure: a temporary one (4xx, a network error) is retried later with a
// growing delay, a permanent one (5xx, an invalid address) or
// Config.MaxAttempts failures make the message failed, with the server's
// answer kept for the outbox listing.
//
// Exactly once: a message is claimed by one sender, sent once and marked
// sent by that sender while it holds the lease (the lease is much longer
// than an SMTP session). The one window left is a sender that dies after
// the server accepted a message and before it recorded that: the lease
// then expires and another sender sends it again. Every message carries
// Message-ID <outbox id@scimbridge>, the same on every attempt, so a
// receiving system can drop such a duplicate.
package mailer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

// Config configures a Sender. Only URL is required.
type Config struct {
	// URL names the SMTP server: smtp://[user:password@]host:port (STARTTLS
	// when the server offers it; ?starttls=require refuses servers that do
	// not, ?starttls=off never uses it) or smtps://... (TLS from the
	// start). Credentials are sent only over TLS (or to localhost).
	URL string
	// From is the sender address of messages whose tenant configured none.
	From string
	// Owner names this sender in leases (default: host, pid and a random
	// suffix).
	Owner string
	// Lease is how long a claim holds its messages (default 5 minutes).
	Lease time.Duration
	// Poll is how often an idle sender looks for new messages (default 2s).
	Poll time.Duration
	// Batch is how many messages one claim takes (default 20).
	Batch int
	// Timeout bounds one SMTP session (default 30s).
	Timeout time.Duration
	// MaxAttempts is how many failed attempts make a message failed
	// (default 10).
	MaxAttempts int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// DefaultFrom is the sender address when neither the tenant nor Config.From
// gives one.
const DefaultFrom = "scimbridge@localhost"

// Sender delivers outbox messages. It is safe for concurrent use.
type Sender struct {
	store store.Outbox
	cfg   Config
	srv   server
}

// New returns a sender for the outbox of st, or an error naming what is
// wrong with cfg.URL.
func New(st store.Outbox, cfg Config) (*Sender, error) {
	srv, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	cfg = withDefaults(cfg)
	return &Sender{store: st, cfg: cfg, srv: srv}, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.Owner = fmt.Sprintf("mailer/%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if cfg.From == "" {
		cfg.From = DefaultFrom
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.Lease, 5 * time.Minute}, {&cfg.Poll, 2 * time.Second}, {&cfg.Timeout, 30 * time.Second}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 20
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Run delivers messages until ctx ends: it drains what is due, then waits
// Poll before looking again. Store errors are logged and retried.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := s.Drain(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.WarnContext(ctx, "outbox: delivery pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Drain claims and delivers due messages, batch after batch, until none is
// left to claim; it returns how many the mail server accepted.
func (s *Sender) Drain(ctx context.Context) (int, error) {
	sent := 0
	for ctx.Err() == nil {
		msgs, err := s.store.ClaimOutbox(ctx, s.cfg.Owner, s.now(), s.cfg.Lease, s.cfg.Batch)
		if err != nil || len(msgs) == 0 {
			return sent, err
		}
		for _, m := range msgs {
			ok, err := s.deliver(ctx, m)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	return sent, nil
}

func (s *Sender) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// deliver sends one claimed message and records the result; it reports
// whether the server accepted it. The error is for a result that could
// not be recorded (other than a lost lease, which is logged).
func (s *Sender) deliver(ctx context.Context, m store.OutboxMessage) (bool, error) {
	if m.From == "" {
		m.From = s.cfg.From
	}
	err := s.send(ctx, m)
	res := s.result(m, err)
	if ctx.Err() != nil && err != nil {
		return false, ctx.Err() // interrupted: leave the lease to expire
	}
	ferr := s.store.FinishOutbox(context.WithoutCancel(ctx), m.TenantID, m.ID, s.cfg.Owner, res)
	if errors.Is(ferr, store.ErrLeaseLost) {
		s.cfg.Logger.WarnContext(ctx, "outbox: lease lost before the result was recorded", "tenant", m.TenantID, "id", m.ID, "sent", res.Sent)
		return res.Sent, nil
	}
	if ferr != nil {
		return false, fmt.Errorf("record outbox result of %s: %w", m.ID, ferr)
	}
	s.log(ctx, m, res)
	return res.Sent, nil
}

// result turns a send error into what the outbox records.
func (s *Sender) result(m store.OutboxMessage, err error) store.OutboxResult {
	now := s.now()
	if err == nil {
		return store.OutboxResult{Sent: true, At: now}
	}
	giveUp := permanent(err) || m.Attempts+1 >= s.cfg.MaxAttempts
	return store.OutboxResult{At: now, Error: truncate(err.Error(), 500), RetryAt: now.Add(backoff(m.Attempts)), GiveUp: giveUp}
}

// backoff is the wait after the n-th failure (0-based): 1, 2, 4, ... minutes,
// at most an hour.
func backoff(n int) time.Duration {
	return min(time.Minute<<min(n, 6), time.Hour)
}

func (s *Sender) log(ctx context.Context, m store.OutboxMessage, res store.OutboxResult) {
	attrs := []any{"tenant", m.TenantID, "id", m.ID, "kind", m.Kind}
	switch {
	case res.Sent:
		s.cfg.Logger.InfoContext(ctx, "outbox: message sent", attrs...)
	case res.GiveUp:
		s.cfg.Logger.WarnContext(ctx, "outbox: message failed", append(attrs, "err", res.Error)...)
	default:
		s.cfg.Logger.InfoContext(ctx, "outbox: delivery will be retried", append(attrs, "err", res.Error, "retry_at", res.RetryAt)...)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
