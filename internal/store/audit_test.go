package store

import (
	"slices"
	"testing"
)

func TestDocAttributes(t *testing.T) {
	doc := `{"userName":"ann","name":{"givenName":"Ann"},"emails":[{"value":"a@x"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department":"D","manager":{"value":"m"}},
		"urn:not:an:object":"text","urn:":{"x":1}}`
	want := []string{"emails", "name", "urn:", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "urn:not:an:object", "userName"}
	if got := DocAttributes([]byte(doc)); !slices.Equal(got, want) {
		t.Errorf("DocAttributes = %q, want %q", got, want)
	}
	if got := DocAttributes([]byte(`{"userName":`)); got != nil {
		t.Errorf("DocAttributes of invalid JSON = %q, want nil", got)
	}
}

// FuzzDocAttributes holds the indexed reading to encoding/json's.
func FuzzDocAttributes(f *testing.F) {
	for _, doc := range []string{
		`{"userName":"ann","name":{"givenName":"Ann"},"urn:x:User":{"department":"D","department":"E"}}`,
		`{"user\u004eame":"a","userName":"b","urn:x:User":{"a":1},"urn:x:User":{"b":2}}`,
		`{"urn:":{"x":1},"urn:y":[{"a":1}],"urn:z":null, "emails":[{"value":"a@x"}]}`,
		`{}`, `[]`, `{"a":`, `{"a":1}x`,
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		want := docAttributesDecoded(doc)
		if want == nil {
			return // the index may accept what encoding/json refuses (an unread bad string)
		}
		if got := DocAttributes(doc); !slices.Equal(got, want) {
			t.Errorf("DocAttributes(%s) = %q, want %q", doc, got, want)
		}
	})
}
