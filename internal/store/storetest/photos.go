package storetest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

func photoCases() []testCase {
	return []testCase{
		{"PhotoPutGetDelete", testPhotoPutGetDelete},
		{"PhotoTenantIsolationAndCascade", testPhotoTenantCascade},
		{"JobReplaceUpload", testJobReplaceUpload},
	}
}

func newPhoto(tenant, userID string, body []byte) store.Photo {
	return store.Photo{TenantID: tenant, ID: uuid.NewString(), UserID: userID, ContentType: "image/png",
		SHA256: "cafe", Body: body, Created: now}
}

func testPhotoPutGetDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "pic"))
	body := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0}, 1000)
	first, second := newPhoto(u.TenantID, u.ID, body), newPhoto(u.TenantID, u.ID, []byte("second"))
	for _, p := range []store.Photo{first, second} {
		if err := s.PutPhoto(ctx, p); err != nil {
			t.Fatalf("PutPhoto: %v", err)
		}
	}
	wantErr(t, s.PutPhoto(ctx, first), store.ErrConflict)
	wantErr(t, s.PutPhoto(ctx, newPhoto(u.TenantID, uuid.NewString(), body)), store.ErrNotFound)
	got, err := s.GetPhoto(ctx, u.TenantID, first.ID)
	if err != nil || !bytes.Equal(got.Body, body) || got.UserID != u.ID || got.ContentType != "image/png" || got.SHA256 != "cafe" || !got.Created.Equal(now) {
		t.Fatalf("GetPhoto = %+v, %v", got.UserID, err)
	}
	n, err := s.DeleteUserPhotos(ctx, u.TenantID, u.ID, second.ID)
	if err != nil || n != 1 {
		t.Fatalf("DeleteUserPhotos(keep second) = %d, %v", n, err)
	}
	_, err = s.GetPhoto(ctx, u.TenantID, first.ID)
	wantErr(t, err, store.ErrNotFound)
	if err := s.DeletePhoto(ctx, u.TenantID, second.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetPhoto(ctx, u.TenantID, second.ID)
	wantErr(t, err, store.ErrNotFound)
	if err := s.DeletePhoto(ctx, u.TenantID, second.ID); err != nil {
		t.Fatalf("DeletePhoto of a missing photo: %v", err)
	}
}

func testPhotoTenantCascade(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "pic"))
	p := newPhoto(u.TenantID, u.ID, []byte("img"))
	if err := s.PutPhoto(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetPhoto(ctx, "acme", p.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.PutPhoto(ctx, newPhoto("acme", u.ID, []byte("x"))), store.ErrNotFound)
	if err := s.DeletePhoto(ctx, "acme", p.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteUserPhotos(ctx, "acme", u.ID, ""); err != nil || n != 0 {
		t.Fatalf("DeleteUserPhotos from another tenant = %d, %v", n, err)
	}
	if _, err := s.GetPhoto(ctx, u.TenantID, p.ID); err != nil {
		t.Fatalf("photo gone after another tenant's deletes: %v", err)
	}
	if err := s.DeleteUser(ctx, u.TenantID, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetPhoto(ctx, u.TenantID, p.ID)
	wantErr(t, err, store.ErrNotFound)
}

func testJobReplaceUpload(t *testing.T, s store.Store) {
	ctx := context.Background()
	j := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobValidating))
	big := strings.Repeat("x", store.UploadPartSize+10)
	_, err := s.ReplaceJobUpload(ctx, j.TenantID, j.ID, "", strings.NewReader(big), func(cur *store.Job) error {
		return errCallback
	})
	wantErr(t, err, errCallback)
	if got := readUpload(t, s, j); got != "email\n"+j.ID+"\n" {
		t.Fatalf("upload after a failed replace = %q", got)
	}
	_, err = s.ReplaceJobUpload(ctx, j.TenantID, j.ID, "someone", strings.NewReader(big), func(*store.Job) error { return nil })
	wantErr(t, err, store.ErrLeaseLost)
	out, err := s.ReplaceJobUpload(ctx, j.TenantID, j.ID, "", strings.NewReader(big), func(cur *store.Job) error {
		cur.State, cur.FileSize = store.JobCompleted, int64(len(big))
		return nil
	})
	if err != nil || out.State != store.JobCompleted || out.Version != 2 {
		t.Fatalf("ReplaceJobUpload = %+v, %v", out.State, err)
	}
	if got := readUpload(t, s, j); got != big {
		t.Fatalf("upload after replace has %d bytes, want %d", len(got), len(big))
	}
	_, err = s.ReplaceJobUpload(ctx, "nobody", j.ID, "", strings.NewReader("x"), func(*store.Job) error { return nil })
	wantErr(t, err, store.ErrNotFound)
}
