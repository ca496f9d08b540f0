// Package stats is Management → Statistics: what the team did over a
// period, read from the facts the write path keeps (requests with their
// clocks, recorded replies, transfers, presence periods). The metric
// definitions are docs/supervision.md's and docs/statistics.md's.
package stats

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/settings"
	"github.com/switchboard-hq/switchboard/internal/sla"
	"github.com/switchboard-hq/switchboard/internal/supervision"
)

// MaxDays bounds a custom period.
const MaxDays = 366

// Period is [From, To) in the team's time zone, whole days.
type Period struct {
	Name     string    `json:"name"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	TimeZone string    `json:"time_zone"`
	// FirstDay and LastDay are the dates it covers (YYYY-MM-DD, inclusive).
	FirstDay string `json:"first_day"`
	LastDay  string `json:"last_day"`
}

// Filter narrows every figure; zero means any.
type Filter struct {
	ChannelID    int64 `json:"channel_id,omitempty"`
	DepartmentID int64 `json:"department_id,omitempty"`
	GroupID      int64 `json:"group_id,omitempty"`
	AgentID      int64 `json:"agent_id,omitempty"`
}

// Query is what every view is asked for.
type Query struct {
	Period
	Filter
	Loc *time.Location `json:"-"`
}

// Input is a query as a user writes it: period today, yesterday, 7d, 30d
// or custom (with From and To dates, inclusive), and the filters' ids.
type Input struct {
	Period, From, To                  string
	Channel, Department, Group, Agent string
}

// ParseQuery reads an input in the team's time zone at now; failures name the field.
func ParseQuery(in Input, loc *time.Location, now time.Time) (Query, error) {
	q := Query{Loc: loc}
	ids := []struct {
		field, value string
		into         *int64
	}{
		{"channel_id", in.Channel, &q.ChannelID}, {"department_id", in.Department, &q.DepartmentID},
		{"group_id", in.Group, &q.GroupID}, {"agent_id", in.Agent, &q.AgentID},
	}
	for _, f := range ids {
		if f.value == "" {
			continue
		}
		n, err := strconv.ParseInt(f.value, 10, 64)
		if err != nil || n <= 0 {
			return q, errs.Invalid(f.field, "must be a positive id")
		}
		*f.into = n
	}
	local := now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	var first, last time.Time // dates, inclusive
	switch cmp.Or(in.Period, "7d") {
	case "today":
		first, last = today, today
	case "yesterday":
		first = today.AddDate(0, 0, -1)
		last = first
	case "7d":
		first, last = today.AddDate(0, 0, -6), today
	case "30d":
		first, last = today.AddDate(0, 0, -29), today
	case "custom":
		var err error
		if first, err = parseDay("from", in.From, loc); err != nil {
			return q, err
		}
		if last, err = parseDay("to", in.To, loc); err != nil {
			return q, err
		}
		if last.Before(first) {
			return q, errs.Invalid("to", "must not be before from")
		}
		if last.Sub(first) > (MaxDays-1)*24*time.Hour+time.Hour {
			return q, errs.Invalid("to", "a period is at most 366 days")
		}
	default:
		return q, errs.Invalid("period", "must be today, yesterday, 7d, 30d or custom")
	}
	q.Period = Period{Name: cmp.Or(in.Period, "7d"), From: first.UTC(), To: last.AddDate(0, 0, 1).UTC(), TimeZone: loc.String(),
		FirstDay: first.Format(time.DateOnly), LastDay: last.Format(time.DateOnly)}
	return q, nil
}

func parseDay(field, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, errs.Invalid(field, "is required for a custom period")
	}
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return d, errs.Invalid(field, "must be a date like 2026-11-25")
	}
	return d, nil
}

// Requests counts requests over the period.
type Requests struct {
	// New were created, Closed closed, Transferred handed to another agent
	// (each request once), Missed closed before any agent reply, Reopened
	// created within a day of the same client's previous request closing.
	New         int `json:"new"`
	Closed      int `json:"closed"`
	Transferred int `json:"transferred"`
	Missed      int `json:"missed"`
	Reopened    int `json:"reopened"`
}

// Figure summarizes durations, in seconds; nil without any.
type Figure struct {
	Count   int      `json:"count"`
	Average *float64 `json:"average"`
	Median  *float64 `json:"median"`
	P90     *float64 `json:"p90"`
}

// Times is one duration in calendar and in business time.
type Times struct {
	Calendar Figure `json:"calendar"`
	Business Figure `json:"business"`
}

// Durations are the raw values (ms) a Times is made of.
type Durations struct{ Calendar, Business []int64 }

// Compliance counts requests by the state of one SLA target.
type Compliance struct {
	Met        int `json:"met"`
	Breached   int `json:"breached"`
	InProgress int `json:"in_progress"`
}

// Summary is the period at a glance.
type Summary struct {
	Period   Period                    `json:"period"`
	Requests Requests                  `json:"requests"`
	Times    map[string]Times          `json:"times"`
	SLA      map[sla.Target]Compliance `json:"sla"`
}

// The durations of Summary.Times.
const (
	FirstResponse = "first_response"
	Reply         = "reply"
	Resolution    = "resolution"
)

// AgentRow is one agent's line.
type AgentRow struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Handled is the requests the agent answered after getting them (their
	// first replies); Replies all their replies.
	Handled int `json:"handled"`
	Replies int `json:"replies"`
	// Averages in seconds (nil without any).
	FirstResponse *float64 `json:"first_response_seconds"`
	Reply         *float64 `json:"reply_seconds"`
	// Time in each operator status within the period, in seconds.
	Online  int64 `json:"online_seconds"`
	Away    int64 `json:"away_seconds"`
	Offline int64 `json:"offline_seconds"`
}

// AgentSums are an agent's raw figures.
type AgentSums struct {
	ID   int64
	Name string
	// Sums are the agent's replies, as Management → Agents sums them.
	supervision.Sums
	Online, Away, Offline int64 // ms
}

// Load is when and where requests came.
type Load struct {
	Period Period `json:"period"`
	// Heatmap counts new requests by weekday (0 = Monday) and hour, in the team's time zone.
	Heatmap [7][24]int `json:"heatmap"`
	Days    []Day      `json:"days"`
	// Channels is the per-channel breakdown, busiest first.
	Channels []ChannelRow `json:"channels"`
}

// Day is one date's requests.
type Day struct {
	Date   string `json:"date"`
	New    int    `json:"new"`
	Closed int    `json:"closed"`
}

// ChannelRow is one channel's requests.
type ChannelRow struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	New           int      `json:"new"`
	Closed        int      `json:"closed"`
	Missed        int      `json:"missed"`
	FirstResponse *float64 `json:"first_response_seconds"`
}

// Bucket counts a channel's requests in a quarter hour (unix ms of its
// start): fine enough for every time zone's offset. Missed counts, of
// closed requests, those closed unanswered.
type Bucket struct {
	Start     int64
	ChannelID int64
	N, Missed int
}

// QuarterMS is the bucket width.
const QuarterMS = 15 * 60 * 1000

// Breach is a request with a breached target.
type Breach struct {
	ID          int64        `json:"id"`
	ClientName  string       `json:"client_name"`
	ChannelKind string       `json:"channel_kind"`
	Subject     string       `json:"subject"`
	Assignee    string       `json:"assignee_name"`
	CreatedAt   time.Time    `json:"created_at"`
	ClosedAt    *time.Time   `json:"closed_at"`
	Policy      string       `json:"policy"`
	Targets     []sla.Target `json:"targets"`
}

// Store is what statistics read.
type Store interface {
	StatsSummary(ctx context.Context, q Query) (Requests, map[sla.Target]Compliance, error)
	StatsDurations(ctx context.Context, q Query, what string) (Durations, error)
	StatsAgents(ctx context.Context, q Query) ([]AgentSums, error)
	StatsArrivals(ctx context.Context, q Query, closed bool) ([]Bucket, error)
	// StatsChannels lists every channel with its average first response in the period.
	StatsChannels(ctx context.Context, q Query) ([]ChannelRow, error)
	StatsBreaches(ctx context.Context, q Query, before int64, limit int) ([]Breach, error)
}

// Settings gives the team's time zone.
type Settings interface {
	Omnichannel(ctx context.Context) (settings.Omnichannel, error)
}

// figure summarizes ms values: average, and median and 90th percentile by
// the nearest-rank method, in seconds.
func figure(ms []int64) Figure {
	f := Figure{Count: len(ms)}
	if len(ms) == 0 {
		return f
	}
	slices.Sort(ms)
	var sum int64
	for _, v := range ms {
		sum += v
	}
	sec := func(v float64) *float64 { s := v / 1000; return &s }
	rank := func(p float64) int64 {
		i := int(math.Ceil(p*float64(len(ms)))) - 1
		return ms[max(0, min(i, len(ms)-1))]
	}
	f.Average = sec(float64(sum) / float64(len(ms)))
	f.Median, f.P90 = sec(float64(rank(0.5))), sec(float64(rank(0.9)))
	return f
}

// times summarizes durations.
func times(d Durations) Times {
	return Times{Calendar: figure(d.Calendar), Business: figure(d.Business)}
}
