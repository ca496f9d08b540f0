package stats

import (
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/sla"
)

// Table is a view's table as CSV records, the header first.
type Table [][]string

func seconds(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

func itoa[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

// Weekdays are the heat map's rows.
var Weekdays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// SummaryTables are the tables of the summary, by name.
var SummaryTables = []string{"requests", "times", "sla"}

// LoadTables are the tables of the load view, by name.
var LoadTables = []string{"days", "channels", "heatmap"}

func unknownTable(names []string) error {
	return errs.Invalid("table", fmt.Sprintf("must be one of %v", names))
}

// Table returns one of SummaryTables.
func (s Summary) Table(name string) (Table, error) {
	switch name {
	case "requests":
		r := s.Requests
		return Table{{"requests", "count"}, {"new", itoa(r.New)}, {"closed", itoa(r.Closed)}, {"transferred", itoa(r.Transferred)},
			{"missed", itoa(r.Missed)}, {"reopened", itoa(r.Reopened)}}, nil
	case "times":
		t := Table{{"time", "basis", "count", "average_seconds", "median_seconds", "p90_seconds"}}
		for _, k := range []string{FirstResponse, Reply, Resolution} {
			for _, b := range []struct {
				name string
				f    Figure
			}{{"calendar", s.Times[k].Calendar}, {"business", s.Times[k].Business}} {
				t = append(t, []string{k, b.name, itoa(b.f.Count), seconds(b.f.Average), seconds(b.f.Median), seconds(b.f.P90)})
			}
		}
		return t, nil
	case "sla":
		t := Table{{"target", "met", "breached", "in_progress"}}
		for _, k := range sla.Targets {
			c := s.SLA[k]
			t = append(t, []string{string(k), itoa(c.Met), itoa(c.Breached), itoa(c.InProgress)})
		}
		return t, nil
	}
	return nil, unknownTable(SummaryTables)
}

// AgentsTable is the per-agent table.
func AgentsTable(rows []AgentRow) Table {
	t := Table{{"agent_id", "agent", "handled", "replies", "avg_first_response_seconds", "avg_reply_seconds",
		"online_seconds", "away_seconds", "offline_seconds"}}
	for _, a := range rows {
		t = append(t, []string{itoa(a.ID), a.Name, itoa(a.Handled), itoa(a.Replies), seconds(a.FirstResponse), seconds(a.Reply),
			itoa(a.Online), itoa(a.Away), itoa(a.Offline)})
	}
	return t
}

// Table returns one of LoadTables.
func (l Load) Table(name string) (Table, error) {
	switch name {
	case "days":
		t := Table{{"date", "new", "closed"}}
		for _, d := range l.Days {
			t = append(t, []string{d.Date, itoa(d.New), itoa(d.Closed)})
		}
		return t, nil
	case "channels":
		t := Table{{"channel_id", "channel", "kind", "new", "closed", "missed", "avg_first_response_seconds"}}
		for _, c := range l.Channels {
			t = append(t, []string{itoa(c.ID), c.Name, c.Kind, itoa(c.New), itoa(c.Closed), itoa(c.Missed), seconds(c.FirstResponse)})
		}
		return t, nil
	case "heatmap":
		head := []string{"weekday"}
		for h := range 24 {
			head = append(head, fmt.Sprintf("%02d:00", h))
		}
		t := Table{head}
		for d, row := range l.Heatmap {
			line := []string{Weekdays[d]}
			for _, n := range row {
				line = append(line, itoa(n))
			}
			t = append(t, line)
		}
		return t, nil
	}
	return nil, unknownTable(LoadTables)
}

// BreachesTable is the list of breached requests.
func BreachesTable(list []Breach) Table {
	t := Table{{"request", "client", "channel", "subject", "agent", "policy", "created_at", "closed_at", "breached"}}
	for _, b := range list {
		closed := ""
		if b.ClosedAt != nil {
			closed = b.ClosedAt.Format(time.RFC3339)
		}
		targets := ""
		for i, k := range b.Targets {
			if i > 0 {
				targets += " "
			}
			targets += string(k)
		}
		t = append(t, []string{itoa(b.ID), b.ClientName, b.ChannelKind, b.Subject, b.Assignee, b.Policy,
			b.CreatedAt.Format(time.RFC3339), closed, targets})
	}
	return t
}
