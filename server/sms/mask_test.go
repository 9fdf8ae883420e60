package sms

import "testing"

func TestMaskNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+8612345678901", "+86 123****8901"},
		{"+8613812345678", "+86 138****5678"},
		{"+447700900123", "+44 770***0123"},
		{"+14155550100", "+1 415***0100"},
		{"+3906698212345", "+39 066****2345"}, // Italian: the leading 0 is kept
		{"+3541234567", "+354 *****67"},       // 7 national digits: only the last 2
		{"12345", "***45"},
		{"", "***"},
	}
	for _, tt := range tests {
		if got := maskNumber(tt.in); got != tt.want {
			t.Errorf("maskNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
