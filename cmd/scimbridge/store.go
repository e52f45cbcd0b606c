package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
)

const defaultDB = "sqlite:scimbridge.db"

// openStore opens and migrates the store a DSN names: "sqlite:PATH" (or a
// path ending in .db) for the embedded store, postgres:// or postgresql://
// for PostgreSQL.
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return s, nil
	case strings.HasPrefix(dsn, "sqlite:"), strings.HasSuffix(dsn, ".db"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("--db sqlite: needs a file path, e.g. sqlite:scimbridge.db")
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("--db %q: use sqlite:PATH or postgres://user@host/db", redact(dsn))
}

// redact hides a password in a DSN for messages.
func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return dsn[:scheme+3] + user + ":***" + dsn[at:]
	}
	return dsn
}
