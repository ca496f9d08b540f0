package team

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// MaxAvatarBytes caps avatar uploads.
const MaxAvatarBytes = 1 << 20

// avatarTypes maps the sniffed image types accepted as avatars to extensions.
var avatarTypes = map[string]string{
	"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
}

// Hasher turns a password into a storable hash.
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
}

// Blobs stores avatar images.
type Blobs interface {
	Put(ctx context.Context, name string, r io.Reader) error
	Delete(ctx context.Context, name string) error
}

// Service administers agents, groups and departments, and operator status.
// Every method checks the actor's rights.
type Service struct {
	store        Store
	passwords    Hasher
	blobs        Blobs
	offlineGuard OfflineGuard
}

// NewService returns a team service over the given store.
func NewService(store Store, passwords Hasher, blobs Blobs) *Service {
	return &Service{store: store, passwords: passwords, blobs: blobs}
}

// NewAgent is what an administrator gives to create an agent. An empty
// password is generated and returned once.
type NewAgent struct {
	Email    string
	Name     string
	Password string
	Admin    bool
}

// AgentPatch changes the fields that are set.
type AgentPatch struct {
	Email  *string
	Name   *string
	Admin  *bool
	Active *bool
}

// Agents lists every agent, active first, then by name.
func (s *Service) Agents(ctx context.Context, actor access.Actor) ([]Agent, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return nil, err
	}
	return s.store.Agents(ctx)
}

// Agent returns one agent.
func (s *Service) Agent(ctx context.Context, actor access.Actor, id int64) (Agent, error) {
	if actor.AgentID != id {
		if err := actor.Require(access.Omnichannel); err != nil {
			return Agent{}, err
		}
	}
	return s.store.Agent(ctx, id)
}

// CreateAgent adds an agent; it returns the generated password when none was given.
func (s *Service) CreateAgent(ctx context.Context, actor access.Actor, in NewAgent) (Agent, string, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Agent{}, "", err
	}
	email, err := checkEmail("email", in.Email)
	if err != nil {
		return Agent{}, "", err
	}
	name, err := checkName("name", in.Name, true)
	if err != nil {
		return Agent{}, "", err
	}
	password, generated := in.Password, ""
	if password == "" {
		password = rand.Text()
		generated = password
	} else if err := CheckPassword("password", password); err != nil {
		return Agent{}, "", err
	}
	hash, err := s.passwords.Hash(ctx, password)
	if err != nil {
		return Agent{}, "", err
	}
	a, err := s.store.CreateAgent(ctx, Agent{Email: email, Name: name, Admin: in.Admin, Active: true, Presence: Offline}, hash)
	return a, generated, err
}

// UpdateAgent changes an agent's details, administrator flag or activity.
func (s *Service) UpdateAgent(ctx context.Context, actor access.Actor, id int64, p AgentPatch) (Agent, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Agent{}, err
	}
	a, err := s.store.Agent(ctx, id)
	if err != nil {
		return Agent{}, err
	}
	if p.Email != nil {
		if a.Email, err = checkEmail("email", *p.Email); err != nil {
			return Agent{}, err
		}
	}
	if p.Name != nil {
		if a.Name, err = checkName("name", *p.Name, true); err != nil {
			return Agent{}, err
		}
	}
	if p.Admin != nil {
		if !*p.Admin && id == actor.AgentID {
			return Agent{}, errs.Invalid("is_admin", "you cannot remove your own administrator flag")
		}
		a.Admin = *p.Admin
	}
	if p.Active != nil {
		if !*p.Active && id == actor.AgentID {
			return Agent{}, errs.Invalid("active", "you cannot deactivate yourself")
		}
		a.Active = *p.Active
	}
	return s.store.UpdateAgent(ctx, a)
}

// ResetPassword sets an agent's password (generated when empty), ends all of
// the agent's sessions, and returns the new password.
func (s *Service) ResetPassword(ctx context.Context, actor access.Actor, id int64, password string) (string, error) {
	if err := actor.RequireAdmin(); err != nil {
		return "", err
	}
	if password == "" {
		password = rand.Text()
	} else if err := CheckPassword("password", password); err != nil {
		return "", err
	}
	hash, err := s.passwords.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	if err := s.store.SetAgentPassword(ctx, id, hash, ""); err != nil {
		return "", err
	}
	return password, nil
}

// SetAgentAvatar replaces an agent's avatar; agents may change their own.
func (s *Service) SetAgentAvatar(ctx context.Context, actor access.Actor, id int64, image io.Reader) (Agent, error) {
	if err := s.mayEditAgent(actor, id); err != nil {
		return Agent{}, err
	}
	name, err := s.storeAvatar(ctx, image)
	if err != nil {
		return Agent{}, err
	}
	a, old, err := s.store.SetAgentAvatar(ctx, id, name)
	if err != nil {
		s.dropAvatar(ctx, name)
		return Agent{}, err
	}
	s.dropAvatar(ctx, old)
	return a, nil
}

// RemoveAgentAvatar removes an agent's avatar.
func (s *Service) RemoveAgentAvatar(ctx context.Context, actor access.Actor, id int64) (Agent, error) {
	if err := s.mayEditAgent(actor, id); err != nil {
		return Agent{}, err
	}
	a, old, err := s.store.SetAgentAvatar(ctx, id, "")
	if err != nil {
		return Agent{}, err
	}
	s.dropAvatar(ctx, old)
	return a, nil
}

func (s *Service) mayEditAgent(actor access.Actor, id int64) error {
	if actor.AgentID == id {
		return nil
	}
	return actor.RequireAdmin()
}

// OfflineGuard says why an agent may not go Offline now (nil: they may).
type OfflineGuard func(ctx context.Context, agentID int64) error

// GuardOffline installs the rule that can keep agents from going Offline
// (Settings → Omnichannel); the app wires it once.
func (s *Service) GuardOffline(g OfflineGuard) { s.offlineGuard = g }

// SetPresence switches the actor's own operator status; Away may carry one of
// the reasons administrators defined.
func (s *Service) SetPresence(ctx context.Context, actor access.Actor, p Presence, reasonID int64) (Agent, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return Agent{}, err
	}
	if !p.Valid() {
		return Agent{}, errs.Invalid("presence", "must be online, away or offline")
	}
	if reasonID != 0 {
		if p != Away {
			return Agent{}, errs.Invalid("reason_id", "only Away has a reason")
		}
		reasons, err := s.store.AwayReasons(ctx)
		if err != nil {
			return Agent{}, err
		}
		if !slices.ContainsFunc(reasons, func(r AwayReason) bool { return r.ID == reasonID }) {
			return Agent{}, errs.Invalid("reason_id", "no such away reason")
		}
	}
	if p == Offline && s.offlineGuard != nil {
		if err := s.offlineGuard(ctx, actor.AgentID); err != nil {
			return Agent{}, err
		}
	}
	return s.store.SetPresence(ctx, actor.AgentID, p, reasonID)
}

// MarkConnected records that one of the agent's workspace tabs is open; an
// Online agent counts as available until the grace period after the last
// such mark.
func (s *Service) MarkConnected(ctx context.Context, agentID int64, grace time.Duration) error {
	return s.store.MarkConnected(ctx, agentID, time.Now().Add(grace))
}

// AwayReasons lists the reasons agents can give for being Away.
func (s *Service) AwayReasons(ctx context.Context, actor access.Actor) ([]AwayReason, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return nil, err
	}
	return s.store.AwayReasons(ctx)
}

// CreateAwayReason adds a reason (administrators).
func (s *Service) CreateAwayReason(ctx context.Context, actor access.Actor, name string) (AwayReason, error) {
	if err := actor.RequireAdmin(); err != nil {
		return AwayReason{}, err
	}
	name, err := reasonName(name)
	if err != nil {
		return AwayReason{}, err
	}
	return s.store.CreateAwayReason(ctx, name)
}

// RenameAwayReason renames a reason (administrators).
func (s *Service) RenameAwayReason(ctx context.Context, actor access.Actor, id int64, name string) (AwayReason, error) {
	if err := actor.RequireAdmin(); err != nil {
		return AwayReason{}, err
	}
	name, err := reasonName(name)
	if err != nil {
		return AwayReason{}, err
	}
	return s.store.RenameAwayReason(ctx, id, name)
}

// DeleteAwayReason removes a reason; agents Away for it stay Away.
func (s *Service) DeleteAwayReason(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.RequireAdmin(); err != nil {
		return err
	}
	return s.store.DeleteAwayReason(ctx, id)
}

func reasonName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 60 {
		return "", errs.Invalid("name", "must be 1 to 60 characters")
	}
	return name, nil
}

// Bootstrap creates the first administrator when there are no agents at all.
// It reports whether it did, and the generated password when none was given.
func (s *Service) Bootstrap(ctx context.Context, email, password string) (Agent, string, error) {
	n, err := s.store.CountAgents(ctx)
	if err != nil || n > 0 {
		return Agent{}, "", err
	}
	if email == "" {
		email = "admin@localhost"
	}
	return s.CreateAgent(ctx, access.System, NewAgent{Email: email, Name: "Administrator", Password: password, Admin: true})
}

// Groups lists every group.
func (s *Service) Groups(ctx context.Context, actor access.Actor) ([]Group, error) {
	if err := actor.RequireAny(access.Management, access.Settings); err != nil {
		return nil, err
	}
	return s.store.Groups(ctx)
}

// Group returns one group.
func (s *Service) Group(ctx context.Context, actor access.Actor, id int64) (Group, error) {
	if err := actor.RequireAny(access.Management, access.Settings); err != nil {
		return Group{}, err
	}
	return s.store.Group(ctx, id)
}

// GroupPatch changes the fields that are set.
type GroupPatch struct {
	Name      *string
	Rights    *[]access.Right
	MemberIDs *[]int64
}

// CreateGroup adds a group with its rights and members.
func (s *Service) CreateGroup(ctx context.Context, actor access.Actor, p GroupPatch) (Group, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Group{}, err
	}
	g, err := applyGroupPatch(Group{}, p)
	if err != nil {
		return Group{}, err
	}
	if p.Name == nil {
		return Group{}, errs.Invalid("name", "is required")
	}
	return s.store.CreateGroup(ctx, g)
}

// UpdateGroup changes a group's name, rights or members.
func (s *Service) UpdateGroup(ctx context.Context, actor access.Actor, id int64, p GroupPatch) (Group, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Group{}, err
	}
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return Group{}, err
	}
	if g, err = applyGroupPatch(g, p); err != nil {
		return Group{}, err
	}
	return s.store.UpdateGroup(ctx, g)
}

func applyGroupPatch(g Group, p GroupPatch) (Group, error) {
	var err error
	if p.Name != nil {
		if g.Name, err = checkName("name", *p.Name, true); err != nil {
			return g, err
		}
	}
	if p.Rights != nil {
		if g.Rights, err = checkRights(*p.Rights); err != nil {
			return g, err
		}
	}
	if p.MemberIDs != nil {
		g.MemberIDs = uniqueIDs(*p.MemberIDs)
	}
	if g.Rights == nil {
		g.Rights = []access.Right{}
	}
	if g.MemberIDs == nil {
		g.MemberIDs = []int64{}
	}
	return g, nil
}

// DeleteGroup removes a group; its agents lose the rights it gave.
func (s *Service) DeleteGroup(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.RequireAdmin(); err != nil {
		return err
	}
	return s.store.DeleteGroup(ctx, id)
}

// Departments lists every department.
func (s *Service) Departments(ctx context.Context, actor access.Actor) ([]Department, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return nil, err
	}
	return s.store.Departments(ctx)
}

// Department returns one department.
func (s *Service) Department(ctx context.Context, actor access.Actor, id int64) (Department, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return Department{}, err
	}
	return s.store.Department(ctx, id)
}

// DepartmentPatch changes the fields that are set.
type DepartmentPatch struct {
	Name        *string
	DisplayName *string
}

// CreateDepartment adds a department.
func (s *Service) CreateDepartment(ctx context.Context, actor access.Actor, p DepartmentPatch) (Department, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Department{}, err
	}
	if p.Name == nil {
		return Department{}, errs.Invalid("name", "is required")
	}
	d, err := applyDepartmentPatch(Department{}, p)
	if err != nil {
		return Department{}, err
	}
	return s.store.CreateDepartment(ctx, d)
}

// UpdateDepartment changes a department's name or display name.
func (s *Service) UpdateDepartment(ctx context.Context, actor access.Actor, id int64, p DepartmentPatch) (Department, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Department{}, err
	}
	d, err := s.store.Department(ctx, id)
	if err != nil {
		return Department{}, err
	}
	if d, err = applyDepartmentPatch(d, p); err != nil {
		return Department{}, err
	}
	return s.store.UpdateDepartment(ctx, d)
}

func applyDepartmentPatch(d Department, p DepartmentPatch) (Department, error) {
	var err error
	if p.Name != nil {
		if d.Name, err = checkName("name", *p.Name, true); err != nil {
			return d, err
		}
	}
	if p.DisplayName != nil {
		if d.DisplayName, err = checkName("display_name", *p.DisplayName, false); err != nil {
			return d, err
		}
	}
	return d, nil
}

// DeleteDepartment removes a department.
func (s *Service) DeleteDepartment(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.RequireAdmin(); err != nil {
		return err
	}
	d, err := s.store.Department(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDepartment(ctx, id); err != nil {
		return err
	}
	s.dropAvatar(ctx, d.Avatar)
	return nil
}

// SetDepartmentAvatar replaces the single department avatar.
func (s *Service) SetDepartmentAvatar(ctx context.Context, actor access.Actor, id int64, image io.Reader) (Department, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Department{}, err
	}
	name, err := s.storeAvatar(ctx, image)
	if err != nil {
		return Department{}, err
	}
	d, old, err := s.store.SetDepartmentAvatar(ctx, id, name)
	if err != nil {
		s.dropAvatar(ctx, name)
		return Department{}, err
	}
	s.dropAvatar(ctx, old)
	return d, nil
}

// RemoveDepartmentAvatar removes the single department avatar.
func (s *Service) RemoveDepartmentAvatar(ctx context.Context, actor access.Actor, id int64) (Department, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Department{}, err
	}
	d, old, err := s.store.SetDepartmentAvatar(ctx, id, "")
	if err != nil {
		return Department{}, err
	}
	s.dropAvatar(ctx, old)
	return d, nil
}

// storeAvatar checks that image is a small picture and stores it under a new
// unguessable name.
func (s *Service) storeAvatar(ctx context.Context, image io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(image, MaxAvatarBytes+1))
	if err != nil {
		return "", fmt.Errorf("team: read avatar: %w", err)
	}
	if len(data) == 0 {
		return "", errs.Invalid("avatar", "the image is empty")
	}
	if len(data) > MaxAvatarBytes {
		return "", errs.Invalid("avatar", "the image is larger than 1 MiB")
	}
	ext, ok := avatarTypes[http.DetectContentType(data)]
	if !ok {
		return "", errs.Invalid("avatar", "must be a PNG, JPEG, GIF or WebP image")
	}
	name := "avatars/" + rand.Text() + ext
	if err := s.blobs.Put(ctx, name, bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("team: store avatar: %w", err)
	}
	return name, nil
}

// dropAvatar deletes a replaced avatar; a leftover file harms nobody, so a
// failure is not reported.
func (s *Service) dropAvatar(ctx context.Context, name string) {
	if name != "" {
		_ = s.blobs.Delete(ctx, name)
	}
}

func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// AgentByEmail finds an agent by email, as the command line knows people.
func (s *Service) AgentByEmail(ctx context.Context, actor access.Actor, email string) (Agent, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Agent{}, err
	}
	return s.store.AgentByEmail(ctx, NormalizeEmail(email))
}
