package team

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// wantInvalid checks that err is a validation failure of field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.Is(err, errs.ErrInvalid) || !errors.As(err, &e) || e.Field != field || e.Code != "validation_failed" {
		t.Errorf("error %#v, want a validation failure of %s", err, field)
	}
}

func TestCheckEmail(t *testing.T) {
	long := strings.Repeat("a", MaxEmailLength-len("@example.com")) + "@example.com"
	tests := []struct {
		in   string
		want string // empty when invalid
	}{
		{"ada@example.com", "ada@example.com"},
		{"  Ada.Lovelace+desk@Example.COM\t", "ada.lovelace+desk@example.com"},
		{"admin@localhost", "admin@localhost"}, // the bootstrap default
		{long, long},
		{"a" + long, ""},
		{"", ""},
		{"   ", ""},
		{"ada", ""},
		{"ada@", ""},
		{"@example.com", ""},
		{"ada@example.com, bob@example.com", ""},
		{"Ada <ada@example.com>", ""},
		{"<ada@example.com>", ""},
		{"ada @example.com", ""},
		{"ada@exa mple.com", ""},
		{"ada@example.com\nBcc: eve@example.com", ""},
	}
	for _, tt := range tests {
		got, err := checkEmail("email", tt.in)
		if tt.want == "" {
			wantInvalid(t, err, "email")
			if got != "" {
				t.Errorf("checkEmail(%q) returned %q with its error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("checkEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	_, err := checkEmail("new_email", "nope")
	wantInvalid(t, err, "new_email")
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		in       string
		required bool
		want     string
		ok       bool
	}{
		{"Ada", true, "Ada", true},
		{"  Ada Lovelace  ", true, "Ada Lovelace", true},
		{"", false, "", true},
		{"   ", false, "", true},
		{"", true, "", false},
		{" \t ", true, "", false},
		{strings.Repeat("é", MaxNameLength), true, strings.Repeat("é", MaxNameLength), true}, // runes, not bytes
		{strings.Repeat("x", MaxNameLength+1), true, "", false},
		{strings.Repeat("é", MaxNameLength+1), false, "", false},
		{"Ada\tLovelace", true, "", false},
		{"Ada\nLovelace", true, "", false},
		{"Ada\x00", true, "", false},
		{"Ada\x7f", true, "", false},
		{"Zoë Ünal 李", true, "Zoë Ünal 李", true},
	}
	for _, tt := range tests {
		got, err := checkName("name", tt.in, tt.required)
		if !tt.ok {
			wantInvalid(t, err, "name")
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("checkName(%q, %v) = %q, %v; want %q", tt.in, tt.required, got, err, tt.want)
		}
	}
	_, err := checkName("display_name", strings.Repeat("x", 101), false)
	wantInvalid(t, err, "display_name")
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"", false},
		{"1234567", false},
		{"12345678", true},
		{"éééééé", false},  // 6 characters, 12 bytes
		{"éééééééé", true}, // 8 characters
		{"        ", true}, // spaces are characters like any other
		{strings.Repeat("x", MaxPasswordLength), true},
		{strings.Repeat("x", MaxPasswordLength+1), false},
		{strings.Repeat("é", 101), false}, // 101 characters but 202 bytes
	}
	for _, tt := range tests {
		err := CheckPassword("password", tt.in)
		if tt.ok && err != nil {
			t.Errorf("CheckPassword(%q): %v", tt.in, err)
		}
		if !tt.ok {
			wantInvalid(t, err, "password")
		}
	}
	wantInvalid(t, CheckPassword("new_password", "short"), "new_password")
}

func TestCheckRights(t *testing.T) {
	tests := []struct {
		in   []access.Right
		want []access.Right // nil when invalid
	}{
		{nil, []access.Right{}},
		{[]access.Right{}, []access.Right{}},
		{[]access.Right{access.Omnichannel}, []access.Right{access.Omnichannel}},
		{[]access.Right{access.Telephony, access.Settings, access.Omnichannel}, []access.Right{access.Omnichannel, access.Settings, access.Telephony}},
		{[]access.Right{access.Management, access.Management}, []access.Right{access.Management}},
		{access.AllRights, access.AllRights},
		{[]access.Right{access.Omnichannel, "superpowers"}, nil},
		{[]access.Right{""}, nil},
		{[]access.Right{"OMNICHANNEL"}, nil},
	}
	for _, tt := range tests {
		got, err := checkRights(tt.in)
		if tt.want == nil {
			wantInvalid(t, err, "rights")
			continue
		}
		if err != nil || got == nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("checkRights(%v) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeEmailAndPresence(t *testing.T) {
	if got := NormalizeEmail("  MiXed@Example.Org \n"); got != "mixed@example.org" {
		t.Errorf("NormalizeEmail = %q", got)
	}
	for p, valid := range map[Presence]bool{Online: true, Away: true, Offline: true, "": false, "busy": false, "Online": false} {
		if p.Valid() != valid {
			t.Errorf("Presence(%q).Valid() = %v", p, !valid)
		}
	}
}

func TestUniqueIDsKeepsFirstOccurrences(t *testing.T) {
	if got := uniqueIDs([]int64{3, 1, 3, 2, 1}); !reflect.DeepEqual(got, []int64{3, 1, 2}) {
		t.Errorf("uniqueIDs = %v", got)
	}
	if got := uniqueIDs(nil); got == nil || len(got) != 0 {
		t.Errorf("uniqueIDs(nil) = %#v", got)
	}
}

// The service validates before it touches the store or hashes anything:
// with neither, invalid input must still be refused with the right field.
func TestServiceValidatesInput(t *testing.T) {
	ctx := context.Background()
	s := NewService(nil, nil, nil)
	admin := access.Actor{AgentID: 1, Admin: true}
	ptr := func(s string) *string { return &s }

	_, _, err := s.CreateAgent(ctx, admin, NewAgent{Email: "not an email", Name: "X", Password: "long enough"})
	wantInvalid(t, err, "email")
	_, _, err = s.CreateAgent(ctx, admin, NewAgent{Email: "x@example.com", Name: " ", Password: "long enough"})
	wantInvalid(t, err, "name")
	_, _, err = s.CreateAgent(ctx, admin, NewAgent{Email: "x@example.com", Name: "X", Password: "short"})
	wantInvalid(t, err, "password")
	_, err = s.ResetPassword(ctx, admin, 5, "short")
	wantInvalid(t, err, "password")

	rights := []access.Right{"root"}
	_, err = s.CreateGroup(ctx, admin, GroupPatch{Name: ptr("G"), Rights: &rights})
	wantInvalid(t, err, "rights")
	_, err = s.CreateGroup(ctx, admin, GroupPatch{})
	wantInvalid(t, err, "name")
	_, err = s.CreateGroup(ctx, admin, GroupPatch{Name: ptr("\x01")})
	wantInvalid(t, err, "name")

	_, err = s.CreateDepartment(ctx, admin, DepartmentPatch{})
	wantInvalid(t, err, "name")
	_, err = s.CreateDepartment(ctx, admin, DepartmentPatch{Name: ptr("Sales"), DisplayName: ptr(strings.Repeat("x", 101))})
	wantInvalid(t, err, "display_name")

	_, err = s.SetPresence(ctx, access.Actor{AgentID: 2, Granted: []access.Right{access.Omnichannel}}, "busy", 0)
	wantInvalid(t, err, "presence")

	// Rights are checked before validation: a non-administrator learns nothing.
	_, _, err = s.CreateAgent(ctx, access.Actor{AgentID: 2, Granted: access.AllRights}, NewAgent{Email: "bad"})
	if !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("CreateAgent by a non-administrator: %v, want forbidden", err)
	}
	_, err = s.SetPresence(ctx, access.Actor{AgentID: 2, Granted: []access.Right{access.Telephony}}, Online, 0)
	if !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("SetPresence without omnichannel: %v, want forbidden", err)
	}
}
