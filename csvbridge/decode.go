package csvbridge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Encoding is the text encoding a file was read in.
type Encoding string

// Encodings the reader accepts. UTF-16 needs its byte order mark.
const (
	EncodingUTF8    Encoding = "utf-8"
	EncodingUTF8BOM Encoding = "utf-8-bom"
	EncodingUTF16LE Encoding = "utf-16le"
	EncodingUTF16BE Encoding = "utf-16be"
)

// capReader fails once more than max bytes have been read, so a file is
// refused before it is parsed past the cap.
type capReader struct {
	r    io.Reader
	max  int64
	read int64
}

// Read reads up to the cap and fails past it.
func (c *capReader) Read(p []byte) (int, error) {
	if c.read >= c.max+1 {
		return 0, c.tooLarge()
	}
	if int64(len(p)) > c.max+1-c.read {
		p = p[:c.max+1-c.read]
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read > c.max {
		return 0, c.tooLarge()
	}
	return n, err
}

func (c *capReader) tooLarge() error {
	return fileError(CodeTooLarge,
		fmt.Sprintf("The file is larger than the limit of %s.", FormatBytes(c.max)),
		"Split the file into smaller files and upload them one after the other.")
}

// FormatBytes writes a size limit for people: whole mebibytes as "N MiB",
// anything else in bytes.
func FormatBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// decodeText sniffs the byte order mark and returns a reader of valid UTF-8
// text without the mark. Invalid bytes surface, when reached, as a
// FileError naming their line and column.
func decodeText(r io.Reader) (io.Reader, Encoding, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", err
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return nil, "", fileError(CodeNotText, "The file is an Excel workbook or another zip archive, not a CSV file.",
			`In Excel use File > Save As > "CSV UTF-8 (Comma delimited)" and upload that file.`)
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		return &utf8Checker{r: br}, EncodingUTF8BOM, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		_, _ = br.Discard(2)
		return &utf8Checker{r: &utf16Reader{r: br, le: true}}, EncodingUTF16LE, nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		_, _ = br.Discard(2)
		return &utf8Checker{r: &utf16Reader{r: br}}, EncodingUTF16BE, nil
	}
	return &utf8Checker{r: br}, EncodingUTF8, nil
}

// position tracks the line and column (in characters) of decoded text.
type position struct {
	line, col int
}

func (p *position) advance(r rune) {
	if p.line == 0 {
		p.line = 1
	}
	if r == '\n' {
		p.line++
		p.col = 0
		return
	}
	p.col++
}

// here is the 1-based position of the next character.
func (p *position) here() (int, int) {
	if p.line == 0 {
		return 1, 1
	}
	return p.line, p.col + 1
}

func invalidText(pos position, what string) error {
	line, col := pos.here()
	e := fileError(CodeInvalidEncoding,
		fmt.Sprintf("The file is not valid text: %s at line %d, column %d.", what, line, col),
		`Save the file as "CSV UTF-8"; a file saved in another encoding shows this error.`)
	e.Issues[0].Line, e.Issues[0].Col = line, col
	return e
}

// utf8Checker passes valid UTF-8 through and fails at the first invalid
// byte or NUL character.
type utf8Checker struct {
	r     io.Reader
	carry []byte // an incomplete character from the previous read
	buf   []byte
	pos   position
	err   error
}

// Read returns checked text.
func (u *utf8Checker) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	if len(u.buf) == 0 {
		u.fill()
		if len(u.buf) == 0 {
			return 0, u.err
		}
	}
	n := copy(p, u.buf)
	u.buf = u.buf[n:]
	return n, nil
}

// fill reads a chunk, keeps its valid prefix in buf and carries an
// incomplete trailing character over to the next chunk.
func (u *utf8Checker) fill() {
	chunk := make([]byte, len(u.carry), 32<<10)
	copy(chunk, u.carry)
	n, err := u.r.Read(chunk[len(chunk):cap(chunk)])
	chunk = chunk[:len(chunk)+n]
	valid, bad := u.scan(chunk, err != nil)
	u.buf, u.carry = chunk[:valid], append(u.carry[:0], chunk[valid:]...)
	switch {
	case bad != nil:
		u.err = bad
	case err != nil && len(u.carry) == 0:
		u.err = err
	case err != nil:
		u.err = invalidText(u.pos, "an incomplete character at the end")
	}
}

// scan returns how many bytes of b are complete valid characters, and an
// error for an invalid byte. At the end of input (final) an incomplete
// character is invalid too.
func (u *utf8Checker) scan(b []byte, final bool) (int, error) {
	i := 0
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0 {
				return i, invalidText(u.pos, "a NUL byte (the file may be UTF-16 without a byte order mark, or binary)")
			}
			u.pos.advance(rune(c))
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			if !final && !utf8.FullRune(b[i:]) {
				return i, nil
			}
			return i, invalidText(u.pos, fmt.Sprintf("the byte 0x%02X", c))
		}
		u.pos.advance(r)
		i += size
	}
	return i, nil
}

// utf16Reader decodes UTF-16 (without its byte order mark) to UTF-8.
type utf16Reader struct {
	r   *bufio.Reader
	le  bool
	out []byte
	pos position
	err error
}

// Read returns the text as UTF-8.
func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 && u.err == nil {
		u.decode()
	}
	if len(u.out) == 0 {
		return 0, u.err
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// decode converts up to 4096 code units.
func (u *utf16Reader) decode() {
	u.out = u.out[:0]
	for range 4096 {
		r, err := u.next()
		if err != nil {
			u.err = err
			return
		}
		u.pos.advance(r)
		u.out = utf8.AppendRune(u.out, r)
	}
}

// next reads one character, joining surrogate pairs.
func (u *utf16Reader) next() (rune, error) {
	c, err := u.unit()
	if err != nil {
		return 0, err
	}
	if !utf16.IsSurrogate(rune(c)) {
		return rune(c), nil
	}
	if c >= 0xDC00 {
		return 0, invalidText(u.pos, fmt.Sprintf("an unpaired UTF-16 surrogate 0x%04X", c))
	}
	lo, err := u.unit()
	if err != nil || lo < 0xDC00 || lo > 0xDFFF {
		return 0, invalidText(u.pos, fmt.Sprintf("an unpaired UTF-16 surrogate 0x%04X", c))
	}
	return utf16.DecodeRune(rune(c), rune(lo)), nil
}

// unit reads one 16-bit code unit.
func (u *utf16Reader) unit() (uint16, error) {
	var b [2]byte
	n, err := io.ReadFull(u.r, b[:])
	if n == 1 {
		return 0, invalidText(u.pos, "an odd number of bytes in UTF-16 text")
	}
	if err != nil {
		return 0, err
	}
	if u.le {
		return uint16(b[0]) | uint16(b[1])<<8, nil
	}
	return uint16(b[1]) | uint16(b[0])<<8, nil
}
