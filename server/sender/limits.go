package sender

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/phone"
	"github.com/smscode/smscode/server/store"
)

// Limits are the sending limits. Every count is per window; a zero field
// takes the default written on it. Applications may override each one.
type Limits struct {
	// NumberCooldown is the time between two sends to one number for one
	// scenario. Default 60 s (what Supabase Auth and most gateways use).
	NumberCooldown time.Duration `yaml:"number_cooldown"`
	// NumberDaily is how many codes one number may get in 24 h, all
	// scenarios together. Default 10.
	NumberDaily int64 `yaml:"number_daily"`
	// DevicePerHour is how many sends one device fingerprint may ask for in
	// an hour. Default 20.
	DevicePerHour int64 `yaml:"device_per_hour"`
	// IPPerHour is how many sends one client IP address may ask for in an
	// hour. Default 50 (Firebase's per-IP hourly figure is 500 for a whole
	// project; 50 leaves room for a carrier NAT while stopping a script).
	IPPerHour int64 `yaml:"ip_per_hour"`
	// AppDaily is the application's quota of SMS per 24 h. Default 10000.
	AppDaily int64 `yaml:"app_daily"`
}

// Pumping is the SMS-pumping (toll fraud) defence: when sends to one number
// prefix exceed Max within Window, the prefix is blocked for BlockFor.
type Pumping struct {
	// Disabled turns the defence off.
	Disabled bool `yaml:"disabled"`
	// PrefixDigits is how many national digits after the calling code make
	// a prefix ("+86138" for 3). Default 3.
	PrefixDigits int `yaml:"prefix_digits"`
	// Max sends to one prefix per Window. Default 100 per 10 min.
	Max    int64         `yaml:"max"`
	Window time.Duration `yaml:"window"`
	// BlockFor is how long a prefix stays blocked once it went over.
	// Default 1 h.
	BlockFor time.Duration `yaml:"block_for"`
	// Allow lists prefixes ("+86138", "+1") that are never blocked.
	Allow []string `yaml:"allow"`
}

// DefaultLimits are the limits used where configuration says nothing.
var DefaultLimits = Limits{
	NumberCooldown: 60 * time.Second,
	NumberDaily:    10,
	DevicePerHour:  20,
	IPPerHour:      50,
	AppDaily:       10000,
}

// DefaultPumping is the SMS-pumping defence used where configuration says nothing.
var DefaultPumping = Pumping{PrefixDigits: 3, Max: 100, Window: 10 * time.Minute, BlockFor: time.Hour}

// Or returns l with every zero field taken from def.
func (l Limits) Or(def Limits) Limits {
	if l.NumberCooldown == 0 {
		l.NumberCooldown = def.NumberCooldown
	}
	if l.NumberDaily == 0 {
		l.NumberDaily = def.NumberDaily
	}
	if l.DevicePerHour == 0 {
		l.DevicePerHour = def.DevicePerHour
	}
	if l.IPPerHour == 0 {
		l.IPPerHour = def.IPPerHour
	}
	if l.AppDaily == 0 {
		l.AppDaily = def.AppDaily
	}
	return l
}

// Or returns p with every zero field taken from def.
func (p Pumping) Or(def Pumping) Pumping {
	if p.PrefixDigits == 0 {
		p.PrefixDigits = def.PrefixDigits
	}
	if p.Max == 0 {
		p.Max = def.Max
	}
	if p.Window == 0 {
		p.Window = def.Window
	}
	if p.BlockFor == 0 {
		p.BlockFor = def.BlockFor
	}
	return p
}

// limitKind names a limit in metrics and maps it to its error code.
type limitKind struct {
	name string
	code gen.ErrorCode
}

var (
	kindCooldown = limitKind{"number_cooldown", gen.ErrorCodeTooFrequent}
	kindNumber   = limitKind{"number_daily", gen.ErrorCodeNumberDailyLimit}
	kindDevice   = limitKind{"device", gen.ErrorCodeDeviceLimit}
	kindIP       = limitKind{"ip", gen.ErrorCodeIPLimit}
	kindPrefix   = limitKind{"prefix", gen.ErrorCodePrefixBlocked}
	kindApp      = limitKind{"app_daily", gen.ErrorCodeAppDailyQuota}
)

const day = 24 * time.Hour

// limitsFor builds the limits of one send, most specific first, so that a
// refusal names the narrowest reason (a second send within the cooldown is
// SMS.0001, not a device limit). Keys share the app's hash tag.
func limitsFor(tag string, l Limits, p Pumping, num phone.Number, scenario gen.Scenario, c Caller) ([]store.Limit, []limitKind) {
	ls := make([]store.Limit, 0, 6)
	kinds := make([]limitKind, 0, 6)
	add := func(k limitKind, key string, max int64, window, block time.Duration) {
		ls = append(ls, store.Limit{Key: tag + key, Max: max, Window: window, Block: block})
		kinds = append(kinds, k)
	}
	add(kindCooldown, ":cd:"+string(scenario)+":"+num.E164, 1, l.NumberCooldown, 0)
	add(kindNumber, ":nd:"+num.E164, l.NumberDaily, day, 0)
	add(kindDevice, ":dev:"+digest(c.Fingerprint), l.DevicePerHour, time.Hour, 0)
	if c.RemoteIP != "" {
		add(kindIP, ":ip:"+c.RemoteIP, l.IPPerHour, time.Hour, 0)
	}
	if !p.Disabled {
		prefix := num.Prefix(p.PrefixDigits)
		if !allowed(p.Allow, prefix) {
			add(kindPrefix, ":pfx:"+prefix, p.Max, p.Window, p.BlockFor)
		}
	}
	add(kindApp, ":app", l.AppDaily, day, 0)
	return ls, kinds
}

// allowed reports whether prefix starts with one of the allow-listed prefixes.
func allowed(allow []string, prefix string) bool {
	for _, a := range allow {
		if a != "" && len(prefix) >= len(a) && prefix[:len(a)] == a {
			return true
		}
	}
	return false
}

// digest shortens a client-chosen value (a device fingerprint, up to 128
// bytes) into a fixed-size key part, so clients cannot grow store keys.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}
