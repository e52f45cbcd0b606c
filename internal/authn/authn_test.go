package authn_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scimbridge/scimbridge/internal/authn"
	"github.com/scimbridge/scimbridge/internal/policy"
)

type fakeAuth struct{ err error }

func (f fakeAuth) Authenticate(_ context.Context, h string) (policy.Principal, error) {
	return policy.Principal{Tenant: "t", Subject: h, Kind: policy.KindPerson, Tier: policy.Tier1Operations, UserName: "ada"}, f.err
}

type fakeBind struct{ err error }

func (f fakeBind) Bind(_ context.Context, p policy.Principal) (policy.Principal, error) {
	p.UserID = "id-" + p.UserName
	return p, f.err
}

// serve runs one request through the middleware and reports what the
// next handler saw, what the recorder got and what was refused.
func serve(a authn.Authenticator, b authn.Binder) (seen, recorded policy.Principal, reached bool, refused error) {
	mw := authn.Middleware(authn.Config{Auth: a, Bind: b, Refuse: func(w http.ResponseWriter, _ *http.Request, err error) {
		refused = err
		w.WriteHeader(http.StatusUnauthorized)
	}})
	h := mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen, reached = authn.Principal(r.Context())
	}))
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("Authorization", "Bearer tok")
	h.ServeHTTP(httptest.NewRecorder(), req.WithContext(authn.WithRecorder(req.Context(), &recorded)))
	return seen, recorded, reached, refused
}

func TestMiddlewarePutsTheBoundPrincipalInTheContext(t *testing.T) {
	seen, recorded, reached, refused := serve(fakeAuth{}, fakeBind{})
	if !reached || refused != nil || seen.UserID != "id-ada" || seen.Subject != "Bearer tok" || recorded != seen {
		t.Fatalf("seen %+v recorded %+v reached %v refused %v", seen, recorded, reached, refused)
	}
}

func TestMiddlewareRefusesAndStops(t *testing.T) {
	bad := errors.New("no")
	for name, c := range map[string]struct {
		a fakeAuth
		b fakeBind
	}{"credential": {a: fakeAuth{err: bad}}, "binding": {b: fakeBind{err: bad}}} {
		_, recorded, reached, refused := serve(c.a, c.b)
		if reached || !errors.Is(refused, bad) || recorded != (policy.Principal{}) {
			t.Errorf("%s: reached %v refused %v recorded %+v", name, reached, refused, recorded)
		}
	}
}

func TestPrincipalAbsentWithoutMiddleware(t *testing.T) {
	if _, ok := authn.Principal(context.Background()); ok {
		t.Fatal("a principal without authentication")
	}
}
