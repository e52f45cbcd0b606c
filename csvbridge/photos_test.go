package csvbridge_test

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/store"
)

// pngBytes is a small PNG picture, different for each seed.
func pngBytes(t testing.TB, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{R: seed, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipEntry is one file of a test ZIP: deflated, or stored; with declared
// set, stored with a declared size that lies.
type zipEntry struct {
	name     string
	body     []byte
	declared uint64
	stored   bool // not compressed
}

func buildZip(t testing.TB, entries []zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		if e.declared > 0 {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Store, CompressedSize64: uint64(len(e.body)),
				UncompressedSize64: e.declared, CRC32: crc32.ChecksumIEEE(e.body)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(e.body); err != nil {
				t.Fatal(err)
			}
			continue
		}
		method := zip.Deflate
		if e.stored {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// photoZip is the ZIP of the photo tests: every kind of file, and the
// result each must give.
func photoZip(t testing.TB) ([]byte, map[string]string) {
	random := make([]byte, 5<<20)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	big := append(pngBytes(t, 9), random...)
	entries := []zipEntry{
		{name: "ann.png", body: pngBytes(t, 1)},
		{name: "bob.jpg", body: jpegBytes(t)},
		{name: "big.png", body: big, stored: true},
		{name: "nobody.png", body: pngBytes(t, 2)},
		{name: "cy.png", body: pngBytes(t, 3)},
		{name: "text.png", body: []byte("hello, I am not a picture")},
		{name: "broken.jpg", body: []byte("\x89PNG\r\n\x1a\nthis is no PNG header")},
		{name: "../evil.png", body: pngBytes(t, 4)},
		{name: "/abs.png", body: pngBytes(t, 5)},
		{name: `C:\pics\win.png`, body: pngBytes(t, 6)},
		{name: "pics/dan.png", body: pngBytes(t, 7)},
		{name: "bomb.png", body: make([]byte, 256<<10)},
		{name: "liar.png", body: random[:1<<20], declared: 100},
		{name: "ANN.png", body: pngBytes(t, 8)},
	}
	want := map[string]string{
		"ann.png": "inserted", "bob.jpg": "inserted", "big.png": "too_large", "nobody.png": "not_found",
		"cy.png": "forbidden", "text.png": "not_image", "broken.jpg": "not_image", "../evil.png": "unsafe_path",
		"/abs.png": "unsafe_path", `C:\pics\win.png`: "unsafe_path", "pics/dan.png": "nested_path", "bomb.png": "zip_bomb",
		"liar.png": "corrupt", "ANN.png": "duplicate_in_file",
	}
	return buildZip(t, entries), want
}

// TestImportPhotos: each file of a ZIP with good, oversized, unmatched,
// forbidden, non-image, path-trick, zip-bomb, lying and duplicate entries
// gets its result; the good ones are stored and their users' photos
// point at them; a second upload replaces a user's picture.
func TestImportPhotos(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		ann := mustCreateAs(t, e.dir, agent("ann", false, ""))
		bob := mustCreateAs(t, e.dir, agent("bob", false, ""))
		cy := mustCreateAs(t, e.dir, agent("cy", true, ""))
		data, want := photoZip(t)
		urlFor := func(id string) string { return "https://scim.example.com/csv/photos/" + id }
		rep, err := e.jobs.ImportPhotos(t.Context(), e.admin, "userName", bytes.NewReader(data), int64(len(data)), urlFor)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range rep.Files {
			got := f.Status
			if f.Status == csvbridge.PhotoInvalid {
				got = f.Code
				if f.Error == "" {
					t.Errorf("%s: invalid without a message", f.File)
				}
			}
			if got != want[f.File] {
				t.Errorf("%s: %s (%s), want %s", f.File, got, f.Error, want[f.File])
			}
		}
		if len(rep.Files) != len(want) || rep.Counts["inserted"] != 2 || rep.Counts["invalid"] != len(want)-2 ||
			rep.Summary != fmt.Sprintf("Profile pictures: 2 inserted, %d invalid.", len(want)-2) {
			t.Fatalf("report: %v %q", rep.Counts, rep.Summary)
		}
		annURL := photoURL(t, e, ann.ID)
		checkServed(t, e, annURL, "image/png", pngBytes(t, 1))
		checkServed(t, e, photoURL(t, e, bob.ID), "image/jpeg", jpegBytes(t))
		if d := userDoc(t, e.dir, cy.ID); d["photos"] != nil {
			t.Errorf("a user above the caller's tier got a photo: %v", d["photos"])
		}
		again := buildZip(t, []zipEntry{{name: "ann.png", body: pngBytes(t, 42)}})
		rep, err = e.jobs.ImportPhotos(t.Context(), e.admin, "userName", bytes.NewReader(again), int64(len(again)), urlFor)
		if err != nil || rep.Counts["inserted"] != 1 {
			t.Fatalf("second upload: %+v, %v", rep, err)
		}
		checkServed(t, e, photoURL(t, e, ann.ID), "image/png", pngBytes(t, 42))
		_, err = e.jobs.Photo(t.Context(), e.admin, strings.TrimPrefix(annURL, "https://scim.example.com/csv/photos/"))
		wantSCIM(t, err, 404, "")
		_, err = e.jobs.Photo(t.Context(), helpDesk, "../etc")
		wantSCIM(t, err, 404, "")
		_, err = e.jobs.ImportPhotos(t.Context(), helpDesk, "userName", bytes.NewReader(again), int64(len(again)), urlFor)
		wantSCIM(t, err, 403, "")
		_, err = e.jobs.ImportPhotos(t.Context(), e.admin, "name", bytes.NewReader(again), int64(len(again)), urlFor)
		wantSCIM(t, err, 400, "invalidValue")
		_, err = e.jobs.ImportPhotos(t.Context(), e.admin, "userName", strings.NewReader("not a zip"), 9, urlFor)
		wantSCIM(t, err, 400, "invalidValue")
	})
}

// photoURL is the user's photos value of type photo.
func photoURL(t *testing.T, e *jobEnv, id string) string {
	t.Helper()
	for _, el := range asAnyList(userDoc(t, e.dir, id)["photos"]) {
		if m, _ := el.(map[string]any); m["type"] == "photo" {
			s, _ := m["value"].(string)
			return s
		}
	}
	t.Fatalf("user %s has no photo", id)
	return ""
}

// checkServed reads the picture a URL names through the job service.
func checkServed(t *testing.T, e *jobEnv, url, contentType string, body []byte) {
	t.Helper()
	i := strings.LastIndex(url, "/")
	ph, err := e.jobs.Photo(t.Context(), helpDesk, url[i+1:])
	if err != nil || ph.ContentType != contentType || !bytes.Equal(ph.Body, body) {
		t.Fatalf("photo %s: %s, %d bytes, %v", url, ph.ContentType, len(ph.Body), err)
	}
}

// TestImportPhotosByAttribute matches by externalId and by an enterprise
// attribute (seed 002's agent id).
func TestImportPhotosByAttribute(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		u := agent("dana", false, "")
		u["externalId"] = "ext-7"
		u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = map[string]any{"employeeNumber": "johndoe22"}
		u["schemas"] = append(u["schemas"].([]any), "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
		dana := mustCreateAs(t, e.dir, u)
		for match, name := range map[string]string{"externalId": "ext-7.png", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "johndoe22.png"} {
			data := buildZip(t, []zipEntry{{name: name, body: pngBytes(t, 3)}, {name: "EXT-7.png", body: pngBytes(t, 4)}})
			rep, err := e.jobs.ImportPhotos(t.Context(), e.admin, match, bytes.NewReader(data), int64(len(data)), func(id string) string { return "/p/" + id })
			if err != nil || rep.Files[0].Status != csvbridge.PhotoInserted || rep.Files[0].UserID != dana.ID || rep.Files[1].Code != csvbridge.CodeNotFound {
				t.Fatalf("match %s: %+v, %v", match, rep, err)
			}
		}
	})
}
