package csvhttp

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/apiwire"
)

// multipartSlack is what a multipart envelope may add to the file's size.
const multipartSlack = 64 << 10

// spool copies the uploaded file (the body itself, or the multipart form
// field "file") into a temporary file, so that an upload of any size up
// to the cap costs disk, not memory. It returns the file, rewound, and the
// name the client gave; the caller closes and removes it (discard). A
// body over max bytes is refused with 413 before more of it is read.
func spool(w http.ResponseWriter, r *http.Request, max int64) (*os.File, string, error) {
	src, name, err := uploadPart(w, r, max)
	if err != nil {
		return nil, "", err
	}
	f, err := os.CreateTemp("", "scimbridge-upload-*.csv")
	if err != nil {
		return nil, "", fmt.Errorf("spool upload: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(src, max+1))
	if err == nil && n > max {
		err = tooLarge(max)
	} else if err != nil {
		err = uploadError(err, max)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		discard(f)
		return nil, "", err
	}
	return f, name, nil
}

// discard closes and removes a spooled upload.
func discard(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// uploadPart finds the file in the request: the body, or the multipart
// field "file".
func uploadPart(w http.ResponseWriter, r *http.Request, max int64) (io.Reader, string, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return r.Body, r.URL.Query().Get("filename"), nil
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, max+multipartSlack), params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", apiwire.Problem(http.StatusBadRequest, "invalidValue", "The form has no field named \"file\" holding the CSV file.")
		}
		if err != nil {
			return nil, "", uploadError(err, max)
		}
		if part.FormName() == "file" {
			return part, part.FileName(), nil
		}
	}
}

func uploadError(err error, max int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(max)
	}
	if strings.Contains(err.Error(), "multipart") {
		return apiwire.Problem(http.StatusBadRequest, "invalidSyntax", "The multipart form could not be read: %v.", err)
	}
	return fmt.Errorf("read upload: %w", err)
}

func tooLarge(max int64) error {
	return apiwire.Problem(http.StatusRequestEntityTooLarge, "tooLarge", "The file is larger than the limit of %s; split it into smaller files.", csvbridge.FormatBytes(max))
}
