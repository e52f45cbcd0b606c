package store

import (
	"errors"
	"fmt"
)

// JudgeUpdate runs an UpdateUsers callback on one user, as UpdateUsers
// specifies: found holds the stored users by id; an id not in it is
// ErrNotFound; fn returning ErrUnchanged keeps the stored user; any other
// error is that user's outcome. When fn changed the user, JudgeUpdate
// returns the changed user and fn's audit event with ok true (the caller
// writes it and sets its version); otherwise it returns the user's final
// outcome with ok false. Every backend and the directory's dry run judge
// updates with it, so they agree.
func JudgeUpdate(i int, id string, found map[string]User, fn func(int, *User) (*AuditEvent, error)) (u User, ev *AuditEvent, outcome UserUpdate, ok bool) {
	u, known := found[id]
	if !known {
		return User{}, nil, UserUpdate{Err: fmt.Errorf("update user %s: %w", id, ErrNotFound)}, false
	}
	ev, err := fn(i, &u)
	switch {
	case errors.Is(err, ErrUnchanged):
		return User{}, nil, UserUpdate{User: found[id]}, false
	case err != nil:
		return User{}, nil, UserUpdate{Err: err}, false
	}
	return u, ev, UserUpdate{}, true
}
