// Package widget holds the website chat widget: the browser sources in src,
// the built files in dist (committed, embedded) and the build itself.
//
// The widget is two scripts. The loader (src/loader.js) is served at the
// stable URL /widget/loader.js; the chat (src/chat.js) at a content-hashed
// URL that the server writes into the loader in place of the text
// ChatURLPlaceholder. Rebuild dist after changing src with
//
//	go generate ./web/widget
package widget

import (
	"embed"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

//go:generate go run ./gen

// ChatURLPlaceholder is the text in the built loader that the server replaces
// with the URL of the chat bundle (for example
// "https://support.example.com/widget/chat-1a2b3c4d.js"). It occurs exactly
// once in Loader().
const ChatURLPlaceholder = "__CHAT_URL__"

//go:embed dist/loader.js dist/chat.js
var dist embed.FS

// Loader returns the built, minified loader, still containing
// ChatURLPlaceholder.
func Loader() []byte { return mustRead("dist/loader.js") }

// Chat returns the built, minified chat bundle.
func Chat() []byte { return mustRead("dist/chat.js") }

func mustRead(name string) []byte {
	b, err := dist.ReadFile(name)
	if err != nil {
		panic(err) // embedded at compile time: cannot happen
	}
	return b
}

// Build bundles and minifies srcDir/loader.js and srcDir/chat.js with
// esbuild. The output depends only on the sources: the same sources give the
// same bytes on any machine.
func Build(srcDir string) (loader, chat []byte, err error) {
	abs, err := filepath.Abs(srcDir)
	if err != nil {
		return nil, nil, err
	}
	if loader, err = build(abs, "loader.js"); err != nil {
		return nil, nil, err
	}
	if chat, err = build(abs, "chat.js"); err != nil {
		return nil, nil, err
	}
	return loader, chat, nil
}

func build(dir, entry string) ([]byte, error) {
	res := api.Build(api.BuildOptions{
		AbsWorkingDir:     dir,
		EntryPoints:       []string{entry},
		Outfile:           filepath.Join(dir, "out", entry),
		Bundle:            true,
		Write:             false,
		Format:            api.FormatIIFE,
		Platform:          api.PlatformBrowser,
		Target:            api.ES2020,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetUTF8,
		Sourcemap:         api.SourceMapNone,
		LogLevel:          api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return nil, fmt.Errorf("building %s: %s", entry, strings.Join(msgs, ""))
	}
	if len(res.OutputFiles) != 1 {
		return nil, errors.New("building " + entry + ": esbuild wrote " + fmt.Sprint(len(res.OutputFiles)) + " files, want 1")
	}
	return res.OutputFiles[0].Contents, nil
}
