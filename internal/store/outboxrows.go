package store

import "github.com/google/uuid"

// OutboxRows completes the outbox messages of users for writing: each gets
// its user's tenant and id, state pending, a NextAttempt of its creation
// time when unset and a new id when it has none. Backends call it in
// CreateUser and CreateUsers with the users they insert.
func OutboxRows(users ...User) []OutboxMessage {
	var out []OutboxMessage
	for _, u := range users {
		for _, m := range u.Outbox {
			m.TenantID, m.UserID, m.State = u.TenantID, u.ID, OutboxPending
			if m.ID == "" {
				m.ID = uuid.NewString()
			}
			if m.Created.IsZero() {
				m.Created = u.Created
			}
			if m.NextAttempt.IsZero() {
				m.NextAttempt = m.Created
			}
			out = append(out, m)
		}
	}
	return out
}
