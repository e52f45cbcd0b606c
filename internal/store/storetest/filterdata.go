package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// The differential test data: generated users and groups, the same for a
// given seed on every backend, and their wire form for filter.Eval.

// diffSeedEnv overrides diffDefaultSeed, to reproduce or explore.
const (
	diffSeedEnv     = "SCIMBRIDGE_DIFF_SEED"
	diffDefaultSeed = 20261122
)

const (
	diffUsers  = 150
	diffGroups = 10
)

// diffSeed returns the seed of this run and arranges for it to be printed
// when t fails.
func diffSeed(t *testing.T) int64 {
	seed := int64(diffDefaultSeed)
	if v := os.Getenv(diffSeedEnv); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not an integer", diffSeedEnv, v)
		}
		seed = n
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("differential seed %d (reproduce with %s=%d)", seed, diffSeedEnv, seed)
		}
	})
	return seed
}

// diffData is one generated directory and its oracle form.
type diffData struct {
	reg    *schema.Registry
	users  []store.User
	groups []store.Group // in creation order; nested members name earlier groups
	// Filled by load: the resources as filter.Eval sees them, by id.
	userRes  map[string]filter.Resource
	groupRes map[string]filter.Resource
	userIDs  []string // creation order
	groupIDs []string
	names    map[string]string // id -> userName or displayName, for messages
}

var (
	diffStems = []string{"alice", "Alice", "ALICE", "bob", "Bobby", "carol", "Carolina", "dan", "Daniel", "eve",
		"Evelyn", "frank", "Zoë", "José", "ÅSA", "müller", "o'brien", `quo"te`, `back\slash`, "per%cent", "under_score", "x", "X"}
	diffSeps      = []string{".", "_", "-", "%", `\`, "'", "", ""}
	diffTails     = []string{"", "", "1", "42", "@example.com", "@Example.COM", "@corp.test", "_admin", "%", "_", `\`}
	diffGiven     = []string{"Alice", "alice", "Bob", "Carol", "Dan", "Eve", "Frank", "Zoë", "José", "Åsa", "Ünal", "O'Neil", "Babs_", "İlkay", "ΣΟΦΙΑ"}
	diffFamily    = []string{"Smith", "smith", "SMITH", "Jensen", "Müller", "O'Brien", "de la Cruz", "Nguyen", "Li", "Lee", "Leeds", "100%_Real", "Großmann", "GROẞMANN"}
	diffTitles    = []string{"Engineer", "engineer", "Senior Engineer", "Manager", "Director of %", "Tech_Lead", "", "Staff Engineer", `Back\Office`}
	diffNicks     = []string{"Babs", "babs", "Al", "J", "ZZ", "zz", ""}
	diffDepts     = []string{"Engineering", "engineering", "Sales", "Support", "R&D", "Ops_1", "Ops%1", ""}
	diffDomains   = []string{"example.com", "Example.com", "corp.test", "mail.example.org", "EXAMPLE.COM"}
	diffMailTypes = []string{"work", "home", "other", "Work", ""}
	diffGroupName = []string{"Engineering", "engineering", "Sales", "Admins", "Ops_1", "Ops%1", "All Staff", "R&D", `Support "Tier"`, "Zoë's Team", `Back\Office`}
)

func pick[T any](r *rand.Rand, list []T) T { return list[r.Intn(len(list))] }

// chance is true with probability pct percent.
func chance(r *rand.Rand, pct int) bool { return r.Intn(100) < pct }

func diffID(r *rand.Rand) string {
	var b uuid.UUID
	r.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b.String()
}

// recase returns s in a random mix of cases.
func recase(r *rand.Rand, s string) string {
	switch r.Intn(4) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, c := range s {
		if r.Intn(2) == 0 {
			b.WriteString(strings.ToUpper(string(c)))
		} else {
			b.WriteString(strings.ToLower(string(c)))
		}
	}
	return b.String()
}

// genDiffData generates the directory of one seed.
func genDiffData(t *testing.T, seed int64) *diffData {
	r := rand.New(rand.NewSource(seed))
	d := &diffData{reg: schema.New()}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	taken := map[string]bool{}
	var createds []time.Time
	for len(d.users) < diffUsers {
		name := pick(r, diffStems) + pick(r, diffSeps)
		if chance(r, 50) {
			name += pick(r, diffStems)
		}
		name += pick(r, diffTails)
		if chance(r, 30) {
			name += strconv.Itoa(r.Intn(100))
		}
		if taken[store.NormalizeUserName(name)] {
			continue
		}
		taken[store.NormalizeUserName(name)] = true
		id := diffID(r)
		body := genUserBody(r, name, d.users)
		doc, err := d.reg.User.Normalize(body)
		if err != nil {
			t.Fatalf("normalise generated user %v: %v", body, err)
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		u := store.User{TenantID: store.DefaultTenant, ID: id, Doc: raw, Version: 1}
		u.UserName, _ = doc["userName"].(string)
		u.ExternalID, _ = doc["externalId"].(string)
		u.DisplayName, _ = doc["displayName"].(string)
		u.Active, _ = doc["active"].(bool)
		emails, _ := doc["emails"].([]any)
		for _, e := range emails {
			m, _ := e.(map[string]any)
			var em store.Email
			em.Value, _ = m["value"].(string)
			em.Type, _ = m["type"].(string)
			em.Primary, _ = m["primary"].(bool)
			u.Emails = append(u.Emails, em)
		}
		u.Created = base.Add(time.Duration(r.Int63n(int64(2 * 365 * 24 * time.Hour)))).Truncate(time.Microsecond)
		if len(createds) > 0 && chance(r, 10) {
			u.Created = pick(r, createds) // ties in creation order
		}
		createds = append(createds, u.Created)
		u.LastModified = u.Created
		if !chance(r, 15) {
			u.LastModified = u.Created.Add(time.Duration(r.Int63n(int64(90 * 24 * time.Hour)))).Truncate(time.Microsecond)
		}
		d.users = append(d.users, u)
	}
	for i := 0; i < diffGroups; i++ {
		body := map[string]any{"displayName": diffGroupName[i%len(diffGroupName)]}
		if chance(r, 50) {
			body["externalId"] = pick(r, []string{"grp-1", "GRP-1", "grp-" + strconv.Itoa(i), "%_" + strconv.Itoa(i)})
		}
		doc, err := d.reg.Group.Normalize(body)
		if err != nil {
			t.Fatalf("normalise generated group %v: %v", body, err)
		}
		raw, _ := json.Marshal(doc)
		g := store.Group{TenantID: store.DefaultTenant, ID: diffID(r), Doc: raw, Version: 1}
		g.DisplayName, _ = doc["displayName"].(string)
		g.ExternalID, _ = doc["externalId"].(string)
		g.Created = base.Add(time.Duration(r.Int63n(int64(365 * 24 * time.Hour)))).Truncate(time.Microsecond)
		g.LastModified = g.Created.Add(time.Duration(r.Int63n(int64(time.Hour)))).Truncate(time.Microsecond)
		if i == 4 {
			g.Created = d.groups[1].Created // a tie
		}
		n := r.Intn(30)
		if i == 2 {
			n = 0 // a group without members
		}
		seen := map[string]bool{}
		for len(g.Members) < n {
			u := pick(r, d.users)
			if seen[u.ID] {
				continue
			}
			seen[u.ID] = true
			m := store.Member{ID: u.ID}
			if chance(r, 15) {
				m.Display = recase(r, "Custom "+pick(r, diffGiven))
			}
			g.Members = append(g.Members, m)
		}
		if i >= 3 && chance(r, 60) {
			for k := 0; k < 1+r.Intn(2); k++ {
				inner := d.groups[r.Intn(i)]
				if !seen[inner.ID] {
					seen[inner.ID] = true
					g.Members = append(g.Members, store.Member{ID: inner.ID})
				}
			}
		}
		d.groups = append(d.groups, g)
	}
	return d
}

func genUserBody(r *rand.Rand, userName string, earlier []store.User) map[string]any {
	body := map[string]any{"userName": userName}
	given, family := pick(r, diffGiven), pick(r, diffFamily)
	switch {
	case chance(r, 75):
		body["displayName"] = recase(r, given) + " " + family
	case chance(r, 20):
		body["displayName"] = ""
	}
	switch {
	case chance(r, 15):
		body["externalId"] = pick(r, []string{"shared", "SHARED", "ext_%"})
	case chance(r, 65):
		body["externalId"] = fmt.Sprintf("ext-%04d", r.Intn(10000))
	}
	// Okta and Entra send booleans as strings; normalisation fixes them.
	active := chance(r, 70)
	if chance(r, 20) {
		body["active"] = recase(r, strconv.FormatBool(active))
	} else {
		body["active"] = active
	}
	if chance(r, 70) {
		body["title"] = pick(r, diffTitles)
	}
	if chance(r, 50) {
		body["nickName"] = pick(r, diffNicks)
	}
	if chance(r, 30) {
		body["userType"] = pick(r, []string{"Employee", "employee", "Contractor"})
	}
	if chance(r, 30) {
		body["profileUrl"] = "https://Example.com/u/" + strings.ToLower(pick(r, diffGiven)) // caseExact
	}
	if chance(r, 85) {
		name := map[string]any{}
		if chance(r, 85) {
			name["givenName"] = given
		}
		if chance(r, 85) {
			name["familyName"] = family
		}
		if chance(r, 20) {
			name["formatted"] = given + " " + family
		}
		body["name"] = name
	}
	if n := []int{0, 1, 1, 2, 2, 3}[r.Intn(6)]; n > 0 {
		emails := make([]any, 0, n)
		primaries := 0
		for i := 0; i < n; i++ {
			e := map[string]any{}
			if !chance(r, 6) {
				local := strings.Trim(strings.ReplaceAll(pick(r, diffStems), `"`, ""), `\`)
				e["value"] = recase(r, local) + pick(r, []string{"", ".", "_", "%", "+"}) + strconv.Itoa(r.Intn(20)) + "@" + pick(r, diffDomains)
			}
			if typ := pick(r, diffMailTypes); typ != "" {
				e["type"] = typ
			}
			switch {
			case chance(r, 35) && (primaries == 0 || chance(r, 10)):
				e["primary"] = true
				primaries++
			case chance(r, 20):
				e["primary"] = false
			}
			if chance(r, 10) {
				e["display"] = recase(r, given)
			}
			if len(e) == 0 {
				e["type"] = "other"
			}
			emails = append(emails, e)
		}
		body["emails"] = emails
	}
	if n := r.Intn(3); n > 0 {
		phones := make([]any, 0, n)
		for i := 0; i < n; i++ {
			p := map[string]any{"value": fmt.Sprintf("+1 555 01%02d", r.Intn(40))}
			if typ := pick(r, []string{"work", "mobile", "Mobile", ""}); typ != "" {
				p["type"] = typ
			}
			if chance(r, 30) {
				p["primary"] = true
			}
			phones = append(phones, p)
		}
		body["phoneNumbers"] = phones
	}
	if chance(r, 60) {
		ent := map[string]any{}
		if chance(r, 70) {
			ent["employeeNumber"] = pick(r, []string{strconv.Itoa(r.Intn(40)), fmt.Sprintf("E-%03d", r.Intn(100))})
		}
		if chance(r, 80) {
			ent["department"] = pick(r, diffDepts)
		}
		if chance(r, 40) {
			m := map[string]any{"displayName": pick(r, diffGiven)}
			if len(earlier) > 0 && chance(r, 70) {
				m["value"] = pick(r, earlier).ID
			} else if chance(r, 50) {
				m["value"] = fmt.Sprintf("MGR-%d", r.Intn(5))
			}
			ent["manager"] = m
		}
		body[schema.EnterpriseURN] = ent
	}
	if chance(r, 50) {
		sup := map[string]any{}
		if chance(r, 85) {
			sup["tier"] = pick(r, schema.Tiers)
		}
		if chance(r, 40) {
			sup["sourceUserNames"] = []any{
				map[string]any{"source": pick(r, []string{"slack", "Slack", "github"}), "value": fmt.Sprintf("U%03d", r.Intn(50))},
			}
		}
		body[schema.SupportURN] = sup
	}
	return body
}

// load writes d into s and builds the oracle's resources from what the
// store kept (member displays are filled in by the store).
func (d *diffData) load(t *testing.T, s store.Store) {
	ctx := context.Background()
	d.userRes, d.groupRes, d.names = map[string]filter.Resource{}, map[string]filter.Resource{}, map[string]string{}
	for _, u := range d.users {
		mustCreateUser(t, s, u)
		res := decodeResource(t, u.Doc)
		res["id"] = u.ID
		res["meta"] = map[string]any{"created": u.Created, "lastModified": u.LastModified}
		d.userRes[u.ID] = res
		d.userIDs = append(d.userIDs, u.ID)
		d.names[u.ID] = u.UserName
	}
	for _, g := range d.groups {
		mustCreateGroup(t, s, g)
		stored, err := s.GetGroup(ctx, store.DefaultTenant, g.ID, store.GroupLoad{Members: true})
		if err != nil {
			t.Fatalf("GetGroup(%s): %v", g.DisplayName, err)
		}
		res := decodeResource(t, g.Doc)
		res["id"] = g.ID
		res["meta"] = map[string]any{"created": g.Created, "lastModified": g.LastModified}
		if len(stored.Members) > 0 {
			members := make([]any, len(stored.Members))
			for i, m := range stored.Members {
				members[i] = map[string]any{"value": m.ID, "type": m.Type, "display": m.Display}
				if m.Type == "User" {
					ur := d.userRes[m.ID]
					groups, _ := ur["groups"].([]any)
					ur["groups"] = append(groups, map[string]any{"value": g.ID, "display": g.DisplayName, "type": "direct"})
				}
			}
			res["members"] = members
		}
		d.groupRes[g.ID] = res
		d.groupIDs = append(d.groupIDs, g.ID)
		d.names[g.ID] = g.DisplayName
	}
}

func decodeResource(t *testing.T, raw []byte) filter.Resource {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var res map[string]any
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return res
}
