package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// RefoldMigration is the migration after which backends keep every
// normalised column (userName, email values, group display names) as
// NormalizeUserName computes it in Go. Its SQL changes no schema; each
// backend recomputes the columns in the same transaction (Refold).
const RefoldMigration = "0007_unicode_case_folding.sql"

// NormRow is one stored value and its normalised column, as a refold
// reads them. Key (and Ord, for email rows) identifies the row within
// its tenant and table.
type NormRow struct {
	Tenant string
	Key    string
	Ord    int
	Value  string
	Norm   string
}

// NormTable names a table holding a normalised column, for the refold.
type NormTable struct {
	Table, Value, Norm, Key string
	// Ord is the column that, with Key, identifies a row ("" if Key does).
	Ord string
	// Unique is the unique index on (tenant_id, Norm), if any; the refold
	// drops and recreates it around its updates so that rows swapping
	// values never collide midway.
	Unique string
}

// NormTables are the tables a refold recomputes, users first.
var NormTables = []NormTable{
	{Table: "users", Value: "user_name", Norm: "user_name_norm", Key: "id", Unique: "users_user_name_norm"},
	{Table: "user_emails", Value: "value", Norm: "value_norm", Key: "user_id", Ord: "ord"},
	{Table: "groups", Value: "display_name", Norm: "display_name_norm", Key: "id"},
}

// SelectSQL reads the table's rows for a refold (no parameters).
func (t NormTable) SelectSQL() string {
	ord := "0"
	if t.Ord != "" {
		ord = t.Ord
	}
	return fmt.Sprintf("SELECT tenant_id, %s, %s, %s, %s FROM %s", t.Key, ord, t.Value, t.Norm, t.Table)
}

// UpdateSQL sets one row's normalised column; its parameters, in order,
// are the new value, the tenant, the key and the ord. ph numbers them
// in the backend's placeholder style.
func (t NormTable) UpdateSQL(ph func(int) string) string {
	return fmt.Sprintf("UPDATE %s SET %s = %s WHERE tenant_id = %s AND %s = %s AND %s = %s",
		t.Table, t.Norm, ph(1), ph(2), t.Key, ph(3), t.ordExpr(), ph(4))
}

func (t NormTable) ordExpr() string {
	if t.Ord == "" {
		return "0"
	}
	return t.Ord
}

// CreateUniqueSQL recreates the table's unique index (empty if none).
func (t NormTable) CreateUniqueSQL() string {
	if t.Unique == "" {
		return ""
	}
	return fmt.Sprintf("CREATE UNIQUE INDEX %s ON %s (tenant_id, %s)", t.Unique, t.Table, t.Norm)
}

// Refolded returns the rows whose normalised column differs from
// NormalizeUserName(Value), with Norm set to the new value.
func Refolded(rows []NormRow) []NormRow {
	var out []NormRow
	for _, r := range rows {
		if n := NormalizeUserName(r.Value); n != r.Norm {
			r.Norm = n
			out = append(out, r)
		}
	}
	return out
}

// maxReported bounds how many collisions a refold error names.
const maxReported = 20

// UserNameCollisions returns an error naming every set of users of one
// tenant whose userNames fold to the same string, or nil. The refold
// migration refuses to run while any exist: it never renames, merges or
// drops a user on its own. Rename one of each set (with the previous
// release) and migrate again.
func UserNameCollisions(users []NormRow) error {
	seen := map[[2]string][]NormRow{}
	for _, u := range users {
		k := [2]string{u.Tenant, NormalizeUserName(u.Value)}
		seen[k] = append(seen[k], u)
	}
	var sets []string
	for _, set := range seen {
		if len(set) < 2 {
			continue
		}
		names := make([]string, len(set))
		for i, u := range set {
			names[i] = fmt.Sprintf("%q (id %s)", u.Value, u.Key)
		}
		sort.Strings(names)
		sets = append(sets, fmt.Sprintf("tenant %q: %s", set[0].Tenant, strings.Join(names, ", ")))
	}
	if len(sets) == 0 {
		return nil
	}
	sort.Strings(sets)
	n := len(sets)
	if n > maxReported {
		sets = append(sets[:maxReported], fmt.Sprintf("and %d more", n-maxReported))
	}
	return fmt.Errorf("%w: %d sets of users have userNames equal under Unicode case folding; "+
		"rename all but one user of each set with the previous release, then migrate again: %s",
		ErrConflict, n, strings.Join(sets, "; "))
}

// NormIO is what a backend supplies for a refold: reading a table's rows
// and writing the changed ones, both inside the migration's transaction.
type NormIO interface {
	ReadNormRows(ctx context.Context, t NormTable) ([]NormRow, error)
	WriteNormRows(ctx context.Context, t NormTable, changed []NormRow) error
}

// Refold recomputes every normalised column through io (users first). It
// fails, changing nothing, if two users of a tenant would share a
// userName.
func Refold(ctx context.Context, io NormIO) error {
	for i, t := range NormTables {
		rows, err := io.ReadNormRows(ctx, t)
		if err != nil {
			return err
		}
		if i == 0 {
			if err := UserNameCollisions(rows); err != nil {
				return err
			}
		}
		if err := io.WriteNormRows(ctx, t, Refolded(rows)); err != nil {
			return err
		}
	}
	return nil
}
