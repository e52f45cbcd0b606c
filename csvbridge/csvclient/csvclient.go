// Package csvclient is a Go client of the CSV bridge's HTTP API (/csv),
// used by the scimbridge CLI and by tests that drive a running server the
// way a script would.
package csvclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge"
)

// Job is an import as the server shows it.
type Job = csvbridge.View

// Row is one row of an import as the server shows it.
type Row = csvbridge.RowView

// Client talks to one server with one bearer token.
type Client struct {
	base  string
	token string
	http  *http.Client
	// jobs is where Get, Rows, Commit, Cancel and Report find jobs:
	// /csv/imports, or /csv/actions (Actions).
	jobs string
}

// New returns a client of the server at base (e.g. http://127.0.0.1:8080).
func New(base, token string) *Client {
	return &Client{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{Timeout: 5 * time.Minute}, jobs: "/csv/imports"}
}

// Actions returns a client whose Get, Wait, Rows, Commit, Cancel and
// Report work on action jobs (/csv/actions).
func (c *Client) Actions() *Client {
	a := *c
	a.jobs = "/csv/actions"
	return &a
}

// SubmitAction starts an action on the users req selects; Actions() then
// follows it.
func (c *Client) SubmitAction(ctx context.Context, req csvbridge.ActionRequest) (Job, error) {
	var j Job
	err := c.json(ctx, http.MethodPost, "/csv/actions", req, &j)
	return j, err
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

func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var e struct {
			Detail   string `json:"detail"`
			ScimType string `json:"scimType"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		return nil, &Error{Status: resp.StatusCode, ScimType: e.ScimType, Detail: e.Detail}
	}
	return resp, nil
}

func (c *Client) json(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	resp, err := c.do(ctx, method, path, ct, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Upload starts an import of body with the profile.
func (c *Client) Upload(ctx context.Context, profile, fileName string, body []byte) (Job, error) {
	return c.UploadFrom(ctx, profile, fileName, bytes.NewReader(body))
}

// UploadFrom starts an import of the file body reads, streamed to the
// server.
func (c *Client) UploadFrom(ctx context.Context, profile, fileName string, body io.Reader) (Job, error) {
	return c.UploadWith(ctx, profile, fileName, nil, body)
}

// UploadWith uploads a file with the profile's per-upload options (e.g.
// professional-users' role).
func (c *Client) UploadWith(ctx context.Context, profile, fileName string, options map[string]string, body io.Reader) (Job, error) {
	q := url.Values{"profile": {profile}, "filename": {fileName}}
	for k, v := range options {
		q.Set(k, v)
	}
	resp, err := c.do(ctx, http.MethodPost, "/csv/imports?"+q.Encode(), "text/csv", body)
	if err != nil {
		return Job{}, err
	}
	defer resp.Body.Close()
	var j Job
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		return Job{}, fmt.Errorf("upload: decode answer: %w", err)
	}
	return j, nil
}

// Get returns an import.
func (c *Client) Get(ctx context.Context, id string) (Job, error) {
	var j Job
	err := c.json(ctx, http.MethodGet, c.jobs+"/"+url.PathEscape(id), nil, &j)
	return j, err
}

// Wait polls an import until it is in none of the given states.
func (c *Client) Wait(ctx context.Context, id string, every time.Duration, busy ...string) (Job, error) {
	for {
		j, err := c.Get(ctx, id)
		if err != nil || !slices.Contains(busy, string(j.State)) {
			return j, err
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-time.After(every):
		}
	}
}

// Rows returns up to limit rows of an import with the status ("" for all).
func (c *Client) Rows(ctx context.Context, id, status string, limit int) ([]Row, error) {
	q := url.Values{"limit": {fmt.Sprint(limit)}}
	if status != "" {
		q.Set("status", status)
	}
	var out struct {
		Rows []Row `json:"rows"`
	}
	err := c.json(ctx, http.MethodGet, c.jobs+"/"+url.PathEscape(id)+"/rows?"+q.Encode(), nil, &out)
	return out.Rows, err
}

// Commit commits a validated import, leaving out the excluded rows.
func (c *Client) Commit(ctx context.Context, id string, exclude []int) (Job, error) {
	return c.CommitWith(ctx, id, exclude, nil)
}

// Notify is the choice of new users who get the account e-mail, for
// profiles that ask at commit: all, or the rows listed.
type Notify struct {
	All  bool  `json:"all,omitempty"`
	Rows []int `json:"rows,omitempty"`
}

// CommitWith commits with exclusions and, when notify is not nil, the
// e-mail choice.
func (c *Client) CommitWith(ctx context.Context, id string, exclude []int, notify *Notify) (Job, error) {
	var j Job
	body := map[string]any{"exclude": exclude}
	if notify != nil {
		body["notify"] = notify
	}
	err := c.json(ctx, http.MethodPost, c.jobs+"/"+url.PathEscape(id)+"/commit", body, &j)
	return j, err
}

// Cancel cancels an import.
func (c *Client) Cancel(ctx context.Context, id string) (Job, error) {
	var j Job
	err := c.json(ctx, http.MethodPost, c.jobs+"/"+url.PathEscape(id)+"/cancel", nil, &j)
	return j, err
}

// Report downloads an import's report (only the failed rows when
// onlyFailed) into the file path.
func (c *Client) Report(ctx context.Context, id string, onlyFailed bool, path string) error {
	p := c.jobs + "/" + url.PathEscape(id) + "/report.csv"
	if onlyFailed {
		p += "?only=failed"
	}
	resp, err := c.do(ctx, http.MethodGet, p, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
