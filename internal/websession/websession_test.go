package websession

import (
	"encoding/base64"
	"testing"
)

// TestSafeNext: sign-in only ever redirects inside the console.
func TestSafeNext(t *testing.T) {
	m := &Manager{cfg: Config{Base: "/ui"}}
	for in, want := range map[string]string{
		"/ui/users?q=a":           "/ui/users?q=a",
		"/ui/imports/x":           "/ui/imports/x",
		"":                        "/ui/",
		"https://evil.example/":   "/ui/",
		"//evil.example/ui/":      "/ui/",
		"/ui\\..\\evil":           "/ui/",
		"/uix/users":              "/ui/",
		"/ui/users\r\nSet-Cookie": "/ui/",
		"/scim/v2/Users":          "/ui/",
	} {
		if got := m.SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestClaimNonce reads the nonce of a JWT payload and nothing else.
func TestClaimNonce(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"nonce":"n-1","sub":"x"}`))
	if got := claimNonce("h." + payload + ".s"); got != "n-1" {
		t.Errorf("nonce %q", got)
	}
	for _, bad := range []string{"", "a.b", "h.!!!.s", "h." + base64.RawURLEncoding.EncodeToString([]byte(`[]`)) + ".s"} {
		if got := claimNonce(bad); got != "" {
			t.Errorf("claimNonce(%q) = %q, want empty", bad, got)
		}
	}
}
