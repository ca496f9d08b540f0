// Package app is the one place where Switchboard is put together: it opens the
// database, runs migrations, builds the services and the HTTP surface, and
// runs them until the context ends.
package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchboard-hq/switchboard/internal/auth"
	"github.com/switchboard-hq/switchboard/internal/blob"
	"github.com/switchboard-hq/switchboard/internal/channel"
	"github.com/switchboard-hq/switchboard/internal/config"
	"github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/dispatch"
	"github.com/switchboard-hq/switchboard/internal/filelink"
	"github.com/switchboard-hq/switchboard/internal/geoip"
	"github.com/switchboard-hq/switchboard/internal/httpapi"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/instagram"
	fbmessenger "github.com/switchboard-hq/switchboard/internal/messenger/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/ok"
	"github.com/switchboard-hq/switchboard/internal/messenger/telegram"
	"github.com/switchboard-hq/switchboard/internal/messenger/viber"
	"github.com/switchboard-hq/switchboard/internal/messenger/vk"
	"github.com/switchboard-hq/switchboard/internal/messenger/whatsapp"
	"github.com/switchboard-hq/switchboard/internal/outbox"
	"github.com/switchboard-hq/switchboard/internal/realtime"
	"github.com/switchboard-hq/switchboard/internal/settings"
	"github.com/switchboard-hq/switchboard/internal/sla"
	"github.com/switchboard-hq/switchboard/internal/stats"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/supervision"
	"github.com/switchboard-hq/switchboard/internal/team"
	"github.com/switchboard-hq/switchboard/internal/templates"
	"github.com/switchboard-hq/switchboard/internal/websock"
	"github.com/switchboard-hq/switchboard/internal/widget"
	"github.com/switchboard-hq/switchboard/web"
)

// App is a running Switchboard.
type App struct {
	cfg           config.Config
	log           *slog.Logger
	DB            *store.DB
	blobs         *blob.Disk
	Team          *team.Service
	Auth          *auth.Service
	Conversations *conversation.Service
	Channels      *channel.Service
	Templates     *templates.Service
	Hub           *realtime.Hub
	Visitors      *widget.Service
	pusher        *widget.Pusher
	sockets       *websock.Server
	geo           *geoip.DB
	outbox        *outbox.Worker
	dispatcher    *dispatch.Service
	slaService    *sla.Service
	Handler       http.Handler
	wg            sync.WaitGroup
}

// Open connects to the database and applies pending migrations; it is what
// every command that touches data starts with.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.Database(), store.Options{SQLiteSynchronous: cfg.SQLiteSynchronous})
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("applied database migrations", slog.Int("count", n), slog.String("engine", db.Engine()))
	}
	return db, nil
}

// New builds the whole application. On an empty database it creates the first
// administrator and tells out how to log in.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, version string, out io.Writer) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db, err := Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a, err := build(ctx, cfg, log, db, version)
	if err != nil {
		db.Close()
		return nil, err
	}
	admin, password, err := a.Team.Bootstrap(ctx, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("app: create the first administrator: %w", err)
	}
	if admin.ID != 0 {
		fmt.Fprintf(out, "Created the administrator %s.\n", admin.Email)
		if password != "" {
			fmt.Fprintf(out, "Its one-time password is: %s\n(It is not stored anywhere readable; change it after logging in.)\n", password)
		}
	}
	return a, nil
}

func build(ctx context.Context, cfg config.Config, log *slog.Logger, db *store.DB, version string) (*App, error) {
	blobs, err := blob.OpenDisk(filepath.Join(cfg.DataDir, "files"))
	if err != nil {
		return nil, err
	}
	passwords := auth.NewPasswords(runtime.NumCPU())
	authService := auth.NewService(db, passwords, auth.Config{Lifetime: cfg.SessionLifetime, IdleTimeout: cfg.SessionIdle})
	teamService := team.NewService(db, passwords, blobs)
	conversations := conversation.NewService(db, blobs)
	// Platforms' APIs answer slowly at worst; a send or a fetch never waits
	// longer than this.
	platformClient := &http.Client{Timeout: 30 * time.Second}
	// Files published as links (for Viber) are signed with a key every
	// instance shares.
	linkKey, err := db.EnsureSetting(ctx, "file_link_key", rand.Text()+rand.Text())
	if err != nil {
		blobs.Close()
		return nil, err
	}
	fileLinks := filelink.New([]byte(linkKey), cfg.PublicURL)
	publish := func(_ context.Context, f messenger.File) (string, error) {
		if !strings.HasPrefix(cfg.PublicURL, "https://") || f.Blob == "" {
			return "", &messenger.SendError{Permanent: true,
				Reason: "Viber takes files only as links: Switchboard publishes them when SWITCHBOARD_PUBLIC_URL is an https:// address"}
		}
		return fileLinks.Link(f.Blob, f.ContentType, f.Filename, time.Now(), 24*time.Hour), nil
	}
	platforms := messenger.NewRegistry(
		telegram.New(cfg.TelegramAPIURL, platformClient),
		whatsapp.New(cfg.WhatsAppAPIURL, platformClient),
		fbmessenger.New(cfg.MessengerAPIURL, platformClient),
		instagram.New(cfg.InstagramAPIURL, platformClient),
		viber.New(cfg.ViberAPIURL, platformClient).WithFileLinks(publish),
		vk.New(cfg.VKAPIURL, platformClient),
		ok.New(cfg.OKAPIURL, platformClient),
	)
	channels := channel.NewService(db, platforms)
	replies := templates.NewService(db)
	hub, err := realtime.NewHub(ctx, db, log)
	if err != nil {
		blobs.Close()
		return nil, err
	}
	db.OnCommit = hub.Notify
	proxies, err := cfg.Proxies()
	if err != nil {
		blobs.Close()
		return nil, err
	}
	var countries widget.Countries
	var geo *geoip.DB
	if cfg.GeoIPDatabase != "" {
		if geo, err = geoip.Open(cfg.GeoIPDatabase); err != nil {
			blobs.Close()
			return nil, err
		}
		countries = geo
	}
	omni := settings.NewService(db)
	conversations.UsePolicy(func(ctx context.Context) (conversation.Policy, error) {
		o, err := omni.Omnichannel(ctx)
		return conversation.Policy{MergeReplies: o.MergeReplies, ViewChannels: o.ViewChannels, ViewStatuses: o.ViewStatuses}, err
	})
	dispatcher := dispatch.NewService(db, omni, hub, log)
	teamService.GuardOffline(dispatcher.MayGoOffline)
	slaService := sla.NewService(db, log)
	visitors := widget.NewService(db, conversations, countries)
	visitors.UseTeamDepartmentAvatar(func(ctx context.Context) bool {
		o, err := omni.Omnichannel(ctx)
		return err == nil && o.DepartmentAvatar
	})
	sender := outbox.New(db, blobs, platforms, log, outbox.Options{Lease: cfg.OutboxLease})
	pusher := widget.NewPusher(visitors, hub, log)
	sockets, err := websock.NewServer(websock.Options{OnClose: httpapi.VisitorSocketClosed, Log: log})
	if err != nil {
		blobs.Close()
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for name, pool := range db.Pools() {
		reg.MustRegister(collectors.NewDBStatsCollector(pool, name))
	}
	handler, err := httpapi.New(httpapi.Deps{
		Auth: authService, Team: teamService, Conversations: conversations, Catalog: conversation.NewCatalog(db),
		Templates: replies, Channels: channels, Hub: hub, Blobs: blobs, Health: db,
		Registerer: reg, Gatherer: reg, Log: log, Web: web.FS,
		SecureCookies: cfg.SecureCookies(), Version: version,
		Visitors: visitors, Pusher: pusher, Sockets: sockets, PublicURL: cfg.PublicURL, TrustedProxies: proxies,
		Receiver: messenger.NewReceiver(platforms, db, conversations, log), Outbox: sender,
		Settings: omni, Dispatch: dispatcher, SLA: slaService, Stats: stats.NewService(db, omni), FileLinks: fileLinks, Supervision: supervision.NewService(db),
		WidgetLimits: httpapi.WidgetLimits{PerIP: cmp.Or(cfg.WidgetRatePerIP, httpapi.DefaultWidgetLimits.PerIP), PerVisitor: httpapi.DefaultWidgetLimits.PerVisitor},
	})
	if err != nil {
		blobs.Close()
		return nil, err
	}
	return &App{cfg: cfg, log: log, DB: db, blobs: blobs, Team: teamService, Auth: authService,
		Conversations: conversations, Channels: channels, Templates: replies, Hub: hub, Handler: handler,
		Visitors: visitors, pusher: pusher, sockets: sockets, geo: geo, outbox: sender, dispatcher: dispatcher, slaService: slaService}, nil
}

// Run serves HTTP on the configured address until ctx ends, then shuts down
// gracefully.
func (a *App) Run(ctx context.Context, out io.Writer) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("app: listen on %s: %w", a.cfg.Addr, err)
	}
	return a.Serve(ctx, ln, out)
}

// Serve serves HTTP on ln until ctx ends.
func (a *App) Serve(ctx context.Context, ln net.Listener, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{
		// Requests (websockets above all) end with the server.
		BaseContext:       func(net.Listener) context.Context { return ctx },
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.Start(ctx)

	url := "http://" + ln.Addr().String()
	if a.cfg.PublicURL != "" {
		url = a.cfg.PublicURL
	}
	fmt.Fprintf(out, "Switchboard is running on %s (database: %s)\nOpen %s in a browser.\n", ln.Addr(), a.describeDatabase(), url)

	if a.cfg.DebugAddr != "" {
		debug, err := a.serveProfiles(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Profiles (pprof) on http://%s/debug/pprof/\n", debug)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	err := srv.Shutdown(shutdown)
	a.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// serveProfiles serves net/http/pprof on the debug address until ctx ends.
// It is a separate listener so that profiles are never exposed with the API.
func (a *App) serveProfiles(ctx context.Context) (net.Addr, error) {
	ln, err := net.Listen("tcp", a.cfg.DebugAddr)
	if err != nil {
		return nil, fmt.Errorf("app: listen for profiles on %s: %w", a.cfg.DebugAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.wg.Go(func() { _ = srv.Serve(ln) })
	a.wg.Go(func() {
		<-ctx.Done()
		_ = srv.Close()
	})
	return ln.Addr(), nil
}

func (a *App) describeDatabase() string {
	if a.DB.Engine() == "postgres" {
		return "PostgreSQL"
	}
	return "SQLite " + a.cfg.Database() + ", files in " + filepath.Join(a.cfg.DataDir, "files")
}

// Start runs the background work until ctx ends: the real-time hub, its
// wake-ups from other instances on PostgreSQL, and the session sweeper. Serve
// calls it; tests that mount Handler themselves call it too.
func (a *App) Start(ctx context.Context) {
	a.wg.Go(func() { a.Hub.Run(ctx) })
	if channel := a.DB.NotifyChannel(); channel != "" {
		a.wg.Go(func() { realtime.ListenPostgres(ctx, a.cfg.Database(), channel, a.Hub, a.log) })
	}
	a.wg.Go(func() { a.sweepSessions(ctx) })
	a.wg.Go(func() { a.pusher.Run(ctx) })
	a.wg.Go(func() { a.outbox.Run(ctx) })
	a.wg.Go(func() { a.dispatcher.Run(ctx) })
	a.wg.Go(func() { a.slaService.Run(ctx) })
	a.wg.Go(func() {
		// Visitor sockets left the HTTP server when they were upgraded.
		<-ctx.Done()
		_ = a.sockets.Close()
	})
}

// Wait waits for the background work started by Start to end.
func (a *App) Wait() { a.wg.Wait() }

// sweepSessions deletes expired sessions every hour.
func (a *App) sweepSessions(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := a.Auth.Sweep(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("sweeping expired sessions failed", slog.Any("error", err))
		} else if n > 0 {
			a.log.Debug("swept expired sessions", slog.Int64("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close releases the database and files.
func (a *App) Close() error {
	err := errors.Join(a.blobs.Close(), a.DB.Close())
	if a.geo != nil {
		err = errors.Join(err, a.geo.Close())
	}
	return err
}
