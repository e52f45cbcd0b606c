package auth

import "errors"

// ErrUnauthenticated is returned for a missing, malformed, unknown or revoked
// credential. Every such refusal is an *Error, which matches it with
// errors.Is; use errors.As to read the reason.
var ErrUnauthenticated = errors.New("unauthenticated")

// Error is a refused credential. Reason says why, in words safe to show to
// the caller (it becomes the 401's detail): lower case, no final period,
// never a secret or a raw library error.
type Error struct {
	Reason string
}

// Error returns "unauthenticated: <reason>".
func (e *Error) Error() string { return ErrUnauthenticated.Error() + ": " + e.Reason }

// Is makes errors.Is(err, ErrUnauthenticated) true for every *Error.
func (e *Error) Is(target error) bool { return target == ErrUnauthenticated }

// unauthenticated returns the refusal with the given reason.
func unauthenticated(reason string) error { return &Error{Reason: reason} }
