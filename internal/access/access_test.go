package access

import (
	"errors"
	"reflect"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

func TestCanAndEffective(t *testing.T) {
	tests := []struct {
		name  string
		actor Actor
		want  []Right // effective rights, in display order
	}{
		{"no groups", Actor{}, []Right{}},
		{"omnichannel alone", Actor{Granted: []Right{Omnichannel}}, []Right{Omnichannel}},
		{"a sub-right without omnichannel grants nothing", Actor{Granted: []Right{Management}}, []Right{}},
		{"every sub-right without omnichannel grants nothing", Actor{Granted: []Right{Unassigned, Management, Settings, Telephony}}, []Right{}},
		{"telephony is nested too", Actor{Granted: []Right{Telephony}}, []Right{}},
		{"telephony with omnichannel", Actor{Granted: []Right{Telephony, Omnichannel}}, []Right{Omnichannel, Telephony}},
		{"sub-rights with omnichannel, in display order", Actor{Granted: []Right{Settings, Unassigned, Omnichannel}}, []Right{Omnichannel, Unassigned, Settings}},
		{"rights from several groups may repeat", Actor{Granted: []Right{Omnichannel, Management, Omnichannel, Management}}, []Right{Omnichannel, Management}},
		{"unknown rights are ignored", Actor{Granted: []Right{"omnichannel.everything", Omnichannel}}, []Right{Omnichannel}},
		{"an administrator holds every right", Actor{Admin: true}, AllRights},
		{"an administrator's groups do not matter", Actor{Admin: true, Granted: []Right{Management}}, AllRights},
		{"the system actor is an administrator", System, AllRights},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.actor.Effective()
			if got == nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Effective() = %#v, want %#v", got, tt.want)
			}
			for _, r := range AllRights {
				want := false
				for _, w := range tt.want {
					want = want || w == r
				}
				if tt.actor.Can(r) != want {
					t.Errorf("Can(%s) = %v, want %v", r, !want, want)
				}
				if err := tt.actor.Require(r); (err == nil) != want || (err != nil && !errors.Is(err, errs.ErrForbidden)) {
					t.Errorf("Require(%s) = %v, want allowed %v", r, err, want)
				}
			}
		})
	}
}

func TestRequireAnyAndAdmin(t *testing.T) {
	settings := Actor{AgentID: 1, Granted: []Right{Omnichannel, Settings}}
	if err := settings.RequireAny(Management, Settings); err != nil {
		t.Errorf("RequireAny with one right held: %v", err)
	}
	if err := settings.RequireAny(Management, Unassigned); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("RequireAny with none held: %v, want forbidden", err)
	}
	if err := settings.RequireAny(); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("RequireAny of nothing: %v, want forbidden", err)
	}
	orphan := Actor{AgentID: 2, Granted: []Right{Management, Settings}}
	if err := orphan.RequireAny(Management, Settings); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("RequireAny of sub-rights without omnichannel: %v, want forbidden", err)
	}
	if err := settings.RequireAdmin(); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("RequireAdmin of an agent with every right but no flag: %v, want forbidden", err)
	}
	if err := (Actor{Admin: true}).RequireAdmin(); err != nil {
		t.Errorf("RequireAdmin of an administrator: %v", err)
	}
	if err := System.RequireAdmin(); err != nil || System.AgentID != 0 {
		t.Errorf("System: %v, agent %d", err, System.AgentID)
	}
}

func TestRightValid(t *testing.T) {
	for _, r := range AllRights {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	for _, r := range []Right{"", "admin", "Omnichannel", "omnichannel.", "telephony.calls"} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
}
