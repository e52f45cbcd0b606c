package csvhttp

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// multipartSlack is what a multipart envelope may add to the file's size.
const multipartSlack = 64 << 10

// readUpload returns the uploaded file and its name: the body itself, or
// the multipart form field "file". A body over max bytes is refused with
// 413 before more of it is read.
func readUpload(w http.ResponseWriter, r *http.Request, max int64) ([]byte, string, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		body, err := readCapped(w, r.Body, max)
		return body, r.URL.Query().Get("filename"), err
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, max+multipartSlack), params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", problem(http.StatusBadRequest, "invalidValue", "The form has no field named \"file\" holding the CSV file.")
		}
		if err != nil {
			return nil, "", uploadError(err, max)
		}
		if part.FormName() != "file" {
			continue
		}
		body, err := readCapped(w, part, max)
		return body, part.FileName(), err
	}
}

// readCapped reads at most max bytes and refuses anything longer.
func readCapped(w http.ResponseWriter, r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, uploadError(err, max)
	}
	if int64(len(body)) > max {
		return nil, tooLarge(max)
	}
	return body, nil
}

func uploadError(err error, max int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(max)
	}
	if strings.Contains(err.Error(), "multipart") {
		return problem(http.StatusBadRequest, "invalidSyntax", "The multipart form could not be read: %v.", err)
	}
	return fmt.Errorf("read upload: %w", err)
}

func tooLarge(max int64) error {
	return problem(http.StatusRequestEntityTooLarge, "tooLarge", "The file is larger than the limit of %d MiB; split it into smaller files.", max>>20)
}
