package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-hq/switchboard/internal/storetest"
)

// routes is every route of the HTTP surface, written by hand with the path
// under which openapi.json documents it. TestOpenAPIDocumentsEveryRoute checks
// it against the real router and the served document, both ways.
var routes = []struct{ method, route, documented string }{
	{"GET", "/", "/"},
	{"GET", "/assets/*", "/assets/{path}"},
	{"GET", "/files/{exp}/{sig}/*", "/files/{exp}/{sig}/{path}"},
	{"GET", "/avatars/{name}", "/avatars/{name}"},
	{"GET", "/healthz", "/healthz"},
	{"GET", "/widget/loader.js", "/widget/loader.js"},
	{"GET", "/widget/chat-{hash}.js", "/widget/chat-{hash}.js"},
	{"GET", "/widget/preview/{id}", "/widget/preview/{id}"},
	{"OPTIONS", "/widget/{id}/*", "/widget/{id}/{path}"},
	{"POST", "/widget/{id}/session", "/widget/{id}/session"},
	{"POST", "/widget/{id}/page", "/widget/{id}/page"},
	{"GET", "/widget/{id}/messages", "/widget/{id}/messages"},
	{"POST", "/widget/{id}/messages", "/widget/{id}/messages"},
	{"POST", "/widget/{id}/typing", "/widget/{id}/typing"},
	{"POST", "/widget/{id}/form", "/widget/{id}/form"},
	{"GET", "/widget/{id}/files/{message}/{index}", "/widget/{id}/files/{message}/{index}"},
	{"GET", "/widget/{id}/ws", "/widget/{id}/ws"},
	{"GET", "/hooks/{kind}/{id}", "/hooks/{kind}/{id}"},
	{"POST", "/hooks/{kind}/{id}", "/hooks/{kind}/{id}"},
	{"POST", "/hooks/{kind}/{id}/{secret}", "/hooks/{kind}/{id}/{secret}"},
	{"GET", "/readyz", "/readyz"},
	{"GET", "/metrics", "/metrics"},
	{"GET", "/api/v1/openapi.json", "/api/v1/openapi.json"},
	{"POST", "/api/v1/auth/login", "/api/v1/auth/login"},
	{"POST", "/api/v1/auth/logout", "/api/v1/auth/logout"},
	{"GET", "/api/v1/me", "/api/v1/me"},
	{"PUT", "/api/v1/me/presence", "/api/v1/me/presence"},
	{"PUT", "/api/v1/me/password", "/api/v1/me/password"},
	{"GET", "/api/v1/agents", "/api/v1/agents"},
	{"POST", "/api/v1/agents", "/api/v1/agents"},
	{"GET", "/api/v1/agents/{id}", "/api/v1/agents/{id}"},
	{"PATCH", "/api/v1/agents/{id}", "/api/v1/agents/{id}"},
	{"POST", "/api/v1/agents/{id}/password", "/api/v1/agents/{id}/password"},
	{"PUT", "/api/v1/agents/{id}/avatar", "/api/v1/agents/{id}/avatar"},
	{"DELETE", "/api/v1/agents/{id}/avatar", "/api/v1/agents/{id}/avatar"},
	{"GET", "/api/v1/groups", "/api/v1/groups"},
	{"POST", "/api/v1/groups", "/api/v1/groups"},
	{"GET", "/api/v1/groups/{id}", "/api/v1/groups/{id}"},
	{"PATCH", "/api/v1/groups/{id}", "/api/v1/groups/{id}"},
	{"DELETE", "/api/v1/groups/{id}", "/api/v1/groups/{id}"},
	{"GET", "/api/v1/departments", "/api/v1/departments"},
	{"POST", "/api/v1/departments", "/api/v1/departments"},
	{"GET", "/api/v1/departments/{id}", "/api/v1/departments/{id}"},
	{"PATCH", "/api/v1/departments/{id}", "/api/v1/departments/{id}"},
	{"DELETE", "/api/v1/departments/{id}", "/api/v1/departments/{id}"},
	{"PUT", "/api/v1/departments/{id}/avatar", "/api/v1/departments/{id}/avatar"},
	{"DELETE", "/api/v1/departments/{id}/avatar", "/api/v1/departments/{id}/avatar"},
	{"POST", "/api/v1/channels/{id}/inbound", "/api/v1/channels/{id}/inbound"},
	{"POST", "/api/v1/channels/{id}/typing", "/api/v1/channels/{id}/typing"},
	{"GET", "/api/v1/ws", "/api/v1/ws"},
	{"GET", "/api/v1/conversations", "/api/v1/conversations"},
	{"GET", "/api/v1/conversations/{id}", "/api/v1/conversations/{id}"},
	{"POST", "/api/v1/conversations/{id}/take", "/api/v1/conversations/{id}/take"},
	{"GET", "/api/v1/conversations/{id}/messages", "/api/v1/conversations/{id}/messages"},
	{"POST", "/api/v1/conversations/{id}/messages", "/api/v1/conversations/{id}/messages"},
	{"POST", "/api/v1/conversations/{id}/transfer", "/api/v1/conversations/{id}/transfer"},
	{"POST", "/api/v1/conversations/{id}/close", "/api/v1/conversations/{id}/close"},
	{"POST", "/api/v1/conversations/{id}/classic", "/api/v1/conversations/{id}/classic"},
	{"PUT", "/api/v1/conversations/{id}/status", "/api/v1/conversations/{id}/status"},
	{"POST", "/api/v1/conversations/{id}/read", "/api/v1/conversations/{id}/read"},
	{"POST", "/api/v1/conversations/{id}/typing", "/api/v1/conversations/{id}/typing"},
	{"POST", "/api/v1/conversations/{id}/unassign", "/api/v1/conversations/{id}/unassign"},
	{"GET", "/api/v1/conversations/{id}/client", "/api/v1/conversations/{id}/client"},
	{"PATCH", "/api/v1/conversations/{id}/client", "/api/v1/conversations/{id}/client"},
	{"GET", "/api/v1/conversations/{id}/previous", "/api/v1/conversations/{id}/previous"},
	{"GET", "/api/v1/messages/{id}/attachments/{index}", "/api/v1/messages/{id}/attachments/{index}"},
	{"POST", "/api/v1/messages/{id}/retry", "/api/v1/messages/{id}/retry"},
	{"GET", "/api/v1/channels", "/api/v1/channels"},
	{"POST", "/api/v1/channels", "/api/v1/channels"},
	{"GET", "/api/v1/platforms", "/api/v1/platforms"},
	{"GET", "/api/v1/channels/{id}", "/api/v1/channels/{id}"},
	{"PATCH", "/api/v1/channels/{id}", "/api/v1/channels/{id}"},
	{"DELETE", "/api/v1/channels/{id}", "/api/v1/channels/{id}"},
	{"POST", "/api/v1/channels/{id}/token", "/api/v1/channels/{id}/token"},
	{"GET", "/api/v1/statuses", "/api/v1/statuses"},
	{"POST", "/api/v1/statuses", "/api/v1/statuses"},
	{"PATCH", "/api/v1/statuses/{id}", "/api/v1/statuses/{id}"},
	{"DELETE", "/api/v1/statuses/{id}", "/api/v1/statuses/{id}"},
	{"GET", "/api/v1/templates", "/api/v1/templates"},
	{"POST", "/api/v1/templates", "/api/v1/templates"},
	{"PATCH", "/api/v1/templates/{id}", "/api/v1/templates/{id}"},
	{"DELETE", "/api/v1/templates/{id}", "/api/v1/templates/{id}"},
	{"GET", "/api/v1/scripts", "/api/v1/scripts"},
	{"POST", "/api/v1/scripts", "/api/v1/scripts"},
	{"PUT", "/api/v1/scripts/order", "/api/v1/scripts/order"},
	{"PATCH", "/api/v1/scripts/{id}", "/api/v1/scripts/{id}"},
	{"DELETE", "/api/v1/scripts/{id}", "/api/v1/scripts/{id}"},
	{"GET", "/api/v1/visitors", "/api/v1/visitors"},
	{"GET", "/api/v1/settings/omnichannel", "/api/v1/settings/omnichannel"},
	{"PUT", "/api/v1/settings/omnichannel", "/api/v1/settings/omnichannel"},
	{"GET", "/api/v1/dispatch", "/api/v1/dispatch"},
	{"PUT", "/api/v1/dispatch/{id}", "/api/v1/dispatch/{id}"},
	{"GET", "/api/v1/away-reasons", "/api/v1/away-reasons"},
	{"POST", "/api/v1/away-reasons", "/api/v1/away-reasons"},
	{"PATCH", "/api/v1/away-reasons/{id}", "/api/v1/away-reasons/{id}"},
	{"DELETE", "/api/v1/away-reasons/{id}", "/api/v1/away-reasons/{id}"},
	{"GET", "/api/v1/business-hours", "/api/v1/business-hours"},
	{"POST", "/api/v1/business-hours", "/api/v1/business-hours"},
	{"PUT", "/api/v1/business-hours/{id}", "/api/v1/business-hours/{id}"},
	{"DELETE", "/api/v1/business-hours/{id}", "/api/v1/business-hours/{id}"},
	{"GET", "/api/v1/sla-policies", "/api/v1/sla-policies"},
	{"POST", "/api/v1/sla-policies", "/api/v1/sla-policies"},
	{"PUT", "/api/v1/sla-policies/order", "/api/v1/sla-policies/order"},
	{"PUT", "/api/v1/sla-policies/{id}", "/api/v1/sla-policies/{id}"},
	{"DELETE", "/api/v1/sla-policies/{id}", "/api/v1/sla-policies/{id}"},
	{"GET", "/api/v1/management/chats", "/api/v1/management/chats"},
	{"GET", "/api/v1/management/agents", "/api/v1/management/agents"},
	{"GET", "/api/v1/stats/summary", "/api/v1/stats/summary"},
	{"GET", "/api/v1/stats/agents", "/api/v1/stats/agents"},
	{"GET", "/api/v1/stats/load", "/api/v1/stats/load"},
	{"GET", "/api/v1/stats/breaches", "/api/v1/stats/breaches"},
	{"GET", "/api/v1/custom-fields", "/api/v1/custom-fields"},
	{"POST", "/api/v1/custom-fields", "/api/v1/custom-fields"},
	{"PATCH", "/api/v1/custom-fields/{id}", "/api/v1/custom-fields/{id}"},
	{"DELETE", "/api/v1/custom-fields/{id}", "/api/v1/custom-fields/{id}"},
}

// openAPIDoc is the part of the served document the tests read.
type openAPIDoc struct {
	// Paths maps a path to its operations by lower-case method (and to
	// "parameters", which is no operation).
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

func fetchOpenAPI(t *testing.T, e *env) openAPIDoc {
	t.Helper()
	res := e.anonymous().call("GET", "/api/v1/openapi.json", nil)
	if res.status != http.StatusOK {
		t.Fatalf("openapi.json: %d", res.status)
	}
	var doc openAPIDoc
	res.decode(t, &doc)
	return doc
}

// documents reports whether the document lists status for method on the
// route (a chi pattern, translated through the routes table).
func (d openAPIDoc) documents(method, route string, status int) bool {
	documented := route
	for _, r := range routes {
		if r.route == route {
			documented = r.documented
		}
	}
	var op struct {
		Responses map[string]any `json:"responses"`
	}
	if json.Unmarshal(d.Paths[documented][strings.ToLower(method)], &op) != nil {
		return false
	}
	_, ok := op.Responses[strconv.Itoa(status)]
	return ok
}

func sqliteEngine(t *testing.T) storetest.Engine { return storetest.SQLite(t) }

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t, sqliteEngine(t))
	doc := fetchOpenAPI(t, e)

	listed := map[string]bool{}
	for _, r := range routes {
		listed[r.method+" "+r.route] = true
		if _, ok := doc.Paths[r.documented][strings.ToLower(r.method)]; !ok {
			t.Errorf("%s %s is not documented in openapi.json (as %s)", r.method, r.route, r.documented)
		}
	}
	registered := map[string]bool{}
	err := chi.Walk(e.app.Handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		registered[method+" "+route] = true
		if !listed[method+" "+route] {
			t.Errorf("the router serves %s %s, which the routes table (and so openapi.json) lacks", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range listed {
		if !registered[key] {
			t.Errorf("routes table lists %s, which the router does not serve", key)
		}
	}
	documentedPaths := map[string]bool{}
	for _, r := range routes {
		documentedPaths[r.method+" "+r.documented] = true
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			if !documentedPaths[strings.ToUpper(method)+" "+path] {
				t.Errorf("openapi.json documents %s %s, which no route serves", strings.ToUpper(method), path)
			}
		}
	}
}
