package csvbridge

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/internal/jsondoc"
)

// codecRow builds a Planned from fuzz input: s fills every string, n
// every number, doc (when it is a JSON object) the generic values, and
// the bits of shape choose which members are set, empty or nil.
func codecRow(s string, n int, doc []byte, shape uint16) Planned {
	generic, err := jsondoc.Decode(doc)
	if err != nil {
		generic = map[string]any{"userName": s, "n": json.Number("12345678901234567890")}
	}
	bit := func(i uint) bool { return shape&(1<<i) != 0 }
	r := Planned{Number: n, Action: Action(s), ResourceID: s, UserName: s, Group: s, Notify: bit(0)}
	if bit(1) {
		r.Cells = []string{s, "", s + "\x00"}
	} else if bit(2) {
		r.Cells = []string{}
	}
	if bit(3) {
		r.Create = generic
	}
	if bit(4) {
		r.Diff = []Change{{Path: s, Old: generic["userName"], New: generic}, {Path: "active"}, {Path: s, New: []any{s, nil}}}
	}
	if bit(5) {
		r.Patch = []map[string]any{patchOp("replace", s, generic), nil, {}}
	}
	if bit(6) {
		r.Links = []Link{{Column: s, Path: s, Key: MatchKey(s), Value: s}, {Key: MatchEmail, Group: s}}
	}
	if bit(7) {
		r.Issues = []Issue{{Code: s, Severity: SeverityError, Row: n, Line: -n, Col: n, Column: s, Rule: s, Message: s, Hint: s}, {}}
	}
	if bit(8) {
		r.Version = s
	}
	return r
}

// FuzzPlannedCodec holds the job row codec to encoding/json: appendJSON
// writes json.Marshal's bytes, and decodePlanned reads them into what a
// json.Decoder with UseNumber reads.
func FuzzPlannedCodec(f *testing.F) {
	f.Add("ann@example.com", 2, []byte(`{"userName":"ann","emails":[{"value":"a@example.com","primary":true}],"x":1.5e3}`), uint16(0xffff))
	f.Add("<b>&\u2028\"\\", -7, []byte(`{"a":[null,{"b":-0}],"t":true}`), uint16(0x0155))
	f.Add("bad \xff utf-8", 0, []byte(`not json`), uint16(0x00aa))
	f.Add("", 1<<40, []byte(`{}`), uint16(0))
	f.Fuzz(func(t *testing.T, s string, n int, doc []byte, shape uint16) {
		r := codecRow(s, n, doc, shape)
		want, werr := json.Marshal(&r)
		got, gerr := r.appendJSON(nil)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("appendJSON = %s, %v\njson.Marshal %s, %v", got, gerr, want, werr)
		}
		if werr != nil {
			return
		}
		var oracle Planned
		dec := json.NewDecoder(bytes.NewReader(want))
		dec.UseNumber()
		if err := dec.Decode(&oracle); err != nil {
			t.Fatal(err)
		}
		back, err := decodePlanned(want)
		if err != nil {
			t.Fatalf("decodePlanned(%s): %v", want, err)
		}
		if !reflect.DeepEqual(back, oracle) {
			t.Fatalf("decodePlanned(%s)\n= %#v\nencoding/json: %#v", want, back, oracle)
		}
	})
}

func TestDecodePlannedRefusesWrongTypes(t *testing.T) {
	for _, data := range []string{
		`{"row":"2"}`, `{"row":1.5}`, `{"cells":"a"}`, `{"cells":[1]}`, `{"action":true}`,
		`{"create":[]}`, `{"diff":{}}`, `{"diff":[1]}`, `{"patch":["x"]}`, `{"notify":"yes"}`,
		`{"issues":[{"row":"x"}]}`, `{"links":[{"key":1}]}`, `[]`, `{"row":2`,
	} {
		if r, err := decodePlanned([]byte(data)); err == nil {
			t.Errorf("decodePlanned(%s) = %#v, want an error", data, r)
		}
		var oracle Planned
		if err := json.Unmarshal([]byte(data), &oracle); err == nil {
			t.Errorf("encoding/json reads %s; the test's case is not an error there either", data)
		}
	}
}

// A row stored as json.Marshal wrote it (before appendJSON) reads the
// same, numbers exact.
func TestDecodePlannedKeepsNumbersExact(t *testing.T) {
	data := []byte(`{"row":12,"cells":["a"],"action":"create","create":{"employeeNumber":12345678901234567890,"ratio":0.1}}`)
	r, err := decodePlanned(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Create["employeeNumber"]; got != json.Number("12345678901234567890") {
		t.Errorf("employeeNumber = %#v", got)
	}
	if r.Number != 12 || r.Action != PlanCreate || len(r.Cells) != 1 {
		t.Errorf("row = %#v", r)
	}
}
