package schema

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
)

func decode(t testing.TB, s string) map[string]any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNormalizeCanonicalises(t *testing.T) {
	rt := New().User
	in := decode(t, `{"USERNAME":"x","id":"client-id","meta":{"created":"x"},"groups":[{"value":"g"}],"unknownAttr":1,
		"Active":"TRUE","emails":{"Value":"a@b.c","PRIMARY":"false"},"nickName":null,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m","displayName":"readonly"}},
		"urn:unknown:ext":{"a":1},"x509Certificates":[{"value":"AAEC"}]}`)
	got, err := rt.Normalize(in)
	if err != nil {
		t.Fatal(err)
	}
	want := Doc{
		"userName": "x", "active": true,
		"emails":           []any{map[string]any{"value": "a@b.c", "primary": false}},
		"x509Certificates": []any{map[string]any{"value": "AAEC"}},
		EnterpriseURN:      Doc{"manager": Doc{"value": "m"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Normalize:\n got %#v\nwant %#v", got, want)
	}
}

func TestNormalizeErrorsNameTheAttribute(t *testing.T) {
	rt := New().User
	cases := map[string]string{
		`{"userName":"x","name":{"givenName":1}}`:                                 "name.givenName",
		`{"userName":"x","emails":[{"value":"a"},{"primary":"maybe"}]}`:           "emails[1].primary",
		`{"userName":"x","` + SupportURN + `":{"tier":"support-tier-9"}}`:         SupportURN + ":tier",
		`{"userName":"x","` + EnterpriseURN + `":{"manager":{"value":true}}}`:     EnterpriseURN + ":manager.value",
		`{"userName":"x","x509Certificates":[{"value":"not base64!"}]}`:           "x509Certificates[0].value",
		`{"userName":"x","` + SupportURN + `":{"sourceUserNames":[{"value":3}]}}`: SupportURN + ":sourceUserNames[0].value",
	}
	for body, path := range cases {
		_, err := rt.Normalize(decode(t, body))
		se, ok := err.(scimerrors.ScimError)
		if !ok || se.Status != 400 || se.ScimType != scimerrors.ScimTypeInvalidValue || !strings.Contains(se.Detail, "'"+path+"'") {
			t.Errorf("%s: error %v does not name %s", body, err, path)
		}
	}
}

// TestNormalizeMatchesNamesUnderCaseFolding checks the one-pass lookup of
// attribute names: a key matches under Unicode simple case folding, even
// one of another length than the name (ſ is s, K is the Kelvin sign),
// and two spellings of one name are refused whichever comes first.
func TestNormalizeMatchesNamesUnderCaseFolding(t *testing.T) {
	rt := New().User
	got, err := rt.Normalize(decode(t, `{"uſerName":"x","name":{"KIND":"no such sub-attribute","FamilyName":"F"},"Keep":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Doc{"userName": "x", "name": map[string]any{"familyName": "F"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Normalize:\n got %#v\nwant %#v", got, want)
	}
	for _, body := range []string{`{"userName":"x","USERNAME":"y"}`, `{"userName":"x","uſername":"y"}`,
		`{"userName":"x","name":{"givenName":"a","GIVENNAME":"b"}}`} {
		_, err := rt.Normalize(decode(t, body))
		se, ok := err.(scimerrors.ScimError)
		if !ok || se.Status != 400 || !strings.Contains(se.Detail, "appears twice") {
			t.Errorf("%s: error %v, want one naming the attribute that appears twice", body, err)
		}
	}
}

func TestGroupRequiresDisplayName(t *testing.T) {
	_, err := New().Group.Normalize(decode(t, `{"members":[]}`))
	if err == nil || !strings.Contains(err.Error(), "displayName") {
		t.Fatalf("err = %v", err)
	}
}

func TestRegistryLookups(t *testing.T) {
	r := New()
	if rt, ok := r.ByEndpoint("uSeRs"); !ok || rt != r.User {
		t.Fatal("ByEndpoint")
	}
	if _, ok := r.User.Extension(strings.ToUpper(SupportURN)); !ok {
		t.Fatal("Extension lookup is case-sensitive")
	}
	if a, ok := r.User.Attribute("USERNAME"); !ok || a.Name() != "userName" {
		t.Fatal("Attribute lookup")
	}
	if len(r.Schemas()) != 4 || len(r.User.URNs()) != 3 {
		t.Fatal("schemas")
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add(`{"userName":"x","emails":[{"value":"a"}]}`)
	f.Add(`{"userName":"x","` + EnterpriseURN + `":{"manager":"m"}}`)
	f.Add(`{"userName":1,"active":"True","name":[1,2]}`)
	rt := New().User
	f.Fuzz(func(t *testing.T, s string) {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil {
			return
		}
		doc, err := rt.Normalize(m)
		if err == nil {
			if _, ok := doc["userName"].(string); !ok {
				t.Fatalf("accepted a user without a string userName: %v", doc)
			}
			if _, err := json.Marshal(doc); err != nil {
				t.Fatalf("normalised doc does not encode: %v", err)
			}
		} else if _, ok := err.(scimerrors.ScimError); !ok {
			t.Fatalf("non-SCIM error %T %v", err, err)
		}
	})
}
