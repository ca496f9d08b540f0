package widget_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/widget"
)

func TestAScriptMatchesThePagesItNames(t *testing.T) {
	exact := func(pattern string) widget.Script {
		return widget.Script{Name: "exact", Match: widget.Exact, Pattern: pattern, Active: true}
	}
	containing := func(pattern string) widget.Script {
		return widget.Script{Name: "contains", Match: widget.Contains, Pattern: pattern, Active: true}
	}
	tests := []struct {
		name   string
		script widget.Script
		page   string
		want   bool
	}{
		{"exact: the same URL", exact("https://shop.example.com/pricing"), "https://shop.example.com/pricing", true},
		{"exact: a trailing slash on the page does not matter", exact("https://shop.example.com/pricing"), "https://shop.example.com/pricing/", true},
		{"exact: a trailing slash in the pattern does not matter", exact("https://shop.example.com/pricing/"), "https://shop.example.com/pricing", true},
		{"exact: the site root with and without its slash", exact("https://shop.example.com/"), "https://shop.example.com", true},
		{"exact: a page below the pattern is another page", exact("https://shop.example.com/pricing"), "https://shop.example.com/pricing/teams", false},
		{"exact: a query makes another URL", exact("https://shop.example.com/pricing"), "https://shop.example.com/pricing?plan=pro", false},
		{"exact: a part of the URL is not the URL", exact("/pricing"), "https://shop.example.com/pricing", false},
		{"exact: paths are case-sensitive", exact("https://shop.example.com/Pricing"), "https://shop.example.com/pricing", false},
		{"contains: a part of the URL", containing("/billing"), "https://shop.example.com/billing/invoices?id=7", true},
		{"contains: ignores case in the pattern", containing("/Checkout"), "https://shop.example.com/checkout/step-2", true},
		{"contains: ignores case in the page", containing("checkout"), "https://shop.example.com/CHECKOUT", true},
		{"contains: a trailing slash in the pattern must be there", containing("/billing/"), "https://shop.example.com/billing", false},
		{"contains: another page", containing("/billing"), "https://shop.example.com/blog", false},
		{"an empty pattern matches nothing", containing(""), "https://shop.example.com/", false},
		{"an empty exact pattern matches nothing, not even an empty page", exact(""), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.script.Matches(tt.page); got != tt.want {
				t.Errorf("%s %q on page %q: Matches = %v, want %v", tt.script.Match, tt.script.Pattern, tt.page, got, tt.want)
			}
			off := tt.script
			off.Active = false
			if off.Matches(tt.page) {
				t.Errorf("an inactive script (%s %q) matched %q", off.Match, off.Pattern, tt.page)
			}
		})
	}
}

func TestTheFirstActiveMatchingScriptRoutesThePage(t *testing.T) {
	ch := cv.Channel{ID: 1, Kind: cv.Widget, Name: "Website", DepartmentID: 100, GroupID: 200, Active: true}
	scripts := []widget.Script{
		{ID: 1, Name: "paused sales", Match: widget.Contains, Pattern: "/pricing", DepartmentID: 1, GroupID: 11, RequestForm: true, Active: false, Position: 1},
		{ID: 2, Name: "enterprise pricing", Match: widget.Exact, Pattern: "https://shop.example.com/pricing/enterprise", DepartmentID: 2, GroupID: 12, Active: true, Position: 2},
		{ID: 3, Name: "pricing", Match: widget.Contains, Pattern: "/pricing", DepartmentID: 3, GroupID: 13, RequestForm: true, Active: true, Position: 3},
		{ID: 4, Name: "any shop page", Match: widget.Contains, Pattern: "shop.example.com", DepartmentID: 4, Active: true, Position: 4},
	}
	tests := []struct {
		name string
		page string
		want widget.Route
	}{
		{"an inactive first script is skipped for the next match", "https://shop.example.com/pricing", widget.Route{DepartmentID: 3, GroupID: 13, RequestForm: true}},
		{"an earlier script wins over a later one that also matches", "https://shop.example.com/pricing/enterprise/", widget.Route{DepartmentID: 2, GroupID: 12}},
		{"a script without a group routes to its department only", "https://shop.example.com/about", widget.Route{DepartmentID: 4}},
		{"no script matches: the channel's own department and group, no form", "https://blog.example.org/post", widget.Route{DepartmentID: 100, GroupID: 200}},
		{"no page reported: the channel's own route", "", widget.Route{DepartmentID: 100, GroupID: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := widget.RouteFor(scripts, ch, tt.page); got != tt.want {
				t.Errorf("RouteFor(%q) = %+v, want %+v", tt.page, got, tt.want)
			}
		})
	}
	if got := widget.RouteFor(nil, cv.Channel{Kind: cv.Widget}, "https://shop.example.com/"); got != (widget.Route{}) {
		t.Errorf("without scripts on a channel without a route: %+v, want the zero route (any agent)", got)
	}
}

func TestTheIdentityHashProvesAnEmail(t *testing.T) {
	const secret = "s3cret-of-the-shop"
	// Computed independently: printf ann@example.com | openssl dgst -sha256 -hmac s3cret-of-the-shop
	const known = "9484e0198aee8b78499103ebcedf9663257645dfda3cbbf9d4902019b08b59c9"
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("ann@example.com"))
	if independent := hex.EncodeToString(mac.Sum(nil)); independent != known {
		t.Fatalf("the test's own HMAC %s differs from the known vector %s", independent, known)
	}
	for _, email := range []string{"ann@example.com", "  Ann@Example.COM\n"} {
		if got := widget.IdentityHash(secret, email); got != known {
			t.Errorf("IdentityHash(%q) = %s, want %s (HMAC-SHA256 of the trimmed, lowercased email)", email, got, known)
		}
	}

	tests := []struct {
		name                string
		secret, email, hash string
		want                bool
	}{
		{"the site's hash of the email", secret, "ann@example.com", known, true},
		{"the email as the site spells it, with capitals and spaces", secret, " ANN@example.com ", known, true},
		{"another email with Ann's hash", secret, "bob@example.com", known, false},
		{"a hash made with another secret", "another-secret", "ann@example.com", known, false},
		{"a hash one character off", secret, "ann@example.com", known[:63] + "0", false},
		{"a truncated hash", secret, "ann@example.com", known[:32], false},
		{"no hash", secret, "ann@example.com", "", false},
		{"no email", secret, "", widget.IdentityHash(secret, ""), false},
		{"no secret, even with the hash an empty key gives", "", "ann@example.com", widget.IdentityHash("", "ann@example.com"), false},
		{"the raw email instead of a hash", secret, "ann@example.com", "ann@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := widget.VerifyIdentity(tt.secret, tt.email, tt.hash); got != tt.want {
				t.Errorf("VerifyIdentity(%q, %q, %q) = %v, want %v", tt.secret, tt.email, tt.hash, got, tt.want)
			}
		})
	}
	if h := widget.IdentityHash(secret, "Bob@Example.com"); h != strings.ToLower(h) || len(h) != 64 {
		t.Errorf("IdentityHash = %q, want 64 lowercase hex digits", h)
	}
}

func TestOnlyTheClientsMessagesAndRepliesReachTheVisitor(t *testing.T) {
	for kind, want := range map[cv.MessageKind]bool{cv.FromClient: true, cv.Reply: true, cv.Note: false, cv.EventLine: false} {
		if got := widget.ForVisitor(kind); got != want {
			t.Errorf("ForVisitor(%s) = %v, want %v", kind, got, want)
		}
	}
}
