package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Helpers the backends share to implement Jobs the same way.

// CheckJobLease returns ErrLeaseLost unless owner is empty (no check) or
// holds j's lease at now (LeaseOwner == owner and LeaseUntil after now).
func CheckJobLease(j Job, owner string, now time.Time) error {
	if owner == "" || (j.LeaseOwner == owner && j.LeaseUntil.After(now)) {
		return nil
	}
	return fmt.Errorf("job %s, worker %s: %w", j.ID, owner, ErrLeaseLost)
}

// EncodeJobCounts is the JSON object a backend stores Job.Counts as ({}
// for none).
func EncodeJobCounts(counts map[string]int) (string, error) {
	if len(counts) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(counts)
	if err != nil {
		return "", fmt.Errorf("encode job counts: %w", err)
	}
	return string(b), nil
}

// DecodeJobCounts reads what EncodeJobCounts wrote; no counts read back
// as a nil map.
func DecodeJobCounts(b []byte) (map[string]int, error) {
	var counts map[string]int
	if err := json.Unmarshal(b, &counts); err != nil {
		return nil, fmt.Errorf("decode job counts: %w", err)
	}
	if len(counts) == 0 {
		return nil, nil
	}
	return counts, nil
}

// LastJobRows drops every row that a later row of the same Seq replaces,
// so that a backend's set-based upsert sees each Seq once (the last one
// wins, as if the rows were inserted one by one).
func LastJobRows(rows []JobRow) []JobRow {
	return lastBySeq(rows, func(r JobRow) int { return r.Seq })
}

// LastOutcomes is LastJobRows for outcomes.
func LastOutcomes(outcomes []JobRowOutcome) []JobRowOutcome {
	return lastBySeq(outcomes, func(o JobRowOutcome) int { return o.Seq })
}

// lastBySeq keeps the last item of each seq, in the order of those last
// items; it returns items itself when no seq repeats.
func lastBySeq[T any](items []T, seq func(T) int) []T {
	if increasing(items, seq) {
		return items
	}
	last := make(map[int]int, len(items))
	for i, it := range items {
		last[seq(it)] = i
	}
	if len(last) == len(items) {
		return items
	}
	out := make([]T, 0, len(last))
	for i, it := range items {
		if last[seq(it)] == i {
			out = append(out, it)
		}
	}
	return out
}

// increasing reports whether the seqs grow strictly (the common case: no
// map needed to find repeats).
func increasing[T any](items []T, seq func(T) int) bool {
	for i := 1; i < len(items); i++ {
		if seq(items[i]) <= seq(items[i-1]) {
			return false
		}
	}
	return true
}

// UploadPartSize is the size of the parts an upload is stored in, so that
// neither storing nor reading one holds the whole file.
const UploadPartSize = 1 << 20

// EachUploadPart reads upload in parts of UploadPartSize and calls fn with
// each (numbered from 0; at least one part, empty for an empty or nil
// upload).
// The part's bytes are reused by the next call.
func EachUploadPart(upload io.Reader, fn func(part int, body []byte) error) error {
	if upload == nil {
		return fn(0, nil)
	}
	buf := make([]byte, UploadPartSize)
	for part := 0; ; part++ {
		n, err := io.ReadFull(upload, buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read upload: %w", err)
		}
		if n > 0 || part == 0 {
			if ferr := fn(part, buf[:n]); ferr != nil {
				return ferr
			}
		}
		if err != nil {
			return nil
		}
	}
}

// PartReader reads an upload stored in parts, fetching one part at a time
// with next (which reports false after the last part).
type PartReader struct {
	next func(part int) ([]byte, bool, error)
	part int
	buf  []byte
	done bool
}

// NewPartReader returns a reader over the parts next fetches.
func NewPartReader(next func(part int) ([]byte, bool, error)) *PartReader {
	return &PartReader{next: next}
}

// Read implements io.Reader.
func (r *PartReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		body, ok, err := r.next(r.part)
		if err != nil {
			return 0, err
		}
		if !ok {
			r.done = true
			continue
		}
		r.buf, r.part = body, r.part+1
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close implements io.Closer.
func (r *PartReader) Close() error { r.done, r.buf = true, nil; return nil }
