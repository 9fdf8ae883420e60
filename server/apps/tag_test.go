package apps_test

import (
	"strings"
	"testing"

	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/captcha/slider"
)

// clusterTag is the part of key that Redis Cluster hashes: the text
// between the first "{" and the next "}", when it is not empty.
func clusterTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

func TestTag(t *testing.T) {
	tests := []struct{ client, tenant, want string }{
		{"web", "", "{web}"},
		{"isv", "acme", "{isv/acme}"},
		{"DRrYIqauawN0I8my", "t-1", "{DRrYIqauawN0I8my/t-1}"},
	}
	for _, tt := range tests {
		scope := apps.Scope(tt.client, tt.tenant)
		a := &apps.App{ClientID: tt.client, TenantID: tt.tenant}
		if got := apps.Tag(scope); got != tt.want {
			t.Errorf("Tag(%q) = %q, want %q", scope, got, tt.want)
		}
		if got := a.Tag(); got != tt.want {
			t.Errorf("(%s).Tag() = %q, want %q", scope, got, tt.want)
		}
		if got := clusterTag(a.Tag() + ":code:login:x"); got != scope {
			t.Errorf("Cluster hashes %q, want the scope %q", got, scope)
		}
	}
}

// The exported key builders of the captcha packages tag their keys with
// the application's scope, so that they share a Cluster slot with the
// sender's keys (whose builders are unexported; server/sender's
// TestStoreKeysShareTheAppTag checks those through the store).
func TestCaptchaKeysShareTheTag(t *testing.T) {
	for _, ids := range [][2]string{{"web", ""}, {"isv", "acme"}} {
		scope := apps.Scope(ids[0], ids[1])
		keys := []string{
			captcha.SingleUseKey(captcha.Request{ClientID: ids[0], TenantID: ids[1], Token: "tok"}),
			slider.PuzzleKey(scope, "tok"),
			slider.VerifiedKey(scope, "tok"),
			altcha.SpentKey(scope, "challenge"),
		}
		for _, k := range keys {
			if !strings.HasPrefix(k, apps.Tag(scope)+":") || clusterTag(k) != scope {
				t.Errorf("key %q: Cluster hashes %q, want %q", k, clusterTag(k), scope)
			}
		}
	}
}
