package csvbridge

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"sync/atomic"
)

// sink writes an export's records on a goroutine of its own: the walk
// works out the next rows' cells while the previous ones are encoded and
// sent, so the two halves of the work share the cores instead of taking
// turns. Records travel in batches of sinkRows, copied into slabs that
// are reused; a few batches are in flight at most.
type sink struct {
	cw    *csv.Writer
	bw    *bufio.Writer
	flush func()
	width int
	// escape formula-escapes every cell (Escape) as it is written.
	escape bool
	// cur is the slab being filled (n records of width cells).
	cur []string
	n   int
	// batches carries full slabs to run; free brings them back.
	batches, free chan []string
	// failed is the first write error (a client gone), for add to see.
	failed atomic.Pointer[error]
	result chan error
}

// sinkRows is the number of records in a batch.
const sinkRows = 256

// newSink starts a sink of records of width cells writing to cw (over
// bw), calling flush after each flush of bw, escaping cells (escape).
func newSink(cw *csv.Writer, bw *bufio.Writer, flush func(), width int, escape bool) *sink {
	s := &sink{cw: cw, bw: bw, flush: flush, width: width, escape: escape,
		batches: make(chan []string, 2), free: make(chan []string, 3), result: make(chan error, 1)}
	s.cur = s.slab()
	go s.run()
	return s
}

func (s *sink) slab() []string {
	select {
	case slab := <-s.free:
		return slab[:0]
	default:
		return make([]string, 0, sinkRows*s.width)
	}
}

// add queues a copy of record; it fails once writing has failed.
func (s *sink) add(record []string) error {
	if err := s.failed.Load(); err != nil {
		return *err
	}
	s.cur = append(s.cur, record...)
	if s.n++; s.n == sinkRows {
		s.batches <- s.cur
		s.cur, s.n = s.slab(), 0
	}
	return nil
}

// close writes what is queued, flushes, stops the goroutine and returns
// the first write error.
func (s *sink) close() error {
	if s.n > 0 {
		s.batches <- s.cur
	}
	close(s.batches)
	return <-s.result
}

// run writes batches until close, flushing every flushEvery records; after
// a write error it only drains.
func (s *sink) run() {
	var err error
	rows := 0
	for slab := range s.batches {
		for i := 0; err == nil && i < len(slab); i += s.width {
			record := slab[i : i+s.width]
			if s.escape {
				for j, cell := range record {
					record[j] = Escape(cell)
				}
			}
			if err = s.cw.Write(record); err != nil {
				err = fmt.Errorf("write export: %w", err)
				break
			}
			if rows++; rows%flushEvery == 0 {
				err = s.flushNow()
			}
		}
		if err != nil && s.failed.Load() == nil {
			s.failed.Store(&err)
		}
		clear(slab)
		select {
		case s.free <- slab:
		default:
		}
	}
	if err == nil {
		err = s.flushNow()
	}
	s.result <- err
}

// flushNow pushes what is buffered to the client.
func (s *sink) flushNow() error {
	s.cw.Flush()
	if err := s.cw.Error(); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	if s.flush != nil {
		s.flush()
	}
	return nil
}
