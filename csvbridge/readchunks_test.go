package csvbridge

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestReadChunksMatchesReadingInTurn: the chunks read ahead hold the rows
// reading the file in turn gives (numbers, cells, in-file duplicate
// issues, which depend on the rows before), the last one with io.EOF or
// the file's error; stop ends the reader mid-file without leaking it.
func TestReadChunksMatchesReadingInTurn(t *testing.T) {
	defer goleak.VerifyNone(t)
	var b strings.Builder
	b.WriteString("userName,name.givenName\n")
	for i := range 25 {
		fmt.Fprintf(&b, "user%d@example.com,Given %d\n", i%20, i) // rows 22-26 repeat rows 2-6
		if i == 9 {
			b.WriteString(",\n") // a blank row
		}
	}
	want := mustImport(t, SCIMProfile(), b.String())
	for _, n := range []int{1, 4, 25, 100} {
		im, err := Open(strings.NewReader(b.String()), SCIMProfile(), registry, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		chunks, stop := readChunks(im, n)
		var got []Row
		for {
			c := <-chunks
			got = append(got, c.rows...)
			if c.err != nil {
				if !errors.Is(c.err, io.EOF) {
					t.Fatalf("n=%d: %v", n, c.err)
				}
				break
			}
		}
		stop()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("n=%d: chunks differ from reading in turn:\n got %+v\nwant %+v", n, got, want)
		}
	}
	im, err := Open(strings.NewReader(b.String()), SCIMProfile(), registry, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, stop := readChunks(im, 2)
	stop() // the reader is blocked on a full channel: stop still ends it

	im, err = Open(strings.NewReader(b.String()), SCIMProfile(), registry, Limits{MaxRows: 7})
	if err != nil {
		t.Fatal(err)
	}
	chunks, stop := readChunks(im, 5)
	defer stop()
	if c := <-chunks; len(c.rows) != 5 || c.err != nil {
		t.Fatalf("first chunk: %d rows, %v", len(c.rows), c.err)
	}
	var fe *FileError
	if c := <-chunks; len(c.rows) != 2 || !errors.As(c.err, &fe) || fe.Issues[0].Code != CodeTooManyRows {
		t.Fatalf("second chunk: %d rows, %v", len(c.rows), c.err)
	}
}
