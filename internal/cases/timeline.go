package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
)

// SourceName is the internal source of the case events in the log.
const SourceName = "Kunding cases"

var sourceMu sync.Mutex

// source returns the internal source of case events, creating it once.
func (s *Service) source(ctx context.Context) (store.Source, error) {
	sourceMu.Lock()
	defer sourceMu.Unlock()
	return source.Internal(ctx, s.Store, SourceName, "case")
}

// emit writes a case event ("Case Opened", ...) into the log for the
// case's customer, if Timeline is on and the case has a customer. Its
// messageId is derived from the case and version, so a retry stores once.
// A failure is logged: the case itself is stored already.
func (s *Service) emit(ctx context.Context, c *Case, name string, props map[string]any) {
	if !s.Timeline || c.CustomerID == "" {
		return
	}
	if err := s.emitErr(ctx, c, name, props); err != nil {
		s.Log.Warn("cases: timeline event not written", "case", c.ID, "event", name, "err", err)
	}
}

func (s *Service) emitErr(ctx context.Context, c *Case, name string, props map[string]any) error {
	ids, err := s.Store.Identities(ctx, c.CustomerID)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	best := ids[0].Identifier
	for _, x := range ids[1:] {
		if identity.Rank(x.Kind) > identity.Rank(best.Kind) {
			best = x.Identifier
		}
	}
	src, err := s.source(ctx)
	if err != nil {
		return err
	}
	if props == nil {
		props = map[string]any{}
	}
	props["caseId"], props["type"], props["status"], props["department"] = c.ID, c.Type, c.Status, c.Department
	props["priority"], props["subject"], props["channel"] = c.Priority, c.Subject, c.Channel
	if c.Touchpoint != "" {
		props["touchpoint"] = c.Touchpoint
	}
	if c.Theme != "" {
		props["theme"] = c.Theme
	}
	p, err := json.Marshal(props)
	if err != nil {
		return err
	}
	now := s.now()
	// Two escalations can share a version (a case found far overdue gets
	// both levels at once): the level tells them apart.
	msgID := EventMessageID(c, name)
	if l, ok := props["escalationLevel"]; ok {
		msgID += fmt.Sprintf("-%v", l)
	}
	ev := event.Event{Type: event.Track, MessageID: msgID, Event: name,
		Properties: p, Timestamp: now, ReceivedAt: now}
	switch best.Kind {
	case identity.User:
		ev.UserID = best.Value
	case identity.Anon:
		ev.AnonymousID = best.Value
	case identity.Email, identity.Phone:
		ev.Context, _ = json.Marshal(map[string]any{"traits": map[string]string{best.Kind: best.Value}})
	default:
		ev.Context, _ = json.Marshal(map[string]any{"externalIds": []map[string]string{{"id": best.Value, "type": best.Kind[len(identity.ExtPrefix):]}}})
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = s.Store.Append(ctx, []store.Record{{SourceID: src.ID, Event: ev, Body: body}})
	return err
}
