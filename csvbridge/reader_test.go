package csvbridge

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

func utf16Bytes(s string, le bool) []byte {
	var b bytes.Buffer
	if le {
		b.Write([]byte{0xFF, 0xFE})
	} else {
		b.Write([]byte{0xFE, 0xFF})
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if le {
			b.Write([]byte{byte(u), byte(u >> 8)})
		} else {
			b.Write([]byte{byte(u >> 8), byte(u)})
		}
	}
	return b.Bytes()
}

func TestReaderEncodings(t *testing.T) {
	text := "first_name,last_name\r\nZoë,Ångström 😀\r\n"
	for _, c := range []struct {
		name string
		in   []byte
		want Encoding
	}{
		{"utf-8", []byte(text), EncodingUTF8},
		{"utf-8 bom", append([]byte{0xEF, 0xBB, 0xBF}, text...), EncodingUTF8BOM},
		{"utf-16le bom", utf16Bytes(text, true), EncodingUTF16LE},
		{"utf-16be bom", utf16Bytes(text, false), EncodingUTF16BE},
	} {
		t.Run(c.name, func(t *testing.T) {
			rd, rows, err := readRaw(t, string(c.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if rd.Format().Encoding != c.want {
				t.Errorf("encoding %s, want %s", rd.Format().Encoding, c.want)
			}
			if !slices.Equal(rd.Header(), []string{"first_name", "last_name"}) {
				t.Errorf("header %q (a BOM must not stick to the first column)", rd.Header())
			}
			if len(rows) != 1 || !slices.Equal(rows[0].Cells, []string{"Zoë", "Ångström 😀"}) {
				t.Errorf("rows %+v", rows)
			}
		})
	}
}

func TestReaderInvalidBytes(t *testing.T) {
	for _, c := range []struct {
		name      string
		in        []byte
		code      string
		line, col int
	}{
		{"latin-1 byte", []byte("a,b\nZo\xeb,x\n"), CodeInvalidEncoding, 2, 3},
		{"bad byte after multibyte", []byte("a,b\nü,\xff\n"), CodeInvalidEncoding, 2, 3},
		{"truncated at end", []byte("a,b\nx,\xe2\x82"), CodeInvalidEncoding, 2, 3},
		{"NUL byte", []byte("a,b\nx\x00,y\n"), CodeInvalidEncoding, 2, 2},
		{"utf-16 unpaired surrogate", append(utf16Bytes("a,b\nx,", true), 0x00, 0xD8, 'y', 0), CodeInvalidEncoding, 2, 3},
		{"utf-16 odd length", append(utf16Bytes("a,b\nx", true), 'y'), CodeInvalidEncoding, 2, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readRaw(t, string(c.in), Limits{})
			is := fileErr(t, err, c.code)
			if is.Line != c.line || is.Col != c.col {
				t.Errorf("at line %d column %d, want %d:%d (%s)", is.Line, is.Col, c.line, c.col, is.Message)
			}
			if !strings.Contains(is.Message, "line") || is.Hint == "" {
				t.Errorf("message should name the place and hint at a fix: %+v", is)
			}
		})
	}
}

func TestReaderLargeFileInvalidByteFarDown(t *testing.T) {
	var b strings.Builder
	b.WriteString("userName\n")
	for range 20000 {
		b.WriteString("someone.with.a.long.name@example.com\n")
	}
	b.WriteString("bad\x80\n")
	_, rows, err := readRaw(t, b.String(), Limits{})
	is := fileErr(t, err, CodeInvalidEncoding)
	if is.Line != 20002 || is.Col != 4 {
		t.Errorf("line %d col %d, want 20002:4", is.Line, is.Col)
	}
	if len(rows) != 20000 {
		t.Errorf("rows before the bad byte: %d", len(rows))
	}
}

func TestReaderNotText(t *testing.T) {
	_, _, err := readRaw(t, "PK\x03\x04\x14\x00rest-of-a-workbook", Limits{})
	if is := fileErr(t, err, CodeNotText); !strings.Contains(is.Hint, "CSV UTF-8") {
		t.Errorf("hint %q", is.Hint)
	}
}

func TestReaderSizeCap(t *testing.T) {
	in := "userName\nalice\nbob\n" // 19 bytes
	if _, _, err := readRaw(t, in, Limits{MaxBytes: int64(len(in))}); err != nil {
		t.Fatalf("a file at the cap: %v", err)
	}
	_, _, err := readRaw(t, in, Limits{MaxBytes: int64(len(in) - 1)})
	fileErr(t, err, CodeTooLarge)

	// The cap stops an endless upload instead of reading it all.
	endless := io.MultiReader(strings.NewReader("userName\n"), infinite{})
	rd, err := NewReader(endless, Limits{MaxBytes: 1 << 20})
	if err == nil {
		for err == nil {
			_, err = rd.Next()
		}
	}
	if is := fileErr(t, err, CodeTooLarge); !strings.Contains(is.Message, "1 MiB") {
		t.Errorf("message %q", is.Message)
	}
}

type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "someone\n"[i%8]
	}
	return len(p), nil
}

func TestReaderDefaults(t *testing.T) {
	l := Limits{}.withDefaults()
	if l.MaxBytes != 64<<20 || l.MaxRows != 200_000 {
		t.Errorf("defaults %+v", l)
	}
}

func TestReaderDelimiters(t *testing.T) {
	for _, c := range []struct{ name, in, delim string }{
		{"comma", "a,b,c\n1,2,3\n", ","},
		{"semicolon", "a;b;c\n1;2;3\n", ";"},
		{"tab", "a\tb\tc\n1\t2\t3\n", "\t"},
		{"pipe", "a|b|c\n1|2|3\n", "|"},
		{"semicolon with commas in a quoted header", "\"x,y\";b;c\n1;2;3\n", ";"},
		{"single column", "a\n1\n", ","},
	} {
		t.Run(c.name, func(t *testing.T) {
			rd, rows, err := readRaw(t, c.in, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if rd.Format().Delimiter != c.delim {
				t.Errorf("delimiter %q, want %q", rd.Format().Delimiter, c.delim)
			}
			if len(rows) != 1 || len(rows[0].Cells) != len(rd.Header()) {
				t.Errorf("rows %+v", rows)
			}
		})
	}
}

func TestReaderExcelSepLine(t *testing.T) {
	// The header has more commas than semicolons; sep=; decides.
	rd, rows, err := readRaw(t, "sep=;\r\nname,full;email\r\nDoe, John;j@x.com\r\n", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f := rd.Format()
	if f.Delimiter != ";" || !f.SepLine || f.HeaderRow != 2 {
		t.Errorf("format %+v", f)
	}
	if !slices.Equal(rd.Header(), []string{"name,full", "email"}) || rows[0].Number != 3 {
		t.Errorf("header %q, first row %+v", rd.Header(), rows[0])
	}
	if _, ok := sepLine(`"sep=|"`); !ok {
		t.Error(`a quoted "sep=|" line should count`)
	}
}

func TestReaderEntraVersionLine(t *testing.T) {
	in := "version:v1.0,,,\n" +
		"Name [displayName] Required,User name [userName] Required,Initial password [passwordProfile] Required,Block sign in (Yes/No) [accountEnabled] Required\n" +
		"Chris Green,chris@contoso.com,Secr3t!pass,No\n"
	rd, rows, err := readRaw(t, in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if f := rd.Format(); f.Version != "v1.0" || f.HeaderRow != 2 || f.Delimiter != "," {
		t.Errorf("format %+v", f)
	}
	if len(rows) != 1 || rows[0].Number != 3 || rows[0].Cells[1] != "chris@contoso.com" {
		t.Errorf("rows %+v", rows)
	}
}

func TestReaderQuotedFieldsAndRowNumbers(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		in := strings.Join([]string{
			"name,note",
			`"Doe, John","line one` + eol + `line two"`,
			"",
			`plain,"say ""hi"""`,
			",,", // an empty row a spreadsheet saved
			"last,x",
			"", "", "",
		}, eol)
		_, rows, err := readRaw(t, in, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		got := [][]string{}
		nums := []int{}
		for _, r := range rows {
			got = append(got, r.Cells)
			nums = append(nums, r.Number)
		}
		want := [][]string{{"Doe, John", "line one\nline two"}, {"plain", `say "hi"`}, {"last", "x"}}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("eol %q: cells %q", eol, got)
		}
		// Spreadsheet rows: header 1, the two-line record is row 2, the
		// blank line row 3, then 4, the empty row 5, last 6.
		if !slices.Equal(nums, []int{2, 4, 6}) {
			t.Errorf("eol %q: row numbers %v, want [2 4 6]", eol, nums)
		}
		if rows[1].Line != 5 {
			t.Errorf("eol %q: line of the second record %d, want 5", eol, rows[1].Line)
		}
	}
}

func TestReaderEmptyFile(t *testing.T) {
	for name, in := range map[string]string{
		"zero bytes":   "",
		"only a BOM":   "\xEF\xBB\xBF",
		"blank lines":  "\n\r\n  \n",
		"only sep=":    "sep=;\n",
		"only version": "version:v1.0\n",
		"header only":  "first_name,last_name,email,tier\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readRaw(t, in, Limits{})
			if is := fileErr(t, err, CodeEmptyFile); is.Message != "Users file is empty" {
				t.Errorf("message %q", is.Message)
			}
		})
	}
}

func TestReaderRowCap(t *testing.T) {
	in := "userName\na\n\nb\nc\n"
	if _, rows, err := readRaw(t, in, Limits{MaxRows: 3}); err != nil || len(rows) != 3 {
		t.Fatalf("3 rows at a cap of 3: %v %d", err, len(rows))
	}
	_, rows, err := readRaw(t, in, Limits{MaxRows: 2})
	is := fileErr(t, err, CodeTooManyRows)
	if len(rows) != 2 || !strings.Contains(is.Message, "limit is 2") {
		t.Errorf("rows %d, message %q", len(rows), is.Message)
	}
}

func TestReaderMalformedQuotes(t *testing.T) {
	for _, c := range []struct {
		name      string
		in        string
		line, col int
	}{
		{"bare quote", "a,b\nx,\"y\"z\n", 2, 5},
		{"unclosed quote", "a,b\nx,y\n\"open,z\nmore\n", 3, 1},
		{"after sep line", "sep=,\na,b\nx,y\"z\n", 3, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readRaw(t, c.in, Limits{})
			is := fileErr(t, err, CodeMalformedCSV)
			if is.Line != c.line || is.Col != c.col {
				t.Errorf("at %d:%d, want %d:%d (%s)", is.Line, is.Col, c.line, c.col, is.Message)
			}
		})
	}
}

func TestReaderHeaderKeepsLiteralQuotes(t *testing.T) {
	rd, _, err := readRaw(t, "userName,emails[type eq \"work\"].value\nbob,b@x.io\n", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if rd.Header()[1] != `emails[type eq "work"].value` {
		t.Errorf("header %q", rd.Header())
	}
}

// TestReaderStreams: a row is returned before the rest of the upload has
// arrived, so a large file is never held decoded.
func TestReaderStreams(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	go func() {
		_, _ = pw.Write([]byte("userName\nalice\n"))
		_, _ = pw.Write(bytes.Repeat([]byte("x"), 70<<10)) // fills the buffers
		_, _ = pw.Write([]byte("\nbob\n"))
		// never closed until the test ends: the reader must not wait for EOF
	}()
	rd, err := NewReader(pr, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rd.Next()
	if err != nil || r.Cells[0] != "alice" {
		t.Fatalf("first row %+v %v", r, err)
	}
	_ = pw.CloseWithError(errors.New("client went away"))
}
