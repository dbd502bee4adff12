package web

import "testing"

func TestCampaignTouch(t *testing.T) {
	tests := []struct {
		name, typ, event, body string
		want                   Touch
		ok                     bool
	}{
		{"segment email delivered", "track", "Email Delivered", `{"properties":{"campaign_name":"Spring Sale","email_subject":"20 % on shoes"}}`,
			Touch{Kind: TouchMailing, Name: "Spring Sale", Subject: "20 % on shoes"}, true},
		{"email opened without properties", "track", "Email Opened", `{}`, Touch{Kind: TouchMailing}, true},
		{"german e-mail", "track", "E-Mail geöffnet", `{}`, Touch{Kind: TouchMailing}, true},
		{"german compound", "track", "Mailingversand", `{}`, Touch{Kind: TouchMailing}, true},
		{"newsletter", "track", "Newsletter Sent", `{"properties":{"subject":"News"}}`, Touch{Kind: TouchMailing, Subject: "News"}, true},
		{"push", "track", "Push Notification Received", `{"properties":{"campaign_name":"App relaunch"}}`,
			Touch{Kind: TouchMessage, Name: "App relaunch"}, true},
		{"sms", "track", "SMS Delivered", `{}`, Touch{Kind: TouchMessage}, true},
		{"campaign by name", "track", "Kampagne angesehen", `{}`, Touch{Kind: TouchCampaign}, true},
		{"context.campaign", "track", "Product Viewed", `{"context":{"campaign":{"name":"winter","source":"google","medium":"cpc"}}}`,
			Touch{Kind: TouchCampaign, Name: "winter", Medium: "cpc"}, true},
		{"context.campaign by e-mail", "track", "Product Viewed", `{"context":{"campaign":{"name":"winter","medium":"email"}}}`,
			Touch{Kind: TouchMailing, Name: "winter", Medium: "email"}, true},
		{"page with utm in context url", "page", "Home", `{"context":{"page":{"url":"https://shop.example/?utm_source=nl&utm_medium=newsletter&utm_campaign=spring"}}}`,
			Touch{Kind: TouchMailing, Name: "spring", Medium: "newsletter"}, true},
		{"page with utm in properties search", "page", "", `{"properties":{"search":"?utm_campaign=black-friday&utm_medium=social"}}`,
			Touch{Kind: TouchCampaign, Name: "black-friday", Medium: "social"}, true},
		{"track with campaign id", "track", "Coupon Applied", `{"properties":{"campaign_id":4711}}`, Touch{Kind: TouchCampaign}, true},
		{"plain order", "track", "Order Completed", `{"properties":{"order_id":"A1","revenue":10}}`, Touch{}, false},
		{"plain page", "page", "Checkout", `{"context":{"page":{"url":"https://shop.example/checkout?step=2"}}}`, Touch{}, false},
		{"identify with email trait is no mailing", "identify", "", `{"traits":{"email":"a@b.de"}}`, Touch{}, false},
		{"empty context.campaign", "track", "Product Viewed", `{"context":{"campaign":{}}}`, Touch{}, false},
		{"voicemail is not a mailing", "track", "Voicemail Left", `{}`, Touch{}, false},
		{"broken body", "track", "Email Bounced", `{not json`, Touch{Kind: TouchMailing}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CampaignTouch(tc.typ, tc.event, []byte(tc.body))
			if ok != tc.ok || got != tc.want {
				t.Fatalf("CampaignTouch(%s, %q) = %+v, %v; want %+v, %v", tc.typ, tc.event, got, ok, tc.want, tc.ok)
			}
		})
	}
}
