package conversation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSubject(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"the first line of the message", "Where is my order?\nIt was due on Monday.", "Where is my order?"},
		{"a one-line message is its own subject", "Hello", "Hello"},
		{"leading blank lines are skipped", "\n\n  \nHello\nagain", "Hello"},
		{"spaces around the line are trimmed", "   Hello there  \t\nsecond", "Hello there"},
		{"Windows line ends leave no carriage return", "Hello\r\nsecond", "Hello"},
		{"an empty message has no subject", "", ""},
		{"a blank message has no subject", " \n\t\n ", ""},
		{"a line of 120 characters is kept", strings.Repeat("ж", 120), strings.Repeat("ж", 120)},
		{"a longer line is cut to 120 characters, not bytes", strings.Repeat("ж", 130) + "\nmore", strings.Repeat("ж", 120)},
		{"emoji count as one character", strings.Repeat("👋", 121), strings.Repeat("👋", 120)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Subject(tt.in); got != tt.want {
				t.Errorf("Subject(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPreview(t *testing.T) {
	photo := []Attachment{{Filename: "photo.jpg"}, {Filename: "second.pdf"}}
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"a short body is shown as is", Message{Body: "Thanks!"}, "Thanks!"},
		{"runs of spaces and line breaks become one space", Message{Body: "  Hello\n\n  world\t! "}, "Hello world !"},
		{"a file without text shows the first file's name", Message{Attachments: photo}, "📎 photo.jpg"},
		{"a blank body with files shows the file", Message{Body: " \n ", Attachments: photo}, "📎 photo.jpg"},
		{"text wins over files", Message{Body: "See attached", Attachments: photo}, "See attached"},
		{"nothing to show is empty", Message{}, ""},
		{"a long body is cut to 140 characters", Message{Body: strings.Repeat("я", 200)}, strings.Repeat("я", 140)},
		{"the cut counts collapsed spaces once", Message{Body: strings.Repeat("a \n ", 100)}, strings.Repeat("a ", 70)},
		{"a long file name is cut too", Message{Attachments: []Attachment{{Filename: strings.Repeat("f", 200)}}}, "📎 " + strings.Repeat("f", 138)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Preview(tt.m)
			if got != tt.want {
				t.Errorf("Preview = %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > previewLength {
				t.Errorf("preview of %d characters, more than %d", n, previewLength)
			}
		})
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"valid text is unchanged", "Привет, мир 👋", "Привет, мир 👋"},
		{"tabs and line breaks are kept", "a\tb\r\nc", "a\tb\r\nc"},
		{"NUL characters are dropped", "a\x00b\x00", "ab"},
		{"an invalid byte becomes the replacement character", "a\xffb", "a\uFFFDb"},
		{"a run of invalid bytes becomes one replacement character", "a\xff\xfe\xfdb", "a\uFFFDb"},
		{"a cut multi-byte character is replaced", "ok " + "ж"[:1], "ok \uFFFD"},
		{"NUL next to invalid bytes is dropped too", "\x00\xff\x00", "\uFFFD"},
		{"an encoded surrogate is invalid UTF-8", "\xed\xa0\x80", "\uFFFD"},
		{"empty stays empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CleanText(tt.in)
			if got != tt.want {
				t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
				t.Errorf("CleanText(%q) = %q is not storable", tt.in, got)
			}
			if again := CleanText(got); again != got {
				t.Errorf("CleanText is not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestCleanFilename(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ext  string
		want string
	}{
		{"a plain name is kept", "report.pdf", ".pdf", "report.pdf"},
		{"a name may differ from the sniffed type", "photo.png", ".jpg", "photo.png"},
		{"Unicode names are kept", "отчёт 2025.xlsx", ".xlsx", "отчёт 2025.xlsx"},
		{"Unix folders are dropped", "/home/ada/notes.txt", ".txt", "notes.txt"},
		{"Windows folders are dropped", `C:\Users\ada\notes.txt`, ".txt", "notes.txt"},
		{"climbing out of a folder is dropped", "../../etc/passwd", "", "passwd"},
		{"mixed separators are dropped", `a/b\c.txt`, ".txt", "c.txt"},
		{"a trailing slash keeps the last folder name", "docs/", "", "docs"},
		{"control characters are removed", "a\tb\x1b[31m\x7f.txt", ".txt", "ab[31m.txt"},
		{"NUL is removed", "a\x00b.txt", ".txt", "ab.txt"},
		{"no name gets a generic one with the sniffed extension", "", ".png", "file.png"},
		{"a dot gets a generic name", ".", ".png", "file.png"},
		{"a slash gets a generic name", "/", ".png", "file.png"},
		{"a backslash gets a generic name", `\`, ".png", "file.png"},
		{"a name of control characters only gets a generic name", "\x01\x02", ".gif", "file.gif"},
		{"a folder ending in control characters gets a generic name", "docs/\x01", ".gif", "file.gif"},
		{"an unknown type gets a bare generic name", "", "", "file"},
		{"a long name is cut to 200 characters", strings.Repeat("ё", 250) + ".txt", ".txt", strings.Repeat("ё", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cleanFilename(tt.in, tt.ext)
			if got != tt.want {
				t.Errorf("cleanFilename(%q, %q) = %q, want %q", tt.in, tt.ext, got, tt.want)
			}
			if strings.ContainsAny(got, `/\`) {
				t.Errorf("cleanFilename(%q) = %q still names a folder", tt.in, got)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"a shorter string is unchanged", "abc", 5, "abc"},
		{"a string of exactly n characters is unchanged", "abc", 3, "abc"},
		{"a longer string keeps its first n characters", "abcdef", 3, "abc"},
		{"characters are counted, not bytes", "ёжик", 2, "ёж"},
		{"a cut never splits a character", "👋👋👋", 2, "👋👋"},
		{"zero keeps nothing", "abc", 0, ""},
		{"empty stays empty", "", 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clip(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("clip(%q, %d) = %q is not valid UTF-8", tt.in, tt.n, got)
			}
		})
	}
}
