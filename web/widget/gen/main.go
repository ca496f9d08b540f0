// Command gen rebuilds web/widget/dist from web/widget/src. It runs from
// `go generate ./web/widget`, in the web/widget directory.
package main

import (
	"log"
	"os"
	"path/filepath"

	"github.com/switchboard-hq/switchboard/web/widget"
)

func main() {
	log.SetFlags(0)
	loader, chat, err := widget.Build("src")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll("dist", 0o755); err != nil {
		log.Fatal(err)
	}
	for name, b := range map[string][]byte{"loader.js": loader, "chat.js": chat} {
		if err := os.WriteFile(filepath.Join("dist", name), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
