package sender

import (
	"testing"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/otp"
	"github.com/smscode/smscode/server/phone"
)

func TestClientIP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"198.51.100.7", "198.51.100.7"},
		{"::ffff:198.51.100.7", "198.51.100.7"}, // one client, one bucket
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an ip", unparsedIP},
		{"1.2.3.4}:x{evil", unparsedIP}, // nothing of it reaches a key's hash tag
	}
	for _, tt := range tests {
		if got := clientIP(tt.in); got != tt.want {
			t.Errorf("clientIP(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// pumpPrefixOf works out the prefix's keyed id exactly when a pumping rule
// keys on it: the volume rule for a prefix off the allow list, the
// learning rule (auto_block) for every prefix; with the defence off,
// neither. Send and Verify take the prefix from it alone, once.
func TestPumpPrefixOf(t *testing.T) {
	h, err := otp.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ids := keyIDs{h: h}
	num := phone.Number{E164: "+8613812345678", CallingCode: 86, Region: "CN", National: "13812345678"}
	on, off := true, false
	tests := []struct {
		name        string
		p           Pumping
		wantAllowed bool
		wantID      bool
	}{
		{"defence off", Pumping{Disabled: true, PrefixDigits: 3, AutoBlock: AutoBlock{Enabled: &on}}, false, false},
		{"off the allow list", Pumping{PrefixDigits: 3, Allow: []string{"+1"}}, false, true},
		{"allow-listed", Pumping{PrefixDigits: 3, Allow: []string{"+86138"}}, true, false},
		{"allow-listed, learning off", Pumping{PrefixDigits: 3, Allow: []string{"+861"}, AutoBlock: AutoBlock{Enabled: &off}}, true, false},
		{"allow-listed, learning on", Pumping{PrefixDigits: 3, Allow: []string{"+86138"}, AutoBlock: AutoBlock{Enabled: &on}}, true, true},
		{"off the allow list, learning on", Pumping{PrefixDigits: 3, AutoBlock: AutoBlock{Enabled: &on}}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids.pumpPrefixOf(tt.p, num)
			want := pumpPrefix{allowed: tt.wantAllowed}
			if tt.wantID {
				want.id = ids.prefix("+86138")
			}
			if got != want {
				t.Errorf("pumpPrefixOf = %+v, want %+v", got, want)
			}
		})
	}
}

// limitsFor writes a send's keys into one buffer: each must be the key
// entityKey (and codeKey, which Verify uses) names, whichever limits the
// send has, and the limits must keep their kinds and figures.
func TestLimitsForKeys(t *testing.T) {
	h, err := otp.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	const tag = "{t1:app1}"
	num := phone.Number{E164: "+8613812345678", CallingCode: 86, Region: "CN", National: "13812345678"}
	ids := keyIDs{h: h, number: keyedID(h, numberIDDomain, num.E164)}
	l := DefaultLimits
	type lim struct {
		kind limitKind
		key  string
		max  int64
	}
	for _, tt := range []struct {
		name   string
		p      Pumping
		ip     string
		wantIP string // the address in the key, "" for no address limit
	}{
		{"every limit", DefaultPumping, "198.51.100.7", "198.51.100.7"},
		{"IPv6, pumping off", Pumping{Disabled: true}, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"no address, allow-listed prefix", Pumping{PrefixDigits: 3, Allow: []string{"+86"}, Max: 5}, "", ""},
		{"an unparsable address", DefaultPumping, "not an ip", unparsedIP},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Caller{Fingerprint: "device-1", RemoteIP: tt.ip}
			pfx := ids.pumpPrefixOf(tt.p, num)
			code, ls, kinds := limitsFor(tag, l, tt.p, pfx, ids, gen.ScenarioLogin, c)
			want := []lim{
				{kindCooldown, entityKey(tag, entityNumber, ids.number, ":cd:", "LOGIN_SMS"), 1},
				{kindNumber, entityKey(tag, entityNumber, ids.number, ":nd", ""), l.NumberDaily},
				{kindDevice, entityKey(tag, entityDevice, ids.device("device-1"), ":dev", ""), l.DevicePerHour},
			}
			if tt.wantIP != "" {
				want = append(want, lim{kindIP, entityKey(tag, entityIP, tt.wantIP, ":ip", ""), l.IPPerHour})
			}
			if !tt.p.Disabled && !pfx.allowed {
				want = append(want, lim{kindPrefix, entityKey(tag, entityPrefix, ids.prefix("+86138"), ":pfx", ""), tt.p.Max})
			}
			want = append(want, lim{kindApp, tag + ":app", l.AppDaily})
			if len(ls) != len(want) {
				t.Fatalf("%d limits, want %d: %+v", len(ls), len(want), ls)
			}
			for i, w := range want {
				if got := (lim{kinds[i], ls[i].Key, ls[i].Max}); got != w {
					t.Errorf("limit %d = %+v, want %+v", i, got, w)
				}
			}
			if want := codeKey(tag, gen.ScenarioLogin, ids); code != want {
				t.Errorf("code key %q, want %q", code, want)
			}
		})
	}
}
