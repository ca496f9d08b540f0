package fakeapi

// What the Meta fakes (whatsapptest, messengertest, instagramtest) share:
// the Graph API's conventions and Meta's webhooks.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

var graphVersionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// GraphVersion reports whether version is a Graph API version such as v19.0.
func GraphVersion(version string) bool { return graphVersionRE.MatchString(version) }

// GraphError is the body of a Graph API error (an OAuthException) with the
// fbtrace_id trace; a subcode of 0 is left out.
func GraphError(trace string, code, subcode int, message string) []byte {
	e := map[string]any{"message": message, "type": "OAuthException", "code": code, "fbtrace_id": trace}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return b
}

// UnknownObject is the message of the Graph error about object id, which
// does not exist (or the token may not see).
func UnknownObject(id string) string {
	return fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id)
}

// AccessToken is the token of a Graph request: a bearer header, or else the
// access_token parameter.
func AccessToken(r *http.Request) string {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token = r.URL.Query().Get("access_token")
	}
	return token
}

// HubChallenge sends Meta's webhook verification request (GET with
// hub.mode, hub.verify_token, hub.challenge) to hookURL.
func HubChallenge(ctx context.Context, hookURL, verifyToken, challenge string) (*http.Response, error) {
	u, err := url.Parse(hookURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.verify_token", verifyToken)
	q.Set("hub.challenge", challenge)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	return hookClient.Do(req)
}

// MessagingHook is the webhook body of one messaging event for object
// ("page", "instagram") of the account id, escaped as Meta escapes it.
func MessagingHook(object, id string, event map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"object": object, "entry": []map[string]any{{
		"id": id, "time": time.Now().UnixMilli(), "messaging": []map[string]any{event},
	}}})
	if err != nil {
		panic(err)
	}
	return MetaEscape(b)
}

// MetaEscape writes JSON the way Meta does: non-ASCII as \uXXXX (lowercase
// hex) and "/" as "\/" (both only occur inside strings), so that a receiver
// that re-encodes the body before checking the signature fails. Go already
// escapes <, > and & as \u003c….
func MetaEscape(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r == '/':
			out.WriteString(`\/`)
		case r < 0x80:
			out.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}
