package store_test

import (
	"testing"
	"time"

	"github.com/smscode/smscode/server/store"
)

// The rule both stores apply: blocked when the prefix has the volume and
// converts below MaxRatio × max(the app's conversion, Floor).
func TestConversionRuleBlocks(t *testing.T) {
	r := store.ConversionRule{MinSends: 50, MaxRatio: 0.2, Floor: 0.5, Window: time.Hour, BlockFor: time.Hour}
	tests := []struct {
		name       string
		ps, pv     int64
		as, av     int64
		rule       store.ConversionRule
		wantBlocks bool
	}{
		{"below the volume", 49, 0, 1000, 800, r, false},
		{"volume, nothing verified", 50, 0, 1000, 800, r, true},
		{"at the bar (0.2 × 0.8 = 16 %)", 50, 8, 1000, 800, r, false},
		{"just below the bar", 50, 7, 1000, 800, r, true},
		{"the floor holds when the app's norm collapses", 50, 4, 1000, 10, r, true},
		{"the floor: 10 % passes", 50, 5, 1000, 10, r, false},
		{"no app sends yet: the floor", 50, 4, 0, 0, r, true},
		{"ratio 0 never blocks", 500, 0, 1000, 900, store.ConversionRule{MinSends: 1, MaxRatio: 0, Floor: 1}, false},
		{"MinSends 0 still needs a send", 0, 0, 0, 0, store.ConversionRule{MaxRatio: 1, Floor: 1}, false},
	}
	for _, tt := range tests {
		if got := tt.rule.Blocks(tt.ps, tt.pv, tt.as, tt.av); got != tt.wantBlocks {
			t.Errorf("%s: Blocks(%d, %d, %d, %d) = %v, want %v", tt.name, tt.ps, tt.pv, tt.as, tt.av, got, tt.wantBlocks)
		}
	}
}
