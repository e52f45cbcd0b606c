package directory

import (
	"context"
	"errors"
	"net/http"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// A membership change is judged by the tiers of the users it reaches,
// which takes reads. Those reads never run inside the change's store
// transaction: a read through the Store from inside an UpdateGroup
// callback would wait for a second database connection while the change
// holds one, and with every connection held by such changes the server
// would stop (issue 11, defect 1). So a change is judged first, against
// the group as it is read outside the transaction, and the transaction
// then checks that the members it actually changes are among those
// judged; if the group moved meanwhile so that they are not, the change
// is judged again (optimistic concurrency, a few rounds).

// errMembersMoved reports, from inside a transaction, that the member
// change it would write touches members that were not judged.
var errMembersMoved = errors.New("directory: the group's members changed since the change was judged")

// maxJudgeRounds bounds how often a change is judged again when its group
// keeps changing under it.
const maxJudgeRounds = 5

// memberSet is the set of member ids a change was judged for.
type memberSet map[string]bool

// covers says whether every id was judged.
func (m memberSet) covers(ids []string) bool {
	for _, id := range ids {
		if !m[id] {
			return false
		}
	}
	return true
}

// judgedGroupChange reads the group with its members, asks touched which
// member ids the change would touch, judges them (transitively, see
// membersChange), then runs apply with the judged set. apply returns
// errMembersMoved (from its transaction) when the group changed so that
// the judgement no longer covers the change; then it all runs again.
func (s *Service) judgedGroupChange(ctx context.Context, p policy.Principal, id string,
	touched func(cur store.Group) ([]string, error), apply func(judged memberSet) error) error {
	if err := allow(p, policy.GroupUpdate, policy.Effect{}); err != nil {
		return err
	}
	for round := 0; round < maxJudgeRounds; round++ {
		cur, err := s.store.GetGroup(ctx, p.Tenant, id, store.GroupLoad{Members: true})
		if err != nil {
			return err
		}
		ids, err := touched(cur)
		if err != nil {
			return err
		}
		if err := s.membersChange(ctx, p, policy.GroupUpdate, "", ids, false); err != nil {
			return err
		}
		judged := make(memberSet, len(ids))
		for _, m := range ids {
			judged[m] = true
		}
		if err := apply(judged); !errors.Is(err, errMembersMoved) {
			return err
		}
	}
	return scimerrors.ScimError{Status: http.StatusConflict,
		Detail: "The group's members kept changing while this request was applied; please retry."}
}
