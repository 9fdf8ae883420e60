package sender

import "testing"

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
