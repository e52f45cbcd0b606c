package csvbridge

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReader: any bytes are read to the end without panicking, only as
// *FileError or io.EOF, with row numbers that rise past the header, and
// map under both built-in profiles when their header binds.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"first_name,last_name,email,tier\nJohn,Doe,jdoe@example.com,support-tier-1-operations\n",
		"sep=;\nuserName;active\nbob;yes\n",
		"version:v1.0\nUser name [userName] Required\nx@y.io\n",
		"a,\"b\nc\",d\r\n\r\n1,2\n",
		"\xEF\xBB\xBFa\tb\n1\t2",
	} {
		f.Add([]byte(s))
	}
	f.Add(utf16Bytes("userName|title\nada|boss\n", true))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader(bytes.NewReader(data), Limits{MaxBytes: 1 << 16, MaxRows: 500})
		if err != nil {
			mustBeFileError(t, err)
			return
		}
		mappings := bindAll(rd.Header())
		last := rd.Format().HeaderRow
		for {
			raw, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				mustBeFileError(t, err)
				return
			}
			if raw.Number <= last || raw.Line < 1 {
				t.Fatalf("row %d (line %d) after row %d", raw.Number, raw.Line, last)
			}
			last = raw.Number
			for _, m := range mappings {
				row := m.Map(raw)
				_ = row.Record.Document()
			}
		}
	})
}

func bindAll(header []string) []*Mapping {
	var out []*Mapping
	for _, p := range BuiltinProfiles() {
		if m, err := Bind(p, registry, header); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func mustBeFileError(t *testing.T, err error) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) || len(fe.Issues) == 0 {
		t.Fatalf("want a *FileError, got %T %v", err, err)
	}
	for _, is := range fe.Issues {
		if is.Code == "" || is.Message == "" {
			t.Fatalf("issue without code or message: %+v", is)
		}
	}
}

// FuzzHeaderMapping: any header binds or fails with file-level issues;
// a bound column's target paths are canonical (resolving one again gives
// the same path) and a row of any cells maps without panicking.
func FuzzHeaderMapping(f *testing.F) {
	for _, s := range []string{
		"first_name,last_name,email,tier",
		`userName,emails[type eq "work"].value,name.givenName,action`,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value,id,externalId",
		"User name [userName] Required,Name [displayName] Required",
		`emails[type eq "work" and primary eq true].value,meta.created,name,_row`,
		"userName,userName,,x",
	} {
		f.Add(s, "a,b,c,d")
	}
	f.Fuzz(func(t *testing.T, header, cells string) {
		h := strings.Split(header, ",")
		for _, p := range BuiltinProfiles() {
			m, err := Bind(p, registry, h)
			if err != nil {
				mustBeFileError(t, err)
				continue
			}
			checkCanonical(t, m)
			row := m.Map(RawRow{Number: 2, Line: 2, Cells: strings.Split(cells, ",")})
			for _, is := range row.Issues {
				if is.Code == "" || is.Row != 2 {
					t.Fatalf("issue %+v", is)
				}
			}
			_ = row.Record.Document()
		}
	})
}

func checkCanonical(t *testing.T, m *Mapping) {
	t.Helper()
	for _, bc := range m.cols {
		if bc.ignore {
			continue
		}
		if len(bc.targets) == 0 || bc.rule == nil {
			t.Fatalf("column %q bound without targets or rules", bc.header)
		}
		for _, tg := range bc.targets {
			again, err := ResolveTarget(m.rt, tg.Path)
			if err != nil || again.Path != tg.Path {
				t.Fatalf("path %q resolves again to %q, %v", tg.Path, again.Path, err)
			}
		}
	}
}
