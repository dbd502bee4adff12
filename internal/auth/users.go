package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/store"
)

// Role is what a user may do (see Permission).
type Role string

// The roles of Kunding.
const (
	RoleAdmin   Role = "admin"   // manages users, keys, sources; sees everything
	RoleCCO     Role = "cco"     // Chief Customer Officer: sees everything, the audit log, GDPR requests
	RoleLead    Role = "lead"    // department lead
	RoleAgent   Role = "agent"   // service / call-centre agent
	RoleAnalyst Role = "analyst" // data and reports, sources
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleCCO, RoleLead, RoleAgent, RoleAnalyst}

// ParseRole reads a role name (case-insensitive).
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, x := range Roles {
		if r == x {
			return r, nil
		}
	}
	names := make([]string, len(Roles))
	for i, x := range Roles {
		names[i] = string(x)
	}
	return "", invalid(fmt.Sprintf("role %q: must be one of %s", s, strings.Join(names, ", ")))
}

// User is a person who logs in to Kunding.
type User struct {
	ID         string    `json:"id"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Department string    `json:"department"`
	Disabled   bool      `json:"disabled"`
	CreatedAt  time.Time `json:"createdAt"`
}

func userOf(u store.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: Role(u.Role), Department: u.Department, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

// ErrInvalid marks input that is refused; the error's text says why. The
// HTTP layers answer 400 with it.
var ErrInvalid = errors.New("invalid input")

type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(msg string) error { return &invalidError{msg} }

// ErrLastAdmin refuses to demote or disable the last enabled admin.
var ErrLastAdmin = errors.New("the last enabled admin cannot be demoted or disabled; make another user admin first")

// NormalizeEmail lower-cases and checks an e-mail address of a user.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || len(e) > 254 || !utf8.ValidString(e) ||
		strings.ContainsFunc(e, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) ||
		!strings.Contains(e[at+1:], ".") && e[at+1:] != "localhost" {
		return "", invalid(fmt.Sprintf("email %q: not an e-mail address", s))
	}
	return e, nil
}

func validName(what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > max || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", invalid(fmt.Sprintf("%s %q: 1 to %d characters, no control characters", what, s, max))
	}
	return s, nil
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Email      string `json:"email"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	Department string `json:"department"`
	Password   string `json:"password"`
}

// CreateUser validates and stores a new user; the audit log names the
// actor of ctx.
func (s *Service) CreateUser(ctx context.Context, n NewUser) (User, error) {
	email, err := NormalizeEmail(n.Email)
	if err != nil {
		return User{}, err
	}
	name, err := validName("name", n.Name, 100)
	if err != nil {
		return User{}, err
	}
	role, err := ParseRole(n.Role)
	if err != nil {
		return User{}, err
	}
	dept, err := s.department(ctx, n.Department)
	if err != nil {
		return User{}, err
	}
	if err := ValidatePassword(n.Password); err != nil {
		return User{}, err
	}
	hash, err := s.hash(n.Password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := store.User{ID: "u_" + NewSecret("")[:16], Email: email, Name: name, Role: string(role), Department: dept,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return User{}, err
	}
	if err := audit.Record(ctx, s.Store, audit.Entry{Action: audit.UserCreate, Target: u.ID, Detail: "role " + u.Role + ", department " + dept}); err != nil {
		return User{}, err
	}
	return userOf(u), nil
}

// department returns the stored spelling of a department name (matched
// case-insensitively).
func (s *Service) department(ctx context.Context, name string) (string, error) {
	ds, err := s.Store.Departments(ctx)
	if err != nil {
		return "", err
	}
	names := make([]string, len(ds))
	for i, d := range ds {
		if strings.EqualFold(d.Name, strings.TrimSpace(name)) {
			return d.Name, nil
		}
		names[i] = d.Name
	}
	return "", invalid(fmt.Sprintf("department %q: must be one of %s (an admin can add departments)", name, strings.Join(names, ", ")))
}

// UserChange is a change of a user; nil fields stay.
type UserChange struct {
	Name       *string `json:"name,omitempty"`
	Role       *string `json:"role,omitempty"`
	Department *string `json:"department,omitempty"`
	Disabled   *bool   `json:"disabled,omitempty"`
	Password   *string `json:"password,omitempty"`
}

// UpdateUser changes a user. Disabling a user or setting a password ends
// the user's sessions. The last enabled admin stays an enabled admin.
func (s *Service) UpdateUser(ctx context.Context, id string, ch UserChange) (User, error) {
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	before := u
	var what []string
	if ch.Name != nil {
		if u.Name, err = validName("name", *ch.Name, 100); err != nil {
			return User{}, err
		}
		what = append(what, "name")
	}
	if ch.Role != nil {
		r, err := ParseRole(*ch.Role)
		if err != nil {
			return User{}, err
		}
		if string(r) != u.Role {
			what = append(what, "role "+u.Role+" -> "+string(r))
		}
		u.Role = string(r)
	}
	if ch.Department != nil {
		d, err := s.department(ctx, *ch.Department)
		if err != nil {
			return User{}, err
		}
		if d != u.Department {
			what = append(what, "department "+u.Department+" -> "+d)
		}
		u.Department = d
	}
	endSessions := false
	if ch.Disabled != nil {
		if *ch.Disabled != u.Disabled {
			what = append(what, map[bool]string{true: "disabled", false: "enabled"}[*ch.Disabled])
		}
		u.Disabled = *ch.Disabled
		endSessions = endSessions || u.Disabled
	}
	if ch.Password != nil {
		if err := ValidatePassword(*ch.Password); err != nil {
			return User{}, err
		}
		if u.PasswordHash, err = s.hash(*ch.Password); err != nil {
			return User{}, err
		}
		what = append(what, "password")
		endSessions = true
	}
	if before.Role == string(RoleAdmin) && !before.Disabled && (u.Role != string(RoleAdmin) || u.Disabled) {
		n, err := s.Store.CountUsers(ctx, string(RoleAdmin))
		if err != nil {
			return User{}, err
		}
		if n <= 1 {
			return User{}, ErrLastAdmin
		}
	}
	u.UpdatedAt = s.now()
	if err := s.Store.UpdateUser(ctx, u); err != nil {
		return User{}, err
	}
	if endSessions {
		if err := s.Store.DeleteUserSessions(ctx, u.ID); err != nil {
			return User{}, err
		}
	}
	if err := audit.Record(ctx, s.Store, audit.Entry{Action: audit.UserUpdate, Target: u.ID, Detail: strings.Join(what, ", ")}); err != nil {
		return User{}, err
	}
	return userOf(u), nil
}

// Users lists every user by e-mail address.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	us, err := s.Store.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]User, len(us))
	for i, u := range us {
		out[i] = userOf(u)
	}
	return out, nil
}

// UserByID returns one user.
func (s *Service) UserByID(ctx context.Context, id string) (User, error) {
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return userOf(u), nil
}

// Department is a unit of the company.
type Department = store.Department

// Departments lists the departments by name.
func (s *Service) Departments(ctx context.Context) ([]Department, error) {
	ds, err := s.Store.Departments(ctx)
	if ds == nil {
		ds = []Department{}
	}
	return ds, err
}

// CreateDepartment adds a department.
func (s *Service) CreateDepartment(ctx context.Context, name string) (Department, error) {
	name, err := validName("department", name, 60)
	if err != nil {
		return Department{}, err
	}
	if _, err := s.department(ctx, name); err == nil {
		return Department{}, fmt.Errorf("department %q: %w", name, store.ErrConflict)
	}
	d := Department{Name: name, CreatedAt: s.now()}
	if err := s.Store.CreateDepartment(ctx, d); err != nil {
		return Department{}, err
	}
	if err := audit.Record(ctx, s.Store, audit.Entry{Action: audit.DepartmentCreate, Target: name}); err != nil {
		return Department{}, err
	}
	return d, nil
}

// HasAdmin reports whether an enabled admin user exists (which retires the
// bootstrap admin key).
func (s *Service) HasAdmin(ctx context.Context) (bool, error) {
	n, err := s.Store.CountUsers(ctx, string(RoleAdmin))
	return n > 0, err
}
