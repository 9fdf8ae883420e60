package sender

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/netip"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/phone"
	"github.com/smscode/smscode/server/store"
)

// Limits are the sending limits: the server's, merged under each
// application's overrides (apps.LimitOverrides.Over). A zero field takes the
// default that DefaultLimits gives it.
type Limits = apps.LimitOverrides

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

// DefaultLimits are the limits used where configuration says nothing:
// 60 s between two codes to one number for one scenario (Supabase Auth's
// and most gateways' figure); 10 codes per number per 24 h; 20 sends per
// device fingerprint and 50 per client IP per hour (50 leaves room for a
// carrier NAT while stopping a script); 10,000 per application per 24 h.
//
// Verification: 50 failed attempts per client IP and 20 per device per
// hour (the send limits' figures: a person mistypes a few times, a script
// thousands); 20 wrong codes per number per 24 h, which bounds guessing a
// number's codes to 20 × 365 = 7,300 guesses a year, a 0.73 % chance with
// 6-digit codes, however many codes are sent and from however many
// addresses (see VerifyBound).
var DefaultLimits = Limits{
	NumberCooldown: 60 * time.Second,
	NumberDaily:    10,
	DevicePerHour:  20,
	IPPerHour:      50,
	AppDaily:       10000,

	VerifyIPPerHour:     50,
	VerifyDevicePerHour: 20,
	VerifyNumberDaily:   20,
}

// VerifyBound is what the verification limits allow an attacker against
// one number: the most codes it can try in a day, and the chance that one
// of the guesses of a year of trying is right for codes of length digits
// (each guess is right with probability 10^-digits at best, since a code
// is uniformly random and a new code is drawn afresh).
func VerifyBound(l Limits, digits int) (perDay int64, perYear float64) {
	perDay = l.VerifyNumberDaily
	p := math.Pow(10, -float64(digits))
	return perDay, -math.Expm1(float64(perDay*365) * math.Log1p(-p))
}

// DefaultPumping is the SMS-pumping defence used where configuration says nothing.
var DefaultPumping = Pumping{PrefixDigits: 3, Max: 100, Window: 10 * time.Minute, BlockFor: time.Hour}

// Or returns p with every zero field taken from def.
func (p Pumping) Or(def Pumping) Pumping {
	p.PrefixDigits = cmp.Or(p.PrefixDigits, def.PrefixDigits)
	p.Max = cmp.Or(p.Max, def.Max)
	p.Window = cmp.Or(p.Window, def.Window)
	p.BlockFor = cmp.Or(p.BlockFor, def.BlockFor)
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

	kindVerifyNumber = limitKind{"verify_number_daily", gen.ErrorCodeVerifyNumberDailyLimit}
	kindVerifyDevice = limitKind{"verify_device", gen.ErrorCodeVerifyDeviceLimit}
	kindVerifyIP     = limitKind{"verify_ip", gen.ErrorCodeVerifyIPLimit}
)

const day = 24 * time.Hour

// maxLimits is how many limits limitsFor builds at most.
const maxLimits = 6

// limitsFor builds the limits of one send, most specific first, so that a
// refusal names the narrowest reason (a second send within the cooldown is
// SMS.0001, not a device limit). Keys share the app's hash tag; the number
// and its prefix appear in them only as ids (keyed hashes, see keyIDs).
// kinds[i] names ls[i]; it is an array, returned by value, to spare an
// allocation.
func limitsFor(tag string, l Limits, p Pumping, num phone.Number, ids keyIDs, scenario gen.Scenario, c Caller) (ls []store.Limit, kinds [maxLimits]limitKind) {
	ls = make([]store.Limit, 0, maxLimits)
	// Each key is one concatenation: one allocation.
	add := func(k limitKind, key string, max int64, window, block time.Duration) {
		kinds[len(ls)] = k
		ls = append(ls, store.Limit{Key: key, Max: max, Window: window, Block: block})
	}
	add(kindCooldown, tag+":cd:"+string(scenario)+":"+ids.number, 1, l.NumberCooldown, 0)
	add(kindNumber, tag+":nd:"+ids.number, l.NumberDaily, day, 0)
	add(kindDevice, tag+":dev:"+digest(c.Fingerprint), l.DevicePerHour, time.Hour, 0)
	if c.RemoteIP != "" {
		add(kindIP, tag+":ip:"+c.RemoteIP, l.IPPerHour, time.Hour, 0)
	}
	if !p.Disabled {
		prefix := num.Prefix(p.PrefixDigits)
		if !allowed(p.Allow, prefix) {
			add(kindPrefix, tag+":pfx:"+ids.prefix(prefix), p.Max, p.Window, p.BlockFor)
		}
	}
	add(kindApp, tag+":app", l.AppDaily, day, 0)
	return ls, kinds
}

// verifyLimitsFor builds the limits of one verification, most specific
// first: wrong codes per number per day, then failures per device and per
// client IP per hour. kinds[i] names ls[i].
func verifyLimitsFor(tag string, l Limits, ids keyIDs, c Caller) (ls []store.VerifyLimit, kinds [3]limitKind) {
	ls = make([]store.VerifyLimit, 0, 3)
	add := func(k limitKind, key string, max int64, window time.Duration, anyFailure bool) {
		kinds[len(ls)] = k
		ls = append(ls, store.VerifyLimit{Limit: store.Limit{Key: key, Max: max, Window: window}, AnyFailure: anyFailure})
	}
	add(kindVerifyNumber, tag+":vn:"+ids.number, l.VerifyNumberDaily, day, false)
	add(kindVerifyDevice, tag+":vdev:"+digest(c.Fingerprint), l.VerifyDevicePerHour, time.Hour, true)
	if ip := verifyIP(c.RemoteIP); ip != "" {
		add(kindVerifyIP, tag+":vip:"+ip, l.VerifyIPPerHour, time.Hour, true)
	}
	return ls, kinds
}

// verifyIP is the client address as the verification limits count it: an
// IPv4 address as it is, an IPv6 address as its /64, which is what one
// subscriber is usually given, so that walking the addresses of one /64
// (2^64 of them) buys no more guesses than one address.
func verifyIP(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// verifySources names the caller of a verification to the store: its
// client address and its device, each of which may spend a code's
// attempts, for this caller only.
func verifySources(c Caller) []string {
	src := make([]string, 0, 2)
	if ip := verifyIP(c.RemoteIP); ip != "" {
		src = append(src, "i"+ip)
	}
	return append(src, "d"+digest(c.Fingerprint))
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
	var out [24]byte
	hex.Encode(out[:], sum[:12])
	return string(out[:])
}
