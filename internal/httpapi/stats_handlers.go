package httpapi

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/stats"
)

// statsQuery reads a statistics view's period and filters; false when it
// answered an error.
func (s *Server) statsQuery(w http.ResponseWriter, r *http.Request) (stats.Query, bool) {
	v := r.URL.Query()
	q, err := s.stats.Query(r.Context(), actorFrom(r.Context()), stats.Input{
		Period: v.Get("period"), From: v.Get("from"), To: v.Get("to"),
		Channel: v.Get("channel_id"), Department: v.Get("department_id"), Group: v.Get("group_id"), Agent: v.Get("agent_id"),
	})
	if err != nil {
		s.writeError(w, r, err)
		return q, false
	}
	return q, true
}

// wantsCSV reports whether the view is asked for as CSV (format=csv).
func wantsCSV(r *http.Request) bool { return r.URL.Query().Get("format") == "csv" }

// writeCSV answers a table as a CSV download named for the view, table and period.
func (s *Server) writeCSV(w http.ResponseWriter, r *http.Request, q stats.Query, name string, t stats.Table, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="statistics-%s-%s-%s.csv"`, name, q.FirstDay, q.LastDay))
	cw := csv.NewWriter(w)
	for _, record := range t {
		_ = cw.Write(mapSlice(record, inert))
	}
	cw.Flush()
}

// inert keeps a spreadsheet from running a cell as a formula: client names
// and subjects are the client's words.
func inert(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		if _, err := strconv.ParseFloat(cell, 64); err != nil {
			return "'" + cell
		}
	}
	return cell
}

func (s *Server) statsSummary(w http.ResponseWriter, r *http.Request) {
	q, ok := s.statsQuery(w, r)
	if !ok {
		return
	}
	sum, err := s.stats.Summary(r.Context(), q)
	if wantsCSV(r) {
		table := r.URL.Query().Get("table")
		t, terr := sum.Table(table)
		s.writeCSV(w, r, q, "summary-"+table, t, firstError(err, terr))
		return
	}
	respond(s, w, r, http.StatusOK, sum, err)
}

func (s *Server) statsAgents(w http.ResponseWriter, r *http.Request) {
	q, ok := s.statsQuery(w, r)
	if !ok {
		return
	}
	rows, err := s.stats.Agents(r.Context(), q)
	if wantsCSV(r) {
		s.writeCSV(w, r, q, "agents", stats.AgentsTable(rows), err)
		return
	}
	respond(s, w, r, http.StatusOK, map[string]any{"period": q.Period, "agents": rows}, err)
}

func (s *Server) statsLoad(w http.ResponseWriter, r *http.Request) {
	q, ok := s.statsQuery(w, r)
	if !ok {
		return
	}
	load, err := s.stats.Load(r.Context(), q)
	if wantsCSV(r) {
		table := r.URL.Query().Get("table")
		t, terr := load.Table(table)
		s.writeCSV(w, r, q, "load-"+table, t, firstError(err, terr))
		return
	}
	respond(s, w, r, http.StatusOK, load, err)
}

// csvRows caps a CSV export of the breached requests.
const csvRows = 10000

func (s *Server) statsBreaches(w http.ResponseWriter, r *http.Request) {
	q, ok := s.statsQuery(w, r)
	if !ok {
		return
	}
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			s.writeError(w, r, errs.Invalid("before", "must be a request number"))
			return
		}
		before = n
	}
	limit := stats.BreachPage
	if wantsCSV(r) {
		limit = csvRows
	}
	list, err := s.stats.Breaches(r.Context(), q, before, limit+1)
	if wantsCSV(r) {
		s.writeCSV(w, r, q, "breaches", stats.BreachesTable(list[:min(len(list), limit)]), err)
		return
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = strconv.FormatInt(list[limit-1].ID, 10)
	}
	respond(s, w, r, http.StatusOK, map[string]any{"period": q.Period, "requests": list, "next": next}, err)
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
