package csvbridge

import (
	"slices"
	"strings"
	"testing"
)

func TestHeaderKey(t *testing.T) {
	for _, c := range []struct {
		cell, key string
		required  bool
	}{
		{"User name [userName] Required", "userName", true},
		{"Name [displayName] Required", "displayName", true},
		{"Initial password [passwordProfile] Required", "passwordProfile", true},
		{"Block sign in (Yes/No) [accountEnabled] Required", "accountEnabled", true},
		{"First name [givenName]", "givenName", false},
		{"  Job title [jobTitle]  ", "jobTitle", false},
		{"User name [userName] required", "userName", true},
		{`emails[type eq "work"].value`, `emails[type eq "work"].value`, false},
		{`emails[type eq "work"]`, `emails[type eq "work"]`, false},
		{"emails[primary eq true]", "emails[primary eq true]", false},
		{" first_name ", "first_name", false},
		{"[x]", "[x]", false},
		{"Required", "Required", false},
	} {
		key, req := HeaderKey(c.cell)
		if key != c.key || req != c.required {
			t.Errorf("HeaderKey(%q) = %q, %v; want %q, %v", c.cell, key, req, c.key, c.required)
		}
	}
	if FoldHeader("\ufeff First_Name\u00a0") != "first_name" {
		t.Error("FoldHeader should trim (BOM, NBSP) and fold")
	}
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA"} {
		if got := ColumnLetter(i); got != want {
			t.Errorf("ColumnLetter(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestBindSupportTiersHeaders(t *testing.T) {
	ok := []string{
		"first_name,last_name,email,tier",
		" First_Name , LAST_NAME ,Email,Tier",
		"first_name,last_name,email,tier,,",                               // trailing empty columns
		"first_name,last_name,email,tier,_row,_status,_error_code,_error", // a report, uploaded again
	}
	for _, h := range ok {
		if _, err := Bind(SupportTiersProfile(), registry, strings.Split(h, ",")); err != nil {
			t.Errorf("%q: %v", h, err)
		}
	}
	for _, c := range []struct{ header, code, column string }{
		{"first_name,last_name,email", CodeMissingHeader, ""},
		{"first_name,last_name,email,tier,email", CodeDuplicateHeader, "email"},
		{"first_name,last_name,Email ,tier,EMAIL", CodeDuplicateHeader, "EMAIL"},
		{"first_name,last_name,email,tier,phone", CodeUnknownColumn, "phone"},
		{"last_name,first_name,email,tier", CodeHeaderOrder, ""},
		{"first_name,,last_name,email,tier", CodeMissingHeader, ""},
		{"John,Doe,jdoe@example.com,support-tier-1-operations", CodeUnknownColumn, "John"},
	} {
		_, err := Bind(SupportTiersProfile(), registry, strings.Split(c.header, ","))
		is := fileErr(t, err, c.code)
		if is.Column != c.column {
			t.Errorf("%q: column %q, want %q (%s)", c.header, is.Column, c.column, is.Message)
		}
	}
	_, err := Bind(SupportTiersProfile(), registry, strings.Split("first_name,last_name,email,tier,email", ","))
	if is := fileErr(t, err, CodeDuplicateHeader); !strings.Contains(is.Message, "Columns C and E") {
		t.Errorf("the message should name the columns by letter: %s", is.Message)
	}
}

func TestBindUnknownColumnsIgnoredByPolicy(t *testing.T) {
	p := SupportTiersProfile()
	p.StrictOrder, p.UnknownColumns = false, UnknownIgnore
	m, err := Bind(p, registry, []string{"notes", "first_name", "last_name", "email", "tier"})
	if err != nil {
		t.Fatal(err)
	}
	if !m.cols[0].ignore {
		t.Error("the unknown column should be ignored")
	}
}

func TestBindSCIMPaths(t *testing.T) {
	header := []string{"userName", "NAME.GIVENNAME", `emails[type eq "work"].value`,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"urn:scimbridge:params:scim:schemas:extension:support:2.0:User:tier", "active", "externalId", "id", "action", "roles.value", "password"}
	m, err := Bind(SCIMProfile(), registry, header)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, bc := range m.cols {
		for _, tg := range bc.targets {
			paths = append(paths, tg.Path)
		}
	}
	want := []string{"userName", "name.givenName", `emails[type eq "work"].value`,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"urn:scimbridge:params:scim:schemas:extension:support:2.0:User:tier", "active", "externalId", "id", "roles.value", "password"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths\n got %q\nwant %q", paths, want)
	}
	if m.action != 8 {
		t.Errorf("action column %d", m.action)
	}
}

func TestBindSCIMErrors(t *testing.T) {
	for _, c := range []struct {
		header []string
		code   string
		says   string
	}{
		{[]string{"userName", "nickname2"}, CodeUnknownColumn, `"nickname2"`},
		{[]string{"userName", "urn:example:params:scim:schemas:extension:acme:2.0:User:badge"}, CodeUnknownColumn, "not served"},
		{[]string{"userName", "meta.created"}, CodeUnknownColumn, "read-only"},
		{[]string{"userName", "groups.value"}, CodeUnknownColumn, "read-only"},
		{[]string{"userName", "name"}, CodeUnknownColumn, "complex"},
		{[]string{"userName", `emails[type eq "work"]`}, CodeUnknownColumn, "sub-attribute"},
		{[]string{"userName", `emails[value co "x"].value`}, CodeUnknownColumn, "eq comparisons"},
		{[]string{"userName", "emails.type"}, CodeUnknownColumn, "select one element"},
		{[]string{"userName", "Username"}, CodeDuplicateHeader, "both"},
		{[]string{"name.givenName", "title"}, CodeMissingHeader, "find users by"},
	} {
		_, err := Bind(SCIMProfile(), registry, c.header)
		if is := fileErr(t, err, c.code); !strings.Contains(is.Message, c.says) {
			t.Errorf("%q: message %q should say %q", c.header, is.Message, c.says)
		}
	}
}

func TestBindEntraHeaders(t *testing.T) {
	// Entra's template maps through a profile whose columns are the
	// bracketed keys.
	p := &Profile{Name: "entra-bulk-create", Version: 1, ResourceType: "User", UnknownColumns: UnknownError,
		MatchKeys: []MatchKey{MatchUserName}, Commit: CommitAllOrNothing,
		Columns: []Column{
			{Header: "displayName", Paths: []string{"displayName"}, Required: RequiredAlways},
			{Header: "userPrincipalName", Aliases: []string{"userName"}, Paths: []string{"userName"}, Required: RequiredAlways},
			{Header: "passwordProfile", Paths: []string{"password"}, Required: RequiredOnCreate},
			{Header: "accountEnabled", Paths: []string{"active"}, Type: TypeBoolean, ValueMap: map[string]any{"Yes": false, "No": true}},
		}}
	in := "version:v1.0\n" +
		"Name [displayName] Required,User name [userName] Required,Initial password [passwordProfile] Required,Block sign in (Yes/No) [accountEnabled] Required\n" +
		"Chris Green,chris@contoso.com,Secr3t!pass,Yes\n"
	rows := mustImport(t, p, in)
	if len(rows) != 1 || rows[0].Number != 3 || !rows[0].OK() {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if field(t, r, "userName").Value != "chris@contoso.com" || field(t, r, "active").Value != false || field(t, r, "displayName").Header != "Name [displayName] Required" {
		t.Errorf("fields %+v", r.Record.Fields)
	}
	// The scim profile names the Entra key it does not know.
	_, err := importAll(t, SCIMProfile(), in)
	if is := fileErr(t, err, CodeUnknownColumn); !strings.Contains(is.Message, "Initial password [passwordProfile]") {
		t.Errorf("message %q", is.Message)
	}
}

func TestProfileValidate(t *testing.T) {
	for _, p := range BuiltinProfiles() {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	bad := SupportTiersProfile()
	bad.Commit, bad.MatchKeys = "sometimes", []MatchKey{"phone"}
	bad.Columns[0].Pattern = "("
	bad.Columns[1].Multi = &MultiValue{}
	err := bad.Validate()
	for _, want := range []string{"commit: ", "matchKeys[0]: ", "columns[0].pattern: ", "columns[1].multi: a multi-value"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate should report %s: %v", want, err)
		}
	}
	if _, err := Bind(bad, registry, []string{"email"}); err == nil {
		t.Error("Bind should refuse an invalid profile")
	}
	misspelt := SupportTiersProfile()
	misspelt.Columns[0].Paths = []string{"name.givnName"}
	_, err = Bind(misspelt, registry, strings.Split("first_name,last_name,email,tier", ","))
	fileErr(t, err, CodeInvalidProfile)
}
