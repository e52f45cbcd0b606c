package server_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/mailer"
	"github.com/scimbridge/scimbridge/internal/mailer/smtptest"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

// TestAssembledServerDeliversTheOutbox: with Deps.Mail set, the server
// runs the SMTP sender: a user created with Notify gets one message in the
// SMTP server, recorded as sent; Wait returns once ctx ends.
func TestAssembledServerDeliversTheOutbox(t *testing.T) {
	for name, open := range servertest.Backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			smtp := smtptest.Start(t)
			ctx, cancel := context.WithCancel(t.Context())
			srv, err := server.Assemble(ctx, server.Deps{Store: open(t), NoCSVWorker: true,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Mail:   mailer.Config{URL: smtp.URL(), Poll: 20 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); srv.Wait() }()
			admin := policy.Principal{Tenant: store.DefaultTenant, Subject: "t", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}
			if _, err := srv.Service.UpdateSettings(ctx, admin, func(ts *directory.TenantSettings) error {
				ts.Notifications = directory.Notifications{SignInURL: "https://login.example.com/setup"}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			op := directory.Operation{Kind: directory.OpCreate, Type: srv.Service.Registry().User, BulkID: "m", Notify: true,
				Data: map[string]any{"userName": "mary", "emails": []any{map[string]any{"value": "mary@example.com", "primary": true}}}}
			var res []directory.BulkResult
			err = srv.Service.Apply(ctx, admin, directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport},
				func(yield func(directory.Operation) bool) { yield(op) }, func(r directory.BulkResult) bool { res = append(res, r); return true })
			if err != nil || len(res) != 1 || res[0].Err != nil {
				t.Fatalf("apply: %v %+v", err, res)
			}
			msgs := smtp.WaitFor(1, 30*time.Second)
			if len(msgs) != 1 || msgs[0].To[0] != "mary@example.com" || msgs[0].From != mailer.DefaultFrom ||
				!strings.Contains(msgs[0].Data, "https://login.example.com/setup") {
				t.Fatalf("SMTP server got %+v", msgs)
			}
			var sent []directory.OutboxMessage
			for range 300 { // the sender records the result just after the server's 250
				if sent, err = srv.Service.Outbox(ctx, admin, directory.OutboxQuery{State: store.OutboxSent}); err != nil || len(sent) == 1 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if len(sent) != 1 || sent[0].UserID != res[0].ID {
				t.Fatalf("sent messages: %+v, %v", sent, err)
			}
		})
	}
}
