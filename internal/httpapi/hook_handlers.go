package httpapi

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// maxHookBody bounds a webhook body; platforms send a few kilobytes (files
// come by reference).
const maxHookBody = 3 << 20

// hookHandshake answers a platform's verification of the webhook URL
// (Meta's hub.challenge), as plain text.
func (s *Server) hookHandshake(w http.ResponseWriter, r *http.Request, id int64) {
	body, err := s.receiver.Handshake(r.Context(), cv.ChannelKind(chi.URLParam(r, "kind")), id, r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, body)
}

// hook receives a platform's webhook; it answers 200 only once what the
// webhook reported is committed, so the platform redelivers otherwise.
func (s *Server) hook(w http.ResponseWriter, r *http.Request, id int64) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, r, &badRequest{http.StatusRequestEntityTooLarge, errorDetail{Code: "too_large", Message: "the webhook body is too large"}})
			return
		}
		s.writeError(w, r, errs.Invalid("body", "could not read the body"))
		return
	}
	// Only the URL names the secret segment: a header of that name sent by
	// the caller is not believed.
	r.Header.Del(messenger.PathSecretHeader)
	if secret := chi.URLParam(r, "secret"); secret != "" {
		r.Header.Set(messenger.PathSecretHeader, secret)
	}
	answer, err := s.receiver.Receive(r.Context(), cv.ChannelKind(chi.URLParam(r, "kind")), id, r.Header, body)
	if errors.Is(err, messenger.ErrMalformed) {
		err = &badRequest{http.StatusBadRequest, errorDetail{Code: "bad_request", Message: err.Error()}}
	}
	if err == nil && answer != "" {
		// The platform wants these very words back (VK's confirmation).
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, answer)
		return
	}
	respond(s, w, r, http.StatusOK, map[string]bool{"ok": true}, err)
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, id int64) {
	m, err := s.conversations.RetryDelivery(r.Context(), actorFrom(r.Context()), id)
	if err == nil {
		s.outbox.Wake()
	}
	respond(s, w, r, http.StatusOK, m, err)
}

// fileLink serves a stored file at a signed, expiring link (a reply's file
// for a platform that takes files only as links). Anything else is 404.
func (s *Server) fileLink(w http.ResponseWriter, r *http.Request) {
	blob := chi.URLParam(r, "*")
	q := r.URL.Query()
	a := cv.Attachment{Blob: blob, ContentType: q.Get("type"), Filename: q.Get("name")}
	if s.fileLinks == nil || !s.fileLinks.Valid(blob, a.ContentType, a.Filename, chi.URLParam(r, "exp"), chi.URLParam(r, "sig"), time.Now()) {
		s.writeError(w, r, errs.NotFound("file"))
		return
	}
	f, err := s.blobs.Open(r.Context(), blob)
	if err != nil {
		s.writeError(w, r, errs.NotFound("file"))
		return
	}
	defer f.Close()
	w.Header().Set("Cache-Control", "private, max-age=3600")
	serveAttachment(w, r, a, f)
}
