package conversation

import (
	"cmp"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// wantErr checks that err is a domain error of kind about field ("" when the
// kind names no field).
func wantErr(t *testing.T, err error, kind error, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.Is(err, kind) || !errors.As(err, &e) || e.Field != field {
		t.Errorf("error %v, want %v of field %q", err, kind, field)
	}
}

// memCatalog is a CatalogStore in memory that keeps one default per class the
// way the real stores do.
type memCatalog struct {
	statuses []Status
	fields   []CustomField
	nextID   int64
	saves    int
	deleted  []int64
}

func (m *memCatalog) Statuses(context.Context) ([]Status, error) {
	out := slices.Clone(m.statuses)
	slices.SortFunc(out, func(a, b Status) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (m *memCatalog) SaveStatus(_ context.Context, s Status) (Status, error) {
	m.saves++
	if s.Default {
		for i := range m.statuses {
			if m.statuses[i].Class == s.Class && m.statuses[i].ID != s.ID {
				m.statuses[i].Default = false
			}
		}
	}
	if s.ID == 0 {
		m.nextID++
		s.ID = m.nextID
		m.statuses = append(m.statuses, s)
		return s, nil
	}
	for i := range m.statuses {
		if m.statuses[i].ID == s.ID {
			m.statuses[i] = s
		}
	}
	return s, nil
}

func (m *memCatalog) DeleteStatus(_ context.Context, id int64) error {
	m.deleted = append(m.deleted, id)
	m.statuses = slices.DeleteFunc(m.statuses, func(s Status) bool { return s.ID == id })
	return nil
}

func (m *memCatalog) CustomFields(context.Context) ([]CustomField, error) {
	return slices.Clone(m.fields), nil
}

func (m *memCatalog) SaveCustomField(_ context.Context, f CustomField) (CustomField, error) {
	m.saves++
	if f.ID == 0 {
		m.nextID++
		f.ID = m.nextID
		m.fields = append(m.fields, f)
		return f, nil
	}
	for i := range m.fields {
		if m.fields[i].ID == f.ID {
			m.fields[i] = f
		}
	}
	return f, nil
}

func (m *memCatalog) DeleteCustomField(_ context.Context, id int64) error {
	m.deleted = append(m.deleted, id)
	return nil
}

// seededCatalog holds the statuses of a new installation plus one non-default
// status of the open class.
func seededCatalog() *memCatalog {
	return &memCatalog{nextID: 5, statuses: []Status{
		{ID: 1, Name: "New", Class: ClassNew, Position: 1, Default: true},
		{ID: 2, Name: "Open", Class: ClassOpen, Position: 2, Default: true},
		{ID: 3, Name: "Waiting", Class: ClassWaiting, Position: 3, Default: true},
		{ID: 4, Name: "Closed", Class: ClassClosed, Position: 4, Default: true},
		{ID: 5, Name: "Escalated", Class: ClassOpen, Position: 5},
	}}
}

var admin = access.Actor{AgentID: 1, Admin: true}

func ptr[T any](v T) *T { return &v }

func statusByID(t *testing.T, m *memCatalog, id int64) Status {
	t.Helper()
	for _, s := range m.statuses {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no status %d", id)
	return Status{}
}

func TestSaveStatusCreates(t *testing.T) {
	ctx := context.Background()

	t.Run("a new status gets the next position and is not the default of a class that has one", func(t *testing.T) {
		m := seededCatalog()
		got, err := NewCatalog(m).SaveStatus(ctx, admin, 0, StatusPatch{Name: ptr("  On hold "), Class: ptr(ClassWaiting)})
		if err != nil {
			t.Fatal(err)
		}
		want := Status{ID: 6, Name: "On hold", Class: ClassWaiting, Position: 6}
		if got != want {
			t.Errorf("created %+v, want %+v", got, want)
		}
		if !statusByID(t, m, 3).Default {
			t.Error("the default of the class changed")
		}
	})

	t.Run("a new status may ask for its position", func(t *testing.T) {
		got, err := NewCatalog(seededCatalog()).SaveStatus(ctx, admin, 0, StatusPatch{Name: ptr("First"), Class: ptr(ClassOpen), Position: ptr(0)})
		if err != nil || got.Position != 0 {
			t.Errorf("created %+v, %v; want position 0", got, err)
		}
	})

	t.Run("the first status of an empty list is at position 1 and the default", func(t *testing.T) {
		got, err := NewCatalog(&memCatalog{}).SaveStatus(ctx, admin, 0, StatusPatch{Name: ptr("New"), Class: ptr(ClassNew)})
		if err != nil || got.Position != 1 || !got.Default {
			t.Errorf("created %+v, %v; want position 1 and default", got, err)
		}
	})

	t.Run("the only status of its class becomes its default even when asked not to be", func(t *testing.T) {
		m := &memCatalog{nextID: 2, statuses: []Status{
			{ID: 1, Name: "New", Class: ClassNew, Position: 1, Default: true},
			{ID: 2, Name: "Closed", Class: ClassClosed, Position: 2, Default: true},
		}}
		got, err := NewCatalog(m).SaveStatus(ctx, admin, 0, StatusPatch{Name: ptr("Waiting"), Class: ptr(ClassWaiting), Default: ptr(false)})
		if err != nil || !got.Default {
			t.Errorf("created %+v, %v; want the default of waiting", got, err)
		}
	})

	t.Run("a new default status takes over its class", func(t *testing.T) {
		m := seededCatalog()
		got, err := NewCatalog(m).SaveStatus(ctx, admin, 0, StatusPatch{Name: ptr("Reopened"), Class: ptr(ClassOpen), Default: ptr(true)})
		if err != nil || !got.Default {
			t.Fatalf("created %+v, %v; want default", got, err)
		}
		if statusByID(t, m, 2).Default {
			t.Error("the former default of the class is still default")
		}
	})
}

func TestSaveStatusChanges(t *testing.T) {
	tests := []struct {
		name  string
		id    int64
		patch StatusPatch
		want  Status
	}{
		{"a rename keeps class, position and default", 2,
			StatusPatch{Name: ptr(" In progress ")},
			Status{ID: 2, Name: "In progress", Class: ClassOpen, Position: 2, Default: true}},
		{"a name of 50 characters is accepted", 5,
			StatusPatch{Name: ptr(strings.Repeat("ё", 50))},
			Status{ID: 5, Name: strings.Repeat("ё", 50), Class: ClassOpen, Position: 5}},
		{"an empty patch changes nothing", 5,
			StatusPatch{},
			Status{ID: 5, Name: "Escalated", Class: ClassOpen, Position: 5}},
		{"a status may move to the first position", 5,
			StatusPatch{Position: ptr(0)},
			Status{ID: 5, Name: "Escalated", Class: ClassOpen, Position: 0}},
		{"a status may move to the last possible position", 5,
			StatusPatch{Position: ptr(1_000_000)},
			Status{ID: 5, Name: "Escalated", Class: ClassOpen, Position: 1_000_000}},
		{"a status that is not a default may change class", 5,
			StatusPatch{Class: ptr(ClassWaiting)},
			Status{ID: 5, Name: "Escalated", Class: ClassWaiting, Position: 5}},
		{"a default status may be saved with its own class", 2,
			StatusPatch{Class: ptr(ClassOpen)},
			Status{ID: 2, Name: "Open", Class: ClassOpen, Position: 2, Default: true}},
		{"a default status may be made default again", 2,
			StatusPatch{Default: ptr(true)},
			Status{ID: 2, Name: "Open", Class: ClassOpen, Position: 2, Default: true}},
		{"a status that is not a default may be saved as not default", 5,
			StatusPatch{Default: ptr(false)},
			Status{ID: 5, Name: "Escalated", Class: ClassOpen, Position: 5}},
		{"a status becomes the default of its class", 5,
			StatusPatch{Default: ptr(true)},
			Status{ID: 5, Name: "Escalated", Class: ClassOpen, Position: 5, Default: true}},
		{"a status becomes the default of the class it moves to", 5,
			StatusPatch{Class: ptr(ClassClosed), Default: ptr(true)},
			Status{ID: 5, Name: "Escalated", Class: ClassClosed, Position: 5, Default: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := seededCatalog()
			got, err := NewCatalog(m).SaveStatus(context.Background(), admin, tt.id, tt.patch)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("saved %+v, want %+v", got, tt.want)
			}
			if stored := statusByID(t, m, tt.id); stored != tt.want {
				t.Errorf("stored %+v, want %+v", stored, tt.want)
			}
			// Every class keeps exactly one default.
			for _, c := range []StatusClass{ClassNew, ClassOpen, ClassWaiting, ClassClosed} {
				n := 0
				for _, s := range m.statuses {
					if s.Class == c && s.Default {
						n++
					}
				}
				if n != 1 {
					t.Errorf("class %s has %d defaults", c, n)
				}
			}
		})
	}
}

func TestSaveStatusRefuses(t *testing.T) {
	everyRight := access.Actor{AgentID: 2, Granted: access.AllRights}
	tests := []struct {
		name  string
		actor access.Actor
		id    int64
		patch StatusPatch
		kind  error
		field string
	}{
		{"anyone but an administrator, even with every right", everyRight, 5,
			StatusPatch{Name: ptr("Mine")}, errs.ErrForbidden, ""},
		{"an unknown status", admin, 99,
			StatusPatch{Name: ptr("Ghost")}, errs.ErrNotFound, ""},
		{"a new status without a name", admin, 0,
			StatusPatch{Class: ptr(ClassOpen)}, errs.ErrInvalid, "name"},
		{"a new status without a class", admin, 0,
			StatusPatch{Name: ptr("Classless")}, errs.ErrInvalid, "name"},
		{"a blank name", admin, 5,
			StatusPatch{Name: ptr("   ")}, errs.ErrInvalid, "name"},
		{"a name of 51 characters", admin, 5,
			StatusPatch{Name: ptr(strings.Repeat("ё", 51))}, errs.ErrInvalid, "name"},
		{"an unknown class", admin, 0,
			StatusPatch{Name: ptr("Archived"), Class: ptr(StatusClass("archived"))}, errs.ErrInvalid, "class"},
		{"an empty class", admin, 5,
			StatusPatch{Class: ptr(StatusClass(""))}, errs.ErrInvalid, "class"},
		{"moving the default of a class to another class", admin, 2,
			StatusPatch{Class: ptr(ClassWaiting)}, errs.ErrInvalid, "class"},
		{"moving the default of a class even when it asks to stay default", admin, 4,
			StatusPatch{Class: ptr(ClassOpen), Default: ptr(true)}, errs.ErrInvalid, "class"},
		{"un-defaulting the default of a class", admin, 4,
			StatusPatch{Default: ptr(false)}, errs.ErrInvalid, "is_default"},
		{"a negative position", admin, 5,
			StatusPatch{Position: ptr(-1)}, errs.ErrInvalid, "position"},
		{"a position beyond 1000000", admin, 5,
			StatusPatch{Position: ptr(1_000_001)}, errs.ErrInvalid, "position"},
		{"a new status at a negative position", admin, 0,
			StatusPatch{Name: ptr("Early"), Class: ptr(ClassOpen), Position: ptr(-5)}, errs.ErrInvalid, "position"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := seededCatalog()
			before := slices.Clone(m.statuses)
			_, err := NewCatalog(m).SaveStatus(context.Background(), tt.actor, tt.id, tt.patch)
			wantErr(t, err, tt.kind, tt.field)
			if m.saves != 0 || !reflect.DeepEqual(m.statuses, before) {
				t.Errorf("a refused change reached the store: %+v", m.statuses)
			}
		})
	}
}

func TestDeleteStatus(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		actor access.Actor
		id    int64
		kind  error // nil when the status is deleted
	}{
		{"a status that is no default is deleted", admin, 5, nil},
		{"the default of a class is kept", admin, 4, errs.ErrConflict},
		{"an unknown status is not found", admin, 99, errs.ErrNotFound},
		{"only administrators delete", access.Actor{AgentID: 2, Granted: access.AllRights}, 5, errs.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := seededCatalog()
			err := NewCatalog(m).DeleteStatus(ctx, tt.actor, tt.id)
			if tt.kind == nil {
				if err != nil || !slices.Equal(m.deleted, []int64{tt.id}) {
					t.Errorf("DeleteStatus = %v, deleted %v", err, m.deleted)
				}
				return
			}
			wantErr(t, err, tt.kind, "")
			if len(m.deleted) != 0 {
				t.Errorf("a refused delete reached the store: %v", m.deleted)
			}
		})
	}
}

func TestSaveCustomField(t *testing.T) {
	existing := CustomField{ID: 1, Name: "Tier", Type: FieldSelect, Options: []string{"Gold", "Silver"}, Position: 3}
	tests := []struct {
		name  string
		id    int64
		patch FieldPatch
		want  CustomField // zero when refused
		field string      // the invalid field when refused
	}{
		{"a text field is created with a trimmed name and no options", 0,
			FieldPatch{Name: ptr(" Notes "), Type: ptr(FieldText), Options: ptr([]string{"ignored"})},
			CustomField{ID: 2, Name: "Notes", Type: FieldText, Options: []string{}}, ""},
		{"a select field keeps its options", 0,
			FieldPatch{Name: ptr("Size"), Type: ptr(FieldSelect), Options: ptr([]string{"S", "M", "L"}), Position: ptr(7)},
			CustomField{ID: 2, Name: "Size", Type: FieldSelect, Options: []string{"S", "M", "L"}, Position: 7}, ""},
		{"a change keeps what the patch leaves out", 1,
			FieldPatch{Name: ptr("Level")},
			CustomField{ID: 1, Name: "Level", Type: FieldSelect, Options: []string{"Gold", "Silver"}, Position: 3}, ""},
		{"a select field turned into a checkbox loses its options", 1,
			FieldPatch{Type: ptr(FieldCheckbox)},
			CustomField{ID: 1, Name: "Tier", Type: FieldCheckbox, Options: []string{}, Position: 3}, ""},
		{"a field without a name is refused", 0,
			FieldPatch{Type: ptr(FieldText)}, CustomField{}, "name"},
		{"a name of 101 characters is refused", 0,
			FieldPatch{Name: ptr(strings.Repeat("n", 101)), Type: ptr(FieldText)}, CustomField{}, "name"},
		{"a field without a type is refused", 0,
			FieldPatch{Name: ptr("Untyped")}, CustomField{}, "type"},
		{"an unknown type is refused", 0,
			FieldPatch{Name: ptr("Colour"), Type: ptr(FieldType("color"))}, CustomField{}, "type"},
		{"a select field without options is refused", 0,
			FieldPatch{Name: ptr("Size"), Type: ptr(FieldSelect)}, CustomField{}, "options"},
		{"a blank option is refused", 1,
			FieldPatch{Options: ptr([]string{"Gold", " "})}, CustomField{}, "options"},
		{"an option of 101 characters is refused", 1,
			FieldPatch{Options: ptr([]string{strings.Repeat("o", 101)})}, CustomField{}, "options"},
		{"a position out of range is refused", 1,
			FieldPatch{Position: ptr(1_000_001)}, CustomField{}, "position"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memCatalog{nextID: 1, fields: []CustomField{existing}}
			got, err := NewCatalog(m).SaveCustomField(context.Background(), admin, tt.id, tt.patch)
			if tt.field != "" {
				wantErr(t, err, errs.ErrInvalid, tt.field)
				if m.saves != 0 {
					t.Error("a refused field reached the store")
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("saved %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	t.Run("an unknown field is not found", func(t *testing.T) {
		_, err := NewCatalog(&memCatalog{}).SaveCustomField(context.Background(), admin, 9, FieldPatch{Name: ptr("x")})
		wantErr(t, err, errs.ErrNotFound, "")
	})
	t.Run("only administrators define fields", func(t *testing.T) {
		_, err := NewCatalog(&memCatalog{}).SaveCustomField(context.Background(), access.Actor{AgentID: 2, Granted: access.AllRights}, 0,
			FieldPatch{Name: ptr("x"), Type: ptr(FieldText)})
		wantErr(t, err, errs.ErrForbidden, "")
	})
}

func TestCheckValues(t *testing.T) {
	fields := []CustomField{
		{ID: 1, Name: "Note", Type: FieldText},
		{ID: 2, Name: "Age", Type: FieldNumber},
		{ID: 3, Name: "Birthday", Type: FieldDate},
		{ID: 4, Name: "Tier", Type: FieldSelect, Options: []string{"Gold", "Silver"}},
		{ID: 5, Name: "VIP", Type: FieldCheckbox},
	}
	tests := []struct {
		name   string
		values map[int64]string
		ok     bool
	}{
		{"no values", nil, true},
		{"a value of every type", map[int64]string{1: "likes tea", 2: "42", 3: "1990-12-31", 4: "Gold", 5: "true"}, true},
		{"empty values clear a field of any type", map[int64]string{1: "", 2: "", 3: "", 4: "", 5: ""}, true},
		{"a value for an unknown field", map[int64]string{9: "x"}, false},
		{"an empty value for an unknown field", map[int64]string{9: ""}, false},

		{"text of 1000 characters", map[int64]string{1: strings.Repeat("ж", 1000)}, true},
		{"text of 1001 characters", map[int64]string{1: strings.Repeat("ж", 1001)}, false},
		{"text may hold line breaks", map[int64]string{1: "line\nline"}, true},

		{"a whole number", map[int64]string{2: "7"}, true},
		{"a negative decimal", map[int64]string{2: "-3.25"}, true},
		{"a number with an exponent", map[int64]string{2: "1e3"}, true},
		{"NaN is no number", map[int64]string{2: "NaN"}, false},
		{"infinity is no number", map[int64]string{2: "-Infinity"}, false},
		{"a hexadecimal float is no number", map[int64]string{2: "0x1p4"}, false},
		{"digits with underscores are no number", map[int64]string{2: "1_000"}, false},
		{"a number in words", map[int64]string{2: "forty"}, false},
		{"a decimal comma", map[int64]string{2: "1,5"}, false},
		{"a number with spaces", map[int64]string{2: " 4"}, false},
		{"a number too large for a float", map[int64]string{2: "1e400"}, false},

		{"a leap day", map[int64]string{3: "2024-02-29"}, true},
		{"a leap day of a common year", map[int64]string{3: "2023-02-29"}, false},
		{"a day-first date", map[int64]string{3: "31.12.1990"}, false},
		{"a date with a time", map[int64]string{3: "1990-12-31T10:00:00Z"}, false},
		{"a date without padding", map[int64]string{3: "1990-1-5"}, false},

		{"a listed option", map[int64]string{4: "Silver"}, true},
		{"an option in another case", map[int64]string{4: "gold"}, false},
		{"an option that is not listed", map[int64]string{4: "Bronze"}, false},

		{"checkbox false", map[int64]string{5: "false"}, true},
		{"checkbox yes", map[int64]string{5: "yes"}, false},
		{"checkbox 1", map[int64]string{5: "1"}, false},
		{"checkbox TRUE", map[int64]string{5: "TRUE"}, false},

		{"one bad value among good ones", map[int64]string{1: "ok", 2: "x", 5: "true"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckValues(fields, tt.values)
			if tt.ok {
				if err != nil {
					t.Errorf("CheckValues(%v) = %v, want nil", tt.values, err)
				}
				return
			}
			wantErr(t, err, errs.ErrInvalid, "fields")
		})
	}
	t.Run("the error names the field", func(t *testing.T) {
		err := CheckValues(fields, map[int64]string{3: "tomorrow"})
		if err == nil || !strings.Contains(err.Error(), "Birthday") {
			t.Errorf("error %v does not name Birthday", err)
		}
		err = CheckValues(fields, map[int64]string{77: "x"})
		if err == nil || !strings.Contains(err.Error(), "77") {
			t.Errorf("error %v does not name field 77", err)
		}
	})
}
