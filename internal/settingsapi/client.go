package settingsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
)

// Client talks to the /settings API of one server with one bearer token.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client of the server at base (e.g.
// http://127.0.0.1:8080).
func NewClient(base, token string) *Client {
	return &Client{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{Timeout: time.Minute}}
}

// Error is a refusal from the server (a SCIM error body).
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("server answered %d", e.Status)
	}
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Detail)
}

// Get reads the settings of the token's tenant.
func (c *Client) Get(ctx context.Context) (directory.TenantSettings, error) {
	var ts directory.TenantSettings
	return ts, c.do(ctx, http.MethodGet, "/settings", nil, -1, &ts)
}

// Put replaces the settings with body (a TenantSettings document). With
// ifMatch >= 0 the server refuses (412) unless the settings are at that
// version.
func (c *Client) Put(ctx context.Context, body []byte, ifMatch int64) (directory.TenantSettings, error) {
	var ts directory.TenantSettings
	return ts, c.do(ctx, http.MethodPut, "/settings", body, ifMatch, &ts)
}

// Patch replaces only the top-level fields body names.
func (c *Client) Patch(ctx context.Context, body []byte, ifMatch int64) (directory.TenantSettings, error) {
	var ts directory.TenantSettings
	return ts, c.do(ctx, http.MethodPatch, "/settings", body, ifMatch, &ts)
}

// Outbox lists outgoing messages (state "" for all), newest first.
func (c *Client) Outbox(ctx context.Context, state string, limit int) ([]directory.OutboxMessage, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Messages []directory.OutboxMessage `json:"messages"`
	}
	err := c.do(ctx, http.MethodGet, "/settings/outbox?"+q.Encode(), nil, -1, &out)
	return out.Messages, err
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, ifMatch int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch >= 0 {
		req.Header.Set("If-Match", fmt.Sprintf(`W/"%d"`, ifMatch))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Detail   string `json:"detail"`
			ScimType string `json:"scimType"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		return &Error{Status: resp.StatusCode, ScimType: e.ScimType, Detail: e.Detail}
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}
