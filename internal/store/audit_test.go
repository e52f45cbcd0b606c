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
