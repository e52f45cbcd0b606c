package filter_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
)

const (
	enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	support    = "urn:scimbridge:params:scim:schemas:extension:support:2.0:User"
)

var reg = schema.New()

// render prints a resolved filter with explicit parentheses, canonical
// attribute names and typed values, so tests can state the tree they want.
func render(e filter.Expr) string {
	switch e := e.(type) {
	case *filter.And:
		return "(" + render(e.Left) + " and " + render(e.Right) + ")"
	case *filter.Or:
		return "(" + render(e.Left) + " or " + render(e.Right) + ")"
	case *filter.Not:
		return "not(" + render(e.X) + ")"
	case *filter.ValuePath:
		return e.Attr.String() + "[" + render(e.Filter) + "]"
	case *filter.Const:
		return fmt.Sprint(e.Value)
	case *filter.Compare:
		s := e.Attr.String() + " " + string(e.Op)
		if e.Op == filter.Pr {
			return s
		}
		switch e.Value.Kind {
		case filter.KindBool:
			return s + " " + fmt.Sprint(e.Value.Bool)
		case filter.KindTime:
			return s + " " + e.Value.Time.Format(time.RFC3339Nano)
		}
		return s + " " + fmt.Sprintf("%q", e.Value.Str)
	case nil:
		return "<nil>"
	}
	return fmt.Sprintf("<%T>", e)
}

func mustParse(t *testing.T, rt *schema.ResourceType, s string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(rt, s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}

// checkInvalidFilter fails unless err is a SCIM invalidFilter error with
// status 400.
func checkInvalidFilter(t testing.TB, input string, err error) scimerrors.ScimError {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) {
		t.Fatalf("%q: error %v (%T) is not a SCIM error", input, err, err)
	}
	if se.ScimType != scimerrors.ScimTypeInvalidFilter || se.Status != http.StatusBadRequest {
		t.Fatalf("%q: error %+v, want status 400 scimType invalidFilter", input, se)
	}
	return se
}

func TestParseRFC7644Examples(t *testing.T) {
	// RFC 7644 §3.4.2.2, the examples that apply to Users (all but the
	// one on "schemas", which scimbridge does not filter).
	tests := []struct{ in, want string }{
		{`userName eq "bjensen"`, `userName eq "bjensen"`},
		{`name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
		{`userName sw "J"`, `userName sw "J"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `userName sw "J"`},
		{`title pr`, `title pr`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt 2011-05-13T04:42:34Z`},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, `meta.lastModified ge 2011-05-13T04:42:34Z`},
		{`meta.lastModified lt "2011-05-13T04:42:34Z"`, `meta.lastModified lt 2011-05-13T04:42:34Z`},
		{`meta.lastModified le "2011-05-13T04:42:34Z"`, `meta.lastModified le 2011-05-13T04:42:34Z`},
		{`title pr and userType eq "Employee"`, `(title pr and userType eq "Employee")`},
		{`title pr or userType eq "Intern"`, `(title pr or userType eq "Intern")`},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
			`(userType eq "Employee" and (emails.value co "example.com" or emails.value co "example.org"))`},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
			`(userType ne "Employee" and not((emails.value co "example.com" or emails.value co "example.org")))`},
		{`userType eq "Employee" and (emails.type eq "work")`, `(userType eq "Employee" and emails.type eq "work")`},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
			`(userType eq "Employee" and emails[(emails.type eq "work" and emails.value co "@example.com")])`},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
			`(emails[(emails.type eq "work" and emails.value co "@example.com")] or ims[(ims.type eq "xmpp" and ims.value co "@foo.com")])`},
	}
	for _, tt := range tests {
		if got := render(mustParse(t, reg.User, tt.in)); got != tt.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestParseClientDialects(t *testing.T) {
	tests := []struct{ in, want string }{
		// Microsoft's reference client and Entra send unquoted values.
		{`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`,
			`(name.familyName eq "Employee" and (emails.value co "example.com" or emails.value co "example.org"))`},
		{`userName sw O`, `userName sw "O"`},
		{`meta.Created gt 2015-10-10T14:38:21.8617979-07:00`, `meta.created gt 2015-10-10T21:38:21.861797Z`},
		{`DisplayName eq BobIsAmazing`, `displayName eq "BobIsAmazing"`},
		{`active eq True`, `active eq true`},
		{`active eq "False"`, `active eq false`},
		{`userName eq R&D`, `userName eq "R&D"`},
		{`userName eq a<b>c`, `userName eq "a<b>c"`},
		{`externalId eq 12`, `externalId eq "12"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 701984`,
			enterprise + `:employeeNumber eq "701984"`},
		// Entra's value path with a sub-attribute.
		{`emails[type eq "work"].value eq "x@example.com"`, `emails[(emails.type eq "work" and emails.value eq "x@example.com")]`},
		{`emails[type eq "work"].value eq x@example.com`, `emails[(emails.type eq "work" and emails.value eq "x@example.com")]`},
		{`emails[type eq "work"].value pr`, `emails[(emails.type eq "work" and emails.value pr)]`},
		{`emails[Type eq "work"].Primary eq true and userName pr`, `(emails[(emails.type eq "work" and emails.primary eq true)] and userName pr)`},
		{`addresses[type eq "work"].streetAddress co "Main"`, `addresses[(addresses.type eq "work" and addresses.streetAddress co "Main")]`},
		// Extensions, with and without a sub-attribute.
		{enterprise + `:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, enterprise + `:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`},
		{enterprise + `:department sw "Eng"`, enterprise + `:department sw "Eng"`},
		{support + `:tier eq "support-tier-1-operations"`, support + `:tier eq "support-tier-1-operations"`},
		{support + `:sourceUserNames[source eq "slack"]`, support + `:sourceUserNames[` + support + `:sourceUserNames.source eq "slack"]`},
		// Common attributes, also under the core URN.
		{`id eq "2819c223-7f76-453a-919d-413861904646"`, `id eq "2819c223-7f76-453a-919d-413861904646"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:externalId eq "x"`, `externalId eq "x"`},
		{`meta.created eq null`, `not(meta.created pr)`},
		{`title ne null`, `title pr`},
		{`emails eq null`, `not(emails.value pr)`},
		{`emails pr`, `emails pr`},
		{`groups eq "e9e30dba-f08f-4109-8486-d5c6a331660a"`, `groups.value eq "e9e30dba-f08f-4109-8486-d5c6a331660a"`},
	}
	for _, tt := range tests {
		if got := render(mustParse(t, reg.User, tt.in)); got != tt.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestParseGroups(t *testing.T) {
	tests := []struct{ in, want string }{
		{`displayName eq "Admins"`, `displayName eq "Admins"`},
		{`members[value eq "abc"]`, `members[members.value eq "abc"]`},
		{`members.value eq "ABC"`, `members.value eq "ABC"`},
		{`members[type eq "Group"] and not (members.display co "x")`, `(members[members.type eq "Group"] and not(members.display co "x"))`},
		{`members eq "abc"`, `members.value eq "abc"`},
	}
	for _, tt := range tests {
		if got := render(mustParse(t, reg.Group, tt.in)); got != tt.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
	// members.value and groups.value compare ids case-insensitively.
	for _, s := range []string{`members.value eq "x"`, `members[value eq "x"]`} {
		e := mustParse(t, reg.Group, s)
		if !filter.Eval(e, filter.Resource{"members": []any{map[string]any{"value": "X"}}}) {
			t.Errorf("%s: member ids are not case-insensitive", s)
		}
	}
}

func TestParseStringEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`userName eq "a\"b"`, `a"b`},
		{`userName eq "back\\slash"`, `back\slash`},
		{`userName eq "a\/b"`, `a/b`},
		{`userName eq "tab\there"`, "tab\there"},
		{`userName eq "\u00C9t\u00E9"`, "Été"},
		{`userName eq "\u00e9t\u00c9"`, "étÉ"}, // JSON allows lower-case hex digits
		{`userName eq "\ud83d\ude00"`, "😀"},
		{`userName eq "Zoë"`, "Zoë"},
		{`userName eq "100%_\\"`, `100%_\`},
		{`userName eq ""`, ``},
		{`userName eq "and or not ) ( ] ["`, `and or not ) ( ] [`},
		{`emails[value eq "a]b"]`, `a]b`},
	}
	for _, tt := range tests {
		e := mustParse(t, reg.User, tt.in)
		var c *filter.Compare
		switch e := e.(type) {
		case *filter.Compare:
			c = e
		case *filter.ValuePath:
			c, _ = e.Filter.(*filter.Compare)
		}
		if c == nil || c.Value.Str != tt.want {
			t.Errorf("Parse(%q) = %s, want the value %q", tt.in, render(e), tt.want)
		}
	}
}

func TestParsePrecedence(t *testing.T) {
	tests := []struct{ in, want string }{
		{`userName eq "a" or title eq "b" and nickName eq "c"`, `(userName eq "a" or (title eq "b" and nickName eq "c"))`},
		{`userName eq "a" and title eq "b" or nickName eq "c"`, `((userName eq "a" and title eq "b") or nickName eq "c")`},
		{`(userName eq "a" or title eq "b") and nickName eq "c"`, `((userName eq "a" or title eq "b") and nickName eq "c")`},
		{`not (userName eq "a") or title pr and nickName pr`, `(not(userName eq "a") or (title pr and nickName pr))`},
		{`userName pr or title pr or nickName pr`, `((userName pr or title pr) or nickName pr)`},
		{`userName pr and title pr and nickName pr`, `((userName pr and title pr) and nickName pr)`},
		{`not(not(userName pr))`, `not(not(userName pr))`},
		{`emails[type eq "work" or primary eq true] and title pr`, `(emails[(emails.type eq "work" or emails.primary eq true)] and title pr)`},
		{`emails[not (type eq "work")]`, `emails[not(emails.type eq "work")]`},
		{`((((userName pr))))`, `userName pr`},
	}
	for _, tt := range tests {
		if got := render(mustParse(t, reg.User, tt.in)); got != tt.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestParseCaseInsensitive(t *testing.T) {
	want := render(mustParse(t, reg.User, `userName eq "x" and not (emails[type eq "work"] or meta.lastModified gt "2020-01-01T00:00:00Z") and title pr`))
	for _, s := range []string{
		`USERNAME EQ "x" AND NOT (EMAILS[TYPE EQ "work"] OR META.LASTMODIFIED GT "2020-01-01T00:00:00Z") AND TITLE PR`,
		`UserName Eq "x" And Not (Emails[Type eQ "work"] Or Meta.LastModified Gt "2020-01-01T00:00:00Z") And Title Pr`,
		`URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:username eq "x" and not (emails[type eq "work"] or meta.lastmodified gt "2020-01-01T00:00:00Z") and title pr`,
	} {
		if got := render(mustParse(t, reg.User, s)); got != want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", s, got, want)
		}
	}
	// The value keeps its case; the attribute's caseExact decides matching.
	if got := render(mustParse(t, reg.User, `userName EQ "BJensen"`)); got != `userName eq "BJensen"` {
		t.Errorf("got %s", got)
	}
	e := mustParse(t, reg.User, strings.ToUpper(enterprise)+`:DEPARTMENT eq "x"`)
	if c, ok := e.(*filter.Compare); !ok || c.Attr.URN != enterprise || c.Attr.Name != "department" || !c.Attr.Extension {
		t.Errorf("upper-case extension URN resolved to %s", render(e))
	}
}

func TestParseTimes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`meta.created eq "2020-01-02T03:04:05Z"`, `2020-01-02T03:04:05Z`},
		{`meta.created eq "2020-01-02T03:04:05.123456789Z"`, `2020-01-02T03:04:05.123456Z`}, // truncated to µs
		{`meta.created eq "2020-01-02T03:04:05.9999999+01:00"`, `2020-01-02T02:04:05.999999Z`},
		{`meta.created eq "2020-01-02T03:04:05-07:00"`, `2020-01-02T10:04:05Z`},
	}
	for _, tt := range tests {
		c, ok := mustParse(t, reg.User, tt.in).(*filter.Compare)
		if !ok || c.Value.Kind != filter.KindTime || c.Value.Time.Format(time.RFC3339Nano) != tt.want || c.Value.Time.Location() != time.UTC {
			t.Errorf("Parse(%q) = %+v, want %s UTC", tt.in, c, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("not (", 65) + "userName pr" + strings.Repeat(")", 65)
	deepRight := strings.Repeat("userName pr and (title pr or (", 33) + "nickName pr" + strings.Repeat("))", 33)
	tests := []struct {
		in     string
		detail string // a part of the error's detail
	}{
		{`nosuch eq "x"`, `"nosuch"`},
		{`name.nosuch eq "x"`, `"nosuch"`},
		{`emails[nosuch eq "x"]`, `"nosuch"`},
		{`urn:example:params:scim:schemas:unknown:2.0:User:foo eq "x"`, `urn:example:params:scim:schemas:unknown:2.0:User`},
		{enterprise + `:nosuch eq "x"`, `"nosuch"`},
		{`active eq "maybe"`, `active`},
		{`active gt true`, `active`},
		{`active co "t"`, `active`},
		{`meta.created gt "not-a-date"`, `not-a-date`},
		{`meta.created gt "2020-01-01"`, `2020-01-01`},
		{`meta.created co "2020"`, `meta.created`},
		{`meta.created eq true`, `meta.created`},
		{`meta.version eq "x"`, `meta.version`},
		{`meta eq "x"`, `meta`},
		{`name eq "x"`, `name`},
		{`name eq null`, `name`},
		{`password eq "x"`, `password`},
		{`groups.$ref eq "x"`, `$ref`},
		{`userName eq true`, `userName`},
		{`userName gt null`, `null`},
		{`id.sub eq "x"`, `id`},
		{`userName.sub eq "x"`, `userName`},
		{`name[givenName eq "x"]`, `name`},
		{`emails.value[type eq "x"]`, `emails.value`},
		{`emails[value eq "x"][type eq "y"]`, `not a valid SCIM filter`},
		{`emails[type[value eq "x"]]`, `not a valid SCIM filter`},
		{`emails[type eq "work"`, `not a valid SCIM filter`},
		{`userName eq "abc`, `not terminated`},
		{`userName eq "abc\"`, `not terminated`},
		{`userName eq "x" and`, `not a valid SCIM filter`},
		{`userName eq`, `not a valid SCIM filter`},
		{`userName`, `not a valid SCIM filter`},
		{`userName xx "x"`, `not a valid SCIM filter`},
		{`not userName pr`, `not a valid SCIM filter`},
		{`(userName pr`, `not a valid SCIM filter`},
		{`userName pr)`, `not a valid SCIM filter`},
		{`userName eq "\x"`, `not a valid SCIM filter`},
		{`userName eq "\u12"`, `not a valid SCIM filter`},
		{`userName eq "a\u0000b"`, `NUL`},
		{`externalId eq "\u0000"`, `NUL`},
		{"externalId eq \"\xff\"", `UTF-8`},
		{"externalId eq a\xffb", `UTF-8`},
		{"", `empty`},
		{" \t ", `empty`},
		{`userName eq "` + strings.Repeat("a", filter.MaxLength) + `"`, `limit`},
		{deep, `64`},
		{deepRight, `64`},
	}
	for _, tt := range tests {
		e, err := filter.Parse(reg.User, tt.in)
		if err == nil {
			t.Errorf("Parse(%.80q) = %s, want an error", tt.in, render(e))
			continue
		}
		se := checkInvalidFilter(t, tt.in, err)
		if !strings.Contains(se.Detail, tt.detail) {
			t.Errorf("Parse(%.80q): detail %q does not mention %q", tt.in, se.Detail, tt.detail)
		}
	}
}

func TestParseLimits(t *testing.T) {
	// 64 levels of nesting are accepted, 65 are not (TestParseErrors).
	ok := strings.Repeat("not (", 64) + "userName pr" + strings.Repeat(")", 64)
	mustParse(t, reg.User, ok)
	// A flat list of comparisons is no nesting, however long: clients look
	// up many ids at once.
	var b strings.Builder
	b.WriteString(`id eq "0"`)
	n := 1
	for b.Len()+len(` or id eq "000"`) <= filter.MaxLength {
		fmt.Fprintf(&b, ` or id eq "%03d"`, n)
		n++
	}
	e := mustParse(t, reg.User, b.String())
	if n < 200 || !filter.Eval(e, filter.Resource{"id": fmt.Sprintf("%03d", n-1)}) || filter.Eval(e, filter.Resource{"id": "x"}) {
		t.Fatalf("a flat list of %d comparisons: %T", n, e)
	}
	and := strings.Repeat(`title pr and `, 300) + `title pr`
	mustParse(t, reg.User, and)
	exact := `userName eq "` + strings.Repeat("a", filter.MaxLength-len(`userName eq ""`)) + `"`
	if len(exact) != filter.MaxLength {
		t.Fatal("bad test")
	}
	mustParse(t, reg.User, exact)
}

func TestParseLenient(t *testing.T) {
	tests := []struct{ in, want string }{
		{`nosuch eq "x"`, `false`},
		{`nosuch ne "x"`, `true`},
		{`nosuch pr or userName eq "a"`, `(false or userName eq "a")`},
		{`urn:example:unknown:2.0:Thing:foo eq "x"`, `false`},
		{`nosuch[value eq "x"]`, `false`},
	}
	for _, tt := range tests {
		e, err := filter.ParseLenient(reg.User, tt.in)
		if err != nil || render(e) != tt.want {
			t.Errorf("ParseLenient(%q) = %s, %v; want %s", tt.in, render(e), err, tt.want)
		}
	}
	// Type errors stay errors.
	if _, err := filter.ParseLenient(reg.User, `active eq "maybe"`); err == nil {
		t.Error(`ParseLenient(active eq "maybe") succeeded`)
	}
}

func TestResolvePath(t *testing.T) {
	tests := []struct {
		in                    string
		name, sub, typ, urn   string
		caseExact, multi, ext bool
	}{
		{"userName", "userName", "", "string", schema.UserURN, false, false, false},
		{"name.familyName", "name", "familyName", "string", schema.UserURN, false, false, false},
		{"NAME.FAMILYNAME", "name", "familyName", "string", schema.UserURN, false, false, false},
		{"emails.value", "emails", "value", "string", schema.UserURN, false, true, false},
		{"emails", "emails", "", "complex", schema.UserURN, false, true, false},
		{"meta.lastModified", "meta", "lastModified", "dateTime", "", false, false, false},
		{"externalId", "externalId", "", "string", "", true, false, false},
		{"urn:ietf:params:scim:schemas:core:2.0:User:title", "title", "", "string", schema.UserURN, false, false, false},
		{enterprise + ":department", "department", "", "string", enterprise, false, false, true},
		{enterprise + ":manager.value", "manager", "value", "string", enterprise, false, false, true},
		{support + ":tier", "tier", "", "string", support, true, false, true},
		{"groups.value", "groups", "value", "string", schema.UserURN, false, true, false},
	}
	for _, tt := range tests {
		a, err := filter.ResolvePath(reg.User, tt.in)
		if err != nil {
			t.Errorf("ResolvePath(%q): %v", tt.in, err)
			continue
		}
		if a.Name != tt.name || a.Sub != tt.sub || a.Type != tt.typ || a.URN != tt.urn || a.CaseExact != tt.caseExact ||
			a.MultiValued != tt.multi || a.Extension != tt.ext {
			t.Errorf("ResolvePath(%q) = %+v", tt.in, a)
		}
	}
	for _, in := range []string{"", "nosuch", "name.nosuch", "password", "meta", "meta.version", "emails[type eq \"work\"]",
		"userName eq \"x\"", "urn:x:y:z", enterprise + ":nosuch", strings.Repeat("a", 600), "a..b", "groups.$ref"} {
		_, err := filter.ResolvePath(reg.User, in)
		if err == nil {
			t.Errorf("ResolvePath(%.60q) succeeded", in)
			continue
		}
		checkInvalidFilter(t, in, err)
	}
}
