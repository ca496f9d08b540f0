// Package web holds the browser workspace UI.
package web

import "embed"

// FS holds the workspace UI files, served by httpapi: index.html and the
// assets directory (application modules, stylesheet and vendored libraries).
//
//go:embed index.html assets
var FS embed.FS
