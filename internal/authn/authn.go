// Package authn is the one authentication middleware in front of every
// front end (SCIM, the audit log, and next the CSV bridge and web pages):
// credential -> principal -> binding to the person's directory user and
// active check -> request context. Front ends never authenticate on their
// own; they read the principal with Principal.
package authn

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// Authenticator turns an Authorization header into a principal
// (auth.Chain). Refusals are *auth.Error.
type Authenticator interface {
	Authenticate(ctx context.Context, authorization string) (policy.Principal, error)
}

// Binder binds a principal to its directory user and refuses deactivated
// people (directory.Service.Bind).
type Binder interface {
	Bind(ctx context.Context, p policy.Principal) (policy.Principal, error)
}

// Limiter takes one request from a principal's rate budget
// (ratelimit.Limiter); when it is spent it says how long to wait.
type Limiter interface {
	Allow(p policy.Principal) (retryAfter time.Duration, ok bool)
}

// Refuser answers a request that may not go on: err is an *auth.Error (a
// refused credential: 401), a *RateLimited (429, Retry-After already set),
// an error of the Binder (a deactivated person: 403), or any other failure
// (such as the store being unreachable).
type Refuser func(w http.ResponseWriter, r *http.Request, err error)

// Config is what the middleware needs; every field is required except
// Limit (nil: no rate limit).
type Config struct {
	Auth   Authenticator
	Bind   Binder
	Refuse Refuser
	Limit  Limiter
}

// RateLimited is the refusal of a request over its credential's rate
// limit. It unwraps to a SCIM 429 error, so every front end's SCIM error
// writer renders it as it is.
type RateLimited struct {
	RetryAfter time.Duration
}

func (e *RateLimited) Error() string { return e.Unwrap().Error() }

// Unwrap returns the SCIM error clients see.
func (e *RateLimited) Unwrap() error {
	return scimerrors.ScimError{Status: http.StatusTooManyRequests, Detail: fmt.Sprintf(
		"Too many requests for this credential; retry in %d seconds.", retryAfterSeconds(e.RetryAfter))}
}

func retryAfterSeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// Middleware authenticates every request once and passes it on with the
// principal in its context; requests it cannot authenticate are answered
// by cfg.Refuse and go no further.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := authenticate(w, r, cfg)
			if err != nil {
				cfg.Refuse(w, r, err)
				return
			}
			if rec, ok := r.Context().Value(recorderKey{}).(*policy.Principal); ok {
				*rec = p
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// authenticate checks the credential, then its rate budget (before the
// binding, which may read the store), then binds the principal.
func authenticate(w http.ResponseWriter, r *http.Request, cfg Config) (policy.Principal, error) {
	p, err := cfg.Auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		return p, err
	}
	if cfg.Limit != nil {
		if wait, ok := cfg.Limit.Allow(p); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
			return p, &RateLimited{RetryAfter: wait}
		}
	}
	return cfg.Bind.Bind(r.Context(), p)
}

// Authenticated returns ctx carrying p as the authenticated principal and
// records p for the request log, as Middleware does: for a front end whose
// requests carry another credential (the web console's session cookie),
// after it has authenticated and bound p itself.
func Authenticated(ctx context.Context, p policy.Principal) context.Context {
	if rec, ok := ctx.Value(recorderKey{}).(*policy.Principal); ok {
		*rec = p
	}
	return WithPrincipal(ctx, p)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p as the authenticated principal.
func WithPrincipal(ctx context.Context, p policy.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Principal returns the principal the middleware authenticated; false
// when the request did not pass through it.
func Principal(ctx context.Context) (policy.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(policy.Principal)
	return p, ok
}

type recorderKey struct{}

// WithRecorder returns a context in which the middleware also records the
// principal it authenticates into *p, so that a middleware outside it (the
// request log) can say who the request was from.
func WithRecorder(ctx context.Context, p *policy.Principal) context.Context {
	return context.WithValue(ctx, recorderKey{}, p)
}
