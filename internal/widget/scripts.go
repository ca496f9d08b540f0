package widget

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// ScriptPatch changes the fields that are set.
type ScriptPatch struct {
	Name         *string `json:"name"`
	Match        *Match  `json:"match"`
	Pattern      *string `json:"pattern"`
	DepartmentID *int64  `json:"department_id"`
	GroupID      *int64  `json:"group_id"`
	RequestForm  *bool   `json:"request_form"`
	Active       *bool   `json:"active"`
}

// Scripts lists the scripts in the order they are tried.
func (s *Service) Scripts(ctx context.Context, actor access.Actor) ([]Script, error) {
	if err := actor.Require(access.Settings); err != nil {
		return nil, err
	}
	return s.store.Scripts(ctx)
}

// CreateScript adds a script at the end of the list.
func (s *Service) CreateScript(ctx context.Context, actor access.Actor, p ScriptPatch) (Script, error) {
	if err := actor.Require(access.Settings); err != nil {
		return Script{}, err
	}
	sc, err := p.apply(Script{Match: Contains, Active: true})
	if err != nil {
		return Script{}, err
	}
	if sc.Name == "" {
		return Script{}, errs.Invalid("name", "is required")
	}
	if sc.Pattern == "" {
		return Script{}, errs.Invalid("pattern", "is required")
	}
	return s.store.CreateScript(ctx, sc)
}

// UpdateScript changes a script.
func (s *Service) UpdateScript(ctx context.Context, actor access.Actor, id int64, p ScriptPatch) (Script, error) {
	if err := actor.Require(access.Settings); err != nil {
		return Script{}, err
	}
	list, err := s.store.Scripts(ctx)
	if err != nil {
		return Script{}, err
	}
	for _, sc := range list {
		if sc.ID == id {
			if sc, err = p.apply(sc); err != nil {
				return Script{}, err
			}
			return s.store.UpdateScript(ctx, sc)
		}
	}
	return Script{}, errs.NotFound("script")
}

// DeleteScript removes a script.
func (s *Service) DeleteScript(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.Require(access.Settings); err != nil {
		return err
	}
	return s.store.DeleteScript(ctx, id)
}

// ReorderScripts sets the order in which scripts are tried; ids must name
// every script once.
func (s *Service) ReorderScripts(ctx context.Context, actor access.Actor, ids []int64) ([]Script, error) {
	if err := actor.Require(access.Settings); err != nil {
		return nil, err
	}
	return s.store.ReorderScripts(ctx, ids)
}

func (p ScriptPatch) apply(sc Script) (Script, error) {
	if p.Name != nil {
		sc.Name = strings.TrimSpace(*p.Name)
		if sc.Name == "" || utf8.RuneCountInString(sc.Name) > 100 {
			return sc, errs.Invalid("name", "must be 1 to 100 characters")
		}
	}
	if p.Match != nil {
		if *p.Match != Exact && *p.Match != Contains {
			return sc, errs.Invalid("match", "must be exact or contains")
		}
		sc.Match = *p.Match
	}
	if p.Pattern != nil {
		sc.Pattern = strings.TrimSpace(*p.Pattern)
		if sc.Pattern == "" || len(sc.Pattern) > urlLength {
			return sc, errs.Invalid("pattern", "must be 1 to 2000 characters of the page URL")
		}
	}
	if p.DepartmentID != nil {
		sc.DepartmentID = *p.DepartmentID
	}
	if p.GroupID != nil {
		sc.GroupID = *p.GroupID
	}
	if p.RequestForm != nil {
		sc.RequestForm = *p.RequestForm
	}
	if p.Active != nil {
		sc.Active = *p.Active
	}
	return sc, nil
}
