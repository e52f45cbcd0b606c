package directory

import (
	"context"
	"slices"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// OutboxMessage is an outgoing e-mail as the outbox API shows it.
type OutboxMessage struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	UserID    string     `json:"userId"`
	To        string     `json:"to"`
	From      string     `json:"from,omitempty"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body"`
	Created   time.Time  `json:"created"`
	State     string     `json:"state"` // pending, sent, failed
	Attempts  int        `json:"attempts"`
	LastError string     `json:"lastError,omitempty"`
	SentAt    *time.Time `json:"sentAt,omitempty"`
}

// OutboxQuery selects a page of the outbox, newest first: State (pending,
// sent, failed; empty for all), Before (the id of the last message of the
// previous page) and Limit (default and maximum MaxOutboxPage).
type OutboxQuery struct {
	State  string
	Before string
	Limit  int
}

// MaxOutboxPage is the largest page Outbox returns.
const MaxOutboxPage = 500

// Outbox lists the caller's tenant's outgoing messages, newest first
// (tier 2 and up): what was sent, what waits for an SMTP server and what
// failed, and why.
func (s *Service) Outbox(ctx context.Context, p policy.Principal, q OutboxQuery) ([]OutboxMessage, error) {
	if err := allow(p, policy.OutboxRead, policy.Effect{}); err != nil {
		return nil, err
	}
	if q.State != "" && !slices.Contains([]string{store.OutboxPending, store.OutboxSent, store.OutboxFailed}, q.State) {
		return nil, invalidValue("state must be pending, sent or failed.")
	}
	if q.Limit <= 0 || q.Limit > MaxOutboxPage {
		q.Limit = MaxOutboxPage
	}
	msgs, err := s.store.ListOutbox(ctx, p.Tenant, store.OutboxQuery{State: q.State, Before: q.Before, Limit: q.Limit})
	if err != nil {
		return nil, s.settingsError(ctx, p.Tenant, err)
	}
	out := make([]OutboxMessage, len(msgs))
	for i, m := range msgs {
		out[i] = OutboxMessage{ID: m.ID, Kind: m.Kind, UserID: m.UserID, To: m.To, From: m.From, Subject: m.Subject, Body: m.Body,
			Created: m.Created, State: m.State, Attempts: m.Attempts, LastError: m.LastError, SentAt: m.SentAt}
	}
	return out, nil
}
