package jsondoc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzMarshal holds Marshal to json.Marshal: for every document Decode
// reads, and for every string (valid UTF-8 or not) as a member name and
// value, the bytes (or the failure) are the same.
func FuzzMarshal(f *testing.F) {
	for _, doc := range []string{
		`{"userName":"a<b>&c","n":1.5e3,"m":-0,"e":[],"o":{},"z":null,"t":true,"f":false}`,
		`{"s":"\u2028\u2029\u0000\u001f\b\f\n\r\t\"\\/","k\u00e9":"\ud83d\ude00","arr":[1,"x",[null],{"b":2,"a":1}]}`,
		`{"emails":[{"value":"a@example.com","type":"work","primary":true}],"name":{"givenName":"Ann"}}`,
	} {
		f.Add([]byte(doc), "plain")
	}
	f.Add([]byte(`{}`), "bad \xff utf-8 \xe2\x80")
	f.Fuzz(func(t *testing.T, data []byte, s string) {
		same := func(v any) {
			t.Helper()
			want, werr := json.Marshal(v)
			got, gerr := Marshal(v)
			if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
				t.Fatalf("Marshal(%#v) = %q, %v; json.Marshal %q, %v", v, got, gerr, want, werr)
			}
		}
		same(map[string]any{s: s, "list": []any{s, json.Number("12"), nil}})
		same(map[string]any{"n": json.Number(s)})
		if doc, err := Decode(data); err == nil {
			same(doc)
		}
	})
}

func TestMarshalNilsAndOtherTypes(t *testing.T) {
	for _, v := range []any{
		map[string]any{"m": map[string]any(nil), "a": []any(nil), "s": []string{"x"}, "f": 1.5, "i": 3, "n": json.Number("")},
		map[string]any(nil),
	} {
		want, _ := json.Marshal(v)
		got, err := Marshal(v)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Marshal(%#v) = %s, %v; want %s", v, got, err, want)
		}
	}
}

// BenchmarkMarshal compares the two on a stored user document.
func BenchmarkMarshal(b *testing.B) {
	doc, err := Decode([]byte(benchDoc))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jsondoc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Marshal(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
