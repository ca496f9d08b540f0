package platformtest

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// Golden maps webhook fixtures in testdata to what they parse to.
type Golden map[string][]messenger.Update

// Files names the fixtures, sorted.
func (g Golden) Files() []string { return slices.Sorted(maps.Keys(g)) }

// Parser parses webhook bodies for a test account.
type Parser struct {
	Parse func(body []byte) ([]messenger.Update, error)
	// Sender and ID, when set, are what every message checked by Text has.
	Sender, ID string
}

// NewParser parses with p for acc.
func NewParser(p messenger.Platform, acc messenger.Account) Parser {
	return Parser{Parse: func(body []byte) ([]messenger.Update, error) { return p.Parse(acc, body) }}
}

// Match parses each golden fixture in a subtest named after it.
func (p Parser) Match(t *testing.T, g Golden) {
	t.Helper()
	for _, name := range g.Files() {
		t.Run(name, func(t *testing.T) {
			got, err := p.Parse(Fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if want := g[name]; !reflect.DeepEqual(got, want) {
				t.Errorf("got  %s\nwant %s", Dump(got...), Dump(want...))
			}
		})
	}
}

// One is the only update body parses to.
func (p Parser) One(t testing.TB, body []byte) messenger.Update {
	t.Helper()
	us, err := p.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 {
		t.Fatalf("updates = %s", Dump(us...))
	}
	return us[0]
}

// Text checks that body parses to one message, with ids and the text want.
func (p Parser) Text(t testing.TB, body []byte, want string) *messenger.Inbound {
	t.Helper()
	u := p.One(t, body)
	m := u.Message
	if u.Kind != messenger.Message || m == nil {
		t.Fatalf("got %s, want text %q", Dump(u), want)
	}
	if m.Text != want || m.ExternalID == "" || m.SenderID == "" ||
		p.ID != "" && m.ExternalID != p.ID || p.Sender != "" && m.SenderID != p.Sender {
		t.Errorf("got %s, want text %q", Dump(u), want)
	}
	return m
}

// Ignored checks that body parses to one Ignored update whose reason starts
// with prefix.
func (p Parser) Ignored(t testing.TB, body []byte, prefix string) {
	t.Helper()
	if u := p.One(t, body); u.Kind != messenger.Ignored || !strings.HasPrefix(u.Reason, prefix) {
		t.Errorf("got %s, want ignored %q…", Dump(u), prefix)
	}
}

// Case is a webhook body and what its one update shows.
type Case struct {
	Name   string
	Body   string
	Kind   messenger.UpdateKind
	Text   string   // Message, Edit: the text
	Files  []string // and the files, as Cases shows them
	Reason string   // Ignored: a part of the reason
	// ID and Sender, when set, are the message's external id and sender.
	ID, Sender string
	Check      func(t *testing.T, u messenger.Update) // anything more
}

// Cases parses each case's body in a subtest named after it; show writes
// a file as Case.Files has it.
func (p Parser) Cases(t *testing.T, show func(messenger.FileRef) string, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			u := p.One(t, []byte(c.Body))
			if u.Kind != c.Kind {
				t.Fatalf("got %s, want %s", Dump(u), c.Kind)
			}
			switch m := u.Message; u.Kind {
			case messenger.Ignored:
				if !strings.Contains(u.Reason, c.Reason) || m != nil {
					t.Errorf("got %s, want the reason to hold %q", Dump(u), c.Reason)
				}
			case messenger.Message, messenger.Edit:
				var files []string
				for _, f := range m.Files {
					files = append(files, show(f))
				}
				if m.Text != c.Text || !reflect.DeepEqual(files, c.Files) {
					t.Errorf("text %q, files %q; want %q, %q", m.Text, files, c.Text, c.Files)
				}
				if m.ExternalID == "" || m.SenderID == "" || c.ID != "" && m.ExternalID != c.ID || c.Sender != "" && m.SenderID != c.Sender {
					t.Errorf("ids %q from %q", m.ExternalID, m.SenderID)
				}
			}
			if c.Check != nil {
				c.Check(t, u)
			}
		})
	}
}

// NameAndType shows a file as its name and content type.
func NameAndType(f messenger.FileRef) string { return f.Filename + " " + f.ContentType }

// Rules say what any body may parse to. Always: an error comes without
// updates, messages and edits have ids, files have safe names, statuses name
// a reply and Ignored says why.
type Rules struct {
	Kinds    []messenger.UpdateKind // the kinds of updates
	States   []string               // the delivery states; none: any
	NotEmpty bool                   // at least one update
	Single   bool                   // exactly one update
	Content  bool                   // a message has text or files
	UpTo     bool                   // a status may name a recipient instead of a reply
	Answers  []string               // exactly one Answer, one of these
}

// Check fails when what Parse returned breaks r.
func (r Rules) Check(t testing.TB, us []messenger.Update, err error) {
	t.Helper()
	if err != nil {
		if us != nil {
			t.Errorf("updates with an error: %s", Dump(us...))
		}
		return
	}
	if r.NotEmpty && len(us) == 0 || r.Single && len(us) != 1 {
		t.Errorf("%d updates", len(us))
	}
	answers := 0
	for _, u := range us {
		if !slices.Contains(r.Kinds, u.Kind) {
			t.Errorf("kind %q", u.Kind)
			continue
		}
		switch u.Kind {
		case messenger.Message, messenger.Edit:
			m := u.Message
			if m == nil || m.ExternalID == "" || m.SenderID == "" {
				t.Errorf("%s without ids: %s", u.Kind, Dump(u))
				continue
			}
			if r.Content && u.Kind == messenger.Message && m.Text == "" && len(m.Files) == 0 {
				t.Errorf("empty message: %s", Dump(u))
			}
			for _, f := range m.Files {
				if f.ID == "" || f.Filename == "" || strings.ContainsAny(f.Filename, "/\\\x00") {
					t.Errorf("bad file %+v", f)
				}
			}
		case messenger.Status:
			s := u.Status
			if s == nil || s.ExternalID == "" && !(r.UpTo && s.UpTo && s.Recipient != "") {
				t.Errorf("status without a reply: %s", Dump(u))
				continue
			}
			if r.States != nil && !slices.Contains(r.States, s.State) {
				t.Errorf("state %q", s.State)
			}
		case messenger.Ignored:
			if u.Reason == "" {
				t.Errorf("ignored without a reason")
			}
		case messenger.Answer:
			answers++
			if !slices.Contains(r.Answers, u.Answer) {
				t.Errorf("answer %q", u.Answer)
			}
		}
	}
	if r.Answers != nil && answers != 1 {
		t.Errorf("%d answers", answers)
	}
}

// Fuzz fuzzes p against r. The seed corpus, which plain go test runs, is
// the testdata fixtures files, then extra bodies.
func (p Parser) Fuzz(f *testing.F, r Rules, files []string, extra ...[]byte) {
	for _, name := range files {
		f.Add(Fixture(f, name))
	}
	for _, body := range extra {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		us, err := p.Parse(body)
		r.Check(t, us, err)
	})
}

// Order is us in short: the message or reply id of each, or its kind.
func Order(us []messenger.Update) string {
	s := make([]string, len(us))
	for i, u := range us {
		switch {
		case u.Message != nil:
			s[i] = u.Message.ExternalID
		case u.Status != nil:
			s[i] = u.Status.ExternalID
		default:
			s[i] = string(u.Kind)
		}
	}
	return strings.Join(s, ",")
}
