package csvbridge

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzProfileDocument: any JSON document is either refused by Profile.Validate
// or is a profile that binds (or refuses, with file-level issues) a header
// made of its own columns, maps a row of any cells without panicking, and
// survives Clone unchanged. Profiles are data (stored, versioned, edited by
// tenants), so their documents are input like any other.
func FuzzProfileDocument(f *testing.F) {
	for _, p := range BuiltinProfiles() {
		b, err := json.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "a,b,c,d")
	}
	f.Fuzz(func(t *testing.T, doc []byte, cells string) {
		var p Profile
		if err := json.Unmarshal(doc, &p); err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal without a message")
			}
			return
		}
		if c := p.Clone(); c.Name != p.Name || len(c.Columns) != len(p.Columns) {
			t.Fatalf("clone differs: %+v", c)
		}
		header := make([]string, 0, len(p.Columns))
		for _, c := range p.Columns {
			header = append(header, c.Header)
		}
		m, err := Bind(&p, registry, header)
		if err != nil {
			mustBeFileError(t, err)
			return
		}
		row := m.Map(RawRow{Number: 2, Line: 2, Cells: strings.Split(cells, ",")})
		for _, is := range row.Issues {
			if is.Code == "" || is.Row != 2 {
				t.Fatalf("issue %+v", is)
			}
		}
		_ = row.Record.Document()
	})
}
