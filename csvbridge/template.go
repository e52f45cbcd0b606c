package csvbridge

import (
	"encoding/csv"
	"fmt"
	"io"
)

// scimTemplate is the header of the "scim" profile's template: the
// attributes most imports carry (any other SCIM path is accepted too).
var scimTemplate = []string{
	"userName", "name.givenName", "name.familyName", `emails[type eq "work"].value`, "displayName",
	"externalId", "title", "active",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "manager", "action",
}

// TemplateHeader is the header row of a profile's template.
func TemplateHeader(p *Profile) []string {
	if p.HeadersArePaths {
		return scimTemplate
	}
	out := make([]string, 0, len(p.Columns)+1)
	for _, c := range p.Columns {
		out = append(out, templateCell(p, &c))
	}
	if p.Action != nil && p.column(FoldHeader(p.Action.Header)) == nil {
		out = append(out, p.Action.Header)
	}
	return out
}

// ExampleRow is a template row of the columns' examples, in
// TemplateHeader's order ("" for columns without one).
func ExampleRow(p *Profile) []string {
	if p.HeadersArePaths {
		return nil
	}
	out := make([]string, 0, len(p.Columns)+1)
	for _, c := range p.Columns {
		out = append(out, c.Example)
	}
	if p.Action != nil && p.column(FoldHeader(p.Action.Header)) == nil {
		out = append(out, "")
	}
	return out
}

// templateCell is a column's header as the template writes it.
func templateCell(p *Profile, c *Column) string {
	if p.TemplateVersion == "" || len(c.Aliases) == 0 {
		return c.Header
	}
	cell := c.Aliases[0] + " [" + c.Header + "]"
	if c.Required == RequiredAlways {
		cell += " Required"
	}
	return cell
}

// WriteTemplate writes a profile's template: its header row (after a
// version line for Entra-style profiles), ready to be filled in a
// spreadsheet.
func WriteTemplate(w io.Writer, p *Profile) error { return writeTemplate(w, p, false) }

// WriteTemplateExample writes the template with one example row (the
// columns' examples).
func WriteTemplateExample(w io.Writer, p *Profile) error { return writeTemplate(w, p, true) }

func writeTemplate(w io.Writer, p *Profile, example bool) error {
	if p.TemplateVersion != "" {
		if _, err := io.WriteString(w, "version:"+p.TemplateVersion+"\r\n"); err != nil {
			return fmt.Errorf("write template: %w", err)
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(TemplateHeader(p)); err != nil {
		return fmt.Errorf("write template: %w", err)
	}
	if row := ExampleRow(p); example && row != nil {
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write template: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}
