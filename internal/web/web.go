// Package web is the HTML web app of Kunding under /: server-rendered pages
// (html/template), German and English, with the browser libraries (htmx,
// Chart.js) vendored from npm and embedded, so that building and running need
// no Node. Users, sessions and CSRF are package auth's; this package asks it
// who is there and renders what that user may see.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/campaign"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/feeds"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/survey"
	"github.com/kunding/kunding/internal/web/i18n"
	"github.com/kunding/kunding/internal/webhook"
)

//go:embed templates assets
var content embed.FS

// Config is what the web app is given.
type Config struct {
	Store store.Store
	Auth  Auth
	Log   *slog.Logger
	// OnKeysChanged drops caches of write keys after a rotation
	// (collect.Collector.ForgetKeys), so that an old key stops working at once.
	OnKeysChanged func()
	// BeforeErase runs before an erasure (the server waits for its
	// journal); nil: nothing.
	BeforeErase func(ctx context.Context) error
	// Surveys runs surveys (nil: made on demand on Store).
	Surveys *survey.Service
	// Location is the time zone times are shown in (default: the server's).
	Location *time.Location
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Feeds polls a feed when an administrator asks (nil: a poller made
	// on demand on Store).
	Feeds *feeds.Poller
	// Cases is the case service (nil: made on demand on Store); Webhooks
	// manages webhook endpoints (nil: made on demand on Store).
	Cases    *cases.Service
	Webhooks *webhook.Service
	// Campaigns runs campaigns (nil: made on demand on Store).
	Campaigns *campaign.Service
}

// Handler serves the web app.
type Handler struct {
	cfg          Config
	log          *slog.Logger
	mux          *http.ServeMux
	root         http.Handler
	pages        map[string]*template.Template
	assets       fs.FS
	assetVersion string
	private      []string // patterns that need a user
	surveys      *survey.Service
}

// pageNames are the templates under templates/ that render a whole page.
var pageNames = []string{"login", "search", "customer", "sources", "source", "models", "users", "erased", "audit", "error", "surveys", "survey", "survey_public", "feedback", "feeds", "touchpoints", "touchpoint", "touchpoint_matrix", "cases", "case", "case_overview", "case_figures", "webhooks", "campaigns", "campaign_new", "campaign"}

// New parses the templates and builds the routes.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil || cfg.Auth == nil {
		return nil, errors.New("web: Store and Auth are required")
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, log: cfg.Log, pages: map[string]*template.Template{}}
	if h.log == nil {
		h.log = slog.Default()
	}
	assets, err := fs.Sub(content, "assets")
	if err != nil {
		return nil, err
	}
	h.assets = assets
	if h.assetVersion, err = versionOf(assets); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		// asset names a file under assets/ with a version that changes with
		// any asset, so browsers may cache assets for good.
		"asset": func(name string) string { return "/assets/" + name + "?v=" + h.assetVersion },
	}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(content, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	h.routes()
	return h, nil
}

// versionOf hashes every asset: the cache-busting version of their URLs.
func versionOf(fsys fs.FS) (string, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	sum := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return "", err
		}
		sum.Write([]byte(n))
		sum.Write(b)
	}
	return hex.EncodeToString(sum.Sum(nil))[:12], nil
}

func (h *Handler) routes() {
	a := h.cfg.Auth
	mux := http.NewServeMux()
	// Public: the login page, the language switch and the static assets.
	mux.HandleFunc("GET /assets/", h.serveAsset)
	mux.HandleFunc("GET /login", h.loginPage)
	mux.Handle("POST /login", a.CheckCSRF(http.HandlerFunc(h.login)))
	mux.HandleFunc("GET /lang", h.setLang)

	// Everything else needs a user; unsafe methods need the CSRF token too.
	private := func(pattern string, perm auth.Permission, fn http.HandlerFunc) {
		var hh http.Handler = h.allow(perm, fn)
		if !strings.HasPrefix(pattern, "GET ") {
			hh = a.CheckCSRF(hh)
		}
		mux.Handle(pattern, htmxLogin(a.RequireUser(hh)))
		h.private = append(h.private, pattern)
	}
	// Who may do what is auth's table of permissions.
	private("POST /logout", auth.PermAuthenticated, h.logout)
	private("GET /{$}", auth.PermAuthenticated, h.home)
	private("GET /customers", auth.PermCustomers, h.search)
	private("GET /customers/{id}", auth.PermCustomers, h.customer)
	private("GET /customers/{id}/timeline", auth.PermCustomers, h.timelinePart)
	private("GET /customers/{id}/export", auth.PermGDPR, h.exportCustomer)
	private("POST /customers/{id}/erase", auth.PermGDPR, h.eraseCustomer)
	private("GET /sources", auth.PermSourcesRead, h.sources)
	private("POST /sources", auth.PermSourcesWrite, h.createSource)
	private("GET /sources/{id}", auth.PermSourcesRead, h.source)
	private("GET /models", auth.PermRead, h.models)
	private("POST /sources/{id}/rotate", auth.PermSourcesWrite, h.rotateKey)
	private("GET /sources/{id}/live", auth.PermSourcesRead, h.livePart)
	private("GET /users", auth.PermUsers, h.users)
	private("GET /audit", auth.PermAudit, h.auditLog)
	private("POST /users", auth.PermUsers, h.createUser)
	private("POST /users/{id}", auth.PermUsers, h.updateUser)
	h.surveyRoutes(mux, private)
	h.touchpointRoutes(private)
	h.caseRoutes(private)
	h.campaignRoutes(private)
	private("GET /feedback", auth.PermCustomers, h.feedbackList)
	private("GET /feeds", auth.PermSourcesRead, h.feedsPage)
	private("POST /feeds", auth.PermSourcesWrite, h.createFeed)
	private("POST /feeds/{id}", auth.PermSourcesWrite, h.updateFeed)
	// Unknown paths answer 404 to users only, so strangers learn nothing of
	// the routes.
	mux.Handle("/", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusNotFound, "error.notFound")
	})))
	h.mux = mux
	h.root = securityHeaders(a.Middleware(mux))
}

// PrivateRoutes lists the patterns that need a user (for the test that
// proves every private page refuses anonymous access).
func (h *Handler) PrivateRoutes() []string { return append([]string(nil), h.private...) }

// htmxLogin sends an htmx request whose session has ended (a poll of the
// live debugger, the next timeline page) to the login page as a whole,
// instead of letting htmx swap the login form into a part of the page.
func htmxLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.UserFrom(r.Context()); !ok && r.Header.Get("HX-Request") != "" {
			back := "/"
			if u, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil {
				back = auth.SafeNext(u.RequestURI())
			}
			w.Header().Set("HX-Redirect", "/login?next="+url.QueryEscape(back))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

// securityHeaders forbids what the app never does: scripts or styles from
// elsewhere or inline, framing, guessing content types. Pages hold
// personal data, so they are not cached.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			hd.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/assets/")
	b, err := fs.ReadFile(h.assets, name)
	if err != nil || name == "" || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("v") == h.assetVersion {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// allow refuses users whose role lacks perm, with a page in their language.
func (h *Handler) allow(perm auth.Permission, fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !auth.Can(r.Context(), perm) {
			h.errorPage(w, r, http.StatusForbidden, "error.forbidden")
			return
		}
		fn(w, r)
	})
}

// page is what every page's template gets.
type page struct {
	L       i18n.Lang
	Title   string
	Section string // the navigation entry to mark as current
	User    *auth.User
	CSRF    string
	Here    string // this page's URL, where the language switch returns to
	Query   string // the search box's text
	// NoQuickSearch hides the search box of the header (on the search page).
	NoQuickSearch bool
	Langs         []langLink
	// What the user may see, for the navigation.
	CanCustomers, CanSources, CanChangeSources, CanModels bool
	CanUsers, CanGDPR, CanAudit                           bool
	CanSurveys                                            bool
	CanCases, CanCasesAdmin                               bool
	CanCampaigns                                          bool
}

type langLink struct {
	Code, Name string
	Current    bool
}

func (h *Handler) page(r *http.Request, titleKey, section string) page {
	l := i18n.FromRequest(r)
	p := page{L: l, Title: l.T(titleKey), Section: section, CSRF: auth.CSRFToken(r), Here: r.URL.RequestURI()}
	if r.Header.Get("HX-Request") != "" {
		p.Here = "/"
	}
	for _, code := range i18n.Languages {
		p.Langs = append(p.Langs, langLink{Code: code, Name: i18n.Lang(code).T("lang.name"), Current: code == string(l)})
	}
	if u, ok := auth.UserFrom(r.Context()); ok {
		p.User = &u
		ctx := r.Context()
		p.CanCustomers, p.CanSources, p.CanChangeSources = auth.Can(ctx, auth.PermCustomers), auth.Can(ctx, auth.PermSourcesRead), auth.Can(ctx, auth.PermSourcesWrite)
		p.CanModels = auth.Can(ctx, auth.PermRead)
		p.CanUsers, p.CanGDPR, p.CanAudit = auth.Can(ctx, auth.PermUsers), auth.Can(ctx, auth.PermGDPR), auth.Can(ctx, auth.PermAudit)
		p.CanSurveys = auth.Can(ctx, auth.PermSurveysRead)
		p.CanCases, p.CanCasesAdmin = auth.Can(ctx, auth.PermCasesRead), auth.Can(ctx, auth.PermCasesAdmin)
		p.CanCampaigns = auth.Can(ctx, auth.PermCampaignsRead)
	}
	return p
}

// render executes a page into a buffer first, so that a failing template
// never sends half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	h.execute(w, r, code, name, "layout", data)
}

// renderPart renders one named template of a page without the layout (htmx).
func (h *Handler) renderPart(w http.ResponseWriter, r *http.Request, page, part string, data any) {
	h.execute(w, r, http.StatusOK, page, part, data)
}

func (h *Handler) execute(w http.ResponseWriter, r *http.Request, code int, page, tmpl string, data any) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, tmpl, data); err != nil {
		h.log.Error("web: render", "page", page, "template", tmpl, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

type errorData struct {
	page
	Code    int
	Message string
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, code int, msgKey string) {
	p := h.page(r, "error.title", "")
	h.render(w, r, code, "error", errorData{page: p, Code: code, Message: p.L.T(msgKey)})
}

// fail answers an error of the store: 404 for what does not exist, 503
// (try again) for the rest, logged with its detail.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "error.notFound")
		return
	}
	h.log.Error("web", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	h.errorPage(w, r, http.StatusServiceUnavailable, "error.unavailable")
}

func (h *Handler) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("to")
	if i18n.Supported(lang) {
		http.SetCookie(w, &http.Cookie{Name: i18n.CookieName, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, auth.SafeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// MustNew is New for the server's wiring: the templates are embedded, so
// an error is a bug that the tests catch, not a condition to handle.
func MustNew(cfg Config) *Handler {
	h, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return h
}
