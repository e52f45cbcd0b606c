package store

import (
	"context"
	"time"
)

// Outbox message states.
const (
	// OutboxPending: not delivered yet; a sender may claim it once
	// NextAttempt has come and no live lease holds it.
	OutboxPending = "pending"
	// OutboxSent: the mail server accepted the message.
	OutboxSent = "sent"
	// OutboxFailed: the sender gave up on it (a permanent refusal or too
	// many attempts); LastError says why.
	OutboxFailed = "failed"
)

// OutboxMessage is one e-mail waiting in (or delivered from) a tenant's
// outbox. Messages are written in the same transaction as the change that
// causes them (User.Outbox on creation), so a message exists exactly when
// its change committed.
type OutboxMessage struct {
	TenantID string
	ID       string
	// Kind says what the message is about, e.g. "account-created".
	Kind string
	// UserID is the user the message is about.
	UserID  string
	To      string
	From    string
	Subject string
	Body    string
	Created time.Time
	State   string
	// Attempts counts failed delivery attempts.
	Attempts    int
	NextAttempt time.Time
	LastError   string
	SentAt      *time.Time
	// LeaseOwner and LeaseUntil name the sender holding the message
	// ("" and zero when none).
	LeaseOwner string
	LeaseUntil time.Time
}

// OutboxResult is what a sender reports about one claimed message.
type OutboxResult struct {
	// Sent says the mail server accepted the message (state sent, SentAt
	// At). Otherwise the attempt failed with Error: Attempts grows by one
	// and the message waits until RetryAt, or becomes failed with GiveUp.
	Sent    bool
	At      time.Time
	Error   string
	RetryAt time.Time
	GiveUp  bool
}

// OutboxQuery selects a page of a tenant's outbox, newest first.
type OutboxQuery struct {
	// State, when set, keeps only messages in that state.
	State string
	// Before, when set, starts after the message with that id (the last
	// one of the previous page).
	Before string
	Limit  int
}

// Outbox is the e-mail outbox. Delivery is claimed with leases, as jobs
// are: among senders on one database, a message is held by at most one
// live lease at a time (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the
// single writer), and a result is recorded only by the lease holder.
type Outbox interface {
	// ClaimOutbox leases to owner, until now+lease, up to limit pending
	// messages of any tenant whose NextAttempt is not after now and whose
	// lease is free or expired, oldest first, and returns them (none: an
	// empty slice).
	ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error)
	// FinishOutbox records res for a message owner holds under a live
	// lease (by the clock at res.At) and releases the lease; ErrLeaseLost
	// (nothing written) if owner no longer holds it, ErrNotFound if there
	// is no such message.
	FinishOutbox(ctx context.Context, tenant, id, owner string, res OutboxResult) error
	// ListOutbox returns a page of the tenant's messages, newest first
	// (by creation time, then id).
	ListOutbox(ctx context.Context, tenant string, q OutboxQuery) ([]OutboxMessage, error)
}
