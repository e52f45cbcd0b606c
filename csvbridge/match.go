package csvbridge

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// stored is an existing user a row matched, with its decoded document.
type stored struct {
	res *directory.Resource
	doc schema.Doc
}

// match is what a row's match keys found: a user, nobody, or a problem.
type match struct {
	user  *stored
	issue *Issue
}

// matchKeys lists the match keys in the order they are looked up.
var matchKeys = []MatchKey{MatchID, MatchUserName, MatchEmail, MatchExternalID}

// keyAttr is the SCIM attribute a match key compares.
func keyAttr(k MatchKey) string {
	switch k {
	case MatchID:
		return "id"
	case MatchEmail:
		return "emails.value"
	case MatchExternalID:
		return "externalId"
	}
	return "userName"
}

// normKey normalises a key value the way the directory compares it:
// userNames and emails without case, ids in lower case, externalIds
// exactly.
func normKey(k MatchKey, v string) string {
	switch k {
	case MatchUserName, MatchEmail:
		return schema.Fold(v)
	case MatchID:
		return strings.ToLower(v)
	}
	return v
}

// userIndex holds found users by match key and normalised value.
type userIndex map[MatchKey]map[string][]*stored

// lookup finds each row's user by its first match key, one UsersByKeys
// call per key kind for the whole batch; a row's other match keys must
// not find a different user (a second batched lookup, only for values the
// matched user does not hold itself).
func (pl *Planner) lookup(ctx context.Context, rows []Row) ([]match, error) {
	first := keySet{}
	for i := range rows {
		if rows[i].OK() && len(rows[i].Record.Match) > 0 {
			first.add(rows[i].Record.Match[0])
		}
	}
	users := map[string]*stored{}
	idx, err := pl.find(ctx, first, users)
	if err != nil {
		return nil, err
	}
	pl.free = unheld(first[MatchUserName], idx[MatchUserName])
	out := make([]match, len(rows))
	others := keySet{}
	for i := range rows {
		row := &rows[i]
		if !row.OK() || len(row.Record.Match) == 0 {
			continue
		}
		mv := row.Record.Match[0]
		out[i] = pl.pick(row, mv, idx[mv.Key][normKey(mv.Key, mv.Value)])
		if u := out[i].user; u != nil {
			for _, o := range row.Record.Match[1:] {
				if !holds(u, o) {
					others.add(o)
				}
			}
		}
	}
	if len(others) == 0 {
		return out, nil
	}
	idx, err = pl.find(ctx, others, users)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if u := out[i].user; u != nil {
			out[i].issue = pl.disagree(&rows[i], u, idx)
			if out[i].issue != nil {
				out[i].user = nil
			}
		}
	}
	return out, nil
}

// unheld returns the normalised values of asked that found nobody.
func unheld(asked map[string]string, found map[string][]*stored) map[string]bool {
	out := make(map[string]bool, len(asked))
	for norm := range asked {
		if len(found[norm]) == 0 {
			out[norm] = true
		}
	}
	return out
}

// pick chooses the row's user among those its first key found.
func (pl *Planner) pick(row *Row, mv MatchValue, found []*stored) match {
	switch len(found) {
	case 0:
		return match{}
	case 1:
		return match{user: found[0]}
	}
	return match{issue: &Issue{Code: CodeMatchConflict, Column: pl.keyColumn(row, mv.Key), Rule: "match",
		Message: fmt.Sprintf("%d users have the %s %s; the row cannot tell which one it means.", len(found), mv.Key, quoteValue(mv.Value)),
		Hint:    "Identify the user by a value only one user has: id or userName."}}
}

// disagree reports a match key of the row that finds a user other than u.
func (pl *Planner) disagree(row *Row, u *stored, idx userIndex) *Issue {
	for _, o := range row.Record.Match[1:] {
		if holds(u, o) {
			continue
		}
		for _, other := range idx[o.Key][normKey(o.Key, o.Value)] {
			if other.res.ID != u.res.ID {
				first := row.Record.Match[0]
				return &Issue{Code: CodeMatchConflict, Column: pl.keyColumn(row, o.Key), Rule: "match",
					Message: fmt.Sprintf("The %s %s finds one user, the %s %s another.", first.Key, quoteValue(first.Value), o.Key, quoteValue(o.Value)),
					Hint:    "A row's id, userName, email and externalId must all belong to the same user (or to none)."}
			}
		}
	}
	return nil
}

// holds reports whether u has the match value itself.
func holds(u *stored, mv MatchValue) bool {
	want := normKey(mv.Key, mv.Value)
	for _, have := range keysOf(u, mv.Key) {
		if have == want {
			return true
		}
	}
	return false
}

// keysOf lists a user's normalised values for a match key.
func keysOf(u *stored, k MatchKey) []string {
	switch k {
	case MatchID:
		return []string{normKey(k, u.res.ID)}
	case MatchEmail:
		var out []string
		for _, el := range asList(u.doc["emails"]) {
			if m, ok := el.(map[string]any); ok {
				if v, ok := m["value"].(string); ok {
					out = append(out, normKey(k, v))
				}
			}
		}
		return out
	}
	v, _ := u.doc[keyAttr(k)].(string)
	if v == "" {
		return nil
	}
	return []string{normKey(k, v)}
}

// keySet collects distinct key values per match key.
type keySet map[MatchKey]map[string]string // key -> normalised -> as written

func (ks keySet) add(mv MatchValue) {
	m := ks[mv.Key]
	if m == nil {
		m = map[string]string{}
		ks[mv.Key] = m
	}
	m[normKey(mv.Key, mv.Value)] = mv.Value
}

// find looks the keys up, one UsersByKeys call per key kind, and indexes
// the users found by that kind. users shares decoded users across calls.
func (pl *Planner) find(ctx context.Context, ks keySet, users map[string]*stored) (userIndex, error) {
	idx := userIndex{}
	for _, k := range matchKeys {
		if len(ks[k]) == 0 {
			continue
		}
		values := make([]string, 0, len(ks[k]))
		for _, v := range ks[k] {
			values = append(values, v)
		}
		found, err := pl.dir.UsersByKeys(ctx, pl.p, keyAttr(k), values, directory.Lookup{Groups: pl.m.readsGroups()})
		if err != nil {
			return nil, err
		}
		byKey := map[string][]*stored{}
		for _, res := range found {
			u := users[res.ID]
			if u == nil {
				doc, err := res.Document()
				if err != nil {
					return nil, err
				}
				u = &stored{res: res, doc: doc}
				users[res.ID] = u
			}
			for _, key := range keysOf(u, k) {
				if _, asked := ks[k][key]; asked {
					byKey[key] = append(byKey[key], u)
				}
			}
		}
		idx[k] = byKey
	}
	return idx, nil
}
