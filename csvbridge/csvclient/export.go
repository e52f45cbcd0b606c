package csvclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// ExportOptions are the query of an export (GET /csv/exports/users.csv or
// groups.csv).
type ExportOptions struct {
	// Groups exports groups.csv instead of users.csv.
	Groups     bool
	Preset     string
	Filter     string
	Profile    string
	Attributes []string
	SortBy     string
	// Descending sorts by SortBy descending.
	Descending bool
	// NoBOM and LF ask for a file for scripts (bom=false, crlf=false).
	NoBOM, LF bool
	// Delimiter is one character ("" for a comma).
	Delimiter string
	// Raw asks for unescaped cells (tier 3).
	Raw bool
	// MemberRows writes groups.csv one row per membership (members=rows).
	MemberRows bool
}

func (o ExportOptions) path() string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("preset", o.Preset)
	set("filter", o.Filter)
	set("profile", o.Profile)
	set("attributes", strings.Join(o.Attributes, ","))
	set("sortBy", o.SortBy)
	set("delimiter", o.Delimiter)
	if o.Descending {
		q.Set("sortOrder", "descending")
	}
	if o.NoBOM {
		q.Set("bom", "false")
	}
	if o.LF {
		q.Set("crlf", "false")
	}
	if o.Raw {
		q.Set("raw", "true")
	}
	if o.MemberRows {
		q.Set("members", "rows")
	}
	name := "users.csv"
	if o.Groups {
		name = "groups.csv"
	}
	if len(q) == 0 {
		return "/csv/exports/" + name
	}
	return "/csv/exports/" + name + "?" + q.Encode()
}

// ExportStats are what an export delivered: data rows (the header not
// counted) and bytes.
type ExportStats struct {
	Rows     int64
	Bytes    int64
	FileName string
}

// Export streams an export into w. progress, if set, is called after each
// part received with the rows and bytes so far. The export has no overall
// time limit (only ctx ends it); a response the server cut short fails.
func (c *Client) Export(ctx context.Context, o ExportOptions, w io.Writer, progress func(ExportStats)) (ExportStats, error) {
	hc := *c.http
	hc.Timeout = 0
	stream := &Client{base: c.base, token: c.token, http: &hc}
	resp, err := stream.do(ctx, http.MethodGet, o.path(), "", nil)
	if err != nil {
		return ExportStats{}, err
	}
	defer resp.Body.Close()
	st := ExportStats{FileName: fileName(resp.Header.Get("Content-Disposition"))}
	rc := &recordCounter{}
	buf := make([]byte, 64<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return st, fmt.Errorf("write export: %w", err)
			}
			rc.scan(buf[:n])
			st.Bytes += int64(n)
			st.Rows = max(rc.records-1, 0)
			if progress != nil {
				progress(st)
			}
		}
		if errors.Is(rerr, io.EOF) {
			return st, nil
		}
		if rerr != nil {
			return st, fmt.Errorf("read export after %d rows: %w", st.Rows, rerr)
		}
	}
}

// recordCounter counts CSV records: line ends outside quoted fields.
type recordCounter struct {
	quoted  bool
	records int64
}

func (r *recordCounter) scan(b []byte) {
	for _, c := range b {
		switch {
		case c == '"':
			r.quoted = !r.quoted
		case c == '\n' && !r.quoted:
			r.records++
		}
	}
}

func fileName(disposition string) string {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return ""
	}
	return params["filename"]
}
