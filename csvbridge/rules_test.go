package csvbridge

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"

// rulesProfile exercises every rule (seeds 001, 003 and 004 columns).
func rulesProfile() *Profile {
	return &Profile{Name: "rules", Version: 3, ResourceType: "User", UnknownColumns: UnknownError,
		MatchKeys: []MatchKey{MatchUserName, MatchEmail, MatchExternalID}, ClearToken: "#clear", Commit: CommitAllowExclusions,
		Action: &ActionColumn{Header: "transaction", Values: map[string]RowAction{"DELETE": ActionDelete, "deactivate": ActionDeactivate}},
		Columns: []Column{
			{Header: "userId", Paths: []string{"userName"}, Required: RequiredOnCreate},
			{Header: "lastName", Paths: []string{"name.familyName"}, Required: RequiredAlways},
			{Header: "Primary Email", Paths: []string{`emails[type eq "work"].value`}, Format: "email", Unique: true},
			{Header: "Internal ID", Paths: []string{"externalId"}, Pattern: `^\d{6}$`, IDLike: true},
			{Header: "Current Status", Paths: []string{"active"}, Type: TypeBoolean, ValueMap: map[string]any{"Active": true, "Archived": false}},
			{Header: "Role", Paths: []string{"title"}, Enum: []string{"User", "Admin", "Supervisor"}},
			{Header: "nick", Paths: []string{"nickName"}, MinLength: 2, MaxLength: 5},
			{Header: "hired", Paths: []string{enterprise + "costCenter"}, Type: TypeDate},
			{Header: "number", Paths: []string{enterprise + "employeeNumber"}, Type: TypeInteger},
			{Header: "rate", Paths: []string{enterprise + "division"}, Type: TypeDecimal},
			{Header: "roles", Paths: []string{"roles.value"}, Multi: &MultiValue{Separator: "|", Merge: MergeReplace}},
		}}
}

var rulesHeader = []string{"userId", "lastName", "Primary Email", "Internal ID", "Current Status", "Role", "nick", "hired", "number", "rate", "roles", "transaction"}

// rulesRow is a valid row with some cells replaced.
func rulesRow(set map[string]string) string {
	base := map[string]string{"userId": "ada", "lastName": "Lovelace", "Primary Email": "ada@example.com", "Internal ID": "001234",
		"Current Status": "Active", "Role": "Admin", "nick": "ada", "hired": "2024-01-31", "number": "42", "rate": "1.5", "roles": "a|b", "transaction": ""}
	cells := make([]string, len(rulesHeader))
	for i, h := range rulesHeader {
		cells[i] = base[h]
		if v, ok := set[h]; ok {
			cells[i] = v
		}
	}
	return csvLine(cells)
}

func csvLine(cells []string) string {
	out := make([]string, len(cells))
	for i, c := range cells {
		if strings.ContainsAny(c, ",\"\n") {
			c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		out[i] = c
	}
	return strings.Join(out, ",")
}

func rulesImport(t *testing.T, rows ...string) []Row {
	t.Helper()
	return mustImport(t, rulesProfile(), strings.Join(append([]string{strings.Join(rulesHeader, ",")}, rows...), "\n")+"\n")
}

func TestRulesValidRow(t *testing.T) {
	r := rulesImport(t, rulesRow(nil))[0]
	if len(r.Issues) > 0 || len(r.Record.CreateIssues) > 0 {
		t.Fatalf("issues %+v", r.Issues)
	}
	want := map[string]any{"userName": "ada", "name.familyName": "Lovelace", `emails[type eq "work"].value`: "ada@example.com",
		"externalId": "001234", "active": true, "title": "Admin", "nickName": "ada", enterprise + "costCenter": "2024-01-31",
		enterprise + "employeeNumber": json.Number("42"), enterprise + "division": json.Number("1.5")}
	for path, v := range want {
		if got := field(t, r, path).Value; got != v {
			t.Errorf("%s = %#v, want %#v", path, got, v)
		}
	}
	roles := field(t, r, "roles.value")
	if !slices.Equal(roles.Value.([]any), []any{"a", "b"}) || roles.Merge != MergeReplace {
		t.Errorf("roles %+v", roles)
	}
	if r.Record.Action != ActionUpsert {
		t.Errorf("action %s", r.Record.Action)
	}
	wantMatch := []MatchValue{{MatchUserName, "ada"}, {MatchEmail, "ada@example.com"}, {MatchExternalID, "001234"}}
	if !slices.Equal(r.Record.Match, wantMatch) {
		t.Errorf("match %+v", r.Record.Match)
	}
}

func TestRulesErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		set    map[string]string
		code   string
		column string
		rule   string
	}{
		{"required", map[string]string{"lastName": "  "}, CodeRequired, "lastName", "required"},
		{"email", map[string]string{"Primary Email": "ada@example"}, CodeInvalidEmail, "Primary Email", "format email"},
		{"email with a display name", map[string]string{"Primary Email": "Ada <ada@example.com>"}, CodeInvalidEmail, "Primary Email", "format email"},
		{"enum", map[string]string{"Role": "Owner"}, CodeEnum, "Role", "enum"},
		{"too long", map[string]string{"nick": "adalove"}, CodeTooLong, "nick", "maxLength 5"},
		{"too short", map[string]string{"nick": "a"}, CodeTooShort, "nick", "minLength 2"},
		{"pattern", map[string]string{"Internal ID": "12-34"}, CodePattern, "Internal ID", `pattern ^\d{6}$`},
		{"boolean", map[string]string{"Current Status": "Maybe"}, CodeInvalidBoolean, "Current Status", "type boolean"},
		{"integer", map[string]string{"number": "4.2"}, CodeInvalidInteger, "number", "type integer"},
		{"decimal", map[string]string{"rate": "1,5"}, CodeInvalidDecimal, "rate", "type decimal"},
		{"date", map[string]string{"hired": "31/01/2024"}, CodeInvalidDate, "hired", "type date"},
		{"action", map[string]string{"transaction": "REMOVE"}, CodeInvalidAction, "transaction", "enum"},
		{"clear a required column", map[string]string{"lastName": "#clear"}, CodeCannotClear, "lastName", "required"},
		{"clear a match key", map[string]string{"userId": "#CLEAR"}, CodeCannotClear, "userId", "required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rulesImport(t, rulesRow(c.set))[0]
			is := issue(t, r, c.code)
			if is.Column != c.column || is.Rule != c.rule || is.Row != 2 || is.Severity != SeverityError || is.Message == "" {
				t.Errorf("issue %+v", is)
			}
			if r.OK() {
				t.Error("the row should not be OK")
			}
		})
	}
}

func TestRulesEnumHintSuggestsCase(t *testing.T) {
	r := rulesImport(t, rulesRow(map[string]string{"Role": "admin"}))[0]
	if is := issue(t, r, CodeEnum); !strings.Contains(is.Hint, `"Admin"`) {
		t.Errorf("hint %q", is.Hint)
	}
}

func TestRulesRequiredOnCreate(t *testing.T) {
	r := rulesImport(t, rulesRow(map[string]string{"userId": ""}))[0]
	if !r.OK() {
		t.Fatalf("a blank create-only column is not an error by itself: %+v", r.Issues)
	}
	if len(r.Record.CreateIssues) != 1 || r.Record.CreateIssues[0].Code != CodeRequired || r.Record.CreateIssues[0].Column != "userId" {
		t.Errorf("create issues %+v", r.Record.CreateIssues)
	}
	// The column absent altogether: every row carries the create issue.
	rows := mustImport(t, SCIMProfile(), "externalId,title\nx1,Boss\n")
	if ci := rows[0].Record.CreateIssues; len(ci) != 1 || ci[0].Column != "userName" {
		t.Errorf("create issues %+v", ci)
	}
}

func TestRulesEmptyCellPolicy(t *testing.T) {
	r := rulesImport(t, rulesRow(map[string]string{"nick": "", "Role": "#clear"}))[0]
	if !r.OK() {
		t.Fatal(r.Issues)
	}
	for _, f := range r.Record.Fields {
		if f.Target.Path == "nickName" {
			t.Error("a blank cell keeps the existing value: no field")
		}
	}
	if f := field(t, r, "title"); !f.Clear || f.Value != nil {
		t.Errorf("the clear token clears: %+v", f)
	}
	if _, ok := r.Record.Document()["title"]; ok {
		t.Error("a cleared field is not part of a create document")
	}
}

func TestRulesValueMapAndActions(t *testing.T) {
	rows := rulesImport(t,
		rulesRow(map[string]string{"Current Status": " archived ", "transaction": "delete"}),
		rulesRow(map[string]string{"userId": "bob", "Primary Email": "bob@example.com", "Internal ID": "000002", "Current Status": "yes", "transaction": "Deactivate"}),
	)
	if field(t, rows[0], "active").Value != false || rows[0].Record.Action != ActionDelete {
		t.Errorf("row 2: %+v", rows[0].Record)
	}
	if field(t, rows[1], "active").Value != true || rows[1].Record.Action != ActionDeactivate {
		t.Errorf("row 3: %+v", rows[1].Record)
	}
}

func TestRulesExcelWarnings(t *testing.T) {
	for _, c := range []struct {
		name, column, value, code string
		alsoError                 string
	}{
		{"scientific notation", "Internal ID", "1.23E+11", CodeExcelScientific, CodePattern},
		{"lost leading zeros", "Internal ID", "1234", CodeExcelLeadingZeros, CodePattern},
		{"date serial", "hired", "45322", CodeExcelDateSerial, CodeInvalidDate},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rulesImport(t, rulesRow(map[string]string{c.column: c.value}))[0]
			w := issue(t, r, c.code)
			if w.Severity != SeverityWarning || w.Column != c.column || w.Hint == "" {
				t.Errorf("warning %+v", w)
			}
			issue(t, r, c.alsoError)
		})
	}
	r := rulesImport(t, rulesRow(map[string]string{"hired": "45322"}))[0]
	if w := issue(t, r, CodeExcelDateSerial); !strings.Contains(w.Message, "2024-01-31") {
		t.Errorf("the warning should show the date the serial stands for: %s", w.Message)
	}
	// A scim-profile id-like column warns without a pattern; the row stays valid.
	rows := mustImport(t, SCIMProfile(), "userName,externalId\nada,4.5678E+15\n")
	if w := issue(t, rows[0], CodeExcelScientific); w.Column != "externalId" || !rows[0].OK() {
		t.Errorf("warning %+v, ok %v", w, rows[0].OK())
	}
	if len(rows[0].Warnings()) != 1 || len(rows[0].Errors()) != 0 {
		t.Errorf("warnings %v errors %v", rows[0].Warnings(), rows[0].Errors())
	}
}

func TestRulesRaggedRows(t *testing.T) {
	short := strings.Join(strings.Split(rulesRow(nil), ",")[:5], ",")
	rows := rulesImport(t, short, rulesRow(nil)+",extra", rulesRow(map[string]string{"userId": "bob", "Primary Email": "b@example.com", "Internal ID": "000009"})+",,")
	is := issue(t, rows[0], CodeRaggedRow)
	if !strings.Contains(is.Message, "5 cells") || !strings.Contains(is.Message, "12 columns") {
		t.Errorf("message %q", is.Message)
	}
	issue(t, rows[1], CodeRaggedRow)
	if slices.Contains(codes(rows[2].Issues), CodeRaggedRow) {
		t.Errorf("empty trailing cells are not ragged: %+v", rows[2].Issues)
	}
}

func TestRulesNoMatchKey(t *testing.T) {
	r := rulesImport(t, rulesRow(map[string]string{"userId": "", "Primary Email": "", "Internal ID": ""}))[0]
	issue(t, r, CodeNoMatchKey)
	// A match column that already failed is reported once, not twice.
	r = rulesImport(t, rulesRow(map[string]string{"userId": "", "Primary Email": "bad", "Internal ID": ""}))[0]
	if c := codes(r.Issues); !slices.Equal(c, []string{CodeInvalidEmail}) {
		t.Errorf("codes %v", c)
	}
}

func TestRulesPasswordNotEchoed(t *testing.T) {
	p := rulesProfile()
	p.Columns = append(p.Columns, Column{Header: "pw", Paths: []string{"password"}, Pattern: `^.{12,}$`})
	in := strings.Join(append(slices.Clone(rulesHeader), "pw"), ",") + "\n" + rulesRow(nil) + ",hunter2\n"
	rows := mustImport(t, p, in)
	if is := issue(t, rows[0], CodePattern); strings.Contains(is.Message, "hunter2") || strings.Contains(is.Rule+is.Hint, "hunter2") {
		t.Errorf("the issue repeats the password: %+v", is)
	}
}

func TestValidEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"jdoe@talonhealthtech.com": true, "a.b+tag@sub.example.org": true, "x@y.io": true,
		"": false, "jdoe": false, "jdoe@": false, "@x.com": false, "a@b": false, "a b@x.com": false,
		"a@@x.com": false, "a@x..com": false, "a@-x.com": false, "a@x.c": false, "a@x.123": false, ".a@x.com": false,
		"Ada <a@x.com>": false,
	} {
		if ValidEmail(s) != want {
			t.Errorf("ValidEmail(%q) = %v", s, !want)
		}
	}
}
