package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// inboundJSON is what integrations post to an api channel.
type inboundJSON struct {
	MessageID string `json:"message_id"`
	Sender    struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Email      string `json:"email"`
		Phone      string `json:"phone"`
		ProfileURL string `json:"profile_url"`
		ChatURL    string `json:"chat_url"`
		PageURL    string `json:"page_url"`
		Referrer   string `json:"referrer"`
		IP         string `json:"ip"`
	} `json:"sender"`
	Text        string `json:"text"`
	Attachments []struct {
		Filename string `json:"filename"`
		Data     string `json:"data"`
	} `json:"attachments"`
}

// maxInboundBody fits five 10 MiB attachments in base64 and the text.
const maxInboundBody = cv.MaxAttachments*cv.MaxAttachmentBytes*4/3 + 1<<20

// channelToken authenticates a request to a channel's own endpoints with its
// API token (Authorization: Bearer …).
func (s *Server) channelToken(w http.ResponseWriter, r *http.Request, id int64) bool {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if err := s.channels.Authenticate(r.Context(), id, token); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

func (s *Server) inbound(w http.ResponseWriter, r *http.Request, id int64) {
	if !s.channelToken(w, r, id) {
		return
	}
	var in inboundJSON
	if err := decodeLimit(w, r, &in, maxInboundBody); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(in.Attachments) > cv.MaxAttachments {
		s.writeError(w, r, errs.Invalid("attachments", fmt.Sprintf("at most %d files per message", cv.MaxAttachments)))
		return
	}
	msg := cv.Inbound{
		ExternalID: in.MessageID, Text: in.Text,
		Sender: cv.Sender{ExternalID: in.Sender.ID, Name: in.Sender.Name, Email: in.Sender.Email, Phone: in.Sender.Phone,
			Profile: cv.Profile{URL: in.Sender.ProfileURL, ChatURL: in.Sender.ChatURL, PageURL: in.Sender.PageURL, Referrer: in.Sender.Referrer, IP: in.Sender.IP},
			// The integration behind an API channel knows its customers:
			// the emails it sends count as proven.
			Verified: in.Sender.Email != ""},
	}
	for i, a := range in.Attachments {
		data, err := base64.StdEncoding.DecodeString(a.Data)
		if err != nil {
			s.conversations.DropAttachments(r.Context(), msg.Attachments)
			s.writeError(w, r, errs.Invalid(fmt.Sprintf("attachments[%d].data", i), "must be base64"))
			return
		}
		att, err := s.conversations.StoreAttachment(r.Context(), a.Filename, data)
		if err != nil {
			s.conversations.DropAttachments(r.Context(), msg.Attachments)
			s.writeError(w, r, err)
			return
		}
		msg.Attachments = append(msg.Attachments, att)
	}
	res, err := s.conversations.Ingest(r.Context(), id, msg)
	if err != nil || res.Duplicate {
		s.conversations.DropAttachments(r.Context(), msg.Attachments)
	}
	respond(s, w, r, http.StatusOK, map[string]any{
		"conversation_id": res.ConversationID, "message_id": res.MessageID, "created": res.Created, "duplicate": res.Duplicate,
	}, err)
}

func (s *Server) inboundTyping(w http.ResponseWriter, r *http.Request, id int64) {
	if !s.channelToken(w, r, id) {
		return
	}
	var in struct {
		SenderID string `json:"sender_id"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.conversations.ClientTyping(r.Context(), id, in.SenderID)
	if err == nil && ev.ConversationID != 0 {
		s.hub.Publish(ev)
	}
	respond(s, w, r, http.StatusNoContent, nil, err)
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := cv.ParseCursor(q.Get("after"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	query := cv.ListQuery{View: cv.View(q.Get("view")), Kind: cv.ChannelKind(q.Get("channel")), After: after}
	if query.View == "" {
		query.View = cv.ViewChats
	}
	if query.StatusID, err = optionalInt(q.Get("status"), "status"); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := optionalInt(q.Get("limit"), "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	query.Limit = int(limit)
	list, err := s.conversations.List(r.Context(), actorFrom(r.Context()), query)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	next := ""
	if len(list) > 0 && len(list) == clampedLimit(query.Limit) {
		next = cv.CursorOf(query.View, list[len(list)-1]).String()
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": list, "next": next})
}

func clampedLimit(n int) int {
	if n <= 0 || n > 200 {
		return 50
	}
	return n
}

func optionalInt(v, field string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.Invalid(field, "must be a positive number")
	}
	return n, nil
}

// onConversation adapts a service method that acts on one request and answers
// with it (read, take, close, classic) to a route.
func (s *Server) onConversation(f func(context.Context, access.Actor, int64) (cv.Conversation, error)) func(http.ResponseWriter, *http.Request, int64) {
	return func(w http.ResponseWriter, r *http.Request, id int64) {
		c, err := f(r.Context(), actorFrom(r.Context()), id)
		respond(s, w, r, http.StatusOK, c, err)
	}
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, id int64) {
	before, err := optionalInt(r.URL.Query().Get("before"), "before")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	msgs, err := s.conversations.Messages(r.Context(), actorFrom(r.Context()), id, before, 100)
	respond(s, w, r, http.StatusOK, map[string]any{"messages": msgs}, err)
}

// maxUploadBody bounds a reply with its files.
const maxUploadBody = cv.MaxAttachments*cv.MaxAttachmentBytes + 1<<20

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, id int64) {
	var kind cv.MessageKind
	var body string
	var uploads []cv.Upload
	if isMultipart(r) {
		form, uploads0, err := readUploads(w, r, "files")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer closeUploads(form, uploads0)
		kind, body, uploads = cv.MessageKind(r.FormValue("kind")), r.FormValue("body"), uploads0
	} else {
		var in struct {
			Kind cv.MessageKind `json:"kind"`
			Body string         `json:"body"`
		}
		if err := decode(w, r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		kind, body = in.Kind, in.Body
	}
	m, err := s.conversations.Post(r.Context(), actorFrom(r.Context()), id, kind, body, uploads)
	if err == nil && m.Delivery == cv.DeliveryQueued {
		s.outbox.Wake()
	}
	respond(s, w, r, http.StatusCreated, m, err)
}

func (s *Server) transferConversation(w http.ResponseWriter, r *http.Request, id int64) {
	var in struct {
		AgentID int64  `json:"agent_id"`
		Note    string `json:"note"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.conversations.Transfer(r.Context(), actorFrom(r.Context()), id, in.AgentID, in.Note)
	respond(s, w, r, http.StatusOK, c, err)
}

func (s *Server) setConversationStatus(w http.ResponseWriter, r *http.Request, id int64) {
	var in struct {
		StatusID int64 `json:"status_id"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.conversations.SetStatus(r.Context(), actorFrom(r.Context()), id, in.StatusID)
	respond(s, w, r, http.StatusOK, c, err)
}

func (s *Server) readConversation(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.conversations.MarkRead(r.Context(), actorFrom(r.Context()), id))
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request, id int64) {
	c, err := s.conversations.Client(r.Context(), actorFrom(r.Context()), id)
	respond(s, w, r, http.StatusOK, c, err)
}

func (s *Server) updateClient(w http.ResponseWriter, r *http.Request, id int64) {
	var in struct {
		Name   *string           `json:"name"`
		Email  *string           `json:"email"`
		Phone  *string           `json:"phone"`
		Fields map[string]string `json:"fields"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := cv.ClientPatch{Name: in.Name, Email: in.Email, Phone: in.Phone}
	if in.Fields != nil {
		p.Fields = map[int64]string{}
		for k, v := range in.Fields {
			fid, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				s.writeError(w, r, errs.Invalid("fields", "keys are custom field ids"))
				return
			}
			p.Fields[fid] = v
		}
	}
	c, err := s.conversations.UpdateClient(r.Context(), actorFrom(r.Context()), id, p)
	respond(s, w, r, http.StatusOK, c, err)
}

func (s *Server) previousRequests(w http.ResponseWriter, r *http.Request, id int64) {
	list, err := s.conversations.PreviousRequests(r.Context(), actorFrom(r.Context()), id)
	respond(s, w, r, http.StatusOK, map[string]any{"conversations": list}, err)
}

// attachment streams a file of a message the agent may see. Only images are
// shown inline; everything else downloads, so no uploaded file runs as a page.
func (s *Server) attachment(w http.ResponseWriter, r *http.Request, id int64) {
	index, err := strconv.Atoi(chi.URLParam(r, "index"))
	if err != nil {
		s.writeError(w, r, errs.NotFound("attachment"))
		return
	}
	a, f, err := s.conversations.Attachment(r.Context(), actorFrom(r.Context()), id, index)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Cache-Control", "private, max-age=86400")
	serveAttachment(w, r, a, f)
}

// serveAttachment sends a stored file. Only images are shown inline;
// everything else downloads, so no uploaded file runs as a page.
func serveAttachment(w http.ResponseWriter, r *http.Request, a cv.Attachment, f io.ReadSeeker) {
	disposition := "attachment"
	if strings.HasPrefix(a.ContentType, "image/") && a.ContentType != "image/svg+xml" {
		disposition = "inline"
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": a.Filename}))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", time.Time{}, f)
}

func isMultipart(r *http.Request) bool {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mediaType == "multipart/form-data"
}

// readUploads parses a multipart body of at most maxUploadBody and opens the
// files of one field; closeUploads releases them.
func readUploads(w http.ResponseWriter, r *http.Request, field string) (*multipart.Form, []cv.Upload, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBody)
	if err := r.ParseMultipartForm(4 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, nil, errs.Invalid(field, "the files are too large")
		}
		return nil, nil, &badRequest{http.StatusBadRequest, errorDetail{Code: "bad_request", Message: "malformed multipart form"}}
	}
	var uploads []cv.Upload
	for _, fh := range r.MultipartForm.File[field] {
		f, err := fh.Open()
		if err != nil {
			closeUploads(r.MultipartForm, uploads)
			return nil, nil, err
		}
		uploads = append(uploads, cv.Upload{Filename: fh.Filename, Content: f})
	}
	return r.MultipartForm, uploads, nil
}

func closeUploads(form *multipart.Form, uploads []cv.Upload) {
	for _, u := range uploads {
		if c, ok := u.Content.(io.Closer); ok {
			c.Close()
		}
	}
	_ = form.RemoveAll()
}
