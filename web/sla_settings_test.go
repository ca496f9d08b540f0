package web_test

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-hq/switchboard/internal/browsertest"
)

// fill sets an input's value as typing does (the input event), for inputs
// whose typing depends on the browser's locale (time, date, number).
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector(` + js(sel) + `);
  i.value = ` + js(value) + `; i.dispatchEvent(new Event('input', {bubbles: true})); })()`)
}

// valueOf is a JavaScript expression giving an input's value (empty when absent).
func valueOf(sel string) string {
	return `((document.querySelector(` + js(sel) + `) || {}).value || '')`
}

// The business hours and SLA policies as the API answers them.
type (
	slaInterval struct{ Day, Start, End string }
	slaHoliday  struct {
		Name, From, To string
		Yearly         bool
	}
	slaHours struct {
		ID       int64
		Default  bool
		Name     string
		TimeZone string `json:"time_zone"`
		Week     []slaInterval
		Holidays []slaHoliday
	}
	slaPolicy struct {
		ID             int64
		Name           string
		Default        bool
		HoursID        int64 `json:"business_hours_id"`
		Targets        map[string]int64
		WarningPercent int `json:"warning_percent"`
		Channels       []int64
		Departments    []int64
		OnBreach       string `json:"on_breach"`
	}
)

func TestSLASettingsBusinessHoursAndAPolicyForAChannel(t *testing.T) {
	srv := startServer(t)
	vip := apiChannel(t, srv, "Telegram VIP line", 0)
	apiChannel(t, srv, "Shop", 0)
	admin := apiLogin(t, srv, "admin@example.com", "admin-password")

	win := browsertest.Window(t)
	login(t, win, srv.url, "admin@example.com", "admin-password")

	// Settings › Business hours lists the default 24/7.
	goTo(t, win, "#/settings/hours", `#hours-list tr[data-hours-name="24/7"]`)
	if got := text(t, win, `#hours-list tr[data-hours-name="24/7"] .hours-summary`); got != "Every day 00:00–24:00" {
		t.Errorf("the default schedule reads %q", got)
	}
	if n := evaluate[int](t, win, `document.querySelectorAll('#hours-list tr[data-hours-name="24/7"] .hours-delete').length`); n != 0 {
		t.Errorf("the default schedule offers %d delete buttons", n)
	}

	// A new schedule: Office in Berlin, Monday split 09:00–13:00 and
	// 14:00–18:00 (Tuesday to Friday keep the proposed 09:00–18:00), a
	// yearly Christmas; first with a third Monday interval that overlaps.
	monday := `.hours-day[data-day="monday"] `
	row := func(i int) string { return monday + `.hours-interval[data-index="` + strconv.Itoa(i) + `"] ` }
	do(t, win, "open the new schedule form",
		chromedp.Click(chromedp.CSS("#hours-add")),
		chromedp.WaitVisible(chromedp.CSS("#hours-form")),
		chromedp.SendKeys(chromedp.CSS("#hours-name"), "Office"),
		pick("#hours-time-zone", "Europe/Berlin"),
		fill(row(0)+".hours-end", "13:00"),
		chromedp.Click(chromedp.CSS(monday+".hours-add-interval")),
		chromedp.WaitVisible(chromedp.CSS(row(1)+".hours-start")),
		fill(row(1)+".hours-start", "14:00"),
		fill(row(1)+".hours-end", "18:00"),
		chromedp.Click(chromedp.CSS(monday+".hours-add-interval")),
		chromedp.WaitVisible(chromedp.CSS(row(2)+".hours-start")),
		fill(row(2)+".hours-start", "12:00"),
		fill(row(2)+".hours-end", "15:00"),
		chromedp.Click(chromedp.CSS("#hours-add-holiday")),
		chromedp.WaitVisible(chromedp.CSS(`.hours-holiday[data-index="0"] .holiday-name`)),
		chromedp.SendKeys(chromedp.CSS(`.hours-holiday[data-index="0"] .holiday-name`), "Christmas"),
		fill(`.hours-holiday[data-index="0"] .holiday-from`, "2026-12-24"),
		fill(`.hours-holiday[data-index="0"] .holiday-to`, "2026-12-26"),
		chromedp.Click(chromedp.CSS(`.hours-holiday[data-index="0"] .holiday-yearly`)),
		chromedp.Click(chromedp.CSS("#hours-save")),
	)
	waitJS(t, win, "the overlap refused at Monday's third interval", textOf(row(2)+".hours-error")+` !== ''`)
	if got := text(t, win, row(2)+".hours-error"); got != "This interval overlaps Monday 09:00–13:00." {
		t.Errorf("the overlapping interval's error reads %q", got)
	}
	if got := evaluate[[]string](t, win, `[...document.querySelectorAll('#hours-form [aria-invalid="true"]')].map((i) => i.className)`); !slices.Equal(got, []string{"hours-start", "hours-end"}) {
		t.Errorf("after the overlap the highlighted inputs are %q, want the third interval's start and end", got)
	}
	if n := evaluate[int](t, win, `document.querySelectorAll('#hours-form .hours-error').length`); n != 1 {
		t.Errorf("%d errors show in the form, want 1", n)
	}
	screenshot(t, win, "business-hours-error")
	// Nothing typed is lost.
	kept := evaluate[[]string](t, win, `[`+strings.Join([]string{valueOf("#hours-name"), valueOf("#hours-time-zone"),
		valueOf(row(0) + ".hours-end"), valueOf(row(1) + ".hours-start"), valueOf(row(2) + ".hours-start"),
		valueOf(`.hours-holiday[data-index="0"] .holiday-name`), valueOf(`.hours-holiday[data-index="0"] .holiday-to`)}, ", ")+`]`)
	if want := []string{"Office", "Europe/Berlin", "13:00", "14:00", "12:00", "Christmas", "2026-12-26"}; !slices.Equal(kept, want) {
		t.Errorf("after the refusal the form holds %q, want %q", kept, want)
	}

	do(t, win, "remove the overlapping interval and save",
		chromedp.Click(chromedp.CSS(row(2)+".hours-remove")),
		chromedp.WaitNotPresent(chromedp.CSS(row(2))),
		chromedp.Click(chromedp.CSS("#hours-save")),
		chromedp.WaitNotPresent(chromedp.CSS("#hours-form")),
	)
	office := `#hours-list tr[data-hours-name="Office"]`
	waitJS(t, win, "Office in the list", `!!document.querySelector(`+js(office)+`)`)
	if got := text(t, win, "#hours-status"); got != "Business hours “Office” added." {
		t.Errorf("the notice reads %q", got)
	}
	if got := text(t, win, office+" .hours-summary"); got != "Mon 09:00–13:00, 14:00–18:00 · Tue–Fri 09:00–18:00" {
		t.Errorf("Office's hours read %q", got)
	}
	if got := text(t, win, office+" .hours-zone"); got != "Europe/Berlin" {
		t.Errorf("Office's time zone reads %q", got)
	}
	screenshot(t, win, "business-hours")

	// The API stored exactly that, the week in the order shown.
	var hoursList struct {
		BusinessHours []slaHours `json:"business_hours"`
	}
	admin.call(http.MethodGet, "/business-hours", nil, &hoursList, http.StatusOK)
	i := slices.IndexFunc(hoursList.BusinessHours, func(h slaHours) bool { return h.Name == "Office" })
	if i < 0 {
		t.Fatalf("no Office among %+v", hoursList.BusinessHours)
	}
	stored := hoursList.BusinessHours[i]
	want := slaHours{ID: stored.ID, Name: "Office", TimeZone: "Europe/Berlin",
		Week: []slaInterval{{"monday", "09:00", "13:00"}, {"monday", "14:00", "18:00"}, {"tuesday", "09:00", "18:00"},
			{"wednesday", "09:00", "18:00"}, {"thursday", "09:00", "18:00"}, {"friday", "09:00", "18:00"}},
		Holidays: []slaHoliday{{Name: "Christmas", From: "2026-12-24", To: "2026-12-26", Yearly: true}}}
	if !reflect.DeepEqual(stored, want) {
		t.Errorf("stored business hours\n%+v\nwant\n%+v", stored, want)
	}

	// Settings › SLA: the default policy, then a new one for the VIP channel
	// in Office hours: first response 5 min, resolution 8 h.
	goTo(t, win, "#/settings/sla", `#sla-list tr[data-policy-name="Default"]`)
	if got := text(t, win, `#sla-list tr[data-policy-name="Default"] .sla-targets`); got != "First response 10 min" {
		t.Errorf("the default policy's targets read %q", got)
	}
	do(t, win, "fill in a new policy, forgetting the resolution time",
		chromedp.Click(chromedp.CSS("#sla-add")),
		chromedp.WaitVisible(chromedp.CSS("#sla-form")),
		chromedp.SendKeys(chromedp.CSS("#sla-name"), "Telegram VIP"),
		pick("#sla-hours", strconv.FormatInt(stored.ID, 10)),
		fill("#sla-amount-first_response", "5"),
		pick("#sla-unit-first_response", "60"),
		chromedp.Click(chromedp.CSS("#sla-measure-resolution")),
		chromedp.Click(chromedp.CSS("#sla-channel-"+strconv.FormatInt(vip, 10))),
		chromedp.Click(chromedp.CSS("#sla-save")),
	)
	waitJS(t, win, "the missing resolution time refused next to it", textOf("#sla-target-resolution .field-error")+` !== ''`)
	if got := evaluate[string](t, win, `document.querySelector('#sla-amount-resolution').getAttribute('aria-invalid') || ''`); got != "true" {
		t.Errorf("the resolution time is not highlighted (aria-invalid %q)", got)
	}
	screenshot(t, win, "sla-form")
	do(t, win, "enter 8 hours and save",
		fill("#sla-amount-resolution", "8"),
		pick("#sla-unit-resolution", "3600"),
		chromedp.Click(chromedp.CSS("#sla-save")),
		chromedp.WaitNotPresent(chromedp.CSS("#sla-form")),
	)
	policy := `#sla-list tr[data-policy-name="Telegram VIP"]`
	waitJS(t, win, "the policy in the list", `!!document.querySelector(`+js(policy)+`)`)
	if got := evaluate[[]string](t, win, `[...document.querySelectorAll('#sla-list tbody tr')].map((r) => r.dataset.policyName)`); !slices.Equal(got, []string{"Telegram VIP", "Default"}) {
		t.Errorf("the policies are listed as %q, want Telegram VIP before Default", got)
	}
	for sel, want := range map[string]string{
		policy + " .sla-targets":    "First response 5 min · Resolution 8 h",
		policy + " .sla-hours":      "Office",
		policy + " .sla-conditions": "Channel: Telegram VIP line",
		policy + " .sla-on-breach":  "Nothing",
	} {
		if got := text(t, win, sel); got != want {
			t.Errorf("%s reads %q, want %q", sel, got, want)
		}
	}
	screenshot(t, win, "sla")

	var policies struct{ Policies []slaPolicy }
	admin.call(http.MethodGet, "/sla-policies", nil, &policies, http.StatusOK)
	if len(policies.Policies) != 2 || !policies.Policies[1].Default {
		t.Fatalf("the policies are %+v, want the new one and the default last", policies.Policies)
	}
	got := policies.Policies[0]
	wantPolicy := slaPolicy{ID: got.ID, Name: "Telegram VIP", HoursID: stored.ID,
		Targets: map[string]int64{"first_response": 300, "resolution": 8 * 3600}, WarningPercent: 80,
		Channels: []int64{vip}, Departments: []int64{}, OnBreach: ""}
	if !reflect.DeepEqual(got, wantPolicy) {
		t.Errorf("stored policy\n%+v\nwant\n%+v", got, wantPolicy)
	}

	// Office is in use now: deleting it is refused with the policy's name.
	goTo(t, win, "#/settings/hours", office+" .hours-delete")
	do(t, win, "delete Office",
		chromedp.Click(chromedp.CSS(office+" .hours-delete")),
		chromedp.Click(chromedp.CSS(office+` [data-action="confirm-delete"]`)),
	)
	waitJS(t, win, "the refusal", `!!document.querySelector('#hours-list-status.status-error')`)
	if got := text(t, win, "#hours-list-status"); got != "The SLA policy Telegram VIP uses these business hours." {
		t.Errorf("deleting Office in use says %q", got)
	}
}

func TestSLASettingsOvernightHoursReorderAndTheDefaultPolicy(t *testing.T) {
	srv := startServer(t)
	admin := apiLogin(t, srv, "admin@example.com", "admin-password")
	var night slaHours
	admin.call(http.MethodPost, "/business-hours", map[string]any{
		"name": "Night", "time_zone": "UTC", "holidays": []map[string]any{{"name": "", "from": "2026-05-01"}},
		"week": []map[string]string{{"day": "friday", "start": "22:00", "end": "06:00"}, {"day": "saturday", "start": "18:00", "end": "24:00"}},
	}, &night, http.StatusCreated)

	win := browsertest.Window(t)
	login(t, win, srv.url, "admin@example.com", "admin-password")

	// An overnight shift and one to the end of the day show as such, and
	// come back unchanged when another day is set to All day.
	row := `#hours-list tr[data-hours-name="Night"]`
	goTo(t, win, "#/settings/hours", row)
	if got := text(t, win, row+" .hours-summary"); got != "Fri 22:00–06:00 (overnight) · Sat 18:00–24:00" {
		t.Errorf("Night's hours read %q", got)
	}
	do(t, win, "edit Night", chromedp.Click(chromedp.CSS(row+" .hours-edit")), chromedp.WaitVisible(chromedp.CSS("#hours-form")))
	friday, saturday := `.hours-day[data-day="friday"] .hours-interval[data-index="0"] `, `.hours-day[data-day="saturday"] .hours-interval[data-index="0"] `
	if got := text(t, win, friday+".hours-note"); got != "overnight, until Saturday 06:00" {
		t.Errorf("Friday's note reads %q", got)
	}
	if got := evaluate[string](t, win, valueOf(saturday+".hours-end")); got != "00:00" {
		t.Errorf("Saturday's end 24:00 shows as %q", got)
	}
	do(t, win, "make Sunday a whole day and save",
		chromedp.Click(chromedp.CSS(`.hours-day[data-day="sunday"] .hours-all-day-input`)),
		chromedp.Click(chromedp.CSS("#hours-save")),
		chromedp.WaitNotPresent(chromedp.CSS("#hours-form")),
	)
	var list struct {
		BusinessHours []slaHours `json:"business_hours"`
	}
	admin.call(http.MethodGet, "/business-hours", nil, &list, http.StatusOK)
	i := slices.IndexFunc(list.BusinessHours, func(h slaHours) bool { return h.ID == night.ID })
	want := slaHours{ID: night.ID, Name: "Night", TimeZone: "UTC",
		Week:     []slaInterval{{"friday", "22:00", "06:00"}, {"saturday", "18:00", "24:00"}, {"sunday", "00:00", "24:00"}},
		Holidays: []slaHoliday{{From: "2026-05-01"}}}
	if i < 0 || !reflect.DeepEqual(list.BusinessHours[i], want) {
		t.Errorf("after the edit the business hours are %+v, want %+v", list.BusinessHours, want)
	}

	// Two policies: moving the second up stores the new order.
	var a, b slaPolicy
	admin.call(http.MethodPost, "/sla-policies", map[string]any{"name": "A", "business_hours_id": night.ID, "targets": map[string]int{"first_response": 60}}, &a, http.StatusCreated)
	admin.call(http.MethodPost, "/sla-policies", map[string]any{"name": "B", "business_hours_id": night.ID, "targets": map[string]int{"next_response": 90}}, &b, http.StatusCreated)
	goTo(t, win, "#/settings/sla", `#sla-list tr[data-policy-name="B"]`)
	if got := text(t, win, `#sla-list tr[data-policy-name="B"] .sla-targets`); got != "Next response 1 min 30 s" {
		t.Errorf("B's targets read %q", got)
	}
	do(t, win, "move B up", chromedp.Click(chromedp.CSS(`#sla-list tr[data-policy-name="B"] .sla-up`)))
	waitJS(t, win, "the order to be saved", textOf("#sla-list-status")+` === 'Order saved.'`)
	names := func() []string {
		var out struct{ Policies []slaPolicy }
		admin.call(http.MethodGet, "/sla-policies", nil, &out, http.StatusOK)
		var names []string
		for _, p := range out.Policies {
			names = append(names, p.Name)
		}
		return names
	}
	if got := names(); !slices.Equal(got, []string{"B", "A", "Default"}) {
		t.Errorf("after moving B up the policies are %q", got)
	}
	if got := evaluate[[]string](t, win, `[...document.querySelectorAll('#sla-list tbody tr')].map((r) => r.dataset.policyName)`); !slices.Equal(got, []string{"B", "A", "Default"}) {
		t.Errorf("after moving B up the list shows %q", got)
	}

	// The default policy's form explains why it has no conditions; a warning
	// the server refuses shows next to its field.
	def := `#sla-list tr[data-policy-name="Default"]`
	do(t, win, "edit the default policy with a warning of 100%",
		chromedp.Click(chromedp.CSS(def+" .sla-edit")),
		chromedp.WaitVisible(chromedp.CSS("#sla-form .sla-conditions-default")),
		fill("#sla-warning", "100"),
		chromedp.Click(chromedp.CSS("#sla-save")),
	)
	if n := evaluate[int](t, win, `document.querySelectorAll('#sla-form [id^="sla-channel-"], #sla-form [id^="sla-department-"]').length`); n != 0 {
		t.Errorf("the default policy's form offers %d conditions", n)
	}
	waitJS(t, win, "the warning refused next to it", textOf("#sla-warning-error")+` !== ''`)
	if got := text(t, win, "#sla-warning-error"); got != "Warning must be between 1 and 99." {
		t.Errorf("the warning's error reads %q", got)
	}
	do(t, win, "save 90%",
		fill("#sla-warning", "90"),
		chromedp.Click(chromedp.CSS("#sla-save")),
		chromedp.WaitNotPresent(chromedp.CSS("#sla-form")),
	)
	if got := text(t, win, def+" .cell-sub"); got != "Warning at 90%" {
		t.Errorf("the default policy's row reads %q", got)
	}

	// Deleting a policy asks first.
	do(t, win, "delete A",
		chromedp.Click(chromedp.CSS(`#sla-list tr[data-policy-name="A"] .sla-delete`)),
		chromedp.Click(chromedp.CSS(`#sla-list tr[data-policy-name="A"] [data-action="confirm-delete"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#sla-list tr[data-policy-name="A"]`)),
	)
	if got := names(); !slices.Equal(got, []string{"B", "Default"}) {
		t.Errorf("after deleting A the policies are %q", got)
	}
}
