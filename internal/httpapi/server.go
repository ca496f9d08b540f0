// Package httpapi is Switchboard's HTTP surface: the JSON API under /api/v1,
// the workspace UI, public avatars, and health and metrics endpoints. Handlers
// only decode, call a service with the request's actor, and encode; the
// services decide what the actor may do.
package httpapi

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-hq/switchboard/internal/auth"
	"github.com/switchboard-hq/switchboard/internal/blob"
	"github.com/switchboard-hq/switchboard/internal/channel"
	"github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/dispatch"
	"github.com/switchboard-hq/switchboard/internal/filelink"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/outbox"
	"github.com/switchboard-hq/switchboard/internal/realtime"
	"github.com/switchboard-hq/switchboard/internal/settings"
	"github.com/switchboard-hq/switchboard/internal/sla"
	"github.com/switchboard-hq/switchboard/internal/stats"
	"github.com/switchboard-hq/switchboard/internal/supervision"
	"github.com/switchboard-hq/switchboard/internal/team"
	"github.com/switchboard-hq/switchboard/internal/templates"
	"github.com/switchboard-hq/switchboard/internal/websock"
	"github.com/switchboard-hq/switchboard/internal/widget"
)

// Health is what /readyz asks of the database.
type Health interface {
	Ping(ctx context.Context) error
	MigrationsCurrent(ctx context.Context) (bool, error)
}

// Deps are the services the HTTP surface calls.
type Deps struct {
	Auth          *auth.Service
	Team          *team.Service
	Conversations *conversation.Service
	Catalog       *conversation.Catalog
	Templates     *templates.Service
	Channels      *channel.Service
	Hub           *realtime.Hub
	Blobs         blob.Store
	Health        Health
	Registerer    prometheus.Registerer
	Gatherer      prometheus.Gatherer
	Log           *slog.Logger
	Web           fs.FS
	SecureCookies bool
	Version       string
	// The website chat: visitors, their pushes, their sockets, their limits.
	Visitors     *widget.Service
	Pusher       *widget.Pusher
	Sockets      *websock.Server
	WidgetLimits WidgetLimits
	// PublicURL is where visitors reach the server (the embed code's host).
	PublicURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client's address.
	TrustedProxies []netip.Prefix
	// Messengers: their webhooks, and the outbox worker woken by new replies.
	Receiver *messenger.Receiver
	Outbox   *outbox.Worker
	// Settings → Omnichannel and the dispatcher.
	Settings *settings.Service
	Dispatch *dispatch.Service
	// SLA serves business hours and SLA policies.
	SLA *sla.Service
	// Stats serves Management → Statistics.
	Stats *stats.Service
	// FileLinks checks the signed links of files published for platforms.
	FileLinks *filelink.Signer
	// Supervision answers Management → Active chats and Agents.
	Supervision *supervision.Service
}

// Server holds the handlers' dependencies.
type Server struct {
	auth          *auth.Service
	team          *team.Service
	conversations *conversation.Service
	catalog       *conversation.Catalog
	templates     *templates.Service
	channels      *channel.Service
	hub           *realtime.Hub
	blobs         blob.Store
	health        Health
	gatherer      prometheus.Gatherer
	log           *slog.Logger
	metrics       *httpMetrics
	workspace     *workspace
	secureCookies bool
	version       string
	visitors      *widget.Service
	pusher        *widget.Pusher
	sockets       *websock.Server
	limits        *widgetLimiter
	widget        widgetAssets
	publicURL     string
	proxies       []netip.Prefix
	receiver      *messenger.Receiver
	outbox        *outbox.Worker
	settings      *settings.Service
	dispatch      *dispatch.Service
	sla           *sla.Service
	stats         *stats.Service
	fileLinks     *filelink.Signer
	supervision   *supervision.Service
}

// New builds the router with every route of the HTTP surface.
func New(d Deps) (http.Handler, error) {
	ws, err := newWorkspace(d.Web)
	if err != nil {
		return nil, err
	}
	s := &Server{
		auth: d.Auth, team: d.Team, conversations: d.Conversations, catalog: d.Catalog, templates: d.Templates,
		channels: d.Channels, hub: d.Hub, blobs: d.Blobs, health: d.Health, gatherer: d.Gatherer,
		log: d.Log, metrics: newHTTPMetrics(d.Registerer), workspace: ws,
		secureCookies: d.SecureCookies, version: d.Version,
		visitors: d.Visitors, pusher: d.Pusher, sockets: d.Sockets, limits: newWidgetLimiter(d.WidgetLimits),
		widget: newWidgetAssets(), publicURL: d.PublicURL, proxies: d.TrustedProxies,
		receiver: d.Receiver, outbox: d.Outbox, settings: d.Settings, dispatch: d.Dispatch, sla: d.SLA, stats: d.Stats, fileLinks: d.FileLinks,
		supervision: d.Supervision,
	}
	return s.routes(), nil
}

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.observe, securityHeaders, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{errorDetail{Code: "not_found", Message: "no such route"}})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{errorDetail{Code: "method_not_allowed", Message: "method not allowed on this route"}})
	})

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}).ServeHTTP)
	r.Get("/avatars/{name}", s.avatar)
	r.Get("/", s.workspace.index)
	r.Get("/assets/*", s.workspace.asset)

	// The website chat: public files, and the visitor API, authenticated by
	// the visitor's bearer token and open to the channel's own sites (CORS).
	r.Get("/widget/loader.js", s.widgetLoader)
	r.Get("/widget/chat-{hash}.js", s.widgetChat)
	r.Get("/widget/preview/{id}", s.withID(s.widgetPreview))
	// Messaging platforms' webhooks, authenticated as each platform
	// specifies (signatures or secret tokens checked by the platform).
	r.Get("/hooks/{kind}/{id}", s.withID(s.hookHandshake))
	r.Post("/hooks/{kind}/{id}", s.withID(s.hook))
	r.Post("/hooks/{kind}/{id}/{secret}", s.withID(s.hook))
	r.Get("/files/{exp}/{sig}/*", s.fileLink)

	r.Route("/widget/{id}", func(r chi.Router) {
		r.Use(s.widgetChannel)
		r.Options("/*", func(http.ResponseWriter, *http.Request) {}) // answered by widgetChannel
		r.Post("/session", s.visitorSession)
		r.Group(func(r chi.Router) {
			r.Use(s.requireVisitor)
			r.Post("/page", s.visitorPage)
			r.Get("/messages", s.visitorMessages)
			r.Post("/messages", s.visitorSend)
			r.Post("/typing", s.visitorTyping)
			r.Post("/form", s.visitorForm)
			r.Get("/files/{message}/{index}", s.visitorFile)
			r.Get("/ws", s.visitorSocket)
		})
	})

	// Cookie-authenticated writes are refused when they come from another
	// origin (Sec-Fetch-Site / Origin checks), which replaces CSRF tokens.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, errorBody{errorDetail{Code: "cross_origin", Message: "cross-origin requests may not change anything"}})
	}))
	r.Route("/api/v1", func(r chi.Router) {
		// A channel's own endpoints: authenticated by the channel's API
		// token, not by a browser session, so no same-origin check applies.
		r.Post("/channels/{id}/inbound", s.withID(s.inbound))
		r.Post("/channels/{id}/typing", s.withID(s.inboundTyping))

		r.With(csrf.Handler).Get("/openapi.json", s.openAPI)
		r.With(csrf.Handler).Post("/auth/login", s.login)
		r.Group(func(r chi.Router) {
			r.Use(csrf.Handler, s.requireSession)
			r.Get("/ws", s.agentSocket)

			r.Get("/conversations", s.listConversations)
			r.Get("/conversations/{id}", s.withID(s.onConversation(s.conversations.Conversation)))
			r.Post("/conversations/{id}/take", s.withID(s.onConversation(s.conversations.Take)))
			r.Get("/conversations/{id}/messages", s.withID(s.listMessages))
			r.Post("/conversations/{id}/messages", s.withID(s.postMessage))
			r.Post("/conversations/{id}/transfer", s.withID(s.transferConversation))
			r.Post("/conversations/{id}/close", s.withID(s.onConversation(s.conversations.Close)))
			r.Post("/conversations/{id}/classic", s.withID(s.onConversation(s.conversations.CloseToClassic)))
			r.Put("/conversations/{id}/status", s.withID(s.setConversationStatus))
			r.Post("/conversations/{id}/read", s.withID(s.readConversation))
			r.Post("/conversations/{id}/typing", s.withID(s.agentTyping))
			r.Post("/conversations/{id}/unassign", s.withID(s.onConversation(s.conversations.Unassign)))
			r.Get("/conversations/{id}/client", s.withID(s.getClient))
			r.Patch("/conversations/{id}/client", s.withID(s.updateClient))
			r.Get("/conversations/{id}/previous", s.withID(s.previousRequests))
			r.Get("/messages/{id}/attachments/{index}", s.withID(s.attachment))
			r.Post("/messages/{id}/retry", s.withID(s.retryDelivery))

			r.Get("/channels", s.listChannels)
			r.Get("/platforms", s.listPlatforms)
			r.Post("/channels", s.createChannel)
			r.Get("/channels/{id}", s.withID(s.getChannel))
			r.Patch("/channels/{id}", s.withID(s.updateChannel))
			r.Delete("/channels/{id}", s.withID(s.removeChannel))
			r.Post("/channels/{id}/token", s.withID(s.rotateChannelToken))

			r.Get("/statuses", s.listStatuses)
			r.Post("/statuses", s.createStatus)
			r.Patch("/statuses/{id}", s.withID(s.updateStatus))
			r.Delete("/statuses/{id}", s.withID(s.deleteStatus))

			r.Get("/templates", s.listTemplates)
			r.Post("/templates", s.createTemplate)
			r.Patch("/templates/{id}", s.withID(s.updateTemplate))
			r.Delete("/templates/{id}", s.withID(s.deleteTemplate))

			r.Get("/scripts", s.listScripts)
			r.Post("/scripts", s.createScript)
			r.Put("/scripts/order", s.reorderScripts)
			r.Patch("/scripts/{id}", s.withID(s.updateScript))
			r.Delete("/scripts/{id}", s.withID(s.deleteScript))
			r.Get("/visitors", s.listVisitors)

			r.Get("/settings/omnichannel", s.getOmnichannelSettings)
			r.Put("/settings/omnichannel", s.putOmnichannelSettings)
			r.Get("/dispatch", s.listDispatchRules)
			r.Put("/dispatch/{id}", s.withID(s.putDispatchRule))
			r.Get("/away-reasons", s.listAwayReasons)
			r.Post("/away-reasons", s.createAwayReason)
			r.Patch("/away-reasons/{id}", s.withID(s.renameAwayReason))
			r.Delete("/away-reasons/{id}", s.withID(s.deleteAwayReason))
			r.Get("/business-hours", s.listBusinessHours)
			r.Post("/business-hours", s.createBusinessHours)
			r.Put("/business-hours/{id}", s.withID(s.putBusinessHours))
			r.Delete("/business-hours/{id}", s.withID(s.deleteBusinessHours))
			r.Get("/sla-policies", s.listSLAPolicies)
			r.Post("/sla-policies", s.createSLAPolicy)
			r.Put("/sla-policies/order", s.orderSLAPolicies)
			r.Put("/sla-policies/{id}", s.withID(s.putSLAPolicy))
			r.Delete("/sla-policies/{id}", s.withID(s.deleteSLAPolicy))

			// Management (omnichannel.management): the floor at a glance.
			r.Get("/management/chats", s.activeChats)
			r.Get("/management/agents", s.agentsAtWork)
			r.Get("/stats/summary", s.statsSummary)
			r.Get("/stats/agents", s.statsAgents)
			r.Get("/stats/load", s.statsLoad)
			r.Get("/stats/breaches", s.statsBreaches)

			r.Get("/custom-fields", s.listCustomFields)
			r.Post("/custom-fields", s.createCustomField)
			r.Patch("/custom-fields/{id}", s.withID(s.updateCustomField))
			r.Delete("/custom-fields/{id}", s.withID(s.deleteCustomField))

			r.Post("/auth/logout", s.logout)
			r.Get("/me", s.me)
			r.Put("/me/presence", s.setPresence)
			r.Put("/me/password", s.changePassword)

			r.Get("/agents", s.listAgents)
			r.Post("/agents", s.createAgent)
			r.Get("/agents/{id}", s.withID(s.getAgent))
			r.Patch("/agents/{id}", s.withID(s.updateAgent))
			r.Post("/agents/{id}/password", s.withID(s.resetPassword))
			r.Put("/agents/{id}/avatar", s.withID(s.setAgentAvatar))
			r.Delete("/agents/{id}/avatar", s.withID(s.removeAgentAvatar))

			r.Get("/groups", s.listGroups)
			r.Post("/groups", s.createGroup)
			r.Get("/groups/{id}", s.withID(s.getGroup))
			r.Patch("/groups/{id}", s.withID(s.updateGroup))
			r.Delete("/groups/{id}", s.withID(s.deleteGroup))

			r.Get("/departments", s.listDepartments)
			r.Post("/departments", s.createDepartment)
			r.Get("/departments/{id}", s.withID(s.getDepartment))
			r.Patch("/departments/{id}", s.withID(s.updateDepartment))
			r.Delete("/departments/{id}", s.withID(s.deleteDepartment))
			r.Put("/departments/{id}/avatar", s.withID(s.setDepartmentAvatar))
			r.Delete("/departments/{id}/avatar", s.withID(s.removeDepartmentAvatar))
		})
	})
	return r
}
