package messenger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// ErrMalformed is a verified webhook whose body is not what the platform sends.
var ErrMalformed = errors.New("not a webhook of this platform")

// fetchTimeout bounds the download of one file sent by a client.
const fetchTimeout = 15 * time.Second

// Store is what receiving needs of the database beyond the ingest path.
type Store interface {
	Channel(ctx context.Context, id int64) (cv.Channel, error)
	HasMessage(ctx context.Context, channelID int64, externalID string) (bool, error)
	EditClientMessage(ctx context.Context, channelID int64, externalID, text string) error
	SetDelivery(ctx context.Context, channelID int64, externalID, state, reason string) error
	// SetDeliveryUpTo moves every earlier reply too (see DeliveryStatus.UpTo).
	SetDeliveryUpTo(ctx context.Context, channelID int64, recipient, externalID string, before time.Time, state string) error
}

// Conversations is the one ingest path and the attachment store.
type Conversations interface {
	Ingest(ctx context.Context, channelID int64, in cv.Inbound) (cv.IngestResult, error)
	StoreAttachment(ctx context.Context, filename string, data []byte) (cv.Attachment, error)
	DropAttachments(ctx context.Context, atts []cv.Attachment)
}

// Receiver handles the webhooks of every registered platform.
type Receiver struct {
	platforms Registry
	store     Store
	convs     Conversations
	log       *slog.Logger

	mu       sync.Mutex
	profiles map[string]cachedProfile
}

// NewReceiver returns the webhook receiver.
func NewReceiver(platforms Registry, store Store, convs Conversations, log *slog.Logger) *Receiver {
	return &Receiver{platforms: platforms, store: store, convs: convs, log: log, profiles: map[string]cachedProfile{}}
}

// account finds the channel a webhook names: of that kind, not removed.
func (r *Receiver) account(ctx context.Context, kind cv.ChannelKind, id int64) (Platform, cv.Channel, Account, error) {
	p := r.platforms[kind]
	if p == nil {
		return nil, cv.Channel{}, Account{}, errs.NotFound("channel")
	}
	ch, err := r.store.Channel(ctx, id)
	if err == nil && ch.Kind != kind {
		err = errs.NotFound("channel")
	}
	return p, ch, Account{ChannelID: ch.ID, Public: ch.Account, Secrets: ch.Secrets}, err
}

// Handshake answers a platform's verification request (GET on the webhook).
func (r *Receiver) Handshake(ctx context.Context, kind cv.ChannelKind, id int64, query url.Values) (string, error) {
	p, _, acc, err := r.account(ctx, kind, id)
	if err != nil {
		return "", err
	}
	body, ok := p.Handshake(acc, query)
	if !ok {
		return "", errs.Forbidden("the verify token does not match this channel")
	}
	return body, nil
}

// Receive checks a webhook's authenticity, then stores what it reports; it
// returns once everything is committed, so the platform's acknowledgement
// means stored. Redeliveries change nothing.
// It returns the body the platform expects as the answer, if it names one.
func (r *Receiver) Receive(ctx context.Context, kind cv.ChannelKind, id int64, header http.Header, body []byte) (answer string, err error) {
	p, ch, acc, err := r.account(ctx, kind, id)
	if err != nil {
		return "", err
	}
	if err := p.Verify(acc, header, body); err != nil {
		return "", errs.Unauthenticated("bad_signature", "the webhook's signature does not match this channel")
	}
	updates, err := p.Parse(acc, body)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for _, u := range updates {
		if u.Kind == Answer {
			answer = u.Answer
		}
	}
	log := r.log.With(slog.String("kind", string(kind)), slog.Int64("channel", ch.ID))
	if !ch.Active {
		log.Info("webhook for a disabled channel: acknowledged, not stored", slog.Int("updates", len(updates)))
		return answer, nil
	}
	for _, u := range updates {
		switch u.Kind {
		case Answer:
		case Message:
			err = r.message(ctx, ch, p, acc, u.Message)
		case Edit:
			err = r.store.EditClientMessage(ctx, ch.ID, u.Message.ExternalID, cv.CleanText(u.Message.Text))
		case Status:
			if st := u.Status; st.UpTo {
				err = r.store.SetDeliveryUpTo(ctx, ch.ID, st.Recipient, st.ExternalID, st.Before, st.State)
			} else {
				err = r.store.SetDelivery(ctx, ch.ID, st.ExternalID, st.State, st.Error)
			}
		default:
			log.Debug("webhook update ignored", slog.String("reason", u.Reason))
		}
		if err != nil {
			return "", err
		}
	}
	return answer, nil
}

// profileTTL is how long a fetched profile is reused.
const profileTTL = time.Hour

type cachedProfile struct {
	p  Profile
	at time.Time
}

// profile asks the platform who a client is, once an hour at most per
// client (profile calls are rate-limited, and every message would ask).
func (r *Receiver) profile(ctx context.Context, ch cv.Channel, p Platform, acc Account, sender string) (Profile, bool) {
	key := fmt.Sprintf("%d/%s", ch.ID, sender)
	r.mu.Lock()
	hit, ok := r.profiles[key]
	r.mu.Unlock()
	if ok && time.Since(hit.at) < profileTTL {
		return hit.p, true
	}
	pctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	pr, err := p.Profile(pctx, acc, sender)
	if err != nil {
		r.log.Debug("could not fetch a client's profile", slog.Int64("channel", ch.ID), slog.Any("error", err))
		return Profile{}, false
	}
	r.mu.Lock()
	if len(r.profiles) > 10000 {
		clear(r.profiles)
	}
	r.profiles[key] = cachedProfile{pr, time.Now()}
	r.mu.Unlock()
	return pr, true
}

// message stores a client message with its files fetched into the blob
// store. A file that cannot be fetched leaves a line saying so.
func (r *Receiver) message(ctx context.Context, ch cv.Channel, p Platform, acc Account, m *Inbound) error {
	if m.ExternalID != "" {
		// A redelivery: fetching its files again would be wasted.
		if seen, err := r.store.HasMessage(ctx, ch.ID, m.ExternalID); err != nil || seen {
			return err
		}
	}
	in := cv.Inbound{
		ExternalID: m.ExternalID, Text: m.Text, SentAt: m.SentAt,
		Sender: cv.Sender{ExternalID: m.SenderID, Name: m.SenderName, Phone: m.Phone,
			Profile: cv.Profile{Name: m.SenderName, URL: m.ProfileURL, ChatURL: m.ChatURL}},
	}
	if m.SenderName == "" {
		// The update names only an id: the platform's profile says who it is.
		if pr, ok := r.profile(ctx, ch, p, acc, m.SenderID); ok {
			in.Sender.Name, in.Sender.Profile.Name, in.Sender.Profile.AvatarURL = pr.Name, pr.Name, pr.AvatarURL
			if pr.ProfileURL != "" {
				in.Sender.Profile.URL = pr.ProfileURL
			}
		}
	}
	for _, ref := range m.Files {
		fctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		f, err := p.Fetch(fctx, acc, ref)
		cancel()
		if err == nil {
			var a cv.Attachment
			if a, err = r.convs.StoreAttachment(ctx, f.Filename, f.Data); err == nil {
				in.Attachments = append(in.Attachments, a)
				continue
			}
		}
		name := ref.Filename
		if name == "" {
			name = "a file"
		}
		r.log.Warn("could not fetch a client's file", slog.Int64("channel", ch.ID), slog.String("file", name), slog.Any("error", err))
		in.Text += fmt.Sprintf("\n[%s could not be fetched from %s]", name, ch.Kind)
	}
	if in.Text == "" && len(in.Attachments) == 0 {
		in.Text = "[empty message]"
	}
	if _, err := r.convs.Ingest(ctx, ch.ID, in); err != nil {
		r.convs.DropAttachments(context.WithoutCancel(ctx), in.Attachments)
		return err
	}
	return nil
}
