package conversation

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// FieldType is the type of a custom field of clients.
type FieldType string

// The custom field types.
const (
	FieldText     FieldType = "text"
	FieldNumber   FieldType = "number"
	FieldDate     FieldType = "date"
	FieldSelect   FieldType = "select"
	FieldCheckbox FieldType = "checkbox"
)

// CustomField is a client field defined by administrators.
type CustomField struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Type     FieldType `json:"type"`
	Options  []string  `json:"options"`
	Position int       `json:"position"`
}

// plainNumber is what a number field holds: a decimal, as people write it
// (ParseFloat would also take NaN, Inf, hex and underscores).
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// maxPosition bounds list positions (stored as 32-bit integers).
const maxPosition = 1_000_000

// CatalogStore keeps the lists administrators define: request statuses and
// custom fields.
type CatalogStore interface {
	Statuses(ctx context.Context) ([]Status, error)
	// SaveStatus creates (ID 0) or updates a status; a default status makes
	// the others of its class non-default.
	SaveStatus(ctx context.Context, s Status) (Status, error)
	// DeleteStatus fails with a conflict while requests use the status.
	DeleteStatus(ctx context.Context, id int64) error
	CustomFields(ctx context.Context) ([]CustomField, error)
	SaveCustomField(ctx context.Context, f CustomField) (CustomField, error)
	DeleteCustomField(ctx context.Context, id int64) error
}

// Catalog administers request statuses and custom fields.
type Catalog struct {
	store CatalogStore
}

// NewCatalog returns the catalog service.
func NewCatalog(store CatalogStore) *Catalog { return &Catalog{store: store} }

// Statuses lists the request statuses in order; every agent of the module sees them.
func (c *Catalog) Statuses(ctx context.Context, actor access.Actor) ([]Status, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return nil, err
	}
	return c.store.Statuses(ctx)
}

// StatusPatch changes the fields that are set.
type StatusPatch struct {
	Name     *string
	Class    *StatusClass
	Position *int
	Default  *bool
}

// SaveStatus creates (id 0) or changes a status.
func (c *Catalog) SaveStatus(ctx context.Context, actor access.Actor, id int64, p StatusPatch) (Status, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Status{}, err
	}
	all, err := c.store.Statuses(ctx)
	if err != nil {
		return Status{}, err
	}
	last := 0
	for _, o := range all {
		last = max(last, o.Position)
	}
	s := Status{Position: last + 1}
	if id != 0 {
		i := slices.IndexFunc(all, func(s Status) bool { return s.ID == id })
		if i < 0 {
			return Status{}, errs.NotFound("status")
		}
		s = all[i]
	} else if p.Name == nil || p.Class == nil {
		return Status{}, errs.Invalid("name", "a status needs a name and a class")
	}
	if p.Name != nil {
		s.Name = strings.TrimSpace(*p.Name)
		if s.Name == "" || utf8.RuneCountInString(s.Name) > 50 {
			return Status{}, errs.Invalid("name", "must be 1 to 50 characters")
		}
	}
	if p.Class != nil {
		if !p.Class.Valid() {
			return Status{}, errs.Invalid("class", "must be new, open, waiting or closed")
		}
		if id != 0 && s.Default && *p.Class != s.Class {
			return Status{}, errs.Invalid("class", "make another status the default of its class first")
		}
		s.Class = *p.Class
	}
	if p.Position != nil {
		if *p.Position < 0 || *p.Position > maxPosition {
			return Status{}, errs.Invalid("position", "must be between 0 and 1000000")
		}
		s.Position = *p.Position
	}
	if p.Default != nil {
		if !*p.Default && s.Default {
			return Status{}, errs.Invalid("is_default", "make another status the default of this class instead")
		}
		s.Default = *p.Default
	}
	if id == 0 && !slices.ContainsFunc(all, func(o Status) bool { return o.Class == s.Class }) {
		s.Default = true
	}
	return c.store.SaveStatus(ctx, s)
}

// DeleteStatus removes an unused, non-default status.
func (c *Catalog) DeleteStatus(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.RequireAdmin(); err != nil {
		return err
	}
	all, err := c.store.Statuses(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(s Status) bool { return s.ID == id })
	if i < 0 {
		return errs.NotFound("status")
	}
	if all[i].Default {
		return errs.Conflict("default_status", "the default status of a class cannot be deleted")
	}
	return c.store.DeleteStatus(ctx, id)
}

// CustomFields lists the client fields in order.
func (c *Catalog) CustomFields(ctx context.Context, actor access.Actor) ([]CustomField, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return nil, err
	}
	return c.store.CustomFields(ctx)
}

// FieldPatch changes the fields that are set.
type FieldPatch struct {
	Name     *string
	Type     *FieldType
	Options  *[]string
	Position *int
}

// SaveCustomField creates (id 0) or changes a custom field.
func (c *Catalog) SaveCustomField(ctx context.Context, actor access.Actor, id int64, p FieldPatch) (CustomField, error) {
	if err := actor.RequireAdmin(); err != nil {
		return CustomField{}, err
	}
	var f CustomField
	if id != 0 {
		all, err := c.store.CustomFields(ctx)
		if err != nil {
			return CustomField{}, err
		}
		i := slices.IndexFunc(all, func(f CustomField) bool { return f.ID == id })
		if i < 0 {
			return CustomField{}, errs.NotFound("custom field")
		}
		f = all[i]
	}
	if p.Name != nil {
		f.Name = *p.Name
	}
	if p.Type != nil {
		f.Type = *p.Type
	}
	if p.Options != nil {
		f.Options = *p.Options
	}
	if p.Position != nil {
		if *p.Position < 0 || *p.Position > maxPosition {
			return CustomField{}, errs.Invalid("position", "must be between 0 and 1000000")
		}
		f.Position = *p.Position
	}
	f.Name = strings.TrimSpace(f.Name)
	if f.Name == "" || utf8.RuneCountInString(f.Name) > 100 {
		return CustomField{}, errs.Invalid("name", "must be 1 to 100 characters")
	}
	switch f.Type {
	case FieldText, FieldNumber, FieldDate, FieldCheckbox:
		f.Options = []string{}
	case FieldSelect:
		if len(f.Options) == 0 {
			return CustomField{}, errs.Invalid("options", "a select field needs options")
		}
		for _, o := range f.Options {
			if strings.TrimSpace(o) == "" || utf8.RuneCountInString(o) > 100 {
				return CustomField{}, errs.Invalid("options", "options must be 1 to 100 characters")
			}
		}
	default:
		return CustomField{}, errs.Invalid("type", "must be text, number, date, select or checkbox")
	}
	return c.store.SaveCustomField(ctx, f)
}

// DeleteCustomField removes a field and its values.
func (c *Catalog) DeleteCustomField(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.RequireAdmin(); err != nil {
		return err
	}
	return c.store.DeleteCustomField(ctx, id)
}

// CheckValues validates client field values against their definitions.
func CheckValues(fields []CustomField, values map[int64]string) error {
	for id, v := range values {
		i := slices.IndexFunc(fields, func(f CustomField) bool { return f.ID == id })
		if i < 0 {
			return errs.Invalid("fields", "no custom field "+strconv.FormatInt(id, 10))
		}
		if v == "" {
			continue
		}
		f := fields[i]
		ok := utf8.RuneCountInString(v) <= 1000
		switch f.Type {
		case FieldNumber:
			_, err := strconv.ParseFloat(v, 64)
			ok = ok && err == nil && plainNumber.MatchString(v)
		case FieldDate:
			_, err := time.Parse(time.DateOnly, v)
			ok = ok && err == nil
		case FieldSelect:
			ok = ok && slices.Contains(f.Options, v)
		case FieldCheckbox:
			ok = v == "true" || v == "false"
		}
		if !ok {
			return errs.Invalid("fields", f.Name+": not a valid "+string(f.Type))
		}
	}
	return nil
}
