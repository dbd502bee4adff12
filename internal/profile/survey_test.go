package profile

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
)

func surveyEvent(typ string, score int, at time.Time, resp string) event.Event {
	props, _ := json.Marshal(map[string]any{"surveyId": "sv_1", "surveyName": "After delivery", "surveyType": typ, "score": score, "responseId": resp})
	return event.Event{Type: event.Track, Event: SurveyAnsweredEvent, Properties: props, Timestamp: at}
}

// The latest answer per type wins whatever the order of the events and of
// merges; equal times are decided by the response id.
func TestLastSurveyOrderIndependent(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	evs := []event.Event{
		surveyEvent("nps", 10, t0, "sr_a"),
		surveyEvent("nps", 3, t0.Add(time.Hour), "sr_b"), // latest NPS: detractor
		surveyEvent("nps", 8, t0.Add(-time.Hour), "sr_c"),
		surveyEvent("csat", 2, t0, "sr_d"),
		surveyEvent("csat", 5, t0, "sr_e"), // same time as sr_d: the greater id wins
		surveyEvent("ces", 6, t0, "sr_f"),
		surveyEvent("free", 1, t0.Add(2*time.Hour), "sr_g"), // no score type: ignored
		{Type: event.Track, Event: SurveyAnsweredEvent, Properties: json.RawMessage(`{"surveyType":"nps","score":11}`), Timestamp: t0.Add(5 * time.Hour)},
	}
	want := map[string]SurveyAnswer{
		"nps":  {Score: 3, Category: "detractor", SurveyID: "sv_1", SurveyName: "After delivery", ResponseID: "sr_b", At: t0.Add(time.Hour)},
		"csat": {Score: 5, SurveyID: "sv_1", SurveyName: "After delivery", ResponseID: "sr_e", At: t0},
		"ces":  {Score: 6, SurveyID: "sv_1", SurveyName: "After delivery", ResponseID: "sr_f", At: t0},
	}
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 50; round++ {
		perm := rng.Perm(len(evs))
		// Split into two profiles merged at the end, as the pipeline does.
		a, b := New("a"), New("b")
		for i, j := range perm {
			target := &a
			if i%2 == 1 {
				target = &b
			}
			ev := evs[j]
			target.Apply(&ev, nil, nil)
		}
		a.Absorb(&b)
		if !reflect.DeepEqual(a.LastSurvey, want) {
			t.Fatalf("round %d: %+v", round, a.LastSurvey)
		}
		// It survives the profile's JSON column.
		data, err := a.MarshalData()
		if err != nil {
			t.Fatal(err)
		}
		var back Profile
		if err := back.UnmarshalData(data); err != nil || !reflect.DeepEqual(back.LastSurvey, want) {
			t.Fatalf("round trip: %v %s", err, fmt.Sprint(back.LastSurvey))
		}
	}
}
