package apps_test

import (
	"testing"
	"time"

	"github.com/smscode/smscode/server/apps"
)

func TestAutoBlockOverAndValidate(t *testing.T) {
	yes, no, half := true, false, 0.5
	base := apps.AutoBlock{Enabled: &yes, MinSends: 50, MaxRatioOfNorm: 0.2, NormFloor: &half, Window: time.Hour, BlockFor: time.Hour}
	got := apps.AutoBlock{Enabled: &no, MinSends: 10}.Over(base)
	if got.On() || got.MinSends != 10 || got.MaxRatioOfNorm != 0.2 || got.Floor() != 0.5 || got.Window != time.Hour {
		t.Errorf("Over = %+v, want the app's enabled and min_sends, the rest inherited", got)
	}
	if !(apps.AutoBlock{}).Over(base).On() {
		t.Error("an unset enabled did not inherit true")
	}
	zero := 0.0
	if f := (apps.AutoBlock{NormFloor: &zero}).Over(base).Floor(); f != 0 {
		t.Errorf("norm_floor 0 set by the app gave %v: 0 must be settable", f)
	}

	neg, big := -0.1, 1.5
	for _, tt := range []struct {
		name string
		a    apps.AutoBlock
		ok   bool
	}{
		{"zero value", apps.AutoBlock{}, true},
		{"full", base, true},
		{"negative min_sends", apps.AutoBlock{MinSends: -1}, false},
		{"negative window", apps.AutoBlock{Window: -time.Second}, false},
		{"sub-second block", apps.AutoBlock{BlockFor: time.Millisecond}, false},
		{"ratio above 1", apps.AutoBlock{MaxRatioOfNorm: 1.5}, false},
		{"negative floor", apps.AutoBlock{NormFloor: &neg}, false},
		{"floor above 1", apps.AutoBlock{NormFloor: &big}, false},
	} {
		if err := tt.a.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
