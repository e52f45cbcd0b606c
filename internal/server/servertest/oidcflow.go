package servertest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/websession"
)

// flow is the test issuer's authorization-code + PKCE side: a sign-in
// page listing its people, codes bound to the client, redirect URI, PKCE
// challenge and nonce, and a token endpoint that checks them all.
type flow struct {
	mu     sync.Mutex
	people map[string]policy.Tier
	codes  map[string]grant
}

// grant is an issued, unredeemed authorization code.
type grant struct {
	clientID, redirect, challenge, nonce, user string
}

// AddPerson lets userName sign in at the test issuer with tier (TierNone:
// no tier claim).
func (idp *IdP) AddPerson(userName string, tier policy.Tier) {
	idp.flow.mu.Lock()
	defer idp.flow.mu.Unlock()
	idp.flow.people[userName] = tier
}

// ConsoleClient is the console's OIDC client at this issuer (public, PKCE).
func (idp *IdP) ConsoleClient() *websession.OIDC {
	return &websession.OIDC{Issuer: idp.URL, ClientID: Audience, HTTPClient: &http.Client{Timeout: 5 * time.Second}}
}

var authPage = template.Must(template.New("auth").Parse(`<!doctype html><html lang="en"><head><title>Test identity provider</title></head>
<body><main><h1>Test identity provider</h1><form method="post" action="/auth">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">{{end}}
<label for="user">Sign in as</label><select id="user" name="user">{{range .People}}<option>{{.}}</option>{{end}}</select>
<button type="submit" id="idp-signin">Sign in</button></form></main></body></html>`))

// serveAuth is the authorization endpoint: GET shows the sign-in page
// (or, with login_hint naming a person, signs them in at once); POST
// signs in the chosen person.
func (idp *IdP) serveAuth(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.Form
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "want response_type=code with an S256 PKCE challenge", http.StatusBadRequest)
		return
	}
	user := q.Get("user")
	if user == "" {
		user = q.Get("login_hint")
	}
	if user == "" {
		idp.showAuthPage(w, r)
		return
	}
	idp.issueCode(w, r, user)
}

func (idp *IdP) showAuthPage(w http.ResponseWriter, r *http.Request) {
	idp.flow.mu.Lock()
	people := make([]string, 0, len(idp.flow.people))
	for p := range idp.flow.people {
		people = append(people, p)
	}
	idp.flow.mu.Unlock()
	sort.Strings(people)
	params := url.Values{}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "nonce", "code_challenge", "code_challenge_method", "scope"} {
		params.Set(k, r.Form.Get(k))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = authPage.Execute(w, map[string]any{"Params": params, "People": people})
}

func (idp *IdP) issueCode(w http.ResponseWriter, r *http.Request, user string) {
	q := r.Form
	idp.flow.mu.Lock()
	_, known := idp.flow.people[user]
	code := uuid.NewString()
	if known {
		idp.flow.codes[code] = grant{clientID: q.Get("client_id"), redirect: q.Get("redirect_uri"),
			challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), user: user}
	}
	idp.flow.mu.Unlock()
	if !known {
		http.Error(w, "unknown person "+user, http.StatusBadRequest)
		return
	}
	to, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := to.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	to.RawQuery = v.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

// serveToken is the token endpoint: it redeems a code once, checking the
// client, the redirect URI and the PKCE verifier.
func (idp *IdP) serveToken(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			tokenError(w, "invalid_request")
			return
		}
		idp.flow.mu.Lock()
		g, ok := idp.flow.codes[r.PostForm.Get("code")]
		delete(idp.flow.codes, r.PostForm.Get("code"))
		tier := idp.flow.people[g.user]
		idp.flow.mu.Unlock()
		clientID := r.PostForm.Get("client_id")
		if id, _, basic := r.BasicAuth(); basic {
			clientID = id
		}
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok || r.PostForm.Get("grant_type") != "authorization_code":
			tokenError(w, "invalid_grant")
		case clientID != g.clientID || r.PostForm.Get("redirect_uri") != g.redirect:
			tokenError(w, "invalid_client")
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			tokenError(w, "invalid_grant")
		default:
			idt := idp.idToken(t, g, tier)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": uuid.NewString(), "token_type": "Bearer", "expires_in": 600, "id_token": idt})
		}
	}
}

func (idp *IdP) idToken(t *testing.T, g grant, tier policy.Tier) string {
	claims := map[string]any{"iss": idp.URL, "aud": g.clientID, "sub": "sub-" + g.user, "iat": time.Now().Unix(),
		"exp": time.Now().Add(10 * time.Minute).Unix(), "preferred_username": g.user, "nonce": g.nonce}
	if tier != policy.TierNone {
		claims["roles"] = []string{tier.String()}
	}
	b, err := json.Marshal(claims)
	if err != nil {
		t.Error(err)
	}
	return oidctest.SignIDToken(idp.key, "k1", oidc.RS256, string(b))
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"error":%q}`, code)
}
