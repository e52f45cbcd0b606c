package policy

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var allTiers = []Tier{TierNone, Tier0HelpDesk, Tier1Operations, Tier2SoftwarePartner, Tier3Engineering}
var allKinds = []Kind{KindPerson, KindProvisioner, KindScript}

// baseline is the table written out by hand, one cell per operation.
var baseline = map[Operation]Tier{
	UserRead:         Tier0HelpDesk,
	GroupRead:        Tier0HelpDesk,
	SelfRead:         Tier0HelpDesk,
	CSVExport:        Tier0HelpDesk,
	UserCreate:       Tier1Operations,
	UserUpdate:       Tier1Operations,
	UserDeactivate:   Tier1Operations,
	BulkRun:          Tier1Operations,
	CSVImport:        Tier1Operations,
	CSVAction:        Tier1Operations,
	PhotoImport:      Tier1Operations,
	UserDelete:       Tier2SoftwarePartner,
	GroupCreate:      Tier2SoftwarePartner,
	GroupUpdate:      Tier2SoftwarePartner,
	GroupDelete:      Tier2SoftwarePartner,
	CredentialManage: Tier2SoftwarePartner,
	AuditRead:        Tier2SoftwarePartner,
	TenantManage:     Tier3Engineering,
	CSVExportRaw:     Tier3Engineering,
	SettingsRead:     Tier0HelpDesk,
	RoleAdd:          Tier1Operations,
	OutboxRead:       Tier2SoftwarePartner,
	CSVProfileWrite:  Tier2SoftwarePartner,
}

func TestRequiredBaseline(t *testing.T) {
	for _, op := range Operations() {
		want, ok := baseline[op]
		if !ok {
			t.Errorf("%s: no baseline cell in this test", op)
			continue
		}
		if got := Required(op); got != want {
			t.Errorf("Required(%s) = %s, want %s", op, got, want)
		}
	}
	if len(baseline) != len(Operations()) {
		t.Errorf("baseline has %d cells, Operations() %d", len(baseline), len(Operations()))
	}
	if got := Required("user.frobnicate"); got <= Tier3Engineering {
		t.Errorf("an unknown operation needs %v, want above every tier", got)
	}
	if Known("user.frobnicate") || !Known(UserRead) {
		t.Error("Known")
	}
}

// TestEveryOperationHasARule parses the package source, so a new Operation
// constant fails here until it is listed in Operations() and has a rule.
func TestEveryOperationHasARule(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var declared []Operation
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			typ, _ := vs.Type.(*ast.Ident)
			for _, v := range vs.Values {
				lit, isLit := v.(*ast.BasicLit)
				call, isConv := v.(*ast.CallExpr)
				if isConv {
					if fn, ok := call.Fun.(*ast.Ident); ok && fn.Name == "Operation" && len(call.Args) == 1 {
						lit, isLit = call.Args[0].(*ast.BasicLit)
					} else {
						isLit = false
					}
				} else if typ == nil || typ.Name != "Operation" {
					isLit = false
				}
				if isLit && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					declared = append(declared, Operation(s))
				}
			}
			return true
		})
	}
	if len(declared) < 17 {
		t.Fatalf("found only %d Operation constants in the source: %v", len(declared), declared)
	}
	listed := Operations()
	for _, op := range declared {
		if !slices.Contains(listed, op) {
			t.Errorf("operation %q is declared but missing from Operations()", op)
		}
		if !Known(op) {
			t.Errorf("operation %q has no rule in the policy table", op)
		}
	}
	seen := map[Operation]bool{}
	for _, op := range listed {
		if seen[op] {
			t.Errorf("operation %q listed twice", op)
		}
		seen[op] = true
		if !slices.Contains(declared, op) {
			t.Errorf("Operations() lists %q, which is not a declared constant", op)
		}
	}
	for op, r := range table {
		if !seen[op] {
			t.Errorf("the table has a rule for %q, which Operations() does not list", op)
		}
		if r.doing == "" || !validTier(r.tier) || r.tier == TierNone {
			t.Errorf("rule for %q is incomplete: %+v", op, r)
		}
		if r.changes && verbs[op] == "" {
			t.Errorf("rule for %q changes things but has no verb for error texts", op)
		}
	}
}

// TestDecideTierCells checks every operation x tier x kind cell with no
// effect: allowed exactly when the tier reaches the baseline.
func TestDecideTierCells(t *testing.T) {
	for _, op := range Operations() {
		for _, tier := range allTiers {
			for _, kind := range allKinds {
				p := Principal{Tenant: "acme", Subject: "s", Kind: kind, Tier: tier}
				err := Decide(p, op, Effect{})
				want := tier != TierNone && tier >= baseline[op] && (op != SelfRead || kind == KindPerson)
				if (err == nil) != want {
					t.Errorf("Decide(%s %s, %s) = %v, want allowed=%v", kind, tier, op, err, want)
				}
				if err != nil {
					var d *Denied
					if !errors.As(err, &d) || d.Reason == "" || d.Op != op {
						t.Errorf("Decide(%s %s, %s): error %#v is not a complete *Denied", kind, tier, op, err)
					}
				}
			}
		}
	}
}

// TestDecideEffectCells checks every changing operation x actor tier x
// target tier before x after, for others and for oneself.
func TestDecideEffectCells(t *testing.T) {
	for _, op := range Operations() {
		if !ChangesTiers(op) {
			continue
		}
		for _, actor := range allTiers {
			for _, before := range allTiers {
				for _, after := range allTiers {
					for _, self := range []bool{false, true} {
						for _, kind := range allKinds {
							p := Principal{Kind: kind, Tier: actor}
							eff := Effect{TargetTierBefore: before, TargetTierAfter: after, TierChanged: before != after, TargetIsSelf: self}
							want := actor != TierNone && actor >= baseline[op] &&
								before <= actor && after <= actor && !(self && before != after)
							err := Decide(p, op, eff)
							if (err == nil) != want {
								t.Errorf("Decide(%s %s, %s, %+v) = %v, want allowed=%v", kind, actor, op, eff, err, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestDecideReadsIgnoreEffect: reading a higher-tier user is fine.
func TestDecideReadsIgnoreEffect(t *testing.T) {
	p := Principal{Kind: KindPerson, Tier: Tier0HelpDesk}
	eff := Effect{TargetTierBefore: Tier3Engineering, TargetTierAfter: Tier3Engineering}
	for _, op := range []Operation{UserRead, GroupRead, CSVExport, SelfRead} {
		if err := Decide(p, op, eff); err != nil {
			t.Errorf("%s: %v", op, err)
		}
	}
}

func TestDecideTexts(t *testing.T) {
	t1 := Principal{Kind: KindPerson, Tier: Tier1Operations}
	cases := []struct {
		name   string
		p      Principal
		op     Operation
		eff    Effect
		needed Tier
		text   string
	}{
		{"tier too low", t1, UserDelete, Effect{}, Tier2SoftwarePartner,
			"deleting users needs support-tier-2-software-partner; you act as support-tier-1-operations"},
		{"grant above own", t1, UserUpdate, Effect{TargetTierBefore: Tier0HelpDesk, TargetTierAfter: Tier3Engineering, TierChanged: true}, Tier3Engineering,
			"support-tier-1-operations may not grant support-tier-3-engineering"},
		{"touch above own", t1, UserDeactivate, Effect{TargetTierBefore: Tier2SoftwarePartner, TargetTierAfter: Tier2SoftwarePartner}, Tier2SoftwarePartner,
			"support-tier-1-operations may not deactivate a user with support-tier-2-software-partner"},
		{"create above own", t1, UserCreate, Effect{TargetTierAfter: Tier2SoftwarePartner}, Tier2SoftwarePartner,
			"support-tier-1-operations may not grant support-tier-2-software-partner"},
		{"own tier", Principal{Kind: KindPerson, Tier: Tier3Engineering}, UserUpdate,
			Effect{TargetTierBefore: Tier3Engineering, TargetTierAfter: Tier2SoftwarePartner, TargetIsSelf: true}, TierNone,
			"nobody may change their own tier"},
		{"own tier flagged", Principal{Kind: KindPerson, Tier: Tier2SoftwarePartner}, UserUpdate,
			Effect{TargetTierBefore: Tier2SoftwarePartner, TargetTierAfter: Tier2SoftwarePartner, TierChanged: true, TargetIsSelf: true}, TierNone,
			"nobody may change their own tier"},
		{"provisioner cap", Principal{Kind: KindProvisioner, Tier: Tier1Operations}, BulkRun,
			Effect{TargetTierAfter: Tier2SoftwarePartner, TierChanged: true}, Tier2SoftwarePartner,
			"this credential is capped at support-tier-1-operations and may not grant support-tier-2-software-partner"},
		{"no tier", Principal{Kind: KindPerson}, UserRead, Effect{}, Tier0HelpDesk,
			"reading users needs support-tier-0-help-desk; you have no recognised tier"},
		{"me for provisioner", Principal{Kind: KindProvisioner, Tier: Tier3Engineering}, SelfRead, Effect{}, TierNone,
			"reading your own user (/Me) is only for people signed in with OIDC"},
		{"unknown op", Principal{Kind: KindPerson, Tier: Tier3Engineering}, "user.frobnicate", Effect{}, TierNone,
			`the operation "user.frobnicate" has no policy and is refused`},
		{"unknown kind", Principal{Kind: "robot", Tier: Tier3Engineering}, UserRead, Effect{}, TierNone,
			`the caller kind "robot" is not recognised`},
		{"empty kind", Principal{Tier: Tier3Engineering}, UserRead, Effect{}, TierNone,
			`the caller kind "" is not recognised`},
		{"out of range actor tier", Principal{Kind: KindPerson, Tier: 9}, UserRead, Effect{}, Tier0HelpDesk,
			"reading users needs support-tier-0-help-desk; you have no recognised tier"},
		{"out of range target tier", Principal{Kind: KindPerson, Tier: Tier3Engineering}, UserUpdate, Effect{TargetTierAfter: 7}, TierNone,
			"the change involves an unrecognised tier"},
		{"negative target tier", Principal{Kind: KindPerson, Tier: Tier3Engineering}, UserUpdate, Effect{TargetTierBefore: -1}, TierNone,
			"the change involves an unrecognised tier"},
		{"credential above own", Principal{Kind: KindPerson, Tier: Tier2SoftwarePartner}, CredentialManage,
			Effect{TargetTierBefore: Tier3Engineering, TargetTierAfter: TierNone}, Tier3Engineering,
			"support-tier-2-software-partner may not manage a credential with support-tier-3-engineering"},
	}
	for _, c := range cases {
		err := Decide(c.p, c.op, c.eff)
		var d *Denied
		if !errors.As(err, &d) {
			t.Errorf("%s: Decide = %v, want *Denied", c.name, err)
			continue
		}
		if d.Error() != c.text || d.Needed != c.needed || d.Op != c.op {
			t.Errorf("%s: got %q needed %v op %q\n want %q needed %v", c.name, d.Error(), d.Needed, d.Op, c.text, c.needed)
		}
	}
	// And the allowed corners.
	ok := []struct {
		p   Principal
		op  Operation
		eff Effect
	}{
		{Principal{Kind: KindPerson, Tier: Tier3Engineering}, TenantManage, Effect{}},
		{Principal{Kind: KindPerson, Tier: Tier3Engineering}, CSVExportRaw, Effect{}},
		{Principal{Kind: KindProvisioner, Tier: Tier1Operations}, UserUpdate, Effect{TargetTierBefore: Tier1Operations, TargetTierAfter: Tier0HelpDesk}},
		{Principal{Kind: KindPerson, Tier: Tier2SoftwarePartner}, UserDelete, Effect{TargetTierBefore: Tier2SoftwarePartner}},
		{Principal{Kind: KindPerson, Tier: Tier1Operations}, UserUpdate, Effect{TargetTierBefore: Tier1Operations, TargetTierAfter: Tier1Operations, TargetIsSelf: true}},
		{Principal{Kind: KindScript, Tier: Tier2SoftwarePartner}, GroupUpdate, Effect{TargetTierBefore: Tier2SoftwarePartner, TargetTierAfter: Tier2SoftwarePartner}},
		{Principal{Kind: KindPerson, Tier: Tier0HelpDesk}, SelfRead, Effect{}},
	}
	for _, c := range ok {
		if err := Decide(c.p, c.op, c.eff); err != nil || !Allowed(c.p, c.op, c.eff) {
			t.Errorf("Decide(%+v, %s, %+v) = %v, want allowed", c.p, c.op, c.eff, err)
		}
	}
}
