package directory

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
)

// dryRunReview classifies every method of store.Store for the dry run:
// true when dryStore overrides it (a write, or a read of what the run
// changed), false when the real store's method is safe there (a read, or
// a write the apply path never calls). A method added to store.Store must
// be added here, after deciding whether a dry run must intercept it.
var dryRunReview = map[string]bool{
	"CreateUser": true, "CreateUsers": true, "GetUser": true, "UpdateUser": true, "UpdateUsers": true, "DeleteUser": true, "UserTiers": true,
	"ListUsers": false, "CreateGroup": true, "UpdateGroup": true, "DeleteGroup": true, "ModifyGroup": true,
	"GetGroup": false, "ListGroups": false, "MemberTiers": false, "PrepareMemberLoad": false,
	"Ping": false, "Close": false, "AuditEvents": false, "RecordAudit": false,
	// Settings are read (organisation fields, notifications) but only
	// written by UpdateSettings and EnsureRoles, never on the apply path.
	"GetSettings": false, "UpdateSettings": false,
}

func TestDryStoreReviewsEveryStoreMethod(t *testing.T) {
	iface := reflect.TypeFor[store.Store]()
	for i := range iface.NumMethod() {
		name := iface.Method(i).Name
		if _, reviewed := dryRunReview[name]; !reviewed && !offApplyPath(name) {
			t.Errorf("store.Store.%s is not reviewed for dry runs (see dryRunReview)", name)
		}
	}
}

// offApplyPath: methods of the credential, tenant, CSV job, CSV profile,
// photo, outbox and web session halves, which the apply path never calls (a CSV job's
// worker keeps its job, and the photo import its pictures, through the real
// store, never through a dry run's; outbox messages travel with CreateUser,
// which is reviewed; sessions belong to the web console's sign-in).
func offApplyPath(name string) bool {
	for _, t := range []reflect.Type{reflect.TypeFor[store.Credentials](), reflect.TypeFor[store.Tenants](), reflect.TypeFor[store.Jobs](),
		reflect.TypeFor[store.Photos](), reflect.TypeFor[store.Outbox](), reflect.TypeFor[store.Sessions](), reflect.TypeFor[store.CSVProfiles]()} {
		if _, ok := t.MethodByName(name); ok {
			return true
		}
	}
	return false
}
