package apps

import (
	"cmp"
	"errors"
	"time"
)

// AutoBlock is the learning SMS-pumping defence: a number prefix (the
// pumping defence's, "+86138") with at least MinSends sends in Window whose
// conversion (codes verified / codes sent) is below MaxRatioOfNorm × the
// application's norm is blocked for BlockFor (SMS.0006), unless the pumping
// allow list names it. The norm is the application's own conversion in the
// same window, but at least NormFloor, so that an attack larger than the
// honest traffic cannot drag the bar down with the application's average.
// Server-wide under pumping.auto_block, per application under auto_block;
// a zero field (nil for the pointers) inherits.
type AutoBlock struct {
	Enabled        *bool         `yaml:"enabled"`
	MinSends       int64         `yaml:"min_sends"`
	MaxRatioOfNorm float64       `yaml:"max_ratio_of_norm"`
	NormFloor      *float64      `yaml:"norm_floor"`
	Window         time.Duration `yaml:"window"`
	BlockFor       time.Duration `yaml:"block_for"`
}

// Over returns a with its unset fields taken from base.
func (a AutoBlock) Over(base AutoBlock) AutoBlock {
	if a.Enabled == nil {
		a.Enabled = base.Enabled
	}
	if a.NormFloor == nil {
		a.NormFloor = base.NormFloor
	}
	a.MinSends = cmp.Or(a.MinSends, base.MinSends)
	a.MaxRatioOfNorm = cmp.Or(a.MaxRatioOfNorm, base.MaxRatioOfNorm)
	a.Window = cmp.Or(a.Window, base.Window)
	a.BlockFor = cmp.Or(a.BlockFor, base.BlockFor)
	return a
}

// On reports whether the defence is enabled.
func (a AutoBlock) On() bool { return a.Enabled != nil && *a.Enabled }

// Floor is NormFloor, 0 when unset.
func (a AutoBlock) Floor() float64 {
	if a.NormFloor == nil {
		return 0
	}
	return *a.NormFloor
}

// Validate checks the values that are set: counts and durations not
// negative, ratios between 0 and 1.
func (a AutoBlock) Validate() error {
	if a.MinSends < 0 || a.Window < 0 || a.BlockFor < 0 {
		return errors.New("auto_block: min_sends, window and block_for must not be negative")
	}
	if !(a.MaxRatioOfNorm >= 0 && a.MaxRatioOfNorm <= 1) || a.NormFloor != nil && !(*a.NormFloor >= 0 && *a.NormFloor <= 1) {
		return errors.New("auto_block: max_ratio_of_norm and norm_floor must be between 0 and 1")
	}
	if a.Window > 0 && a.Window < time.Second || a.BlockFor > 0 && a.BlockFor < time.Second {
		return errors.New("auto_block: window and block_for must be at least 1s")
	}
	return nil
}
