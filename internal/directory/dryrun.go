package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// dryStore is the store a dry run sees: reads go to the real store, user
// writes go to an in-memory overlay that later operations of the stream
// read back, so validation, policy and uniqueness (against the store and
// within the stream) are judged exactly as in a real run while nothing is
// written. Group writes are refused: a dry run previews users.
type dryStore struct {
	store.Store
	reg     *schema.Registry
	mu      sync.Mutex
	users   map[string]store.User // created or changed in the run
	deleted map[string]bool
	names   map[string]string // normalised userName -> id, claimed in the run
	// free, when set, vouches for normalised userNames no store user
	// holds (ApplyOptions.FreeUserName).
	free func(norm string) bool
}

func newDryStore(real store.Store, reg *schema.Registry) *dryStore {
	return &dryStore{Store: real, reg: reg, users: map[string]store.User{}, deleted: map[string]bool{}, names: map[string]string{}}
}

// errDryRunGroups answers a group change in a dry run.
var errDryRunGroups = scimerrors.ScimError{Status: http.StatusNotImplemented,
	Detail: "A dry run previews user changes only; group changes are not previewed."}

// taken reports whether userName belongs to a user other than self, in
// the run or in the store (unless the run renamed or deleted that user).
func (d *dryStore) taken(ctx context.Context, tenant, userName, self string) (bool, error) {
	norm := store.NormalizeUserName(userName)
	if id, ok := d.names[norm]; ok {
		return id != self, nil
	}
	if d.vouched(norm) {
		return false, nil
	}
	quoted, err := json.Marshal(userName)
	if err != nil {
		return false, fmt.Errorf("quote userName: %w", err)
	}
	f, err := filter.Parse(d.reg.User, "userName eq "+string(quoted))
	if err != nil {
		return false, fmt.Errorf("userName filter: %w", err)
	}
	found, _, err := d.Store.ListUsers(ctx, tenant, store.Query{Filter: f, Limit: 10}, store.UserLoad{WithoutEmails: true})
	if err != nil {
		return false, err
	}
	for _, u := range found {
		_, changed := d.users[u.ID]
		if u.ID != self && !changed && !d.deleted[u.ID] {
			return true, nil
		}
	}
	return false, nil
}

// claim records u's userName in the run, releasing its previous one.
func (d *dryStore) claim(u store.User, previous string) {
	if previous != "" && d.names[store.NormalizeUserName(previous)] == u.ID {
		delete(d.names, store.NormalizeUserName(previous))
	}
	d.names[store.NormalizeUserName(u.UserName)] = u.ID
	d.users[u.ID] = u
}

// CreateUser implements store.Users without writing.
func (d *dryStore) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	taken, err := d.taken(ctx, u.TenantID, u.UserName, u.ID)
	if err != nil {
		return store.User{}, err
	}
	if taken {
		return store.User{}, fmt.Errorf("%w: userName %q", store.ErrConflict, u.UserName)
	}
	d.claim(u, "")
	return u, nil
}

// CreateUsers implements store.Users without writing. The userNames of
// the whole batch are looked up in the store together (ownerChunk per
// statement), not one query per user as CreateUser does.
func (d *dryStore) CreateUsers(ctx context.Context, users []store.User) ([]error, error) {
	owners, err := d.storeOwners(ctx, users)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]error, len(users))
	for i, u := range users {
		if d.takenKnown(u.UserName, u.ID, owners[u.TenantID]) {
			out[i] = fmt.Errorf("%w: userName %q", store.ErrConflict, u.UserName)
			continue
		}
		d.claim(u, "")
	}
	return out, nil
}

// ownerChunk is the number of userNames storeOwners asks for in one
// statement (an IN list, see LookupChunkSingle).
const ownerChunk = LookupChunkSingle

// storeOwners returns, per tenant, the store's holder of each of the
// users' userNames (normalised userName -> id), for the names the run has
// not claimed itself.
func (d *dryStore) storeOwners(ctx context.Context, users []store.User) (map[string]map[string]string, error) {
	names := map[string][]string{}
	d.mu.Lock()
	for _, u := range users {
		norm := store.NormalizeUserName(u.UserName)
		if _, claimed := d.names[norm]; !claimed && !d.vouched(norm) {
			names[u.TenantID] = append(names[u.TenantID], u.UserName)
		}
	}
	d.mu.Unlock()
	out := map[string]map[string]string{}
	for tenant, list := range names {
		owners := map[string]string{}
		for start := 0; start < len(list); start += ownerChunk {
			chunk := list[start:min(start+ownerChunk, len(list))]
			f, err := d.userNameFilter(chunk)
			if err != nil {
				return nil, err
			}
			// userNames are unique: a chunk has at most len(chunk) holders,
			// so the page is never full and no count query runs.
			q := store.Query{Filter: f, Limit: len(chunk) + 1}
			found, _, err := d.Store.ListUsers(ctx, tenant, q, store.UserLoad{WithoutEmails: true})
			if err != nil {
				return nil, err
			}
			for _, u := range found {
				owners[store.NormalizeUserName(u.UserName)] = u.ID
			}
		}
		out[tenant] = owners
	}
	return out, nil
}

// vouched reports whether the caller vouched that no store user holds
// the normalised userName.
func (d *dryStore) vouched(norm string) bool { return d.free != nil && d.free(norm) }

// userNameFilter is `userName eq "a" or userName eq "b" ...`.
func (d *dryStore) userNameFilter(names []string) (filter.Expr, error) {
	tmpl, err := keyTemplate(d.reg.User, "userName")
	if err != nil {
		return nil, fmt.Errorf("userName filter: %w", err)
	}
	return keyFilter(tmpl, names), nil
}

// takenKnown is taken with the store's holders already looked up: the
// userName belongs to another user of the run, or to a store user the run
// has neither changed nor deleted. d.mu is held.
func (d *dryStore) takenKnown(userName, self string, owners map[string]string) bool {
	key := store.NormalizeUserName(userName)
	if id, ok := d.names[key]; ok {
		return id != self
	}
	id, ok := owners[key]
	if !ok || id == self {
		return false
	}
	_, changed := d.users[id]
	return !changed && !d.deleted[id]
}

// GetUser reads the run's version of a user, else the store's.
func (d *dryStore) GetUser(ctx context.Context, tenant, id string, load store.UserLoad) (store.User, error) {
	d.mu.Lock()
	u, changed := d.users[id]
	deleted := d.deleted[id]
	d.mu.Unlock()
	switch {
	case deleted:
		return store.User{}, store.ErrNotFound
	case changed:
		return u, nil
	}
	return d.Store.GetUser(ctx, tenant, id, load)
}

// UpdateUser implements store.Users without writing.
func (d *dryStore) UpdateUser(ctx context.Context, tenant, id string, fn func(*store.User) error) (store.User, error) {
	cur, err := d.GetUser(ctx, tenant, id, store.UserLoad{Groups: true})
	if err != nil {
		return store.User{}, err
	}
	previous, read := cur.UserName, cur
	if err := fn(&cur); errors.Is(err, store.ErrUnchanged) {
		return read, nil
	} else if err != nil {
		return store.User{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	taken, err := d.taken(ctx, tenant, cur.UserName, id)
	if err != nil {
		return store.User{}, err
	}
	if taken {
		return store.User{}, fmt.Errorf("%w: userName %q", store.ErrConflict, cur.UserName)
	}
	cur.Version++
	d.claim(cur, previous)
	return cur, nil
}

// UpdateUsers implements store.Users without writing. The users the run
// has not changed are read from the store together (one filtered list per
// ownerChunk ids), and the new userNames of renamed users are looked up
// together, as CreateUsers does; the users are then judged and kept in
// the overlay in the order of ids, as UpdateUser would one by one.
func (d *dryStore) UpdateUsers(ctx context.Context, tenant string, ids []string, fn func(int, *store.User) (*store.AuditEvent, error)) ([]store.UserUpdate, error) {
	if err := store.CheckDistinctIDs(ids); err != nil {
		return nil, err
	}
	found, err := d.currentUsers(ctx, tenant, ids)
	if err != nil {
		return nil, err
	}
	out := make([]store.UserUpdate, len(ids))
	previous, changed := make([]string, len(ids)), make([]bool, len(ids))
	var renamed []store.User
	for i, id := range ids {
		cur, _, outcome, ok := store.JudgeUpdate(i, id, found, fn)
		if !ok {
			out[i] = outcome
			continue
		}
		out[i].User, previous[i], changed[i] = cur, found[id].UserName, true
		if store.NormalizeUserName(cur.UserName) != store.NormalizeUserName(previous[i]) {
			renamed = append(renamed, cur)
		}
	}
	owners, err := d.storeOwners(ctx, renamed)
	if err != nil {
		return nil, err
	}
	d.keepUpdates(owners[tenant], previous, changed, out)
	return out, nil
}

// keepUpdates records the changed users of an UpdateUsers call in the
// overlay, in order, failing those whose new userName is taken. A user
// that keeps its userName (up to case) cannot conflict: the name is its
// own in the run or in the store.
func (d *dryStore) keepUpdates(owners map[string]string, previous []string, changed []bool, out []store.UserUpdate) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range out {
		u := out[i].User
		if !changed[i] {
			continue
		}
		renamed := store.NormalizeUserName(u.UserName) != store.NormalizeUserName(previous[i])
		if renamed && d.takenKnown(u.UserName, u.ID, owners) {
			out[i] = store.UserUpdate{Err: fmt.Errorf("%w: userName %q", store.ErrConflict, u.UserName)}
			continue
		}
		u.Version++
		d.claim(u, previous[i])
		out[i].User = u
	}
}

// currentUsers returns the run's version of each of the users ids names,
// reading those the run has not changed from the store together; users
// the run deleted are absent.
func (d *dryStore) currentUsers(ctx context.Context, tenant string, ids []string) (map[string]store.User, error) {
	out := make(map[string]store.User, len(ids))
	var unread []string
	d.mu.Lock()
	for _, id := range ids {
		if u, ok := d.users[id]; ok {
			out[id] = u
		} else if !d.deleted[id] {
			unread = append(unread, id)
		}
	}
	d.mu.Unlock()
	tmpl, err := keyTemplate(d.reg.User, "id")
	if err != nil {
		return nil, fmt.Errorf("id filter: %w", err)
	}
	for start := 0; start < len(unread); start += ownerChunk {
		chunk := unread[start:min(start+ownerChunk, len(unread))]
		// ids are unique: the page is never full, so no count query runs.
		q := store.Query{Filter: keyFilter(tmpl, chunk), Limit: len(chunk) + 1}
		users, _, err := d.Store.ListUsers(ctx, tenant, q, store.UserLoad{Groups: true})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			out[u.ID] = u
		}
	}
	return out, nil
}

// DeleteUser implements store.Users without writing.
func (d *dryStore) DeleteUser(ctx context.Context, tenant, id string, version int64) error {
	cur, err := d.GetUser(ctx, tenant, id, store.UserLoad{WithoutEmails: true})
	if err != nil {
		return err
	}
	if version != 0 && version != cur.Version {
		return store.ErrVersionMismatch
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.names[store.NormalizeUserName(cur.UserName)] == id {
		delete(d.names, store.NormalizeUserName(cur.UserName))
	}
	delete(d.users, id)
	d.deleted[id] = true
	return nil
}

// UserTiers reads the run's tiers first.
func (d *dryStore) UserTiers(ctx context.Context, tenant string, ids []string) (map[string]store.Tier, error) {
	out, err := d.Store.UserTiers(ctx, tenant, ids)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		if u, ok := d.users[id]; ok {
			out[id] = u.Tier
		} else if d.deleted[id] {
			delete(out, id)
		}
	}
	return out, nil
}

// CreateGroup is refused in a dry run.
func (d *dryStore) CreateGroup(context.Context, store.Group) (store.Group, error) {
	return store.Group{}, errDryRunGroups
}

// UpdateGroup is refused in a dry run.
func (d *dryStore) UpdateGroup(context.Context, string, string, func(*store.Group) error) (store.Group, error) {
	return store.Group{}, errDryRunGroups
}

// DeleteGroup is refused in a dry run.
func (d *dryStore) DeleteGroup(context.Context, string, string, int64) error {
	return errDryRunGroups
}

// ModifyGroup is refused in a dry run.
func (d *dryStore) ModifyGroup(context.Context, string, string, store.MemberPatch, func(*store.Group, bool) error) (store.Group, error) {
	return store.Group{}, errDryRunGroups
}
