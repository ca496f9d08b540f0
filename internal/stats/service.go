package stats

import (
	"context"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/sla"
)

// Service answers Management → Statistics (right omnichannel.management).
type Service struct {
	store    Store
	settings Settings
	// Now is the clock "today" is read from; tests may replace it.
	Now func() time.Time
}

// NewService returns the statistics.
func NewService(store Store, settings Settings) *Service {
	return &Service{store: store, settings: settings, Now: time.Now}
}

// Query checks the actor's right and reads their input in the team's time zone.
func (s *Service) Query(ctx context.Context, actor access.Actor, in Input) (Query, error) {
	if err := actor.Require(access.Management); err != nil {
		return Query{}, err
	}
	o, err := s.settings.Omnichannel(ctx)
	if err != nil {
		return Query{}, err
	}
	loc, err := time.LoadLocation(o.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return ParseQuery(in, loc, s.Now())
}

// Summary counts the requests, summarizes the three durations and the SLA
// compliance; its queries run side by side.
func (s *Service) Summary(ctx context.Context, q Query) (Summary, error) {
	out := Summary{Period: q.Period, Times: map[string]Times{}}
	var durations [3]Durations
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { out.Requests, out.SLA, err = s.store.StatsSummary(ctx, q); return })
	kinds := []string{FirstResponse, Reply, Resolution}
	for i, k := range kinds {
		g.Go(func() (err error) { durations[i], err = s.store.StatsDurations(ctx, q, k); return })
	}
	if err := g.Wait(); err != nil {
		return out, err
	}
	for i, k := range kinds {
		out.Times[k] = times(durations[i])
	}
	for _, t := range sla.Targets {
		if _, ok := out.SLA[t]; !ok {
			out.SLA[t] = Compliance{}
		}
	}
	return out, nil
}

// Agents is the per-agent table.
func (s *Service) Agents(ctx context.Context, q Query) ([]AgentRow, error) {
	sums, err := s.store.StatsAgents(ctx, q)
	out := make([]AgentRow, 0, len(sums))
	for _, a := range sums {
		day := a.Today()
		out = append(out, AgentRow{ID: a.ID, Name: a.Name, Handled: int(a.FirstReplies), Replies: day.Replies,
			FirstResponse: day.FirstReplySeconds, Reply: day.ReplySeconds,
			Online: a.Online / 1000, Away: a.Away / 1000, Offline: a.Offline / 1000})
	}
	return out, err
}

// Load is the heat map, the requests per day and the per-channel breakdown.
func (s *Service) Load(ctx context.Context, q Query) (Load, error) {
	out := Load{Period: q.Period, Days: []Day{}}
	var created, closed []Bucket
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { created, err = s.store.StatsArrivals(gctx, q, false); return })
	g.Go(func() (err error) { closed, err = s.store.StatsArrivals(gctx, q, true); return })
	g.Go(func() (err error) { out.Channels, err = s.store.StatsChannels(gctx, q); return })
	if err := g.Wait(); err != nil {
		return out, err
	}
	index := map[string]int{}
	for d := q.From.In(q.Loc); d.Before(q.To); d = d.AddDate(0, 0, 1) {
		index[d.Format(time.DateOnly)] = len(out.Days)
		out.Days = append(out.Days, Day{Date: d.Format(time.DateOnly)})
	}
	channels := map[int64]*ChannelRow{}
	for i := range out.Channels {
		channels[out.Channels[i].ID] = &out.Channels[i]
	}
	for _, b := range created {
		t := time.UnixMilli(b.Start).In(q.Loc)
		out.Heatmap[(int(t.Weekday())+6)%7][t.Hour()] += b.N
		if i, ok := index[t.Format(time.DateOnly)]; ok {
			out.Days[i].New += b.N
		}
		if c := channels[b.ChannelID]; c != nil {
			c.New += b.N
		}
	}
	for _, b := range closed {
		if i, ok := index[time.UnixMilli(b.Start).In(q.Loc).Format(time.DateOnly)]; ok {
			out.Days[i].Closed += b.N
		}
		if c := channels[b.ChannelID]; c != nil {
			c.Closed += b.N
			c.Missed += b.Missed
		}
	}
	// The channels with something to show, busiest first.
	out.Channels = slices.DeleteFunc(out.Channels, func(c ChannelRow) bool {
		return c.New+c.Closed == 0 && c.FirstResponse == nil && c.ID != q.ChannelID
	})
	slices.SortStableFunc(out.Channels, func(a, b ChannelRow) int { return b.New - a.New })
	return out, nil
}

// BreachPage is how many breached requests a page lists.
const BreachPage = 50

// Breaches lists the requests created in the period with a breached
// target, newest first, before the request id before (0 = from the newest).
func (s *Service) Breaches(ctx context.Context, q Query, before int64, limit int) ([]Breach, error) {
	list, err := s.store.StatsBreaches(ctx, q, before, limit)
	if list == nil {
		list = []Breach{}
	}
	return list, err
}
