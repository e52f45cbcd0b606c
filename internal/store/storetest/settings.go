package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

func settingsCases() []testCase {
	return []testCase{
		{"SettingsRoundTrip", testSettingsRoundTrip},
		{"SettingsUnknownTenant", testSettingsUnknownTenant},
		{"SettingsUnchangedAndFailedCallbacks", testSettingsCallbacks},
		{"SettingsConcurrentUpdatesSerialize", testSettingsConcurrent},
		{"SettingsAuditedWithTheWrite", testSettingsAudit},
	}
}

func testSettingsAudit(t *testing.T, s store.Store) {
	tmpl := &store.AuditEvent{Actor: "admin", ActorKind: "provisioner", Action: "replace", Source: "scim"}
	ctx := store.WithAudit(context.Background(), tmpl)
	if _, err := s.UpdateSettings(ctx, store.DefaultTenant, func(st *store.Settings) error {
		st.Doc, st.Updated = []byte(`{"roles":["A"]}`), now
		tmpl.Attributes = []string{"roles"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateSettings(ctx, store.DefaultTenant, func(*store.Settings) error { return store.ErrUnchanged }); err != nil {
		t.Fatal(err)
	}
	evs, err := s.AuditEvents(context.Background(), store.DefaultTenant, store.AuditQuery{Limit: 10})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events = %+v, %v; want one", evs, err)
	}
	e := evs[0]
	if e.ResourceType != "Settings" || e.ResourceID != store.DefaultTenant || e.Actor != "admin" || len(e.Attributes) != 1 || e.Attributes[0] != "roles" {
		t.Fatalf("event = %+v", e)
	}
}

func testSettingsRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateTenant(t, s, "acme")
	got, err := s.GetSettings(ctx, "acme")
	if err != nil || got.Version != 0 || got.Doc != nil || got.TenantID != "acme" {
		t.Fatalf("fresh settings = %+v, %v; want version 0, nil doc", got, err)
	}
	for i := 1; i <= 2; i++ {
		doc := fmt.Sprintf(`{"roles":["r%d"]}`, i)
		up, err := s.UpdateSettings(ctx, "acme", func(st *store.Settings) error {
			st.Doc, st.Updated = []byte(doc), now.Add(time.Duration(i)*time.Second)
			return nil
		})
		if err != nil || up.Version != int64(i) || string(up.Doc) != doc {
			t.Fatalf("update %d = %+v, %v", i, up, err)
		}
		got, err := s.GetSettings(ctx, "acme")
		if err != nil || got.Version != int64(i) || string(got.Doc) != doc || !got.Updated.Equal(now.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("read after update %d = %+v, %v", i, got, err)
		}
	}
	other, err := s.GetSettings(ctx, store.DefaultTenant)
	if err != nil || other.Version != 0 || other.Doc != nil {
		t.Fatalf("another tenant's settings = %+v, %v; want untouched", other, err)
	}
}

func testSettingsUnknownTenant(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetSettings(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	called := false
	_, err = s.UpdateSettings(ctx, "nope", func(*store.Settings) error { called = true; return nil })
	wantErr(t, err, store.ErrNotFound)
	if called {
		t.Fatal("fn called for an unknown tenant")
	}
}

func testSettingsCallbacks(t *testing.T, s store.Store) {
	ctx := context.Background()
	set := func(doc string) func(*store.Settings) error {
		return func(st *store.Settings) error { st.Doc, st.Updated = []byte(doc), now; return nil }
	}
	if _, err := s.UpdateSettings(ctx, store.DefaultTenant, set(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateSettings(ctx, store.DefaultTenant, func(st *store.Settings) error {
		st.Doc = []byte(`{"changed":true}`)
		return store.ErrUnchanged
	})
	if err != nil || got.Version != 1 || string(got.Doc) != `{"a":1}` {
		t.Fatalf("ErrUnchanged: %+v, %v; want version 1 as read", got, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateSettings(ctx, store.DefaultTenant, func(st *store.Settings) error {
		st.Doc = []byte(`{"b":2}`)
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing fn: %v, want its error", err)
	}
	got, err = s.GetSettings(ctx, store.DefaultTenant)
	if err != nil || got.Version != 1 || string(got.Doc) != `{"a":1}` {
		t.Fatalf("after failures: %+v, %v; want version 1", got, err)
	}
}

// testSettingsConcurrent: updates that each append to what they read lose
// nothing, so they are serialized (including the very first write).
func testSettingsConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateSettings(ctx, store.DefaultTenant, func(st *store.Settings) error {
				prev := strings.Trim(string(st.Doc), `"`)
				st.Doc = []byte(`"` + prev + string(rune('a'+i)) + `"`)
				return nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetSettings(ctx, store.DefaultTenant)
	if err != nil || got.Version != n || len(got.Doc) != n+2 {
		t.Fatalf("after %d concurrent updates: version %d, doc %q, %v", n, got.Version, got.Doc, err)
	}
}
