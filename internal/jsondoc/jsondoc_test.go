package jsondoc

import (
	"reflect"
	"strings"
	"testing"
)

// seeds are documents like the stored ones and the corners of the
// grammar: escapes, surrogate pairs, lone surrogates, invalid UTF-8,
// numbers, nesting, trailing data and malformed input.
var seeds = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":[]}`, `{"a":{}}`, `{"a":[1,2.5,-3e+7,0,-0.0,1E-2]}`,
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@example.com","name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"active":true,"x":null}`,
	`{"s":"a\"b\\c\/d\b\f\n\r\t"}`, `{"u":"\u00e9\u4e2d\ud83d\ude00"}`, `{"lone":"\ud800"}`, `{"lo":"\udc00x"}`,
	`{"bad":"` + "\xff" + `"}`, `{"ctl":"a` + "\x01" + `"}`, `{"ü":"ü"}`, `{"a":1,"a":2}`,
	`{"a":1}{"b":2}`, `{"a":1} x`, `{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`,
	`{"a":tru}`, `{"a":nul}`, `[1]`, `null`, `"x"`, ``, `{`, `{"a":[1,2}`, `{"a":"\u12"}`, `{"a":"\x"}`,
	`{"d":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}`,
}

func slow(data []byte) (map[string]any, error) { return slowDecode(data) }

// same checks that Decode and encoding/json agree on data.
func same(t *testing.T, data []byte) {
	t.Helper()
	got, err := Decode(data)
	want, werr := slow(data)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: error %v, encoding/json %v", data, err, werr)
	}
	if err != nil {
		if err.Error() != werr.Error() {
			t.Fatalf("%q: error %q, encoding/json %q", data, err, werr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: got %#v, encoding/json %#v", data, got, want)
	}
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		same(t, []byte(s))
	}
}

// TestFastPath: the documents the stores hold take the fast path (the
// fallback would hide a parser that never succeeds).
func TestFastPath(t *testing.T) {
	for _, s := range append(seeds[:9:9], benchDoc) {
		p := newParser([]byte(s))
		if _, ok := p.document(); !ok {
			t.Errorf("%s: fell back", s)
		}
	}
	for _, s := range []string{`{"lone":"\ud800"}`, `{"bad":"` + "\xff" + `"}`, `{"a":1,}`, `null`} {
		p := newParser([]byte(s))
		if _, ok := p.document(); ok {
			t.Errorf("%q: the fast path accepted it", s)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { same(t, data) })
}

// benchDoc is a stored user as the benchmarks' population has them
// (about 1 KB, the core, enterprise and support schemas).
const benchDoc = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","urn:scimbridge:params:scim:schemas:extension:support:2.0:User"],` +
	`"userName":"user0012345@example.com","externalId":"ext-0012345","name":{"givenName":"Ada","familyName":"Lovelace","formatted":"Ada Lovelace"},` +
	`"displayName":"Ada Lovelace","nickName":"Ada","title":"Engineer","userType":"Employee","locale":"en-US","timezone":"Europe/Amsterdam","active":true,` +
	`"emails":[{"value":"user0012345@example.com","type":"work","primary":true},{"value":"ada@home.example","type":"home"}],` +
	`"phoneNumbers":[{"value":"+1 555 001 2345","type":"work","primary":true},{"value":"+1 555 501 2345","type":"mobile"}],` +
	`"addresses":[{"type":"work","streetAddress":"346 Bench Street","locality":"Amsterdam","postalCode":"1045 AB","country":"NL","primary":true}],` +
	`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"0012345","department":"Support","costCenter":"CC-095","organization":"Bench Corp","division":"Support"},` +
	`"urn:scimbridge:params:scim:schemas:extension:support:2.0:User":{"tier":"support-tier-1-operations","sourceUserNames":[{"source":"slack","value":"U00012345"}]},` +
	`"meta":{"resourceType":"User","created":"2026-11-28T10:00:00Z","lastModified":"2026-11-28T10:00:00Z","version":"W/\"1\""}}`

// BenchmarkDecode compares the two on a stored user document.
func BenchmarkDecode(b *testing.B) {
	doc := []byte(benchDoc)
	b.Run("jsondoc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := slow(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
