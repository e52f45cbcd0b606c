package csvbridge

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSupportTiersSeed000 reads seed 000's format: the example row, the
// four exact tier strings, and its three common failures (invalid email,
// duplicate email, wrong tier), each on the row a spreadsheet shows.
func TestSupportTiersSeed000(t *testing.T) {
	in := "\xEF\xBB\xBFfirst_name,last_name,email,tier\r\n" +
		"John,Doe,jdoe@talonhealthtech.com,support-tier-1-operations\r\n" +
		"Ann,Lee,ann@talonhealthtech.com,support-tier-0-help-desk\r\n" +
		"Bad,Mail,ann(at)talonhealthtech.com,support-tier-2-software-partner\r\n" +
		"Same,Mail,JDoe@TalonHealthTech.com,support-tier-3-engineering\r\n" +
		"Wrong,Tier,wt@talonhealthtech.com,Tier 1\r\n" +
		"\r\n"
	rows := mustImport(t, SupportTiersProfile(), in)
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	if !rows[0].OK() || !rows[1].OK() {
		t.Fatalf("valid rows: %+v %+v", rows[0].Issues, rows[1].Issues)
	}
	for _, c := range []struct {
		i         int
		code, col string
		row       int
	}{{2, CodeInvalidEmail, "email", 4}, {3, CodeDuplicateInFile, "email", 5}, {4, CodeEnum, "tier", 6}} {
		is := issue(t, rows[c.i], c.code)
		if is.Column != c.col || is.Row != c.row {
			t.Errorf("%s: %+v", c.code, is)
		}
	}
	if is := issue(t, rows[3], CodeDuplicateInFile); !strings.Contains(is.Message, "Row 2") || len(rows[3].Errors()) != 1 {
		t.Errorf("one duplicate error naming the first row: %+v", rows[3].Issues)
	}

	// The email is the userName and the primary work email; the tier the
	// support extension's tier. The document is one the schema accepts.
	doc := rows[0].Record.Document()
	norm, err := registry.User.Normalize(doc)
	if err != nil {
		t.Fatalf("normalize %v: %v", doc, err)
	}
	want := map[string]any{
		"userName": "jdoe@talonhealthtech.com",
		"name":     map[string]any{"givenName": "John", "familyName": "Doe"},
		"emails":   []any{map[string]any{"type": "work", "primary": true, "value": "jdoe@talonhealthtech.com"}},
		"urn:scimbridge:params:scim:schemas:extension:support:2.0:User": map[string]any{"tier": "support-tier-1-operations"},
	}
	if !reflect.DeepEqual(norm, want) {
		t.Errorf("document\n got %#v\nwant %#v", norm, want)
	}
}

func TestDuplicatesByMatchKey(t *testing.T) {
	in := "userName,externalId,emails[type eq \"work\"].value\n" +
		"ada,X1,ada@example.com\n" +
		"ADA,X2,other@example.com\n" + // same userName, in another case
		"bob,x1,bob@example.com\n" + // externalId is case-exact: not a duplicate
		"cy,X1,cy@example.com\n" + // same externalId
		"dee,X4,Ada@Example.com\n" // same email
	rows := mustImport(t, SCIMProfile(), in)
	wantDup := []bool{false, true, false, true, true}
	for i, r := range rows {
		if got := slices.Contains(codes(r.Issues), CodeDuplicateInFile); got != wantDup[i] {
			t.Errorf("row %d: duplicate %v, want %v (%+v)", r.Number, got, wantDup[i], r.Issues)
		}
	}
	if is := issue(t, rows[3], CodeDuplicateInFile); is.Column != "externalId" || !strings.Contains(is.Message, "Row 2") {
		t.Errorf("issue %+v", is)
	}
}

func TestRowNumbersAfterPreamble(t *testing.T) {
	in := "sep=;\nfirst_name;last_name;email;tier\n\nJohn;Doe;bad-email;support-tier-1-operations\n"
	rows := mustImport(t, SupportTiersProfile(), in)
	if is := issue(t, rows[0], CodeInvalidEmail); is.Row != 4 {
		t.Errorf("row %d, want 4 (sep line 1, header 2, blank 3)", is.Row)
	}
}

func TestSCIMDocumentNormalizes(t *testing.T) {
	in := "userName,name.givenName,name.familyName,emails[type eq \"work\"].value,emails[type eq \"home\"].value,active," +
		enterprise + "department," + enterprise + "manager.value,urn:scimbridge:params:scim:schemas:extension:support:2.0:User:tier,roles.value,phoneNumbers[type eq \"mobile\"].value\n" +
		"ada,Ada,Lovelace,ada@work.example,ada@home.example,false,Research,boss-id,support-tier-2-software-partner,dev|ops,5551234\n"
	rows := mustImport(t, SCIMProfile(), in)
	if !rows[0].OK() {
		t.Fatal(rows[0].Issues)
	}
	norm, err := registry.User.Normalize(rows[0].Record.Document())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(norm)
	for _, want := range []string{`"userName":"ada"`, `"active":false`, `{"type":"work","value":"ada@work.example"}`, `{"type":"home","value":"ada@home.example"}`,
		`"department":"Research"`, `"manager":{"value":"boss-id"}`, `"tier":"support-tier-2-software-partner"`, `"roles":[{"value":"dev"},{"value":"ops"}]`,
		`"phoneNumbers":[{"type":"mobile","value":"5551234"}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("document %s lacks %s", b, want)
		}
	}
	// The tier's four exact strings are enforced from the schema.
	rows = mustImport(t, SCIMProfile(), "userName,urn:scimbridge:params:scim:schemas:extension:support:2.0:User:tier\nbob,support-tier-9\n")
	issue(t, rows[0], CodeEnum)
}

func TestProfilesAreData(t *testing.T) {
	for _, p := range BuiltinProfiles() {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back Profile
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&back, p) || back.Version < 1 {
			t.Errorf("%s does not survive JSON:\n%s", p.Name, b)
		}
	}
	p, ok := Builtin(ProfileSupportTiers)
	if !ok || p.Commit != CommitApplyValid || !slices.Equal(p.Columns[3].Enum, []string{"support-tier-0-help-desk", "support-tier-1-operations", "support-tier-2-software-partner", "support-tier-3-engineering"}) {
		t.Errorf("support-tiers %+v", p)
	}
	p.Columns[0].Header = "changed"
	if again, _ := Builtin(ProfileSupportTiers); again.Columns[0].Header != "first_name" {
		t.Error("Builtin must return a fresh copy")
	}
	if _, ok := Builtin("nope"); ok {
		t.Error("unknown profile found")
	}
	// A profile from JSON (seed 001's value map) works like a built-in.
	var fromJSON Profile
	src := `{"name":"seed-001","version":2,"resourceType":"User","unknownColumns":"error","matchKeys":["email"],"commit":"apply-valid","maxRows":2000,
		"columns":[{"header":"Primary Email","paths":["emails[type eq \"work\" and primary eq true].value","userName"],"required":"always","format":"email"},
		{"header":"Current Status","paths":["active"],"type":"boolean","valueMap":{"Active":true,"Archived":false}}]}`
	if err := json.Unmarshal([]byte(src), &fromJSON); err != nil {
		t.Fatal(err)
	}
	rows := mustImport(t, &fromJSON, "Primary Email,Current Status\nx@example.com,Archived\n")
	if !rows[0].OK() || field(t, rows[0], "active").Value != false {
		t.Errorf("row %+v", rows[0])
	}
}

func TestProfileRowLimit(t *testing.T) {
	p := SupportTiersProfile()
	p.MaxRows = 2
	row := "A,B,%s@example.com,support-tier-0-help-desk\n"
	in := "first_name,last_name,email,tier\n"
	for _, n := range []string{"a", "b", "c"} {
		in += strings.Replace(row, "%s", n, 1)
	}
	rows, err := importAll(t, p, in)
	if is := fileErr(t, err, CodeTooManyRows); len(rows) != 2 || !strings.Contains(is.Message, "limit is 2") {
		t.Errorf("rows %d, %s", len(rows), is.Message)
	}
}

func TestFileErrorText(t *testing.T) {
	_, err := importAll(t, SupportTiersProfile(), "first_name,last_name,email,tier\n")
	if err == nil || !strings.Contains(err.Error(), "Users file is empty") {
		t.Errorf("error %v", err)
	}
	is := Issue{Code: CodeEnum, Row: 7, Column: "tier", Message: "bad", Hint: "fix"}
	if is.String() != "row 7: tier: bad (fix)" {
		t.Errorf("String %q", is.String())
	}
}
