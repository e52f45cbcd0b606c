package csvbridge

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/schema"
)

var registry = schema.New()

// readRaw reads a whole file with the Reader; err is the first error other
// than io.EOF (from NewReader or Next).
func readRaw(t *testing.T, in string, limits Limits) (*Reader, []RawRow, error) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(in), limits)
	if err != nil {
		return nil, nil, err
	}
	var rows []RawRow
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rd, rows, nil
		}
		if err != nil {
			return rd, rows, err
		}
		rows = append(rows, r)
	}
}

// importAll reads, maps and validates a whole file under a profile.
func importAll(t *testing.T, p *Profile, in string) ([]Row, error) {
	t.Helper()
	im, err := Open(strings.NewReader(in), p, registry, Limits{})
	if err != nil {
		return nil, err
	}
	var rows []Row
	for {
		r, err := im.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
}

// mustImport is importAll that fails the test on a file-level error.
func mustImport(t *testing.T, p *Profile, in string) []Row {
	t.Helper()
	rows, err := importAll(t, p, in)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rows
}

// fileErr asserts err is a *FileError with the code and returns its
// first issue with that code.
func fileErr(t *testing.T, err error, code string) Issue {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("want a *FileError %s, got %T %v", code, err, err)
	}
	for _, is := range fe.Issues {
		if is.Code == code {
			return is
		}
	}
	t.Fatalf("want issue %s, got %v", code, fe)
	return Issue{}
}

// issue returns the row's issue with the code, failing when absent.
func issue(t *testing.T, r Row, code string) Issue {
	t.Helper()
	for _, is := range r.Issues {
		if is.Code == code {
			return is
		}
	}
	t.Fatalf("row %d: want issue %s, got %+v", r.Number, code, r.Issues)
	return Issue{}
}

// field returns the value of the row's field for the path.
func field(t *testing.T, r Row, path string) Field {
	t.Helper()
	for _, f := range r.Record.Fields {
		if f.Target.Path == path {
			return f
		}
	}
	t.Fatalf("row %d: no field %s in %+v", r.Number, path, r.Record.Fields)
	return Field{}
}

func codes(issues []Issue) []string {
	out := make([]string, len(issues))
	for i, is := range issues {
		out[i] = is.Code
	}
	return out
}
