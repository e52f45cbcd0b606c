package csvbridge

import (
	"fmt"
	"strings"
)

// Severity says whether an issue blocks a row (error) or only informs
// (warning).
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Issue codes. They are stable: reports, the API and scripts rely on them.
const (
	// File-level codes.
	CodeEmptyFile       = "empty_file"
	CodeTooLarge        = "too_large"
	CodeTooManyRows     = "too_many_rows"
	CodeInvalidEncoding = "invalid_encoding"
	CodeNotText         = "not_text"
	CodeMalformedCSV    = "malformed_csv"
	CodeMissingHeader   = "missing_header"
	CodeDuplicateHeader = "duplicate_header"
	CodeUnknownColumn   = "unknown_column"
	CodeHeaderOrder     = "header_order"
	CodeInvalidProfile  = "invalid_profile"

	// Row-level codes.
	CodeRaggedRow       = "ragged_row"
	CodeRequired        = "required"
	CodeInvalidEmail    = "invalid_email"
	CodeEnum            = "enum"
	CodeTooLong         = "too_long"
	CodeTooShort        = "too_short"
	CodePattern         = "pattern"
	CodeInvalidBoolean  = "invalid_boolean"
	CodeInvalidInteger  = "invalid_integer"
	CodeInvalidDecimal  = "invalid_decimal"
	CodeInvalidDate     = "invalid_date"
	CodeInvalidAction   = "invalid_action"
	CodeCannotClear     = "cannot_clear"
	CodeDuplicateInFile = "duplicate_in_file"
	CodeNoMatchKey      = "no_match_key"

	// Row-level codes of planning and committing (the directory's
	// refusals get the code of their SCIM status and scimType, see
	// ErrorCode).
	CodeMatchConflict = "match_conflict"
	CodeNotFound      = "not_found"
	CodeForbidden     = "forbidden"
	CodeConflict      = "conflict"
	CodeInvalidValue  = "invalid_value"
	CodeStalePreview  = "stale_preview"
	CodeInternal      = "internal_error"

	// Row-level warning codes (values a spreadsheet has mangled).
	CodeExcelScientific   = "excel_scientific"
	CodeExcelLeadingZeros = "excel_leading_zeros"
	CodeExcelDateSerial   = "excel_date_serial"
)

// Issue is one problem found in a file or a row, worded for the admin who
// will fix the spreadsheet.
type Issue struct {
	// Code is stable (see the Code constants).
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Row is the row number as a spreadsheet shows it (the header is row 1
	// unless a sep= or version line precedes it); 0 for file-level issues
	// that concern no row.
	Row int `json:"row,omitempty"`
	// Line and Column locate byte-level problems (invalid encoding,
	// malformed quoting) in the file's text, both 1-based.
	Line int `json:"line,omitempty"`
	Col  int `json:"col,omitempty"`
	// Column is the column's header as written in the file.
	Column string `json:"column,omitempty"`
	// Rule is the rule that failed, e.g. "maxLength 64" or "enum".
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// String renders the issue on one line, location first.
func (i Issue) String() string {
	var b strings.Builder
	switch {
	case i.Row > 0:
		fmt.Fprintf(&b, "row %d: ", i.Row)
	case i.Line > 0:
		fmt.Fprintf(&b, "line %d, column %d: ", i.Line, i.Col)
	}
	if i.Column != "" {
		fmt.Fprintf(&b, "%s: ", i.Column)
	}
	b.WriteString(i.Message)
	if i.Hint != "" {
		b.WriteString(" (" + i.Hint + ")")
	}
	return b.String()
}

// FileError is returned when a file cannot be used at all: it is empty,
// too large, not text, badly quoted, has too many rows, or its header does
// not fit the profile. Issues holds every file-level problem found.
type FileError struct {
	Issues []Issue
}

// Error joins the issues.
func (e *FileError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = is.String()
	}
	return "csv file: " + strings.Join(parts, "; ")
}

// Has reports whether the error holds an issue with the code.
func (e *FileError) Has(code string) bool {
	for _, is := range e.Issues {
		if is.Code == code {
			return true
		}
	}
	return false
}

func fileError(code, msg, hint string) *FileError {
	return &FileError{Issues: []Issue{{Code: code, Severity: SeverityError, Message: msg, Hint: hint}}}
}
