package csvbridge

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig reads JPEG headers
	_ "image/png"  // and PNG headers
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// PhotoLimits bound a ZIP of profile pictures. Zero fields take the
// defaults (DefaultPhotoLimits).
type PhotoLimits struct {
	// MaxZipBytes caps the upload (64 MiB).
	MaxZipBytes int64
	// MaxFileBytes: every picture must be smaller (5 MiB, seed 002's
	// "< 5mb").
	MaxFileBytes int64
	// MaxEntries caps the entries of one ZIP (2,000).
	MaxEntries int
	// MaxRatio is the largest uncompressed/compressed ratio an entry may
	// declare (100; JPEG and PNG barely compress, a zip bomb compresses
	// by thousands).
	MaxRatio uint64
	// MaxTotalBytes caps what the whole ZIP may unpack to (1 GiB).
	MaxTotalBytes int64
	// MaxPixels caps width x height (50 megapixels: an image bomb is a
	// small file that decodes to a huge bitmap in a viewer).
	MaxPixels int
}

// DefaultPhotoLimits are the limits of a photo upload.
var DefaultPhotoLimits = PhotoLimits{MaxZipBytes: 64 << 20, MaxFileBytes: 5 << 20, MaxEntries: 2000, MaxRatio: 100,
	MaxTotalBytes: 1 << 30, MaxPixels: 50_000_000}

func (l PhotoLimits) withDefaults() PhotoLimits {
	d := DefaultPhotoLimits
	if l.MaxZipBytes > 0 {
		d.MaxZipBytes = l.MaxZipBytes
	}
	if l.MaxFileBytes > 0 {
		d.MaxFileBytes = l.MaxFileBytes
	}
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.MaxTotalBytes > 0 {
		d.MaxTotalBytes = l.MaxTotalBytes
	}
	if l.MaxPixels > 0 {
		d.MaxPixels = l.MaxPixels
	}
	return d
}

// Photo results and their error codes.
const (
	PhotoInserted = "inserted"
	PhotoInvalid  = "invalid"

	CodeUnsafePath = "unsafe_path"
	CodeNestedPath = "nested_path"
	CodeNotImage   = "not_image"
	CodeZipBomb    = "zip_bomb"
	CodeCorrupt    = "corrupt"
)

// PhotoResult is what happened to one file of the ZIP.
type PhotoResult struct {
	File     string `json:"file"`
	Status   string `json:"status"`
	Key      string `json:"key,omitempty"`
	UserID   string `json:"id,omitempty"`
	UserName string `json:"userName,omitempty"`
	URL      string `json:"url,omitempty"`
	Code     string `json:"errorCode,omitempty"`
	Error    string `json:"error,omitempty"`
}

// PhotoReport is the outcome of a photo upload, file by file, in the
// ZIP's order.
type PhotoReport struct {
	Match   string         `json:"match"`
	Counts  map[string]int `json:"counts"`
	Summary string         `json:"summary"`
	Files   []PhotoResult  `json:"files"`
}

// photoCandidate is a file that passed the checks of its own.
type photoCandidate struct {
	res         *PhotoResult
	f           *zip.File
	contentType string
	sum         string
	user        *directory.Resource
	photoID     string
}

// errNoPhotoStore: the job store given to NewJobs keeps no pictures.
var errNoPhotoStore = errorf(http.StatusNotImplemented, "", "This server stores no profile pictures.")

// PhotoURLs is the urlFor of ImportPhotos for a request: the picture's
// address on the server the request reached (GET /csv/photos/{id}).
func PhotoURLs(r *http.Request) func(id string) string {
	base := "http://" + r.Host + "/csv/photos/"
	if r.TLS != nil {
		base = "https://" + r.Host + "/csv/photos/"
	}
	return func(id string) string { return base + id }
}

// PhotoLimits returns the limits photo uploads are held to.
func (j *Jobs) PhotoLimits() PhotoLimits { return j.photoLimits.withDefaults() }

// ImportPhotos sets users' profile pictures from a ZIP of JPEG and PNG
// files (seed 002), each named by the value of the match attribute of its
// user (userName, externalId, id, email, or another single-valued string
// attribute such as an enterprise employeeNumber; the name's extension is
// dropped). Every file is checked on its own and reported inserted or
// invalid; an invalid file is never stored:
//   - its name: no directories (nested_path), no "..", absolute or
//     drive paths, control characters (unsafe_path);
//   - its sizes, declared and actual: under MaxFileBytes (too_large), a
//     compression ratio under MaxRatio and the ZIP's total under
//     MaxTotalBytes (zip_bomb), a checksum that holds (corrupt);
//   - its content, not its extension: http.DetectContentType says JPEG or
//     PNG and image.DecodeConfig reads its header (not_image), at most
//     MaxPixels (too_large);
//   - its user: exactly one (not_found, match_conflict), one file per
//     user (duplicate_in_file), and the change allowed (each user's
//     photos PATCH is dry-run first, so a user above the caller's tier is
//     forbidden and nothing is stored for it).
//
// A good file is stored (store.Photos) and its user's photos value of type
// "photo" is replaced by urlFor(photo id) through the directory's
// streaming apply (source csv, rule csv.photos); the user's previous
// pictures are dropped. A ZIP that cannot be read at all, or has more than
// MaxEntries entries, is a 400 and nothing happens.
func (j *Jobs) ImportPhotos(ctx context.Context, p policy.Principal, match string, zr io.ReaderAt, size int64, urlFor func(id string) string) (*PhotoReport, error) {
	if err := allow(p, policy.PhotoImport); err != nil {
		return nil, err
	}
	if j.photos == nil {
		return nil, errNoPhotoStore
	}
	key, err := j.photoKey(match)
	if err != nil {
		return nil, err
	}
	limits := j.PhotoLimits()
	if size > limits.MaxZipBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, "tooLarge", "The ZIP is %s; the limit is %s.", FormatBytes(size), FormatBytes(limits.MaxZipBytes))
	}
	archive, err := zip.NewReader(zr, size)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalidValue", "The upload is not a ZIP file that can be read (%v).", err)
	}
	if len(archive.File) > limits.MaxEntries {
		return nil, errorf(http.StatusBadRequest, "invalidValue", "The ZIP has %d entries; at most %d are allowed.", len(archive.File), limits.MaxEntries)
	}
	rep := &PhotoReport{Match: key.name, Files: make([]PhotoResult, len(archive.File))}
	cands := checkFiles(archive.File, rep.Files, limits)
	if err := j.matchPhotos(ctx, p, key, cands); err != nil {
		return nil, err
	}
	cands, err = j.dryRunPhotos(ctx, p, cands, urlFor)
	if err != nil {
		return nil, err
	}
	if err := j.storePhotos(ctx, p, cands, urlFor); err != nil {
		return nil, err
	}
	rep.count()
	return rep, nil
}

func (rep *PhotoReport) count() {
	rep.Counts = map[string]int{"total": len(rep.Files), PhotoInserted: 0, PhotoInvalid: 0}
	for _, f := range rep.Files {
		rep.Counts[f.Status]++
	}
	rep.Summary = fmt.Sprintf("Profile pictures: %d inserted, %d invalid.", rep.Counts[PhotoInserted], rep.Counts[PhotoInvalid])
}

func (r *PhotoResult) fail(code, format string, args ...any) {
	r.Status, r.Code, r.Error = PhotoInvalid, code, fmt.Sprintf(format, args...)
}

// checkFiles runs every entry's own checks; it returns the candidates.
func checkFiles(files []*zip.File, results []PhotoResult, limits PhotoLimits) []*photoCandidate {
	var out []*photoCandidate
	var total int64
	for i, f := range files {
		res := &results[i]
		res.File = f.Name
		c, n := checkFile(f, res, limits, total)
		total += n
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// checkFile checks one entry; it returns the candidate (nil when the
// entry failed) and the bytes it unpacked.
func checkFile(f *zip.File, res *PhotoResult, limits PhotoLimits, total int64) (*photoCandidate, int64) {
	if code, msg := checkName(f.Name); code != "" {
		res.fail(code, "%s", msg)
		return nil, 0
	}
	res.Key = strings.TrimSuffix(f.Name, path.Ext(f.Name))
	if res.Key == "" {
		res.fail(CodeNotFound, "The file name %q names no user.", f.Name)
		return nil, 0
	}
	if f.UncompressedSize64 >= uint64(limits.MaxFileBytes) {
		res.fail(CodeTooLarge, "The picture is %s; it must be under %s.", FormatBytes(int64(min(f.UncompressedSize64, 1<<62))), FormatBytes(limits.MaxFileBytes))
		return nil, 0
	}
	if f.UncompressedSize64 > 0 && (f.CompressedSize64 == 0 || f.UncompressedSize64/f.CompressedSize64 > limits.MaxRatio) {
		res.fail(CodeZipBomb, "The entry unpacks %d times its packed size (at most %d is allowed for pictures).", f.UncompressedSize64/max(f.CompressedSize64, 1), limits.MaxRatio)
		return nil, 0
	}
	if total+int64(f.UncompressedSize64) > limits.MaxTotalBytes {
		res.fail(CodeZipBomb, "The ZIP unpacks to more than %s in all; this file was not read.", FormatBytes(limits.MaxTotalBytes))
		return nil, 0
	}
	data, err := readEntry(f, limits.MaxFileBytes)
	if err != nil {
		code, msg := entryError(err, limits)
		res.fail(code, "%s", msg)
		return nil, int64(len(data))
	}
	ct, msg := imageType(data, limits.MaxPixels)
	if ct == "" {
		res.fail(CodeNotImage, "%s", msg)
		return nil, int64(len(data))
	}
	sum := sha256.Sum256(data)
	return &photoCandidate{res: res, f: f, contentType: ct, sum: hex.EncodeToString(sum[:])}, int64(len(data))
}

// checkName refuses entry names that are paths: directories, "..",
// absolute or drive-letter paths, backslashes, control characters.
func checkName(name string) (code, msg string) {
	switch {
	case name == "" || strings.ContainsFunc(name, unicode.IsControl):
		return CodeUnsafePath, fmt.Sprintf("The entry name %q has control characters.", name)
	case strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || (len(name) > 1 && name[1] == ':'):
		return CodeUnsafePath, fmt.Sprintf("The entry %q is an absolute path; put the pictures at the top of the ZIP.", name)
	case slices.Contains(strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }), ".."):
		return CodeUnsafePath, fmt.Sprintf("The entry %q climbs out of the ZIP (..).", name)
	case strings.ContainsAny(name, `/\`):
		return CodeNestedPath, fmt.Sprintf("The entry %q is inside a folder; put the pictures at the top of the ZIP, named by the matching attribute.", name)
	}
	return "", ""
}

// errEntryTooLarge: the entry unpacked to more than its limit.
var errEntryTooLarge = errors.New("entry too large")

// readEntry reads an entry, at most max bytes (errEntryTooLarge beyond:
// the actual size is checked, not only the declared one). Reading to the
// end lets archive/zip check the size and CRC it declares.
func readEntry(f *zip.File, max int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max))
	if err != nil {
		return data, err
	}
	if int64(len(data)) >= max {
		return data, errEntryTooLarge
	}
	var one [1]byte
	if n, _ := rc.Read(one[:]); n > 0 {
		return data, errEntryTooLarge
	}
	return data, nil
}

func entryError(err error, limits PhotoLimits) (code, msg string) {
	switch {
	case errors.Is(err, errEntryTooLarge):
		return CodeTooLarge, fmt.Sprintf("The picture unpacks to %s or more; it must be under %s.", FormatBytes(limits.MaxFileBytes), FormatBytes(limits.MaxFileBytes))
	case errors.Is(err, zip.ErrAlgorithm):
		return CodeCorrupt, "The entry is compressed with a method ZIP readers here do not support; use the standard (deflate) compression."
	}
	return CodeCorrupt, fmt.Sprintf("The entry cannot be read: %v.", err)
}

// imageType is the picture's media type by content (JPEG or PNG whose
// header decodes), or "" and why not.
func imageType(data []byte, maxPixels int) (string, string) {
	ct := http.DetectContentType(data)
	if ct != "image/jpeg" && ct != "image/png" {
		return "", fmt.Sprintf("The file is not a JPEG or PNG picture (its content is %s).", ct)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || "image/"+format != ct {
		return "", "The file starts like a picture but its header cannot be read."
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return "", fmt.Sprintf("The picture is %dx%d pixels; at most %d pixels are allowed.", cfg.Width, cfg.Height, maxPixels)
	}
	return ct, ""
}

// photoKey is how files are matched to users.
type photoKey struct {
	name string // as the API names it
	attr string // the directory lookup attribute
	fold bool   // compared case-insensitively
	col  *exportColumn
}

// photoKey resolves the match attribute.
func (j *Jobs) photoKey(match string) (photoKey, error) {
	m := strings.TrimSpace(match)
	switch strings.ToLower(m) {
	case "", "username":
		return photoKey{name: "userName", attr: "userName", fold: true}, nil
	case "externalid":
		return photoKey{name: "externalId", attr: "externalId"}, nil
	case "id":
		return photoKey{name: "id", attr: "id"}, nil
	case "email", "emails", "emails.value":
		return photoKey{name: "email", attr: "emails.value", fold: true}, nil
	}
	rt := j.dir.Registry().User
	a, err := filter.ResolvePath(rt, m)
	if err != nil || a.MultiValued || a.Type != "string" {
		return photoKey{}, errorf(http.StatusBadRequest, "invalidValue",
			"match %q cannot name users; use userName, externalId, id, email or another single-valued string attribute.", match)
	}
	col, err := pathColumn(rt, m)
	if err != nil {
		return photoKey{}, errorf(http.StatusBadRequest, "invalidValue", "match %q: %s.", match, scimDetail(err))
	}
	return photoKey{name: m, attr: m, fold: !a.CaseExact, col: &col}, nil
}

// values are a user's values of the key attribute, as compared.
func (k photoKey) values(r *directory.Resource) []string {
	doc, err := r.Document()
	if err != nil {
		return nil
	}
	var out []string
	switch {
	case k.attr == "id":
		out = []string{r.ID}
	case k.attr == "emails.value":
		for _, el := range asList(doc["emails"]) {
			if m, ok := el.(map[string]any); ok {
				if v, ok := m["value"].(string); ok {
					out = append(out, v)
				}
			}
		}
	case k.col != nil:
		out = []string{k.col.rawCell(r, doc)}
	default:
		v, _ := doc[k.attr].(string)
		out = []string{v}
	}
	for i := range out {
		out[i] = k.norm(out[i])
	}
	return out
}

func (k photoKey) norm(s string) string {
	if k.fold {
		return schema.Fold(s)
	}
	return s
}

// matchPhotos finds each candidate's user (one directory lookup per
// chunk of keys); a candidate without exactly one, or a second file for
// one user, fails.
func (j *Jobs) matchPhotos(ctx context.Context, p policy.Principal, key photoKey, cands []*photoCandidate) error {
	keys := make([]string, 0, len(cands))
	for _, c := range cands {
		keys = append(keys, c.res.Key)
	}
	found, err := j.dir.UsersByKeys(ctx, p, key.attr, keys, directory.Lookup{})
	if err != nil {
		return err
	}
	byKey := map[string][]*directory.Resource{}
	for _, r := range found {
		for _, v := range key.values(r) {
			byKey[v] = append(byKey[v], r)
		}
	}
	taken := map[string]string{}
	for _, c := range cands {
		users := byKey[key.norm(c.res.Key)]
		switch {
		case len(users) == 0:
			c.res.fail(CodeNotFound, "No user has %s %s; a picture is imported only for a user who already exists.", key.name, quoteValue(c.res.Key))
		case len(users) > 1:
			c.res.fail(CodeMatchConflict, "%d users have %s %s; match by an attribute that names one user.", len(users), key.name, quoteValue(c.res.Key))
		case taken[users[0].ID] != "":
			c.res.fail(CodeDuplicateInFile, "The ZIP has another picture for this user (%s).", taken[users[0].ID])
		default:
			c.user, taken[users[0].ID] = users[0], c.res.File
			doc, _ := users[0].Document()
			c.res.UserID = users[0].ID
			c.res.UserName, _ = doc["userName"].(string)
		}
	}
	return nil
}

// photoOp is the PATCH pointing the user's photo at url.
func photoOp(rt *schema.ResourceType, userID, url string) directory.Operation {
	data := map[string]any{"schemas": []any{directory.PatchOpURN}, "Operations": []any{
		map[string]any{"op": "replace", "path": `photos[type eq "photo"].value`, "value": url},
	}}
	return directory.Operation{Kind: directory.OpPatch, Type: rt, ID: userID, Data: data}
}

// applyPhotos runs the candidates' PATCHes (dry or real) and calls fail
// for each refused one.
func (j *Jobs) applyPhotos(ctx context.Context, p policy.Principal, cands []*photoCandidate, urlFor func(string) string, dry bool, fail func(*photoCandidate, error)) error {
	if len(cands) == 0 {
		return nil
	}
	ops := make([]directory.Operation, len(cands))
	for i, c := range cands {
		ops[i] = photoOp(j.dir.Registry().User, c.user.ID, urlFor(c.photoID))
	}
	opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.PhotoImport, Window: len(ops), DryRun: dry}
	return j.dir.Apply(ctx, p, opts, slices.Values(ops), func(res directory.BulkResult) bool {
		if res.Err != nil {
			fail(cands[res.Index], res.Err)
		}
		return true
	})
}

// dryRunPhotos judges every matched candidate's change before anything is
// stored and returns those the directory allows.
func (j *Jobs) dryRunPhotos(ctx context.Context, p policy.Principal, cands []*photoCandidate, urlFor func(string) string) ([]*photoCandidate, error) {
	var matched []*photoCandidate
	for _, c := range cands {
		if c.user != nil {
			c.photoID = uuid.NewString()
			matched = append(matched, c)
		}
	}
	refused := map[*photoCandidate]bool{}
	err := j.applyPhotos(ctx, p, matched, urlFor, true, func(c *photoCandidate, err error) {
		code, msg := ErrorCode(err)
		c.res.fail(code, "%s", msg)
		refused[c] = true
	})
	return slices.DeleteFunc(matched, func(c *photoCandidate) bool { return refused[c] }), err
}

// photoChunk is how many pictures are stored, then pointed at, together.
const photoChunk = 50

// storePhotos stores the allowed pictures a chunk at a time, then points
// their users at them; a picture whose PATCH fails after all is deleted
// again, and a user's older pictures are dropped once it points at the
// new one.
func (j *Jobs) storePhotos(ctx context.Context, p policy.Principal, cands []*photoCandidate, urlFor func(string) string) error {
	for chunk := range slices.Chunk(cands, photoChunk) {
		var stored []*photoCandidate
		for _, c := range chunk {
			ok, err := j.storePhoto(ctx, p, c)
			if err != nil {
				return err
			}
			if ok {
				stored = append(stored, c)
			}
		}
		failed := map[*photoCandidate]bool{}
		err := j.applyPhotos(ctx, p, stored, urlFor, false, func(c *photoCandidate, err error) {
			code, msg := ErrorCode(err)
			c.res.fail(code, "%s", msg)
			failed[c] = true
		})
		if err != nil {
			return err
		}
		if err := j.settlePhotos(ctx, p, stored, failed, urlFor); err != nil {
			return err
		}
	}
	return nil
}

// storePhoto reads a candidate again and stores it; false when it failed
// (the entry changed between reads, or its user is gone).
func (j *Jobs) storePhoto(ctx context.Context, p policy.Principal, c *photoCandidate) (bool, error) {
	data, err := readEntry(c.f, j.PhotoLimits().MaxFileBytes)
	sum := sha256.Sum256(data)
	if err != nil || hex.EncodeToString(sum[:]) != c.sum {
		c.res.fail(CodeCorrupt, "The entry read differently the second time.")
		return false, nil
	}
	ph := store.Photo{TenantID: p.Tenant, ID: c.photoID, UserID: c.user.ID, ContentType: c.contentType, SHA256: c.sum,
		Body: data, Created: j.now().UTC()}
	err = j.photos.PutPhoto(ctx, ph)
	if errors.Is(err, store.ErrNotFound) {
		c.res.fail(CodeNotFound, "The user was deleted meanwhile.")
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store photo: %w", err)
	}
	return true, nil
}

// settlePhotos records a stored chunk's outcomes: failed pictures are
// deleted, the others inserted (their users' older pictures dropped).
func (j *Jobs) settlePhotos(ctx context.Context, p policy.Principal, stored []*photoCandidate, failed map[*photoCandidate]bool, urlFor func(string) string) error {
	photos := j.photos
	for _, c := range stored {
		if failed[c] {
			if err := photos.DeletePhoto(context.WithoutCancel(ctx), p.Tenant, c.photoID); err != nil {
				return fmt.Errorf("drop photo: %w", err)
			}
			continue
		}
		if _, err := photos.DeleteUserPhotos(ctx, p.Tenant, c.user.ID, c.photoID); err != nil {
			return fmt.Errorf("drop older photos: %w", err)
		}
		c.res.Status, c.res.URL = PhotoInserted, urlFor(c.photoID)
	}
	return nil
}

// Photo returns a stored picture of the caller's tenant (user.read; 404
// for an unknown id or another tenant's).
func (j *Jobs) Photo(ctx context.Context, p policy.Principal, id string) (store.Photo, error) {
	if err := allow(p, policy.UserRead); err != nil {
		return store.Photo{}, err
	}
	if _, err := uuid.Parse(id); err != nil {
		return store.Photo{}, errorf(http.StatusNotFound, "", "Photo %s does not exist.", id)
	}
	if j.photos == nil {
		return store.Photo{}, errNoPhotoStore
	}
	ph, err := j.photos.GetPhoto(ctx, p.Tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return ph, errorf(http.StatusNotFound, "", "Photo %s does not exist.", id)
	}
	if err != nil {
		return ph, fmt.Errorf("get photo %s: %w", id, err)
	}
	return ph, nil
}
