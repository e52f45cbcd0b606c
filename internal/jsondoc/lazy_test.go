package jsondoc

import (
	"reflect"
	"strings"
	"testing"
)

// sameIndexed checks Index against Decode on data: Index takes every
// document Decode's fast path takes; every member it finds reads (Decode,
// Text, Elements, DecodeObjectInto) as Decode has it; and when Decode
// refuses a document Index took, reading some member fails.
func sameIndexed(t *testing.T, data []byte) {
	t.Helper()
	o, ok := Index(data)
	if _, fast := newParser(data).document(); fast && !ok {
		t.Fatalf("%q: Decode's fast path takes it, Index does not", data)
	}
	if !ok {
		return
	}
	want, derr := Decode(data)
	failed := false
	seen := map[string]bool{}
	for i := range o.own() { // every member, shadowed duplicates too
		m := &o.own()[i]
		k, v := o.ix.key(m), Value{text: o.ix.text[m.valueStart:m.valueEnd]}
		seen[k] = true
		got, err := v.Decode()
		if err != nil {
			failed = true
			continue
		}
		if derr != nil || o.find(NewKey(k)) != i {
			continue
		}
		if last, _ := o.Member(k); last != v {
			t.Fatalf("%q: Member(%q) is %q, not the last one %q", data, k, last.text, v.text)
		}
		if !reflect.DeepEqual(got, want[k]) {
			t.Fatalf("%q: member %q decodes to %#v, Decode has %#v", data, k, got, want[k])
		}
		checkScalar(t, v, want[k])
		checkParts(t, v, want[k])
		if sub, ok := o.Object(k); ok != isMap(want[k]) || (ok && len(sub.Keys()) < len(want[k].(map[string]any))) {
			t.Fatalf("%q: member %q indexed as an object %v, Decode has %#v", data, k, ok, want[k])
		}
	}
	if derr != nil {
		if !failed {
			t.Fatalf("%q: Decode fails (%v), every member read", data, derr)
		}
		return
	}
	if failed {
		t.Fatalf("%q: Decode reads it, a member did not", data)
	}
	if len(seen) != len(want) {
		t.Fatalf("%q: Index has members %v, Decode %d", data, o.Keys(), len(want))
	}
	if f, ok := IndexFrozen(data); !ok || !reflect.DeepEqual(f.Keys(), o.Keys()) {
		t.Fatalf("%q: IndexFrozen %v, Index %v", data, f.Keys(), o.Keys())
	}
}

func isMap(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// checkParts holds Elements and DecodeObjectInto to the decoded value.
func checkParts(t *testing.T, v Value, want any) {
	t.Helper()
	var els []any
	for el, err := range v.Elements {
		if err != nil {
			t.Fatalf("elements of %#v: %v", want, err)
		}
		x, err := el.Decode()
		if err != nil {
			t.Fatal(err)
		}
		els = append(els, x)
	}
	if list, ok := want.([]any); ok && len(list) > 0 && !reflect.DeepEqual(els, list) {
		t.Fatalf("elements %#v, want %#v", els, list)
	} else if !ok && els != nil {
		t.Fatalf("a %T has elements %#v", want, els)
	}
	m := map[string]any{"stale": 1}
	ok := v.DecodeObjectInto(m)
	if wm, isMap := want.(map[string]any); isMap != ok || (ok && !reflect.DeepEqual(m, wm)) {
		t.Fatalf("DecodeObjectInto %v %#v, want %#v", ok, m, want)
	}
}

// checkScalar holds Text and Kind to the decoded value.
func checkScalar(t *testing.T, v Value, want any) {
	t.Helper()
	text, ok, err := v.Text()
	if err != nil {
		t.Fatalf("Text of %#v: %v", want, err)
	}
	switch w := want.(type) {
	case string:
		if !ok || text != w || v.Kind() != KindString {
			t.Fatalf("string %q: Text %q %v", w, text, ok)
		}
	case bool:
		if !ok || (text == "true") != w || v.Kind() != KindBool {
			t.Fatalf("bool %v: Text %q %v", w, text, ok)
		}
	case interface{ String() string }: // json.Number
		if !ok || text != w.String() || v.Kind() != KindNumber {
			t.Fatalf("number %v: Text %q %v", w, text, ok)
		}
	default:
		if ok {
			t.Fatalf("%#v: Text gave %q", want, text)
		}
	}
}

func TestIndexMatchesDecode(t *testing.T) {
	deep := func(n int) string { return `{"d":` + strings.Repeat(`[`, n) + strings.Repeat(`]`, n) + `}` }
	deepObj := func(n int) string { return `{"d":` + strings.Repeat(`{"e":`, n) + `1` + strings.Repeat(`}`, n) + `}` }
	for _, s := range append(seeds, benchDoc, `{"a":1,"a":{"b":2}}`, `{"k\u00e9y":"v","e":"\u00e9"}`,
		deep(62), deep(63), deep(64), deepObj(62), deepObj(63), deepObj(64)) {
		sameIndexed(t, []byte(s))
	}
}

func TestIndexObjectAndRemove(t *testing.T) {
	o, ok := Index([]byte(benchDoc))
	if !ok {
		t.Fatal("the bench document fell back")
	}
	name, ok := o.Object("name")
	if !ok {
		t.Fatal("name is not an object")
	}
	if v, _ := name.Member("givenName"); v.Kind() != KindString {
		t.Fatalf("givenName kind %c", v.Kind())
	} else if s, err := v.String(); err != nil || s != "Ada" {
		t.Fatalf("givenName %q", s)
	}
	if _, ok := o.Object("userName"); ok {
		t.Fatal("a string read as an object")
	}
	if _, ok := o.Object("missing"); ok {
		t.Fatal("a missing member read as an object")
	}
	o.Remove("name")
	if _, ok := o.Member("name"); ok {
		t.Fatal("Remove left the member")
	}
	if _, ok := o.Member("userName"); !ok {
		t.Fatal("Remove dropped another member")
	}
	var none Object
	if _, ok := none.Member("x"); ok {
		t.Fatal("a nil object has members")
	}
}

func FuzzIndex(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameIndexed(t, data) })
}

// BenchmarkIndex reads the dozen members an export writes from a stored
// user, for comparison with BenchmarkDecode.
func BenchmarkIndex(b *testing.B) {
	doc := []byte(benchDoc)
	b.ReportAllocs()
	for b.Loop() {
		o, ok := Index(doc)
		if !ok {
			b.Fatal("fell back")
		}
		for _, k := range []string{"userName", "externalId", "displayName", "title", "active"} {
			v, _ := o.Member(k)
			_, _, _ = v.Text()
		}
		name, _ := o.Object("name")
		for _, k := range []string{"givenName", "familyName", "formatted"} {
			v, _ := name.Member(k)
			_, _, _ = v.Text()
		}
		for _, k := range []string{"emails", "phoneNumbers"} {
			v, _ := o.Member(k)
			v.Decode()
		}
	}
}

// TestKeyHashSpreadsSCIMNames: the member names of stored users hash
// apart (a clash costs only a comparison, but should be rare).
func TestKeyHashSpreadsSCIMNames(t *testing.T) {
	seen := map[uint32]string{}
	for name := range commonKeys {
		for _, n := range []string{name, "urn:scimbridge:params:scim:schemas:extension:support:2.0:User", "urn:scimbridge:params:scim:schemas:extension:organization:2.0:User"} {
			if other, ok := seen[keyHash(n)]; ok && other != n {
				t.Errorf("%q and %q hash alike", n, other)
			}
			seen[keyHash(n)] = n
		}
	}
}
