// Package websession signs people in to the web console (/ui) and keeps
// them signed in: OIDC authorization code with PKCE (S256), a state and a
// nonce, against the same issuers, audience and claim mapping as the API
// (the ID token is verified by auth.OIDCVerifier, so the tier comes from
// the same claim as a bearer token's); or, when allowed, an admin secret
// made by `scimbridge token create` (its tier is the secret's).
//
// Sessions are server-side rows (store.Sessions): the browser holds only a
// random 256-bit token in an HttpOnly, SameSite=Lax cookie (Secure, and
// named with the __Host- prefix, behind TLS); the store keeps its SHA-256.
// Every session has an absolute expiry (Config.TTL). Each request is
// re-bound through the one Binder of the API (directory.Service.Bind), so a
// person deactivated in the directory is signed out at their next click,
// and a session opened with a secret re-checks that secret (revoked: signed
// out).
//
// Every state-changing request carries the session's CSRF token (a form
// field "csrf" or the X-CSRF-Token header), compared in constant time;
// the sign-in form itself is protected by a double-submit cookie. Lax
// cookies (not Strict) because the identity provider's redirect back is a
// cross-site navigation that must carry the state cookie.
package websession
