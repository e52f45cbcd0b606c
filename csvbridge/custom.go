package csvbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// MaxProfileBytes is the largest custom profile document.
const MaxProfileBytes = 256 << 10

// custom returns a version of the tenant's own profile (0: the latest).
func (j *Jobs) customProfile(ctx context.Context, tenant, name string, version int) (*Profile, error) {
	if j.customs == nil {
		return nil, store.ErrNotFound
	}
	rec, err := j.customs.GetCSVProfile(ctx, tenant, name, version)
	if err != nil {
		return nil, err
	}
	var p Profile
	if err := json.Unmarshal(rec.Doc, &p); err != nil {
		return nil, fmt.Errorf("decode csv profile %s version %d: %w", name, rec.Version, err)
	}
	p.Name, p.Version = rec.Name, rec.Version
	return &p, nil
}

// Profiles returns the built-in profiles and the latest version of each
// of the caller's tenant's own, by name.
func (j *Jobs) Profiles(ctx context.Context, p policy.Principal) ([]*Profile, error) {
	out := BuiltinProfiles()
	if j.customs == nil {
		return out, nil
	}
	recs, err := j.customs.ListCSVProfiles(ctx, p.Tenant)
	if err != nil {
		return nil, fmt.Errorf("list csv profiles: %w", err)
	}
	for _, rec := range recs {
		prof, err := j.customProfile(ctx, p.Tenant, rec.Name, rec.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, prof)
	}
	return out, nil
}

// ProfileFor returns the profile with the name as the caller's tenant
// uses it: a built-in one or the tenant's own (latest version), with the
// tenant's organisation fields where the profile asks for them.
func (j *Jobs) ProfileFor(ctx context.Context, p policy.Principal, name string) (*Profile, error) {
	prof, err := j.find(ctx, p.Tenant, name, 0)
	if err != nil {
		return nil, err
	}
	if !prof.OrgFields {
		return prof, nil
	}
	ts, err := j.dir.Settings(ctx, p)
	if err != nil {
		return nil, err
	}
	return prof.ForTenant(&ts), nil
}

// PutProfile stores a new version of the caller's tenant's own profile
// (tier 2 and up) from its JSON document and returns it. The document is
// a Profile; its name, if given, must be the name in the URL, and its
// version, if given, the next one (else 409: someone stored one
// meanwhile). Unknown fields, wrong types and broken rules are refused
// with a 400 whose detail names each offending field; built-in names are
// taken.
func (j *Jobs) PutProfile(ctx context.Context, p policy.Principal, name string, doc io.Reader) (*Profile, error) {
	if err := allow(p, policy.CSVProfileWrite); err != nil {
		return nil, err
	}
	if j.customs == nil {
		return nil, errorf(http.StatusNotImplemented, "", "This server keeps no custom profiles.")
	}
	if _, builtin := j.profiles(name); builtin {
		return nil, errorf(http.StatusConflict, "uniqueness", "%q is a built-in profile; choose another name.", name)
	}
	prof, err := decodeProfile(doc)
	if err != nil {
		return nil, err
	}
	latest := 0
	if cur, err := j.customs.GetCSVProfile(ctx, p.Tenant, name, 0); err == nil {
		latest = cur.Version
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("csv profile %s: %w", name, err)
	}
	if err := j.checkProfile(ctx, p, name, latest, prof); err != nil {
		return nil, err
	}
	return prof, j.storeProfile(ctx, p, prof)
}

func (j *Jobs) storeProfile(ctx context.Context, p policy.Principal, prof *Profile) error {
	raw, err := json.Marshal(prof)
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	rec := store.CSVProfile{TenantID: p.Tenant, Name: prof.Name, Version: prof.Version, Doc: raw, Created: j.now().UTC(), CreatedBy: actor(p)}
	err = j.customs.PutCSVProfile(ctx, rec)
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, "", "Profile %s changed meanwhile (version %d was stored by someone else); read it again and retry.", prof.Name, prof.Version)
	}
	if err != nil {
		return fmt.Errorf("store csv profile %s: %w", prof.Name, err)
	}
	return nil
}

// checkProfile completes the name and version and checks the rules and
// the attribute paths against the tenant's schema.
func (j *Jobs) checkProfile(ctx context.Context, p policy.Principal, name string, latest int, prof *Profile) error {
	if prof.Name != "" && prof.Name != name {
		return profileInvalid([]FieldProblem{{Field: "name", Message: fmt.Sprintf("%q differs from the name in the URL, %q", prof.Name, name)}})
	}
	if prof.Version != 0 && prof.Version != latest+1 {
		return errorf(http.StatusConflict, "", "Profile %s is at version %d; send version %d (or none) to store the next one.", name, latest, latest+1)
	}
	prof.Name, prof.Version = name, latest+1
	if prof.ResourceType == "" {
		prof.ResourceType = "User"
	}
	if prof.UnknownColumns == "" {
		prof.UnknownColumns = UnknownError
	}
	if prof.Commit == "" {
		prof.Commit = CommitApplyValid
	}
	var pe *ProfileError
	if err := prof.Validate(); errors.As(err, &pe) {
		return profileInvalid(pe.Problems)
	}
	reg, err := j.dir.TenantRegistry(ctx, p)
	if err != nil {
		return err
	}
	if problems := pathProblems(reg, prof); len(problems) > 0 {
		return profileInvalid(problems)
	}
	return nil
}

// pathProblems resolves every column's and option's paths.
func pathProblems(reg *schema.Registry, p *Profile) []FieldProblem {
	var ps problems
	for i, c := range p.Columns {
		for k, path := range c.Paths {
			if _, err := ResolveTarget(reg.User, path); err != nil {
				ps.add(fmt.Sprintf("columns[%d].paths[%d]", i, k), "%s", scimDetail(err))
			}
		}
	}
	for i, o := range p.Options {
		if _, err := ResolveTarget(reg.User, o.Path); err != nil {
			ps.add(fmt.Sprintf("options[%d].path", i), "%s", scimDetail(err))
		}
	}
	return ps
}

// decodeProfile reads a profile document strictly: unknown fields and
// wrong types are 400s naming the field.
func decodeProfile(r io.Reader) (*Profile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxProfileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	if len(data) > MaxProfileBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, "tooLarge", "A profile document may be at most %d KiB.", MaxProfileBytes>>10)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var p Profile
	err = dec.Decode(&p)
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case err == nil:
		return &p, nil
	case errors.As(err, &te):
		return nil, profileInvalid([]FieldProblem{{Field: te.Field, Message: fmt.Sprintf("a %s cannot hold a JSON %s", te.Type, te.Value)}})
	case errors.As(err, &se):
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "The profile is not valid JSON (at byte %d): %v.", se.Offset, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return nil, profileInvalid([]FieldProblem{{Field: field, Message: "is not a profile field"}})
	}
	return nil, errorf(http.StatusBadRequest, "invalidSyntax", "The profile is not valid JSON: %v.", err)
}

// profileInvalid is the 400 of a profile with problems, each naming its
// field.
func profileInvalid(ps []FieldProblem) error {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Field + ": " + p.Message
	}
	return errorf(http.StatusBadRequest, "invalidValue", "The profile is not valid: %s.", strings.Join(parts, "; "))
}
