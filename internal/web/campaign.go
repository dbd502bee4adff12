package web

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Kinds of campaign touch, as the timeline labels them.
const (
	TouchMailing  = "mailing"  // e-mail, newsletter, letter
	TouchMessage  = "message"  // push notification, SMS
	TouchCampaign = "campaign" // any other campaign: ads, UTM-tagged visits
)

// Touch is what the timeline shows of an event by which a campaign or
// mailing reached the customer.
type Touch struct {
	Kind    string
	Name    string // the campaign's name, when the event tells it
	Subject string // the subject of a mailing, when the event tells it
	Medium  string // utm_medium or context.campaign.medium
}

// CampaignTouch is the one rule that decides which events stand out on the
// customer timeline as campaigns and mailings the customer received, so that
// an agent sees them at once ("we sent you a mailing yesterday"):
//
//  1. A track event whose name speaks of e-mail, mailing or newsletter
//     (Segment's e-mail spec: "Email Delivered", "Email Opened", ...;
//     German "E-Mail geöffnet", "Mailing versendet") is a mailing; one that
//     speaks of push or SMS is a message; one that speaks of a campaign
//     ("Kampagne") is a campaign.
//  2. Any event with context.campaign (Segment fills it from UTM parameters)
//     is a campaign touch, a mailing when its medium is e-mail.
//  3. A page or screen view whose URL carries utm_campaign is a campaign
//     touch, a mailing when utm_medium is e-mail.
//  4. A track event with properties.campaign_name or campaign_id is a
//     campaign touch.
//
// The campaign's name and a mailing's subject are taken from
// properties.campaign_name, context.campaign.name or utm_campaign, and
// properties.email_subject or subject.
func CampaignTouch(typ, name string, body []byte) (Touch, bool) {
	var e struct {
		Properties map[string]any `json:"properties"`
		Context    struct {
			Campaign map[string]any `json:"campaign"`
			Page     map[string]any `json:"page"`
		} `json:"context"`
	}
	_ = json.Unmarshal(body, &e) // an odd body only loses the details
	t := Touch{
		Name:    firstString(e.Properties, "campaign_name", "campaignName", "campaign"),
		Subject: firstString(e.Properties, "email_subject", "emailSubject", "subject"),
	}
	kind := ""
	if typ == "track" {
		kind = kindOfName(name)
	}
	if c := e.Context.Campaign; len(c) > 0 {
		if n := firstString(c, "name"); n != "" || firstString(c, "source") != "" {
			t.Medium = firstString(c, "medium")
			if t.Name == "" {
				t.Name = n
			}
			if kind == "" {
				kind = TouchCampaign
			}
		}
	}
	if typ == "page" || typ == "screen" {
		for _, u := range []string{firstString(e.Context.Page, "url"), firstString(e.Context.Page, "search"),
			firstString(e.Properties, "url"), firstString(e.Properties, "search")} {
			q := utmQuery(u)
			if c := q.Get("utm_campaign"); c != "" {
				if t.Name == "" {
					t.Name = c
				}
				if t.Medium == "" {
					t.Medium = q.Get("utm_medium")
				}
				if kind == "" {
					kind = TouchCampaign
				}
				break
			}
		}
	}
	if kind == "" && typ == "track" && firstString(e.Properties, "campaign_name", "campaignName", "campaign", "campaign_id", "campaignId") != "" {
		kind = TouchCampaign
	}
	if kind == TouchCampaign && isEmailMedium(t.Medium) {
		kind = TouchMailing
	}
	if kind == "" {
		return Touch{}, false
	}
	t.Kind = kind
	return t, true
}

// kindOfName classifies an event name by its words; word starts catch
// German compounds ("Mailingversand", "Newsletteranmeldung").
func kindOfName(name string) string {
	n := strings.ToLower(name)
	n = strings.ReplaceAll(n, "e-mail", "email")
	words := strings.FieldsFunc(n, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	kind := ""
	for _, w := range words {
		switch {
		case strings.HasPrefix(w, "email") || strings.HasPrefix(w, "mailing") || strings.HasPrefix(w, "newsletter") || w == "mail":
			return TouchMailing
		case w == "push" || w == "sms":
			kind = TouchMessage
		case strings.HasPrefix(w, "campaign") || strings.HasPrefix(w, "kampagne"):
			if kind == "" {
				kind = TouchCampaign
			}
		}
	}
	return kind
}

func isEmailMedium(m string) bool {
	m = strings.ToLower(strings.ReplaceAll(m, "-", ""))
	return m == "email" || m == "mail" || m == "newsletter" || m == "mailing"
}

// utmQuery reads the query of a URL or of a bare "?a=b" search string.
func utmQuery(s string) url.Values {
	if s == "" {
		return nil
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	q, _ := url.ParseQuery(s)
	return q
}

// firstString returns the first of keys that holds a non-empty string or number.
func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				return s
			}
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ""
}
