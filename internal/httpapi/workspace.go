package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// workspace serves the agent UI: index.html with a strict CSP, and the ES
// modules and styles under /assets/ with ETags so browsers revalidate cheaply.
type workspace struct {
	page   []byte
	csp    string
	assets map[string]asset
}

type asset struct {
	body []byte
	etag string
	kind string
}

var importMap = regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`)

func newWorkspace(web fs.FS) (*workspace, error) {
	index, err := fs.ReadFile(web, "index.html")
	if err != nil {
		return nil, fmt.Errorf("httpapi: workspace index: %w", err)
	}
	// The import map is the one inline script; the CSP allows it by hash.
	scriptSrc := "'self'"
	if m := importMap.FindSubmatch(index); m != nil {
		sum := sha256.Sum256(m[1])
		scriptSrc += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	ws := &workspace{
		page: index,
		csp: "default-src 'self'; script-src " + scriptSrc + "; style-src 'self'; img-src 'self' data: blob: https:; " +
			"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
		assets: map[string]asset{},
	}
	err = fs.WalkDir(web, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(web, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		kind := mime.TypeByExtension(path.Ext(p))
		if kind == "" {
			kind = http.DetectContentType(body)
		}
		ws.assets[strings.TrimPrefix(p, "assets/")] = asset{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, kind: kind}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("httpapi: workspace assets: %w", err)
	}
	return ws, nil
}

func (ws *workspace) index(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", ws.csp)
	_, _ = w.Write(ws.page)
}

func (ws *workspace) asset(w http.ResponseWriter, r *http.Request) {
	a, ok := ws.assets[chi.URLParam(r, "*")]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorBody{errorDetail{Code: "not_found", Message: "no such file"}})
		return
	}
	w.Header().Set("Content-Type", a.kind)
	w.Header().Set("ETag", a.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
