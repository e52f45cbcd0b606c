package directory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/store"
)

// TestUsersByKeys: keys spanning several chunks find each matching user
// once, by userName (case-insensitive), externalId, email and id; absent
// keys and quotes in values are harmless; groups are read only when asked.
func TestUsersByKeys(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		const n = 2*directory.LookupChunk + 10
		var names, exts, mails []string
		var first string
		for i := range n {
			r, err := s.CreateUser(ctx, admin, map[string]any{"userName": fmt.Sprint("look-", i),
				"externalId": fmt.Sprint("x", i), "emails": []any{map[string]any{"value": fmt.Sprintf("l%d@example.com", i)}}})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = r.ID
			}
			names = append(names, fmt.Sprint("LOOK-", i))
			exts = append(exts, fmt.Sprint("x", i))
			mails = append(mails, fmt.Sprintf("l%d@example.com", i))
		}
		names = append(names, `nobody "quoted" \ here`, "look-0")
		for attr, keys := range map[string][]string{"userName": names, "externalId": exts, "emails.value": mails} {
			got, err := s.UsersByKeys(ctx, admin, attr, keys, directory.Lookup{})
			if err != nil || len(got) != n {
				t.Fatalf("%s: %d users, %v; want %d", attr, len(got), err, n)
			}
		}
		if _, err := s.CreateGroup(ctx, admin, map[string]any{"displayName": "look-group", "members": []any{map[string]any{"value": first}}}); err != nil {
			t.Fatal(err)
		}
		for _, load := range []directory.Lookup{{}, {Groups: true}} {
			got, err := s.UsersByKeys(ctx, admin, "id", []string{first}, load)
			if err != nil || len(got) != 1 || got[0].ID != first || got[0].Version == 0 {
				t.Fatalf("by id: %+v, %v", got, err)
			}
			doc, err := got[0].Document()
			if _, has := doc["groups"]; err != nil || has != load.Groups {
				t.Errorf("%+v: groups %v (%v), want them only when asked", load, doc["groups"], err)
			}
		}
	})
}
