package csvbridge

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// scientificRE matches a number as a spreadsheet shows a long one it has
// turned into a float: 1.23E+11.
var scientificRE = regexp.MustCompile(`^[0-9](?:[.,][0-9]+)?[eE]\+[0-9]{1,3}$`)

// Excel's date serials: 1 is 1900-01-01, 2958465 is 9999-12-31.
const maxExcelSerial = 2958465

// excelWarnings flags values a spreadsheet has probably mangled: ids in
// scientific notation, numbers that lost their leading zeros, dates
// turned into serial numbers. They are warnings: the row may still be
// valid, but the admin should look.
func (m *Mapping) excelWarnings(row *Row, bc *boundColumn, v string) {
	warn := func(code, msg, hint string) {
		row.Issues = append(row.Issues, m.cellIssue(row, bc, Issue{Code: code, Severity: SeverityWarning, Rule: "spreadsheet", Message: msg, Hint: hint}))
	}
	r := bc.rule
	switch {
	case r.IDLike && scientificRE.MatchString(v):
		warn(CodeExcelScientific, fmt.Sprintf("%s looks like a number a spreadsheet wrote in scientific notation; its last digits are lost.", quoteValue(v)),
			"Format the column as Text before pasting the values, or export the file again from the source system.")
	case bc.digits > 0 && allDigits(v) && len(v) < bc.digits:
		warn(CodeExcelLeadingZeros, fmt.Sprintf("%s has %d digits where %d are expected; a spreadsheet may have dropped leading zeros.", quoteValue(v), len(v), bc.digits),
			"Format the column as Text and type the leading zeros again.")
	case (r.Type == TypeDate || r.Type == TypeDateTime) && allDigits(v):
		if d, ok := excelSerialDate(v); ok {
			warn(CodeExcelDateSerial, fmt.Sprintf("%s looks like a spreadsheet date serial number (%s).", quoteValue(v), d),
				"Format the column as Text or as a YYYY-MM-DD date before saving.")
		}
	}
}

// excelSerialDate converts an Excel (1900 system) date serial to a date.
func excelSerialDate(v string) (string, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxExcelSerial {
		return "", false
	}
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC) // serials from 61 on; Excel counts a 1900-02-29
	if n < 61 {
		base = base.AddDate(0, 0, 1)
	}
	return base.AddDate(0, 0, n).Format(time.DateOnly), true
}
