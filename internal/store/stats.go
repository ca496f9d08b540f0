package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/sla"
	"github.com/switchboard-hq/switchboard/internal/stats"
	"github.com/switchboard-hq/switchboard/internal/supervision"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// The statistics (docs/statistics.md) read requests by conversations_created
// and conversations_closed, durations by replies_first and replies_answer,
// each agent's replies by replies_agent, transfers by transfers_at and
// breached requests by conversations_sla_breached: each an index range over
// the period that covers what it reads, filtered in the scan.

// statsWhere is the filter of q on a table aliased a, whose agent column is
// agent, with the time column col in the period.
func statsWhere(q stats.Query, a, col, agent string) (string, []any) {
	where := []string{a + `.` + col + ` >= ?`, a + `.` + col + ` < ?`}
	args := []any{millis(q.From), millis(q.To)}
	for _, f := range []struct {
		col string
		id  int64
	}{{a + `.channel_id`, q.ChannelID}, {a + `.department_id`, q.DepartmentID}, {a + `.group_id`, q.GroupID}, {agent, q.AgentID}} {
		if f.id != 0 {
			where, args = append(where, f.col+` = ?`), append(args, f.id)
		}
	}
	return strings.Join(where, ` AND `), args
}

// StatsSummary counts the period's requests and their SLA compliance, in
// one scan of the new requests (conversations_created), one of the closed
// ones and one of the transfers.
func (db *DB) StatsSummary(ctx context.Context, q stats.Query) (stats.Requests, map[sla.Target]stats.Compliance, error) {
	var out stats.Requests
	created, createdArgs := statsWhere(q, "c", "created_at", "c.assignee_id")
	closed, closedArgs := statsWhere(q, "c", "closed_at", "c.assignee_id")
	moved, movedArgs := statsWhere(q, "t", "at", "t.from_agent_id")
	sum := func(cond string) string { return `COALESCE(SUM(CASE WHEN ` + cond + ` THEN 1 ELSE 0 END), 0)` }
	var f, n, r stats.Compliance
	// A request closed unanswered before its first response fell due met it:
	// nothing was left waiting.
	err := db.reader().queryRow(ctx, `SELECT COUNT(*), `+strings.Join([]string{
		sum(`c.reopened`),
		sum(`c.sla_measured & 1 <> 0 AND c.sla_breached & 1 = 0 AND (c.first_reply_at IS NOT NULL OR c.closed_at IS NOT NULL)`),
		sum(`c.sla_measured & 1 <> 0 AND c.sla_breached & 1 <> 0`),
		sum(`c.sla_measured & 1 <> 0 AND c.sla_breached & 1 = 0 AND c.first_reply_at IS NULL AND c.closed_at IS NULL`),
		sum(`c.sla_measured & 2 <> 0 AND c.sla_next_breaches = 0 AND c.sla_next_due IS NULL AND c.sla_next_met > 0`),
		sum(`c.sla_measured & 2 <> 0 AND c.sla_next_breaches > 0`),
		sum(`c.sla_measured & 2 <> 0 AND c.sla_next_breaches = 0 AND c.sla_next_due IS NOT NULL`),
		sum(`c.sla_measured & 4 <> 0 AND c.sla_breached & 4 = 0 AND c.closed_at IS NOT NULL`),
		sum(`c.sla_measured & 4 <> 0 AND c.sla_breached & 4 <> 0`),
		sum(`c.sla_measured & 4 <> 0 AND c.sla_breached & 4 = 0 AND c.closed_at IS NULL`),
	}, `, `)+`,
		(SELECT COUNT(*) FROM conversations c WHERE `+closed+`),
		(SELECT COUNT(*) FROM conversations c WHERE `+closed+` AND c.first_reply_at IS NULL),
		(SELECT COUNT(DISTINCT t.conversation_id) FROM transfers t WHERE `+moved+`)
		FROM conversations c WHERE `+created, append(append(append(closedArgs, closedArgs...), movedArgs...), createdArgs...)...).
		Scan(&out.New, &out.Reopened, &f.Met, &f.Breached, &f.InProgress, &n.Met, &n.Breached, &n.InProgress, &r.Met, &r.Breached, &r.InProgress,
			&out.Closed, &out.Missed, &out.Transferred)
	return out, map[sla.Target]stats.Compliance{sla.FirstResponse: f, sla.NextResponse: n, sla.Resolution: r}, wrap(err, "count requests")
}

// StatsDurations reads the period's durations of one kind, in ms: first
// responses and replies by when they were written, resolutions by close.
func (db *DB) StatsDurations(ctx context.Context, q stats.Query, what string) (stats.Durations, error) {
	var calendar, business, from, where string
	var args []any
	switch what {
	case stats.FirstResponse, stats.Reply:
		col := "first"
		if what == stats.Reply {
			col = "answer"
		}
		where, args = statsWhere(q, "r", "sent_at", "r.agent_id")
		calendar, business, from = `r.`+col+`_ms`, `r.`+col+`_business_ms`, `replies r`
		where += ` AND r.` + col + `_ms IS NOT NULL`
	case stats.Resolution:
		where, args = statsWhere(q, "c", "closed_at", "c.assignee_id")
		calendar, business, from = `c.closed_at - c.created_at`, `COALESCE(c.resolution_business_ms, c.closed_at - c.created_at)`, `conversations c`
	default:
		return stats.Durations{}, fmt.Errorf("store: no durations of %q", what)
	}
	var cal, bus string
	err := db.reader().queryRow(ctx, `SELECT `+db.dialect.joinInts(calendar)+`, `+db.dialect.joinInts(business)+` FROM `+from+` WHERE `+where, args...).Scan(&cal, &bus)
	if err != nil {
		return stats.Durations{}, wrap(err, "%s times", what)
	}
	var d stats.Durations
	if d.Calendar, err = parseInts(cal); err == nil {
		d.Business, err = parseInts(bus)
	}
	return d, wrap(err, "%s times", what)
}

// parseInts reads joinInts' answer.
func parseInts(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	out := make([]int64, 0, strings.Count(s, ",")+1)
	for len(s) > 0 {
		field, rest, _ := strings.Cut(s, ",")
		v, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return nil, err
		}
		out, s = append(out, v), rest
	}
	return out, nil
}

// StatsAgents sums each agent's replies and presence periods; every active
// agent of the module is listed, or only the filtered one.
func (db *DB) StatsAgents(ctx context.Context, q stats.Query) ([]stats.AgentSums, error) {
	r := db.reader()
	rows, err := r.query(ctx, `SELECT a.id, a.name FROM agents a WHERE a.active = ? AND (a.id = ? OR ? = 0)
		AND (a.is_admin = ? OR EXISTS (SELECT 1 FROM group_members gm JOIN agent_groups g ON g.id = gm.group_id
			WHERE gm.agent_id = a.id AND (' ' || g.rights || ' ') LIKE '% omnichannel %'))
		ORDER BY a.name, a.id`, true, q.AgentID, q.AgentID, true)
	list, err := collect(rows, err, func(row scanner) (stats.AgentSums, error) {
		var a stats.AgentSums
		return a, row.Scan(&a.ID, &a.Name)
	})
	if err != nil {
		return nil, wrap(err, "agents")
	}
	byID := map[int64]*stats.AgentSums{}
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	if len(list) == 0 {
		return list, nil
	}
	// One range of replies_agent per agent, read in agent order.
	where, args := statsWhere(q, "r", "sent_at", "r.agent_id")
	ids := make([]any, len(list))
	for i, a := range list {
		ids[i] = a.ID
	}
	sums, err := r.replySums(ctx, replySumsQuery(len(ids), where), append(ids, args...)...)
	if err != nil {
		return nil, wrap(err, "replies of agents")
	}
	for id, m := range sums {
		if a := byID[id]; a != nil {
			a.Sums = m
		}
	}
	// Presence periods overlapping the period, cut to it (and to now).
	from, to := millis(q.From), min(millis(q.To), millis(db.Now()))
	rows, err = r.query(ctx, `SELECT agent_id, presence, started_at, ended_at FROM presence_log
		WHERE (ended_at IS NULL OR ended_at > ?) AND started_at < ?`, from, to)
	_, err = collect(rows, err, func(row scanner) (int, error) {
		var id, start int64
		var p team.Presence
		var end sql.NullInt64
		if err := row.Scan(&id, &p, &start, &end); err != nil {
			return 0, err
		}
		a := byID[id]
		if a == nil {
			return 0, nil
		}
		stop := to
		if end.Valid {
			stop = min(end.Int64, to)
		}
		span := max(0, stop-max(start, from))
		switch p {
		case team.Online:
			a.Online += span
		case team.Away:
			a.Away += span
		default:
			a.Offline += span
		}
		return 0, nil
	})
	return list, wrap(err, "presence of agents")
}

// StatsArrivals counts the period's new (or closed, with the missed among
// them) requests per channel and quarter hour.
func (db *DB) StatsArrivals(ctx context.Context, q stats.Query, closed bool) ([]stats.Bucket, error) {
	col, missed := "created_at", "0"
	if closed {
		col, missed = "closed_at", "CAST(SUM(CASE WHEN c.first_reply_at IS NULL THEN 1 ELSE 0 END) AS BIGINT)"
	}
	where, args := statsWhere(q, "c", col, "c.assignee_id")
	rows, err := db.reader().query(ctx, fmt.Sprintf(`SELECT c.%s / %d, c.channel_id, COUNT(*), %s FROM conversations c WHERE %s
		GROUP BY c.%[1]s / %[2]d, c.channel_id`, col, stats.QuarterMS, missed, where), args...)
	out, err := collect(rows, err, func(row scanner) (stats.Bucket, error) {
		var b stats.Bucket
		err := row.Scan(&b.Start, &b.ChannelID, &b.N, &b.Missed)
		b.Start *= stats.QuarterMS
		return b, err
	})
	return out, wrap(err, "requests per quarter hour")
}

// StatsChannels lists every channel with the average first response of
// the period's first replies there.
func (db *DB) StatsChannels(ctx context.Context, q stats.Query) ([]stats.ChannelRow, error) {
	r := db.reader()
	rows, err := r.query(ctx, `SELECT id, name, kind FROM channels ORDER BY id`)
	list, err := collect(rows, err, func(row scanner) (stats.ChannelRow, error) {
		var c stats.ChannelRow
		return c, row.Scan(&c.ID, &c.Name, &c.Kind)
	})
	if err != nil {
		return nil, wrap(err, "channels")
	}
	byID := map[int64]*stats.ChannelRow{}
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	where, args := statsWhere(q, "r", "sent_at", "r.agent_id")
	rows, err = r.query(ctx, `SELECT r.channel_id, COUNT(*), CAST(SUM(r.first_ms) AS BIGINT) FROM replies r
		WHERE `+where+` AND r.first_ms IS NOT NULL GROUP BY r.channel_id`, args...)
	_, err = collect(rows, err, func(row scanner) (int, error) {
		var id, sum int64
		var n int
		if err := row.Scan(&id, &n, &sum); err != nil {
			return 0, err
		}
		if c := byID[id]; c != nil {
			c.FirstResponse = supervision.Average(sum, int64(n))
		}
		return 0, nil
	})
	return list, wrap(err, "first responses per channel")
}

// StatsBreaches lists the period's new requests with a breached target,
// newest first, from before (the id to list below; 0 = the newest).
func (db *DB) StatsBreaches(ctx context.Context, q stats.Query, before int64, limit int) ([]stats.Breach, error) {
	where, args := statsWhere(q, "c", "created_at", "c.assignee_id")
	if before > 0 {
		where, args = where+` AND c.id < ?`, append(args, before)
	}
	rows, err := db.reader().query(ctx, `SELECT c.id, cl.name, c.channel_kind, c.subject, COALESCE(a.name, ''), c.created_at, c.closed_at,
		COALESCE(p.name, ''), c.sla_breached, c.sla_next_breaches
		FROM conversations c JOIN clients cl ON cl.id = c.client_id LEFT JOIN agents a ON a.id = c.assignee_id
		LEFT JOIN sla_policies p ON p.id = c.sla_policy_id
		WHERE (c.sla_breached <> 0 OR c.sla_next_breaches > 0) AND `+where+` ORDER BY c.id DESC LIMIT ?`, append(args, limit)...)
	out, err := collect(rows, err, func(row scanner) (stats.Breach, error) {
		var b stats.Breach
		var created int64
		var closed sql.NullInt64
		var mask, next int
		if err := row.Scan(&b.ID, &b.ClientName, &b.ChannelKind, &b.Subject, &b.Assignee, &created, &closed, &b.Policy, &mask, &next); err != nil {
			return b, err
		}
		b.CreatedAt = fromMillis(created)
		if closed.Valid {
			t := fromMillis(closed.Int64)
			b.ClosedAt = &t
		}
		st := sla.State{Breached: mask, NextBreaches: next}
		b.Targets = []sla.Target{}
		for _, t := range sla.Targets {
			if st.WasBreached(t) {
				b.Targets = append(b.Targets, t)
			}
		}
		return b, nil
	})
	return out, wrap(err, "breached requests")
}
