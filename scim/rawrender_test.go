package scim

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/jsondoc"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// TestRawRenderMatchesDecoded checks that the copy-through renderer gives
// the same JSON object as decoding the stored document and rendering the
// map, and that it steps aside for documents it must not copy.
func TestRawRenderMatchesDecoded(t *testing.T) {
	reg := schema.New()
	h := &Handler{cfg: Config{BaseURL: "https://id.example.com/scim/v2"}}
	req := httptest.NewRequest("GET", "/scim/v2/Users/x", nil)
	created := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	groups := []store.GroupRef{{ID: "g1", DisplayName: `Ops "<night>" & co`}, {ID: "g2", DisplayName: "Zürich\u2028team"}}
	cases := []struct {
		name   string
		raw    string
		groups []store.GroupRef
		fast   bool
	}{
		{"plain", `{"userName":"ada","active":true}`, nil, true},
		{"groups and extensions", `{"userName":"ada","name":{"givenName":"A\"da"},` +
			`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"},` +
			`"emails":[{"value":"a@x.test","primary":true}],"title":"{\"id\":1,"}`, groups, true},
		{"support extension", `{"userName":"b","` + schema.SupportURN + `":{"tier":"support-tier-1-operations"}}`, nil, true},
		{"extension URN only as a value", `{"userName":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}`, nil, true},
		{"empty document", `{}`, groups, true},
		{"never-returned attribute", `{"userName":"c","password":"secret"}`, nil, false},
		{"computed key stored", `{"userName":"d","groups":[]}`, groups, false},
		{"escaped key", `{"user\u004eame":"e"}`, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := &directory.Resource{Type: reg.User, ID: "2819c223-7f76-453a-919d-413861904646", Raw: []byte(c.raw),
				Groups: c.groups, Created: created, LastModified: created.Add(time.Hour), Version: 7}
			fast, ok := appendRaw(nil, "https://id.example.com/scim/v2", res, directory.Projection{})
			if ok != c.fast {
				t.Fatalf("fast path taken = %v, want %v", ok, c.fast)
			}
			slow, err := h.render(req, res)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				if _, leaked := slow["password"]; leaked {
					t.Fatal("password rendered")
				}
				return
			}
			want, _ := json.Marshal(slow)
			if !sameJSON(t, fast, want) {
				t.Fatalf("raw render\n%s\nwant\n%s", fast, want)
			}
		})
	}
}

func TestRawRenderStepsAsideForProjection(t *testing.T) {
	reg := schema.New()
	res := &directory.Resource{Type: reg.User, ID: "x", Raw: []byte(`{"userName":"a"}`)}
	if _, ok := appendRaw(nil, "", res, directory.ParseProjection(reg.User, []string{"userName"}, nil)); ok {
		t.Fatal("fast path taken with attributes=")
	}
	if _, ok := appendRaw(nil, "", res, directory.ParseProjection(reg.User, nil, []string{"emails"})); ok {
		t.Fatal("fast path taken with excludedAttributes=")
	}
	decoded := &directory.Resource{Type: reg.User, ID: "x", Doc: schema.Doc{"userName": "a"}}
	if _, ok := appendRaw(nil, "", decoded, directory.Projection{}); ok {
		t.Fatal("fast path taken for a decoded resource")
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "<a>&", "\x00\x1f\t\n\r", "é\u2028\u2029", "\xff\xfe", "🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := jsondoc.AppendString(nil, s)
		want, _ := json.Marshal(s)
		if string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("AppendString(%q) is not JSON: %v", s, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
	})
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

// BenchmarkWriteList renders a page of 100 stored users the way a list
// response does (make bench runs it; -benchmem shows the allocations).
func BenchmarkWriteList(b *testing.B) {
	reg := schema.New()
	h := &Handler{cfg: Config{BaseURL: "https://id.example.com/scim/v2"}}
	req := httptest.NewRequest("GET", "/scim/v2/Users", nil)
	raw := []byte(`{"userName":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},"active":true,` +
		`"emails":[{"value":"ada@example.com","type":"work","primary":true}],"title":"Engineer",` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`)
	list := &directory.List{Total: 100000}
	for i := 0; i < 100; i++ {
		list.Resources = append(list.Resources, &directory.Resource{Type: reg.User, ID: "2819c223-7f76-453a-919d-413861904646",
			Raw: raw, Groups: []store.GroupRef{{ID: "g1", DisplayName: "Ops"}}, Created: time.Now(), LastModified: time.Now(), Version: 3})
	}
	proj := func(*directory.Resource) directory.Projection { return directory.Projection{} }
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.writeList(w, req, listPage{}, list, proj)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
