package csvbridge_test

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

var helpDesk = policy.Principal{Tenant: store.DefaultTenant, Subject: "desk", Kind: policy.KindProvisioner, Tier: policy.Tier0HelpDesk}

// exportJob runs an export job as p and returns its view and file.
func (e *jobEnv) exportJob(t testing.TB, p policy.Principal, req csvbridge.ExportRequest) (csvbridge.View, string) {
	t.Helper()
	job, err := e.jobs.SubmitExport(t.Context(), p, req)
	if err != nil {
		t.Fatalf("submit export: %v", err)
	}
	v, err := e.jobs.GetExport(t.Context(), p, job.ID)
	if err != nil || v.State != csvbridge.ExportRunning || v.Kind != csvbridge.KindExport {
		t.Fatalf("new export job: %+v, %v", v, err)
	}
	e.drain(t)
	v, rc, err := e.jobs.Download(t.Context(), p, job.ID)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return v, string(b)
}

// TestExportJobSameBytes: an export job's file is byte for byte the
// streaming export of the same request (users and groups, with a preset,
// a profile and format options), its counts and size are right, and a
// help-desk caller (tier 0) may run one.
func TestExportJobSameBytes(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		applyUsers(t, e.dir, 2500, func(i int) map[string]any {
			u := agent(fmt.Sprintf("user%04d@example.com", i), i%3 == 0, "")
			u["name"] = map[string]any{"givenName": fmt.Sprintf("=Given,%d\n", i), "familyName": "Ünïcode \"q\""}
			u["active"] = i%4 != 0
			return u
		})
		reqs := []csvbridge.ExportRequest{
			{},
			{Preset: "active", Profile: csvbridge.ProfileSupportTiers, Delimiter: ';', NoBOM: true, LF: true},
			{Filter: `userName sw "user00"`, Attributes: []string{"id", "userName", "name.givenName"}},
		}
		for _, req := range reqs {
			want, n := e.export(t, helpDesk, req)
			v, got := e.exportJob(t, helpDesk, req)
			if got != want {
				t.Fatalf("%+v: the job's file (%d bytes) differs from the stream (%d bytes)", req, len(got), len(want))
			}
			if v.State != store.JobCompleted || v.Counts["total"] != n || v.Progress.Total != n || v.Progress.Done != n || v.FileSize != int64(len(want)) || v.Export.Resources != n || !strings.HasPrefix(v.FileName, "users-") {
				t.Fatalf("%+v: job %+v (rows %d)", req, v, n)
			}
		}
		if _, err := e.dir.CreateGroup(t.Context(), setup, map[string]any{"displayName": "Desk"}); err != nil {
			t.Fatal(err)
		}
		want, _ := e.export(t, helpDesk, csvbridge.ExportRequest{Resource: csvbridge.ExportGroups})
		if _, got := e.exportJob(t, helpDesk, csvbridge.ExportRequest{Resource: csvbridge.ExportGroups}); got != want {
			t.Fatalf("groups: job %q, stream %q", got, want)
		}
		checkExportRefusals(t, e)
	})
}

func checkExportRefusals(t *testing.T, e *jobEnv) {
	t.Helper()
	_, err := e.jobs.SubmitExport(t.Context(), helpDesk, csvbridge.ExportRequest{Raw: true})
	wantSCIM(t, err, http.StatusForbidden, "")
	_, err = e.jobs.SubmitExport(t.Context(), helpDesk, csvbridge.ExportRequest{Filter: "bogus eq 1"})
	wantSCIM(t, err, http.StatusBadRequest, "invalidFilter")
	_, err = e.jobs.SubmitExport(t.Context(), helpDesk, csvbridge.ExportRequest{MemberRows: true})
	wantSCIM(t, err, http.StatusBadRequest, "invalidValue")
	v := e.runAction(t, e.admin, csvbridge.ActionRequest{Filter: `userName eq "nobody"`, Operation: "deactivate"})
	_, err = e.jobs.GetExport(t.Context(), helpDesk, v.ID)
	wantSCIM(t, err, http.StatusNotFound, "")
	job, err := e.jobs.SubmitExport(t.Context(), helpDesk, csvbridge.ExportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.jobs.Download(t.Context(), helpDesk, job.ID)
	wantSCIM(t, err, http.StatusConflict, "")
	e.drain(t)
}

func wantSCIM(t *testing.T, err error, status int, typ scimerrors.ScimType) {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) || se.Status != status || se.ScimType != typ || se.Detail == "" {
		t.Fatalf("want %d %s, got %v", status, typ, err)
	}
}

// memberships reads a groups.csv written one row per membership: group
// id -> member ids (a group without members maps to none).
func memberships(t *testing.T, file string) map[string][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(file, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "id,displayName,externalId,members.value,members.display" {
		t.Fatalf("header %v", recs[0])
	}
	out := map[string][]string{}
	for _, r := range recs[1:] {
		out[r[0]] = append(out[r[0]], r[3])
	}
	for id, ms := range out {
		out[id] = slices.DeleteFunc(ms, func(s string) bool { return s == "" })
		slices.Sort(out[id])
	}
	return out
}

// TestGroupMembershipRows: groups.csv with members=rows has one row per
// membership (the group's cells repeated, a member-less group once with
// empty member cells); reading it back gives every group's exact member
// set, the same as the one-column export and the store.
func TestGroupMembershipRows(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		applyUsers(t, e.dir, 30, func(i int) map[string]any { return agent(fmt.Sprintf("m%02d@example.com", i), false, "") })
		users, err := e.dir.ListUsers(t.Context(), setup, directory.ListQuery{Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{}
		for g, size := range []int{0, 1, 7, 30} {
			var members []any
			var ids []string
			for _, u := range users.Resources[:size] {
				members, ids = append(members, map[string]any{"value": u.ID}), append(ids, u.ID)
			}
			r, err := e.dir.CreateGroup(t.Context(), setup, map[string]any{"displayName": fmt.Sprintf("=Team, %d", g), "members": members})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(ids)
			want[r.ID] = ids
		}
		file, n := e.export(t, helpDesk, csvbridge.ExportRequest{Resource: csvbridge.ExportGroups, MemberRows: true})
		got := memberships(t, file)
		if n != 4 || !maps.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("membership rows give %v, want %v\n%s", got, want, file)
		}
		if lines := strings.Count(file, "\r\n"); lines != 1+1+1+7+30 {
			t.Fatalf("%d lines, want one per membership plus the empty group and the header", lines)
		}
		column, _ := e.export(t, helpDesk, csvbridge.ExportRequest{Resource: csvbridge.ExportGroups})
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(column, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[1:] {
			var ids []string
			if r[3] != "" {
				ids = strings.Split(r[3], "|")
			}
			slices.Sort(ids)
			if !slices.Equal(ids, want[r[0]]) {
				t.Fatalf("column mode, group %s: %v, rows mode %v", r[0], ids, want[r[0]])
			}
		}
		_, jobFile := e.exportJob(t, helpDesk, csvbridge.ExportRequest{Resource: csvbridge.ExportGroups, MemberRows: true})
		if jobFile != file {
			t.Fatal("the export job's membership rows differ from the stream")
		}
	})
}
