package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/scimbridge/scimbridge/scim"
)

// listen serves h on a loopback port and returns the SCIM base URL and a
// function that shuts the server down.
func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
	return "http://" + ln.Addr().String() + scim.BasePath, stop, nil
}

// newClient is an HTTP client that keeps a connection per concurrent
// worker alive, so that workloads measure requests, not TCP handshakes.
func newClient(concurrency int) *http.Client {
	idle := 2*concurrency + 4
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// maxLoudRecords bounds how many error records ServerLogger copies out.
const maxLoudRecords = 20

// ServerLogger is the logger for the benchmarked server: every record is
// formatted as JSON, as in production, so logging costs what it costs
// there, and discarded; errors (5xx answers, panics) are also written to
// w, the first maxLoudRecords of them.
func ServerLogger(w io.Writer) *slog.Logger {
	return slog.New(&teeHandler{
		all:  slog.NewJSONHandler(io.Discard, nil),
		loud: slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelError}),
		left: new(atomic.Int64),
	})
}

// teeHandler sends records to all and, while left lasts, to loud.
type teeHandler struct {
	all, loud slog.Handler
	left      *atomic.Int64 // records offered to loud so far (shared by derived handlers)
}

func (h *teeHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.all.Enabled(ctx, l) }

func (h *teeHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.all.Handle(ctx, r)
	if h.loud.Enabled(ctx, r.Level) && h.left.Add(1) <= maxLoudRecords {
		_ = h.loud.Handle(ctx, r.Clone())
	}
	return err
}

func (h *teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &teeHandler{all: h.all.WithAttrs(as), loud: h.loud.WithAttrs(as), left: h.left}
}

func (h *teeHandler) WithGroup(name string) slog.Handler {
	return &teeHandler{all: h.all.WithGroup(name), loud: h.loud.WithGroup(name), left: h.left}
}
