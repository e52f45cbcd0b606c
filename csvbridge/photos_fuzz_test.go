package csvbridge

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

// FuzzPhotoZip: any bytes given as a photo ZIP either fail to open as a
// ZIP or give one result per entry without panicking; a candidate has a
// name without folders or "..", a key, and JPEG or PNG content under the
// size limit; every refused entry has a code and a sentence.
func FuzzPhotoZip(f *testing.F) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range []string{"ann.png", "../x.png", "dir/y.jpg", "/abs.png", "z"} {
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n"))
	}
	_ = zw.Close()
	f.Add(b.Bytes())
	f.Add([]byte("PK\x03\x04"))
	limits := PhotoLimits{MaxFileBytes: 1 << 16, MaxTotalBytes: 1 << 20, MaxPixels: 1 << 20}.withDefaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil || len(zr.File) > 50 {
			return
		}
		results := make([]PhotoResult, len(zr.File))
		for _, c := range checkFiles(zr.File, results, limits) {
			name := c.res.File
			if strings.ContainsAny(name, `/\`) {
				t.Fatalf("candidate with a path: %q", name)
			}
			if c.res.Key == "" || (c.contentType != "image/png" && c.contentType != "image/jpeg") {
				t.Fatalf("candidate %q: key %q, type %q", name, c.res.Key, c.contentType)
			}
		}
		for _, r := range results {
			if r.Status == PhotoInvalid && (r.Code == "" || r.Error == "") {
				t.Fatalf("refused %q without a code or message: %+v", r.File, r)
			}
		}
	})
}
