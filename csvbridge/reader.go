package csvbridge

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Default limits (DESIGN.md §7); a profile may lower the row limit.
const (
	DefaultMaxBytes int64 = 64 << 20
	DefaultMaxRows        = 200_000
)

// Limits bound what a reader accepts. Zero values take the defaults.
type Limits struct {
	// MaxBytes caps the size of the file as uploaded, checked while reading
	// and before parsing goes past it.
	MaxBytes int64
	// MaxRows caps the number of data rows (blank rows not counted).
	MaxRows int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	return l
}

// Format describes how a file was written, as the reader found it.
type Format struct {
	Encoding  Encoding `json:"encoding"`
	Delimiter string   `json:"delimiter"`
	// SepLine is true when an Excel "sep=X" first line named the delimiter.
	SepLine bool `json:"sepLine,omitempty"`
	// Version is the value of a Microsoft Entra "version:v1.0" first line.
	Version string `json:"version,omitempty"`
	// HeaderRow is the spreadsheet row of the header (1, or 2 after a
	// preamble line).
	HeaderRow int `json:"headerRow"`
}

// RawRow is one data row as read: its spreadsheet row number and its cells
// as written (not yet unescaped or trimmed).
type RawRow struct {
	// Number is the row as a spreadsheet shows it: the header is row 1
	// (row 2 after a sep= or version line), blank rows count.
	Number int
	// Line is the line of the file on which the row starts.
	Line  int
	Cells []string
}

// Reader reads a CSV file as a stream of rows. It never holds more than
// one row decoded; Header is available once NewReader returns.
type Reader struct {
	csv      *csv.Reader
	limits   Limits
	format   Format
	header   []string
	preamble int // lines consumed before the csv reader started
	row      int // spreadsheet row of the last record
	nextLine int // physical line (csv-relative) after the last record
	rows     int // data rows returned
	done     bool
}

// NewReader checks the encoding, consumes a sep= or version first line,
// detects the delimiter and reads the header row. It returns a *FileError
// for a file that cannot be read: too large, not text, malformed, empty.
func NewReader(r io.Reader, limits Limits) (*Reader, error) {
	limits = limits.withDefaults()
	text, enc, err := decodeText(&capReader{r: r, max: limits.MaxBytes})
	if err != nil {
		return nil, asFileError(err)
	}
	rd := &Reader{limits: limits, format: Format{Encoding: enc}, nextLine: 1}
	br := bufio.NewReaderSize(text, 64<<10)
	if err := rd.readPreamble(br); err != nil {
		return nil, err
	}
	if err := rd.detectDelimiter(br); err != nil {
		return nil, err
	}
	rd.csv = newCSV(br, rd.format.Delimiter)
	return rd, rd.readHeader()
}

func newCSV(r io.Reader, delim string) *csv.Reader {
	c := csv.NewReader(r)
	c.Comma = rune(delim[0])
	c.FieldsPerRecord = -1
	return c
}

// Format returns what the reader found about the file.
func (rd *Reader) Format() Format { return rd.format }

// Header returns the header cells as written (BOM removed, not trimmed).
func (rd *Reader) Header() []string { return rd.header }

// readPreamble consumes an Excel "sep=X" line and an Entra "version:..."
// line, in that order, when present.
func (rd *Reader) readPreamble(br *bufio.Reader) error {
	line, err := peekLine(br)
	if err != nil {
		return err
	}
	if d, ok := sepLine(line); ok {
		rd.format.Delimiter, rd.format.SepLine = d, true
		if err := rd.skipLine(br); err != nil {
			return err
		}
		if line, err = peekLine(br); err != nil {
			return err
		}
	}
	if v, ok := versionLine(line); ok {
		rd.format.Version = v
		return rd.skipLine(br)
	}
	return nil
}

func (rd *Reader) skipLine(br *bufio.Reader) error {
	if _, err := br.ReadString('\n'); err != nil && !errors.Is(err, io.EOF) {
		return asFileError(err)
	}
	rd.preamble++
	rd.row++
	return nil
}

// peekLine returns the first line of what br holds (up to 64 KiB) without
// consuming it.
func peekLine(br *bufio.Reader) (string, error) {
	b, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", asFileError(err)
	}
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, "\r"), nil
}

// sepLine recognises Excel's "sep=;" line (a spreadsheet may have added
// delimiters or quotes around it).
func sepLine(line string) (string, bool) {
	s := strings.Trim(strings.TrimSpace(line), `"`)
	if len(s) < 5 || !strings.EqualFold(s[:4], "sep=") {
		return "", false
	}
	d := s[4:5]
	if !strings.Contains(delimiters, d) || strings.Trim(s[5:], d+`"`) != "" {
		return "", false
	}
	return d, true
}

// versionLine recognises Microsoft Entra's "version:v1.0" line (followed
// by empty cells when a spreadsheet re-saved it).
func versionLine(line string) (string, bool) {
	s := strings.TrimRight(strings.TrimSpace(line), delimiters+`"`)
	s = strings.Trim(s, `"`)
	if len(s) < 9 || !strings.EqualFold(s[:8], "version:") || strings.ContainsAny(s, delimiters) {
		return "", false
	}
	return strings.TrimSpace(s[8:]), true
}

// delimiters are the delimiters the reader detects, in order of preference
// when a header has none or several equally often.
const delimiters = ",;\t|"

// detectDelimiter picks the candidate that occurs most often outside quotes
// in the header line, unless a sep= line already named it.
func (rd *Reader) detectDelimiter(br *bufio.Reader) error {
	if rd.format.Delimiter != "" {
		return nil
	}
	line, err := peekLine(br)
	if err != nil {
		return err
	}
	rd.format.Delimiter = pickDelimiter(line)
	return nil
}

func pickDelimiter(line string) string {
	var counts [4]int
	quoted := false
	for i := 0; i < len(line); i++ {
		if line[i] == '"' {
			quoted = !quoted
		} else if k := strings.IndexByte(delimiters, line[i]); k >= 0 && !quoted {
			counts[k]++
		}
	}
	best := 0
	for k := range counts {
		if counts[k] > counts[best] {
			best = k
		}
	}
	return delimiters[best : best+1]
}

// readHeader reads the first non-blank record as the header. Quotes in
// an unquoted header cell are taken literally, so that a hand-typed
// emails[type eq "work"].value works; data rows are parsed strictly, where
// a stray quote could silently swallow the rows after it.
func (rd *Reader) readHeader() error {
	rd.csv.LazyQuotes = true
	rec, err := rd.record()
	rd.csv.LazyQuotes = false
	if errors.Is(err, io.EOF) {
		return emptyFile()
	}
	if err != nil {
		return err
	}
	rd.header = rec.Cells
	rd.format.HeaderRow = rec.Number
	return nil
}

func emptyFile() *FileError {
	return fileError(CodeEmptyFile, "Users file is empty",
		"The file has no header row and no users; download the template, fill in one row per user and upload it again.")
}

// Next returns the next data row, skipping blank rows. It returns io.EOF
// after the last row, a *FileError when the file turns out unreadable
// (invalid bytes, malformed quoting, more rows than the limit), and a
// "Users file is empty" *FileError when the file has a header but no rows.
func (rd *Reader) Next() (RawRow, error) {
	if rd.done {
		return RawRow{}, io.EOF
	}
	rec, err := rd.record()
	if errors.Is(err, io.EOF) {
		rd.done = true
		if rd.rows == 0 {
			return RawRow{}, emptyFile()
		}
		return RawRow{}, io.EOF
	}
	if err != nil {
		rd.done = true
		return RawRow{}, err
	}
	rd.rows++
	if rd.rows > rd.limits.MaxRows {
		rd.done = true
		return RawRow{}, rd.tooManyRows()
	}
	return rec, nil
}

func (rd *Reader) tooManyRows() *FileError {
	return fileError(CodeTooManyRows,
		fmt.Sprintf("The file has more than %d rows; the limit is %d.", rd.limits.MaxRows, rd.limits.MaxRows),
		"Split the file into smaller files and upload them one after the other.")
}

// record reads the next non-blank record and numbers it as a spreadsheet
// would: every line that holds no record is a blank row.
func (rd *Reader) record() (RawRow, error) {
	for {
		cells, err := rd.csv.Read()
		if err != nil {
			return RawRow{}, rd.readError(err)
		}
		line, _ := rd.csv.FieldPos(0)
		rd.row += 1 + line - rd.nextLine
		rd.nextLine = line + 1 + newlines(cells)
		if !blank(cells) {
			return RawRow{Number: rd.row, Line: line + rd.preamble, Cells: cells}, nil
		}
	}
}

func newlines(cells []string) int {
	n := 0
	for _, c := range cells {
		n += strings.Count(c, "\n")
	}
	return n
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// readError turns a csv error into a FileError naming line and column.
func (rd *Reader) readError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) && pe.Err != nil && !errors.As(pe.Err, new(*FileError)) && pe.Line > 0 {
		line, col, msg := pe.Line+rd.preamble, pe.Column, fmt.Sprintf("The file is not valid CSV at line %d, column %d: %s.", pe.Line+rd.preamble, pe.Column, pe.Err)
		if pe.StartLine != pe.Line {
			line, col = pe.StartLine+rd.preamble, 1
			msg = fmt.Sprintf("The file is not valid CSV: a quoted field in the row starting at line %d is never closed (the file ends at line %d).", line, pe.Line+rd.preamble)
		}
		e := fileError(CodeMalformedCSV, msg,
			`A field that contains a quote must be enclosed in double quotes, with the quote doubled: "John ""JJ"" Doe".`)
		e.Issues[0].Line, e.Issues[0].Col = line, col
		return e
	}
	return asFileError(err)
}

// asFileError returns the *FileError inside err, or err wrapped.
func asFileError(err error) error {
	if errors.Is(err, io.EOF) {
		return err
	}
	var fe *FileError
	if errors.As(err, &fe) {
		return fe
	}
	return fmt.Errorf("read csv: %w", err)
}
