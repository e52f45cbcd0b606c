package directory

import (
	"fmt"
	"net/http"
	"reflect"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/jsondoc"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// checkImmutable rejects a replacement that changes an immutable attribute
// that already has a value (RFC 7643 §2.2: immutable attributes may be set
// once, then never changed).
func checkImmutable(rt *schema.ResourceType, old, next schema.Doc) error {
	for _, a := range rt.Schema.Attributes {
		if a.Mutability() != "immutable" {
			continue
		}
		was, had := old[a.Name()]
		if had && !reflect.DeepEqual(was, next[a.Name()]) {
			return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeMutability,
				Detail: fmt.Sprintf("Attribute '%s' is immutable and cannot be changed once set.", a.Name())}
		}
	}
	return nil
}

func jsonMarshal(v any) ([]byte, error) {
	b, err := jsondoc.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	return b, nil
}
