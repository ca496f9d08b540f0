package httpapi

import (
	_ "embed"
	"errors"
	"net/http"
	"path"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDocument)
}

// healthz answers as long as the process serves HTTP.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.version})
}

// readyz answers 200 only when the database is reachable and fully migrated.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	fail := func(reason string) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
	}
	if err := s.health.Ping(ctx); err != nil {
		fail("database unreachable")
		return
	}
	current, err := s.health.MigrationsCurrent(ctx)
	if err != nil {
		fail("cannot read the migration state")
		return
	}
	if !current {
		fail("database migrations pending")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

var avatarName = regexp.MustCompile(`^[A-Z2-7]{26}\.(png|jpg|gif|webp)$`)

var avatarContentTypes = map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}

// avatar serves avatar images publicly: widget visitors see department and
// agent avatars. Names are random and never reused, so they cache forever.
func (s *Server) avatar(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if !avatarName.MatchString(name) {
		s.writeError(w, r, errs.NotFound("avatar"))
		return
	}
	f, err := s.blobs.Open(r.Context(), "avatars/"+name)
	if err != nil {
		if !errors.Is(err, errs.ErrNotFound) {
			s.writeError(w, r, err)
			return
		}
		s.writeError(w, r, errs.NotFound("avatar"))
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", avatarContentTypes[path.Ext(name)])
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	http.ServeContent(w, r, name, time.Time{}, f)
}
