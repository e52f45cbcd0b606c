package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	scimerrors "github.com/elimity-com/scim/errors"
	fp "github.com/scim2/filter-parser/v2"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// MaxLength is the longest filter accepted, in bytes.
const MaxLength = 4096

// maxDepth bounds nesting, so a pathological filter cannot blow the stack
// or produce an enormous SQL statement.
const maxDepth = 64

// Parse parses and resolves a filter for a resource type. Errors are SCIM
// errors with scimType invalidFilter and a detail naming the problem.
func Parse(rt *schema.ResourceType, s string) (Expr, error) {
	return parse(rt, s, false)
}

// ParseLenient is Parse for a search across resource types (POST /.search):
// attributes rt does not have count as absent instead of being errors.
func ParseLenient(rt *schema.ResourceType, s string) (Expr, error) {
	return parse(rt, s, true)
}

func parse(rt *schema.ResourceType, s string, lenient bool) (Expr, error) {
	if len(s) > MaxLength {
		return nil, invalid("the filter is %d bytes long; the limit is %d", len(s), MaxLength)
	}
	if strings.TrimSpace(s) == "" {
		return nil, invalid("the filter is empty")
	}
	if !utf8.ValidString(s) {
		return nil, invalid("the filter is not valid UTF-8")
	}
	toks, ok := lex(s)
	if !ok {
		return nil, invalid("a quoted string is not terminated")
	}
	toks = rewrite(toks)
	ast, fast := fastAST(toks)
	var err error
	if !fast {
		ast, err = parseAST(join(toks))
	}
	if err != nil {
		return nil, invalid("%q is not a valid SCIM filter (RFC 7644 §3.4.2.2), e.g. userName eq \"bjensen\"", truncate(s, 200))
	}
	r := resolver{rt: rt, lenient: lenient}
	return r.expr(ast, nil, 0)
}

// parseAST calls the parser, turning its panics on odd input into errors.
func parseAST(s string) (ast fp.Expression, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("filter parser panic: %v", v)
		}
	}()
	return fp.ParseFilterNumber([]byte(s))
}

func invalid(format string, args ...any) error {
	return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidFilter,
		Detail: "Invalid filter: " + fmt.Sprintf(format, args...) + "."}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func lower(s string) string { return strings.ToLower(s) }

type resolver struct {
	rt      *schema.ResourceType
	lenient bool
	target  bool // resolving a PATCH target, not a filter
}

// unknownAttr is the error for an attribute or schema the resource type
// does not have; lenient parsing turns it into an absent attribute.
type unknownAttr struct{ scimerrors.ScimError }

func (u unknownAttr) Unwrap() error { return u.ScimError }

func unknown(format string, args ...any) error {
	return unknownAttr{invalid(format, args...).(scimerrors.ScimError)}
}

// absent returns the constant a comparison on a missing attribute has.
func (r resolver) absent(err error, op Op) (Expr, error) {
	var u unknownAttr
	if !r.lenient || !errors.As(err, &u) {
		return nil, err
	}
	return &Const{Value: op == Ne}, nil
}

// expr resolves e; parent is the value-path attribute when inside [ ].
func (r resolver) expr(e fp.Expression, parent *Attr, depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, invalid("the filter nests deeper than %d levels", maxDepth)
	}
	switch e := e.(type) {
	case *fp.LogicalExpression:
		return r.logical(e, parent, depth)
	case *fp.NotExpression:
		x, err := r.expr(e.Expression, parent, depth+1)
		return &Not{X: x}, err
	case *fp.AttributeExpression:
		return r.compare(e, parent)
	case *fp.ValuePath:
		return r.valuePath(e, parent, depth)
	}
	return nil, invalid("unsupported expression %T", e)
}

func (r resolver) logical(e *fp.LogicalExpression, parent *Attr, depth int) (Expr, error) {
	// a or b or c parses as (a or b) or c: a flat list is no nesting, so a
	// left operand with the same operator stays at this depth.
	ld := depth + 1
	if l, ok := e.Left.(*fp.LogicalExpression); ok && strings.EqualFold(string(l.Operator), string(e.Operator)) {
		ld = depth
	}
	left, err := r.expr(e.Left, parent, ld)
	if err != nil {
		return nil, err
	}
	right, err := r.expr(e.Right, parent, depth+1)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(string(e.Operator), "or") {
		return &Or{Left: left, Right: right}, nil
	}
	return &And{Left: left, Right: right}, nil
}

func (r resolver) valuePath(e *fp.ValuePath, parent *Attr, depth int) (Expr, error) {
	if parent != nil {
		return nil, invalid("value paths cannot nest (%s inside %s)", e.AttributePath, parent)
	}
	a, err := r.path(e.AttributePath, nil)
	if err != nil {
		return r.absent(err, Eq)
	}
	if !a.MultiValued || a.Type != "complex" || a.Sub != "" {
		return nil, invalid("%s[...] needs a multi-valued complex attribute", a)
	}
	f, err := r.expr(e.ValueFilter, &a, depth+1)
	if err != nil {
		return nil, err
	}
	return &ValuePath{Attr: a, Filter: f}, nil
}

func (r resolver) compare(e *fp.AttributeExpression, parent *Attr) (Expr, error) {
	op := Op(lower(string(e.Operator)))
	a, err := r.path(e.AttributePath, parent)
	if err != nil {
		return r.absent(err, op)
	}
	if op == Pr {
		return &Compare{Attr: a, Op: Pr}, nil
	}
	if a, err = r.implicitValue(a); err != nil {
		return nil, err
	}
	if e.CompareValue == nil {
		return nullCompare(a, op)
	}
	v, err := typedValue(a, op, e.CompareValue)
	if err != nil {
		return nil, err
	}
	return &Compare{Attr: a, Op: op, Value: v}, nil
}

func nullCompare(a Attr, op Op) (Expr, error) {
	switch op {
	case Eq:
		return &Not{X: &Compare{Attr: a, Op: Pr}}, nil
	case Ne:
		return &Compare{Attr: a, Op: Pr}, nil
	}
	return nil, invalid("%s %s null is meaningless; only eq and ne compare with null", a, op)
}

// typedValue checks that op suits the attribute's type and converts v.
func typedValue(a Attr, op Op, v any) (Value, error) {
	switch a.Type {
	case "boolean":
		return boolValue(a, op, v)
	case "dateTime":
		return timeValue(a, op, v)
	case "integer", "decimal":
		return numberValue(a, op, v)
	case "string", "reference", "binary":
		if n, ok := v.(json.Number); ok {
			v = string(n) // a bare number compared with a string: its text
		}
		s, ok := v.(string)
		if !ok {
			return Value{}, invalid("%s is a string attribute; compare it with a quoted string, not %v", a, v)
		}
		s = decodeEscapes(s)
		if strings.IndexByte(s, 0) >= 0 { // no stored value has one, and PostgreSQL rejects it
			return Value{}, invalid("%s: a value cannot contain NUL characters", a)
		}
		return Value{Kind: KindString, Str: s}, nil
	}
	return Value{}, invalid("%s (type %s) cannot be compared with %s", a, a.Type, op)
}

// numberValue reads a number (bare or quoted, with a period as the
// decimal separator) for an integer or decimal attribute.
func numberValue(a Attr, op Op, v any) (Value, error) {
	if op == Co || op == Sw || op == Ew {
		return Value{}, invalid("%s is a number; use eq, ne, gt, ge, lt, le or pr", a)
	}
	var s string
	switch n := v.(type) {
	case json.Number:
		s = string(n)
	case string:
		s = strings.TrimSpace(decodeEscapes(n))
	}
	f, err := strconv.ParseFloat(s, 64)
	if s == "" || err != nil || !numberText.MatchString(s) {
		return Value{}, invalid("%s is a number; compare it with a number such as 12 or 1234.50", a)
	}
	return Value{Kind: KindNumber, Str: s, Num: f}, nil
}

// numberText is a plain decimal number (what SQL numeric casts accept).
var numberText = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

func boolValue(a Attr, op Op, v any) (Value, error) {
	if op != Eq && op != Ne {
		return Value{}, invalid("%s is a boolean; only eq, ne and pr apply", a)
	}
	switch b := v.(type) {
	case bool:
		return Value{Kind: KindBool, Bool: b}, nil
	case string:
		switch lower(b) {
		case "true":
			return Value{Kind: KindBool, Bool: true}, nil
		case "false":
			return Value{Kind: KindBool, Bool: false}, nil
		}
	}
	return Value{}, invalid("%s is a boolean; compare it with true or false", a)
}

func timeValue(a Attr, op Op, v any) (Value, error) {
	if op == Co || op == Sw || op == Ew {
		return Value{}, invalid("%s is a dateTime; use eq, ne, gt, ge, lt, le or pr", a)
	}
	s, ok := v.(string)
	if !ok {
		return Value{}, invalid("%s is a dateTime; compare it with a quoted xsd:dateTime such as \"2024-01-31T12:00:00Z\"", a)
	}
	t, err := time.Parse(time.RFC3339Nano, decodeEscapes(s))
	if err != nil {
		return Value{}, invalid("%q is not a dateTime such as \"2024-01-31T12:00:00Z\"", truncate(s, 60))
	}
	return Value{Kind: KindTime, Time: t.UTC().Truncate(time.Microsecond)}, nil
}

// decodeEscapes decodes JSON string escapes, which the parser leaves as is.
func decodeEscapes(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		return s
	}
	return out
}
