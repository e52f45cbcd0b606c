// Package migrations embeds the SQL schema of each store backend. Files are
// applied in lexical order, each in its own transaction, and recorded in the
// schema_migrations table so that each runs once.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Migration is one numbered SQL file.
type Migration struct {
	Name string
	SQL  string
}

// For returns the migrations of a backend ("postgres" or "sqlite") in the
// order they must be applied.
func For(backend string) ([]Migration, error) {
	names, err := fs.Glob(files, backend+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list %s migrations: %w", backend, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no migrations for backend %q", backend)
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", n, err)
		}
		out = append(out, Migration{Name: n[len(backend)+1:], SQL: string(b)})
	}
	return out, nil
}
