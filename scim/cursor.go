package scim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Cursor scimTypes of RFC 9865.
const (
	scimTypeInvalidCursor scimerrors.ScimType = "invalidCursor"
	scimTypeExpiredCursor scimerrors.ScimType = "expiredCursor"
)

// cursors issues and checks RFC 9865 pagination cursors. A cursor holds
// the offset of the next page, an expiry and, for lists in the default
// order, the creation time and id of the last row shown; it is signed with
// HMAC-SHA256 over the tenant and the query it belongs to, so it cannot be
// forged, replayed on another query or used by another tenant. With the
// key, the next page starts right after that row (keyset paging): rows
// added or removed before it shift nothing, and a deep page costs as much
// as the first. Sorted lists (sortBy) page by the offset, as startIndex.
type cursors struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

func newCursors(key []byte, ttl time.Duration) cursors {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	return cursors{key: key, ttl: ttl, now: time.Now}
}

func (c cursors) sign(binding string, payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(binding))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// encode returns the cursor for the page starting at offset; after, if
// not nil, is the last row of the page before it.
func (c cursors) encode(binding string, offset int, after *store.Key) string {
	payload := make([]byte, 16, 24+36)
	binary.BigEndian.PutUint64(payload, uint64(offset))
	binary.BigEndian.PutUint64(payload[8:], uint64(c.now().Add(c.ttl).Unix()))
	if after != nil {
		payload = binary.BigEndian.AppendUint64(payload, uint64(after.Created.UnixMicro()))
		payload = append(payload, after.ID...)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(c.sign(binding, payload))
}

// decode returns the offset a cursor stands for and the row it continues
// after (nil for an offset-only cursor); "" is the first page.
func (c cursors) decode(binding, token string) (int, *store.Key, error) {
	if token == "" {
		return 0, nil, nil
	}
	enc := base64.RawURLEncoding
	p, s, ok := strings.Cut(token, ".")
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if !ok || err1 != nil || err2 != nil || (len(payload) != 16 && len(payload) <= 24) || !hmac.Equal(sig, c.sign(binding, payload)) {
		return 0, nil, scimError(http.StatusBadRequest, scimTypeInvalidCursor,
			"The cursor is not valid for this query; start again with cursor= (empty) and the same filter and sort.")
	}
	if c.now().Unix() > int64(binary.BigEndian.Uint64(payload[8:])) {
		return 0, nil, scimError(http.StatusBadRequest, scimTypeExpiredCursor,
			"The cursor has expired (cursors live %s); start again with cursor= (empty).", c.ttl)
	}
	var after *store.Key
	if len(payload) > 24 {
		after = &store.Key{Created: time.UnixMicro(int64(binary.BigEndian.Uint64(payload[16:]))).UTC(), ID: string(payload[24:])}
	}
	return int(binary.BigEndian.Uint64(payload)), after, nil
}
