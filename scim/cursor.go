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
)

// Cursor scimTypes of RFC 9865.
const (
	scimTypeInvalidCursor scimerrors.ScimType = "invalidCursor"
	scimTypeExpiredCursor scimerrors.ScimType = "expiredCursor"
)

// cursors issues and checks RFC 9865 pagination cursors. A cursor is the
// offset of the next page and an expiry, signed with HMAC-SHA256 over the
// tenant and the query it belongs to, so it cannot be forged, replayed on
// another query or used by another tenant. It is an offset under the
// signature: rows inserted before it shift later pages, as with startIndex.
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

// encode returns the cursor for the page starting at offset.
func (c cursors) encode(binding string, offset int) string {
	payload := make([]byte, 16)
	binary.BigEndian.PutUint64(payload, uint64(offset))
	binary.BigEndian.PutUint64(payload[8:], uint64(c.now().Add(c.ttl).Unix()))
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(c.sign(binding, payload))
}

// decode returns the offset a cursor stands for; "" is the first page.
func (c cursors) decode(binding, token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	enc := base64.RawURLEncoding
	p, s, ok := strings.Cut(token, ".")
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if !ok || err1 != nil || err2 != nil || len(payload) != 16 || !hmac.Equal(sig, c.sign(binding, payload)) {
		return 0, scimError(http.StatusBadRequest, scimTypeInvalidCursor,
			"The cursor is not valid for this query; start again with cursor= (empty) and the same filter and sort.")
	}
	if c.now().Unix() > int64(binary.BigEndian.Uint64(payload[8:])) {
		return 0, scimError(http.StatusBadRequest, scimTypeExpiredCursor,
			"The cursor has expired (cursors live %s); start again with cursor= (empty).", c.ttl)
	}
	return int(binary.BigEndian.Uint64(payload)), nil
}
