package mailer_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/mailer"
	"github.com/scimbridge/scimbridge/internal/mailer/smtptest"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func forEachStore(t *testing.T, fn func(t *testing.T, st store.Store)) {
	for name, open := range servertest.Backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

// queue creates a user whose creation writes one message to to.
func queue(t *testing.T, st store.Store, to string) store.User {
	t.Helper()
	name := "u-" + uuid.NewString()[:8]
	u := store.User{TenantID: store.DefaultTenant, ID: uuid.NewString(), UserName: name, Active: true,
		Doc: []byte(fmt.Sprintf(`{"userName":%q}`, name)), Created: t0, LastModified: t0, Version: 1,
		Outbox: []store.OutboxMessage{{Kind: "account-created", To: to, From: "it@example.com", Subject: "Your account – welcome",
			Body: "Hello " + name + ",\r\nSign in at https://login.example.com/setup?x=1&y=2\r\n"}}}
	if _, err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func newSender(t *testing.T, st store.Store, url string, c *clock, owner string) *mailer.Sender {
	t.Helper()
	s, err := mailer.New(st, mailer.Config{URL: url, Owner: owner, Now: c.Now, Timeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func outbox(t *testing.T, st store.Store) []store.OutboxMessage {
	t.Helper()
	got, err := st.ListOutbox(context.Background(), store.DefaultTenant, store.OutboxQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func drain(t *testing.T, s *mailer.Sender) int {
	t.Helper()
	n, err := s.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeliversOnceAndMarksSent(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		srv := smtptest.Start(t)
		c := &clock{now: t0}
		u := queue(t, st, "mary@example.com")
		s := newSender(t, st, srv.URL(), c, "w1")
		if n := drain(t, s); n != 1 {
			t.Fatalf("sent %d, want 1", n)
		}
		if n := drain(t, s); n != 0 {
			t.Fatalf("second pass sent %d, want 0", n)
		}
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("the SMTP server got %d messages, want 1", len(msgs))
		}
		m := msgs[0]
		ob := outbox(t, st)[0]
		if m.From != "it@example.com" || len(m.To) != 1 || m.To[0] != "mary@example.com" ||
			m.Header("Message-ID") != "<"+ob.ID+"@scimbridge>" || m.Header("To") != "mary@example.com" {
			t.Fatalf("message = %+v", m)
		}
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(m.Header("Subject")); err != nil || subj != "Your account – welcome" {
			t.Fatalf("subject = %q, %v", subj, err)
		}
		parsed, err := mail.ReadMessage(strings.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(parsed.Body))
		if err != nil || !strings.Contains(string(body), "https://login.example.com/setup?x=1&y=2") || !strings.Contains(string(body), u.UserName) {
			t.Fatalf("body = %q, %v", body, err)
		}
		if ob.State != store.OutboxSent || ob.SentAt == nil || !ob.SentAt.Equal(t0) || ob.Attempts != 0 {
			t.Fatalf("outbox row = %+v", ob)
		}
	})
}

func TestTemporaryFailureRetriesPermanentFails(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		srv := smtptest.Start(t)
		c := &clock{now: t0}
		queue(t, st, "mary@example.com")
		s := newSender(t, st, srv.URL(), c, "w1")
		srv.RefuseNext("451 4.3.0 try again later")
		if n := drain(t, s); n != 0 {
			t.Fatalf("sent %d during a refusal", n)
		}
		ob := outbox(t, st)[0]
		if ob.State != store.OutboxPending || ob.Attempts != 1 || !strings.Contains(ob.LastError, "451") || !ob.NextAttempt.After(t0) {
			t.Fatalf("after a temporary failure: %+v", ob)
		}
		if n := drain(t, s); n != 0 || len(srv.Messages()) != 0 {
			t.Fatal("retried before its time")
		}
		c.Add(time.Hour)
		if n := drain(t, s); n != 1 || len(srv.Messages()) != 1 {
			t.Fatalf("retry sent %d (server has %d)", n, len(srv.Messages()))
		}
		queue(t, st, "gone@example.com")
		srv.RefuseNext("550 5.1.1 no such user")
		drain(t, s)
		c.Add(24 * time.Hour)
		drain(t, s)
		for _, m := range outbox(t, st) {
			if m.To == "gone@example.com" && (m.State != store.OutboxFailed || m.Attempts != 1 || !strings.Contains(m.LastError, "550")) {
				t.Fatalf("after a permanent failure: %+v", m)
			}
		}
		if len(srv.Messages()) != 1 {
			t.Fatalf("a permanently refused message was sent again: %d messages", len(srv.Messages()))
		}
	})
}

func TestInvalidRecipientIsNeverSent(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		srv := smtptest.Start(t)
		queue(t, st, "mary@example.com\r\nBcc: evil@example.com")
		drain(t, newSender(t, st, srv.URL(), &clock{now: t0}, "w1"))
		ob := outbox(t, st)[0]
		if ob.State != store.OutboxFailed || !strings.Contains(ob.LastError, "not a valid e-mail address") || len(srv.Messages()) != 0 {
			t.Fatalf("outbox = %+v, server got %d", ob, len(srv.Messages()))
		}
	})
}

func TestUnreachableServerKeepsMessagesPending(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		queue(t, st, "mary@example.com")
		drain(t, newSender(t, st, "smtp://"+addr, &clock{now: t0}, "w1"))
		ob := outbox(t, st)[0]
		if ob.State != store.OutboxPending || ob.Attempts != 1 || !strings.Contains(ob.LastError, "connect") {
			t.Fatalf("outbox = %+v", ob)
		}
	})
}

// TestRacingSendersDeliverEachMessageOnce: two senders (two replicas)
// draining one outbox together deliver every message exactly once.
func TestRacingSendersDeliverEachMessageOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		srv := smtptest.Start(t)
		const n = 30
		for i := range n {
			queue(t, st, fmt.Sprintf("user%d@example.com", i))
		}
		c := &clock{now: t0}
		senders := []*mailer.Sender{newSender(t, st, srv.URL(), c, "replica-a"), newSender(t, st, srv.URL(), c, "replica-b")}
		var wg sync.WaitGroup
		counts := make([]int, len(senders))
		for i, s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[i], _ = s.Drain(context.Background())
			}()
		}
		wg.Wait()
		if counts[0]+counts[1] != n {
			t.Fatalf("senders report %v sent, want %d in all", counts, n)
		}
		ids := map[string]int{}
		for _, m := range srv.Messages() {
			ids[m.Header("Message-ID")]++
		}
		if len(srv.Messages()) != n || len(ids) != n {
			t.Fatalf("server got %d messages with %d distinct ids, want %d each", len(srv.Messages()), len(ids), n)
		}
		for _, m := range outbox(t, st) {
			if m.State != store.OutboxSent {
				t.Fatalf("message %s is %s", m.ID, m.State)
			}
		}
	})
}

func TestConfigErrors(t *testing.T) {
	for _, u := range []string{"", "http://x", "smtp://", "smtp://h:25?starttls=maybe"} {
		if _, err := mailer.New(nil, mailer.Config{URL: u}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
	_, err := mailer.New(nil, mailer.Config{URL: "smtp://me:s3cret@%zz"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad URL with a password: %v", err)
	}
}
