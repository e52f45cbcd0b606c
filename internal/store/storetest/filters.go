package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// The differential test of the filter translation: thousands of generated
// filters over generated users and groups must select the same resources
// on the backend as filter.Eval, the in-memory oracle, and sorted paging
// must list them in the oracle's order without repeats or gaps.

// diffMaxReported is how many mismatches a case reports in full; the
// rest are counted.
const diffMaxReported = 5

// diffFiltersEnv sets the number of user filters compared (the other
// counts scale with it) and turns the race detector's time budget off.
const diffFiltersEnv = "SCIMBRIDGE_DIFF_FILTERS"

// diffPlan is how many comparisons one differential case makes: n, or
// under a time budget (0: none) as many as fit, but at least min.
type diffPlan struct {
	n, min int
	budget time.Duration
	start  time.Time
}

// more reports whether comparison i (from 0) should run.
func (p *diffPlan) more(i int) bool {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	return i < p.n && (p.budget == 0 || i < p.min || time.Since(p.start) < p.budget)
}

// diffPlans are the plans of the differential cases.
type diffPlans struct {
	userFilters, userSorts, groupFilters, groupSorts diffPlan
}

// plans returns the full run: 2,000 user filters, 200 sorted pagings of
// users, 300 group filters and 60 pagings of groups. Under the race
// detector the pure-Go SQLite runs about fifteen times slower, so there
// each part stops after its share of a few seconds once it has made its
// minimum (SQLite then compares some 25 to 50 generated user filters,
// PostgreSQL a hundred or more). diffFiltersEnv asks for an exact number.
func plans(t *testing.T) diffPlans {
	n, budget := 2000, time.Duration(0)
	if raceEnabled {
		budget = 6 * time.Second
	}
	if v := os.Getenv(diffFiltersEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 10 {
			t.Fatalf("%s=%q: want a number of filters, at least 10", diffFiltersEnv, v)
		}
		budget = 0
	}
	return diffPlans{
		userFilters:  diffPlan{n: n, min: min(n, 25), budget: budget / 2},
		userSorts:    diffPlan{n: n / 10, min: min(n/10, 2), budget: budget / 4},
		groupFilters: diffPlan{n: n * 3 / 20, min: min(n*3/20, 30), budget: budget / 8},
		groupSorts:   diffPlan{n: n * 3 / 100, min: min(n*3/100, 6), budget: budget / 8},
	}
}

var diffUserSortAttrs = []string{
	"userName", "displayName", "externalId", "meta.lastModified", "meta.created", "active", "title",
	"name.familyName", "emails.value", "emails.type", "phoneNumbers.value", schema.EnterpriseURN + ":department",
}

var diffGroupSortAttrs = []string{"displayName", "externalId", "meta.created", "meta.lastModified", "id"}

func filterCases() []testCase {
	return []testCase{
		{"FilterDifferential", testFilterDifferential},
		{"FilterLimits", testFilterLimits},
		{"FilterKeyLookups", testFilterKeyLookups},
	}
}

// testFilterKeyLookups: the or-chains of key comparisons the directory's
// look-ups send (one IN list per chunk on both stores, a single email
// subquery on SQLite) find exactly the users an or of the comparisons
// finds, values compared as the attribute says (emails and userNames
// without case), each user once, in creation order.
func testFilterKeyLookups(t *testing.T, s store.Store) {
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		u := newUser(store.DefaultTenant, fmt.Sprintf("key%d", i))
		u.Created = now.Add(time.Duration(i) * time.Second)
		mustCreateUser(t, s, u)
		ids = append(ids, u.ID)
	}
	for f, want := range map[string][]int{
		// key3's work and home addresses both match: one user
		`emails.value eq "KEY3@example.COM" or emails.value eq "key1@HOME.test" or emails.value eq "key3@home.test" or emails.value eq "nobody@x"`: {1, 3},
		`emails.value eq "key4@example.com"`:                             {4},
		`userName eq "KEY2" or userName eq "key0" or userName eq "none"`: {0, 2},
		`externalId eq "ext-key1" or externalId eq "EXT-KEY2"`:           {1},
		`emails.value eq "key0@example.com" or emails.value eq ""`:       {0},
		`emails.value eq "key2@example.com" or userName eq "key4"`:       {2, 4},
	} {
		e, err := filter.Parse(schema.New().User, f)
		if err != nil {
			t.Fatal(err)
		}
		users, total, err := s.ListUsers(ctx, store.DefaultTenant, store.Query{Filter: e, Limit: 10}, store.UserLoad{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var got []string
		for _, u := range users {
			got = append(got, u.ID)
		}
		var wantIDs []string
		for _, i := range want {
			wantIDs = append(wantIDs, ids[i])
		}
		if fmt.Sprint(got) != fmt.Sprint(wantIDs) || total != len(want) {
			t.Errorf("%s: %v (total %d), want users %v", f, got, total, want)
		}
	}
}

// diffSide is one resource type of the generated data and how to list it.
type diffSide struct {
	rt    *schema.ResourceType
	ids   []string
	res   map[string]filter.Resource
	names map[string]string
	list  func(q store.Query) ([]string, int, error)
}

func userSide(d *diffData, s store.Store) diffSide {
	return diffSide{rt: d.reg.User, ids: d.userIDs, res: d.userRes, names: d.names,
		list: func(q store.Query) ([]string, int, error) {
			users, total, err := s.ListUsers(context.Background(), store.DefaultTenant, q, store.UserLoad{})
			ids := make([]string, len(users))
			for i, u := range users {
				ids[i] = u.ID
			}
			return ids, total, err
		}}
}

func groupSide(d *diffData, s store.Store, members bool) diffSide {
	return diffSide{rt: d.reg.Group, ids: d.groupIDs, res: d.groupRes, names: d.names,
		list: func(q store.Query) ([]string, int, error) {
			groups, total, err := s.ListGroups(context.Background(), store.DefaultTenant, q, store.GroupLoad{Members: members})
			ids := make([]string, len(groups))
			for i, g := range groups {
				ids[i] = g.ID
			}
			return ids, total, err
		}}
}

func setupDiff(t *testing.T, s store.Store) (*diffData, int64) {
	seed := diffSeed(t)
	d := genDiffData(t, seed)
	d.load(t, s)
	return d, seed
}

// testFilterDifferential loads one generated directory and compares user
// filters, sorted paging of users, and group filters and paging.
func testFilterDifferential(t *testing.T, s store.Store) {
	d, seed := setupDiff(t, s)
	ps := plans(t)
	t.Run("UserFilters", func(t *testing.T) {
		side := userSide(d, s)
		g := newFilterGen(rand.New(rand.NewSource(seed+1)), d.reg.User, diffUserAttrs, d.userRes, d.userIDs)
		rep := &diffReport{t: t}
		for _, f := range diffUserRegressions(d) {
			rep.compareSet(side, f)
		}
		for i := 0; ps.userFilters.more(i); i++ {
			rep.compareSet(side, g.filter(0))
		}
		rep.done("user filters")
	})
	t.Run("UserSortPaging", func(t *testing.T) {
		side := userSide(d, s)
		r := rand.New(rand.NewSource(seed + 2))
		g := newFilterGen(r, d.reg.User, diffUserAttrs, d.userRes, d.userIDs)
		rep := &diffReport{t: t}
		for i := 0; ps.userSorts.more(i); i++ {
			rep.comparePages(side, r, g, diffUserSortAttrs, 7, 30)
		}
		rep.done("sorted pagings of users")
	})
	t.Run("Groups", func(t *testing.T) {
		r := rand.New(rand.NewSource(seed + 3))
		g := newFilterGen(r, d.reg.Group, diffGroupAttrs, d.groupRes, d.groupIDs)
		rep := &diffReport{t: t}
		for _, f := range diffGroupRegressions {
			rep.compareSet(groupSide(d, s, false), f)
		}
		for i := 0; ps.groupFilters.more(i); i++ {
			rep.compareSet(groupSide(d, s, i%3 == 0), g.filter(0))
		}
		for i := 0; ps.groupSorts.more(i); i++ {
			rep.comparePages(groupSide(d, s, i%2 == 0), r, g, diffGroupSortAttrs, 3, 10)
		}
		rep.done("group filters and sorted pagings")
	})
}

// diffUserRegressions are filters that once told the stores and the
// oracle apart; they run first, whatever the seed.
func diffUserRegressions(d *diffData) []string {
	out := []string{
		// Empty strings are no value: JSON "" and email rows without a
		// value must not satisfy lt, le, ge or an empty co/sw/ew/eq. (The
		// email ranges also once made SQLite scan the value index once per
		// user, slow enough under -race to hit the 5 s query timeout.)
		`title lt "zzz"`, `title le "engineer"`, `title ge ""`, `title co ""`, `title eq ""`, `not (title sw "")`,
		`emails.value le "~"`, `emails.value lt "a"`, `emails[type eq "other" and value lt "~"]`, `emails.value ew ""`,
		schema.EnterpriseURN + `:department lt "S"`, `nickName le "zz"`, `name.givenName eq ""`,
		// groups are rows, not part of the document.
		`groups pr`, `not (groups pr)`, `groups pr and emails pr`, `groups eq null`,
	}
	// \u escapes with lower-case hex digits, as JSON allows.
	for _, u := range d.users {
		var b strings.Builder
		for _, c := range u.UserName {
			switch {
			case c > 0x7f && c < 0x10000:
				fmt.Fprintf(&b, `\u%04x`, c)
			case c == '"' || c == '\\':
				b.WriteString(`\` + string(c))
			default:
				b.WriteRune(c)
			}
		}
		if b.Len() > len(u.UserName) {
			out = append(out, `userName eq "`+b.String()+`"`)
			if len(out) > 20 {
				break
			}
		}
	}
	return out
}

var diffGroupRegressions = []string{`members pr`, `not (members pr)`, `members pr and displayName pr`, `members eq null`}

// diffReport counts comparisons and reports the first few mismatches in
// full.
type diffReport struct {
	t                     *testing.T
	compared, failures    int
	none, all, nontrivial int
}

func (rep *diffReport) fail(format string, args ...any) {
	rep.t.Helper()
	rep.failures++
	if rep.failures <= diffMaxReported {
		rep.t.Errorf(format, args...)
	}
}

func (rep *diffReport) done(what string) {
	rep.t.Helper()
	if rep.failures > diffMaxReported {
		rep.t.Errorf("... and %d more mismatches (%d reported above)", rep.failures-diffMaxReported, diffMaxReported)
	}
	rep.t.Logf("%s: %d compared (result sets: %d empty, %d everything, %d in between), %d mismatches",
		what, rep.compared, rep.none, rep.all, rep.nontrivial, rep.failures)
}

// oracle returns, in creation order, the ids expr selects.
func (side diffSide) oracle(expr filter.Expr) []string {
	var want []string
	for _, id := range side.ids {
		if expr == nil || filter.Eval(expr, side.res[id]) {
			want = append(want, id)
		}
	}
	return want
}

func (rep *diffReport) tally(n, of int) {
	rep.compared++
	switch n {
	case 0:
		rep.none++
	case of:
		rep.all++
	default:
		rep.nontrivial++
	}
}

// compareSet checks that the backend selects what the oracle selects.
func (rep *diffReport) compareSet(side diffSide, f string) {
	rep.t.Helper()
	expr, err := filter.Parse(side.rt, f)
	if err != nil {
		rep.fail("generated filter %q does not parse: %v", f, err)
		return
	}
	want := side.oracle(expr)
	rep.tally(len(want), len(side.ids))
	got, total, err := side.list(store.Query{Filter: expr, Limit: 1000})
	if err != nil {
		rep.fail("filter %q: %v", f, err)
		return
	}
	onlyStore, onlyOracle := idSetDiff(got, want)
	if len(onlyStore) > 0 || len(onlyOracle) > 0 || total != len(want) || len(got) != len(want) {
		rep.fail("filter %q: store lists %d (total %d), oracle %d\n  only in store:  %s\n  only in oracle: %s",
			f, len(got), total, len(want), side.describe(onlyStore), side.describe(onlyOracle))
	}
}

// comparePages pages through a random sorted, filtered list and checks the
// concatenation against the oracle's order.
func (rep *diffReport) comparePages(side diffSide, r *rand.Rand, g *filterGen, sortAttrs []string, limit, maxSorted int) {
	rep.t.Helper()
	var sortBy *filter.Attr
	desc := false
	label := "default order"
	if !chance(r, 5) {
		path := g.spell(pick(r, sortAttrs))
		a, err := filter.ResolvePath(side.rt, path)
		if err != nil {
			rep.fail("sortBy %q does not resolve: %v", path, err)
			return
		}
		sortBy, desc = &a, chance(r, 50)
		label = fmt.Sprintf("sortBy=%s descending=%v", path, desc)
	}
	// Mostly filtered lists of at most maxSorted resources (paging through
	// everything costs a query per page), now and then everything.
	f := ""
	var expr filter.Expr
	want := side.oracle(nil)
	for try := 0; !chance(r, 10) && try < 20; try++ {
		f = g.filter(1)
		var err error
		if expr, err = filter.Parse(side.rt, f); err != nil {
			rep.fail("generated filter %q does not parse: %v", f, err)
			return
		}
		if want = side.oracle(expr); len(want) > 0 && len(want) <= maxSorted {
			break
		}
	}
	rep.tally(len(want), len(side.ids))
	side.sortOracle(want, sortBy, desc)
	var got []string
	for off := 0; off <= len(want)+limit; off += limit {
		page, total, err := side.list(store.Query{Filter: expr, SortBy: sortBy, Descending: desc, Offset: off, Limit: limit})
		if err != nil {
			rep.fail("%s filter %q offset %d: %v", label, f, off, err)
			return
		}
		if total != len(want) {
			rep.fail("%s filter %q offset %d: total %d, oracle %d", label, f, off, total, len(want))
			return
		}
		got = append(got, page...)
		if len(page) < limit {
			break
		}
	}
	if !slices.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		rep.fail("%s filter %q: paged order differs from the oracle's at position %d (%d listed, %d expected)\n  store:  %s\n  oracle: %s",
			label, f, i, len(got), len(want), side.describeKeys(window(got, i), sortBy), side.describeKeys(window(want, i), sortBy))
	}
}

// sortOracle orders ids by filter.SortKey and filter.CompareKeys, ties by
// id ascending; without sortBy, by creation time.
func (side diffSide) sortOracle(ids []string, sortBy *filter.Attr, desc bool) {
	a := filter.Attr{Name: "meta", Sub: "created", Type: "dateTime"}
	if sortBy != nil {
		a = *sortBy
	} else {
		desc = false
	}
	type keyed struct {
		id  string
		key any
		ok  bool
	}
	ks := make([]keyed, len(ids))
	for i, id := range ids {
		k, ok := filter.SortKey(side.res[id], a)
		ks[i] = keyed{id, k, ok}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		if c := filter.CompareKeys(ks[i].key, ks[i].ok, ks[j].key, ks[j].ok, desc); c != 0 {
			return c < 0
		}
		return ks[i].id < ks[j].id
	})
	for i := range ks {
		ids[i] = ks[i].id
	}
}

func window(ids []string, at int) []string {
	lo, hi := max(at-1, 0), min(at+3, len(ids))
	if lo > hi {
		return nil
	}
	return ids[lo:hi]
}

func idSetDiff(got, want []string) (onlyGot, onlyWant []string) {
	in := func(list []string) map[string]bool {
		m := make(map[string]bool, len(list))
		for _, id := range list {
			m[id] = true
		}
		return m
	}
	g, w := in(got), in(want)
	for _, id := range got {
		if !w[id] {
			onlyGot = append(onlyGot, id)
		}
	}
	for _, id := range want {
		if !g[id] {
			onlyWant = append(onlyWant, id)
		}
	}
	return onlyGot, onlyWant
}

// describe names up to five ids with their userName or displayName.
func (side diffSide) describe(ids []string) string {
	if len(ids) == 0 {
		return "-"
	}
	var parts []string
	for i, id := range ids {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("... (%d in all)", len(ids)))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%q)", id, side.names[id]))
	}
	return strings.Join(parts, ", ")
}

func (side diffSide) describeKeys(ids []string, sortBy *filter.Attr) string {
	var parts []string
	for _, id := range ids {
		key := "-"
		if sortBy != nil {
			if k, ok := filter.SortKey(side.res[id], *sortBy); ok {
				key = fmt.Sprintf("%v", k)
			}
		}
		parts = append(parts, fmt.Sprintf("%s (%q key %q)", id, side.names[id], key))
	}
	return strings.Join(parts, ", ")
}

// testFilterLimits runs the largest filters Parse accepts (flat and/or
// lists up to the length limit, nesting to the depth limit) and values at
// the edges (NUL, invalid UTF-8, extreme times). Each must be rejected as
// an invalid filter, or translate, run and agree with the oracle.
func testFilterLimits(t *testing.T, s store.Store) {
	seed := diffSeed(t)
	d := genDiffData(t, seed)
	d.users, d.groups = d.users[:12], nil
	d.load(t, s)
	side := userSide(d, s)
	chain := func(op string, term func(i int) string) string {
		f := term(0)
		for i := 1; ; i++ {
			next := f + " " + op + " " + term(i)
			if len(next) > filter.MaxLength {
				return f
			}
			f = next
		}
	}
	nest := func(depth int, open func(i int) string, inner string) string {
		f := inner
		for i := depth - 1; i >= 0; i-- {
			f = open(i) + f + ")"
		}
		return f
	}
	filters := []string{
		chain("or", func(i int) string { return fmt.Sprintf("id eq %q", d.userIDs[i%len(d.userIDs)]) }),
		chain("and", func(int) string { return "not (title co \"%\")" }),
		chain("OR", func(i int) string {
			return fmt.Sprintf("emails[type eq \"work\" and value sw %q]", string(rune('a'+i%26)))
		}),
		nest(63, func(int) string { return "not (" }, "userName pr"),
		nest(31, func(i int) string { return []string{"title pr or (", "nickName pr and ("}[i%2] }, "emails.type eq \"work\""),
		nest(20, func(i int) string {
			return fmt.Sprintf("meta.created gt %q and not (", d.users[i%len(d.users)].Created.Format(time.RFC3339Nano))
		}, "active eq true"),
	}
	rep := &diffReport{t: t}
	for _, f := range filters {
		rep.compareSet(side, f)
	}
	// Values no stored string can hold: Parse may reject them (as an
	// invalid filter); what it accepts must run and match nothing odd.
	odd := []string{
		`userName eq "a\u0000b"`, "userName eq \"\xff\xfe\"", `userName co "\uD800"`, `title eq "\u0000"`,
		`emails.value co "\u0000"`, "displayName sw \"\x00\"", "userName eq \xff", `userName lt "\uDFFF\uD800"`,
		schema.EnterpriseURN + `:department eq "\u0000"`, `emails[type eq "\u0000"].value pr`,
		"externalId eq \"\xff\"", "id lt \"a\xc0\"", "externalId co a\xffb", `externalId gt "\uDBFF"`,
		`meta.created gt "0000-01-01T00:00:00Z"`, `meta.created lt "9999-12-31T23:59:59.9999999-14:00"`,
		`meta.lastModified ne "0001-01-01T00:00:00+23:59"`,
	}
	for _, f := range odd {
		if _, err := filter.Parse(side.rt, f); err != nil {
			var se scimerrors.ScimError
			if !errors.As(err, &se) || se.ScimType != scimerrors.ScimTypeInvalidFilter {
				rep.fail("filter %q: %v is not an invalidFilter error", f, err)
			}
			continue
		}
		rep.compareSet(side, f)
	}
	rep.done("filters at the limits and odd values")
}
