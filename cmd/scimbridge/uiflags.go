package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/websession"
)

// uiFlags configure the web console's sign-in.
type uiFlags struct {
	clientID, clientSecret, redirect *string
	secretSignIn                     *bool
	ttl                              *time.Duration
}

func addUIFlags(fs *flag.FlagSet) uiFlags {
	return uiFlags{
		clientID:     fs.String("ui-oidc-client-id", envOr("SCIMBRIDGE_UI_OIDC_CLIENT_ID", ""), "the console's OIDC client ID (env SCIMBRIDGE_UI_OIDC_CLIENT_ID; default: the person issuer's audience, which it must be)"),
		clientSecret: fs.String("ui-oidc-client-secret", envOr("SCIMBRIDGE_UI_OIDC_CLIENT_SECRET", ""), "the console's OIDC client secret; empty for a public client with PKCE (env SCIMBRIDGE_UI_OIDC_CLIENT_SECRET)"),
		redirect:     fs.String("ui-oidc-redirect-url", envOr("SCIMBRIDGE_UI_OIDC_REDIRECT_URL", ""), "registered callback, e.g. https://scim.example.com/ui/callback (env SCIMBRIDGE_UI_OIDC_REDIRECT_URL; default: from the request's host)"),
		secretSignIn: fs.Bool("ui-secret-signin", false, "also offer sign-in with an admin secret when OIDC is configured (without OIDC it is always offered)"),
		ttl:          fs.Duration("ui-session-ttl", websession.DefaultTTL, "how long a console session lasts"),
	}
}

// config builds the console's configuration: OIDC sign-in against the
// first person issuer, when there is one.
func (f uiFlags) config(issuers []auth.OIDCIssuer) (server.UIConfig, error) {
	c := server.UIConfig{SecretSignIn: *f.secretSignIn, SessionTTL: *f.ttl}
	for _, is := range issuers {
		if is.Kind != "" && is.Kind != policy.KindPerson {
			continue
		}
		id := *f.clientID
		if id == "" {
			id = is.Audience
		}
		if id != is.Audience {
			return c, fmt.Errorf("--ui-oidc-client-id %q must be the issuer's audience %q: the console's ID tokens are verified as API tokens", id, is.Audience)
		}
		c.OIDC = &websession.OIDC{Issuer: is.Issuer, ClientID: id, ClientSecret: *f.clientSecret, RedirectURL: *f.redirect,
			HTTPClient: auth.NewOIDCHTTPClient()}
		break
	}
	return c, nil
}
