package archtest

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/scimbridge/scimbridge"

// forbidden maps a package prefix (relative to the module) to import
// prefixes it must never use, directly.
var forbidden = map[string][]string{
	"scim":               {"internal/store/sqlite", "internal/store/postgres", "github.com/jackc/pgx", "modernc.org/sqlite", "database/sql", "csvbridge"},
	"csvbridge":          {"scim", "internal/store/sqlite", "internal/store/postgres", "github.com/jackc/pgx", "modernc.org/sqlite", "database/sql"},
	"internal/directory": {"scim", "csvbridge", "internal/server", "internal/store/sqlite", "internal/store/postgres", "github.com/jackc/pgx", "modernc.org/sqlite", "database/sql", "github.com/go-chi"},
	"internal/schema":    {"scim", "csvbridge", "internal/directory", "internal/store"},
	"internal/policy":    {"scim", "csvbridge", "internal/directory", "internal/store", "net/http", "database/sql"},
	"internal/store/":    {"scim", "csvbridge", "internal/directory", "internal/server", "internal/auth"},
	"internal/auth":      {"scim", "csvbridge", "internal/directory", "internal/server"},
	"internal/authn":     {"scim", "csvbridge", "internal/server", "internal/store", "github.com/go-chi"},
	"internal/apiwire":   {"scim", "csvbridge", "internal/server", "internal/store/sqlite", "internal/store/postgres", "github.com/jackc/pgx", "modernc.org/sqlite", "database/sql"},
	"internal/jsondoc":   {"scim", "csvbridge", "internal/"},
	"internal/mailer":    {"scim", "csvbridge", "internal/directory", "internal/server", "internal/store/sqlite", "internal/store/postgres", "database/sql", "net/http"},
}

func TestImportArrows(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, path)
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files
		}
		checked++
		checkPackage(t, filepath.ToSlash(rel), pkg.Imports)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("only %d packages checked; the walk is broken", checked)
	}
}

func checkPackage(t *testing.T, rel string, imports []string) {
	for _, imp := range imports {
		if violates(rel, imp) {
			t.Errorf("%s imports %s, which the layout forbids", rel, imp)
		}
	}
}

// violates reports whether package rel (relative to the module) may not
// import imp.
func violates(rel, imp string) bool {
	for prefix, bad := range forbidden {
		if !strings.HasPrefix(rel+"/", strings.TrimSuffix(prefix, "/")+"/") || (prefix == "internal/store/" && rel == "internal/store") {
			continue
		}
		target := strings.TrimPrefix(imp, module+"/")
		for _, b := range bad {
			if target == b || strings.HasPrefix(target, b+"/") || (strings.Contains(b, ".") && strings.HasPrefix(target, b)) {
				return true
			}
		}
	}
	return false
}

func TestCheckerCatchesViolations(t *testing.T) {
	var bad []string
	for _, c := range []struct {
		rel, imp string
	}{
		{"scim", module + "/internal/store/sqlite"},
		{"internal/directory", "github.com/jackc/pgx/v5"},
		{"internal/store/postgres", module + "/internal/directory"},
		{"csvbridge/web", module + "/scim"},
	} {
		if !violates(c.rel, c.imp) {
			bad = append(bad, c.rel+" -> "+c.imp)
		}
	}
	if violates("scim", module+"/internal/directory") || violates("internal/store/sqlite", module+"/internal/store") {
		bad = append(bad, "an allowed import was flagged")
	}
	if len(bad) > 0 {
		t.Fatalf("checker missed: %v", bad)
	}
}
