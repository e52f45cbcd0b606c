package store

import (
	"context"
	"time"
)

// Session is a signed-in web console session (the admin pages under
// /ui). The browser holds a random token in a cookie; the store keeps only
// its SHA-256 (IDHash), so a copy of the database signs nobody in. The
// session records who signed in and how, never a credential: a person
// signed in with OIDC keeps the tier their token carried at sign-in until
// the session expires or they sign out; a session opened with a
// provisioning secret names that secret (CredentialHash, itself a hash)
// so that revoking the secret ends the session too.
type Session struct {
	// IDHash is the hex SHA-256 of the cookie token; unique.
	IDHash   string
	TenantID string
	// Subject, Kind, Tier and UserName are the principal signed in (see
	// policy.Principal); Tier is the tier string, empty for none.
	Subject  string
	Kind     string
	Tier     Tier
	UserName string
	// CredentialHash is the SecretHash of the provisioning secret a
	// session was opened with; empty for OIDC sign-ins.
	CredentialHash string
	// CSRF is the session's anti-forgery token (random, sent in forms).
	CSRF    string
	Created time.Time
	// Expires is when the session ends, whatever happens meanwhile.
	Expires time.Time
}

// Sessions stores web console sessions.
type Sessions interface {
	// CreateSession stores s. ErrConflict if a session with its IDHash
	// exists; ErrNotFound if the tenant is unknown.
	CreateSession(ctx context.Context, s Session) error
	// SessionByHash returns the session whose IDHash is hash if it has not
	// expired at now (Expires after now); ErrNotFound otherwise.
	SessionByHash(ctx context.Context, hash string, now time.Time) (Session, error)
	// DeleteSession removes the session (signing out). Removing a session
	// that does not exist is not an error.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteExpiredSessions removes every session that expired at or before
	// now and reports how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}
