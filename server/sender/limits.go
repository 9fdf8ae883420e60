package sender

import (
	"cmp"
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
	// Allow lists prefixes ("+86138", "+1") that are never blocked, by
	// either rule.
	Allow []string `yaml:"allow"`
	// AutoBlock is the learning rule: prefixes whose conversion is far
	// below the application's are blocked (see conversion.go). Off by
	// default; applications may override it (apps.App.AutoBlock).
	AutoBlock AutoBlock `yaml:"auto_block"`
}

// DefaultLimits are the limits used where configuration says nothing:
// 60 s between two codes to one number for one scenario (Supabase Auth's
// and most gateways' figure); 10 codes per number per 24 h; 20 sends per
// device fingerprint and 50 per client IP per hour (50 leaves room for a
// carrier NAT while stopping a script); 10,000 per application per 24 h.
//
// Verification: a code's max_attempts wrong codes per number per day from
// one client IP and from one device (see verifyLimitsFor); 50 failed
// attempts per client IP and 20 per device per hour (the send limits' figures: a person mistypes a few times, a script
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
var DefaultPumping = Pumping{PrefixDigits: 3, Max: 100, Window: 10 * time.Minute, BlockFor: time.Hour, AutoBlock: DefaultAutoBlock}

// Or returns p with every zero field taken from def.
func (p Pumping) Or(def Pumping) Pumping {
	p.PrefixDigits = cmp.Or(p.PrefixDigits, def.PrefixDigits)
	p.Max = cmp.Or(p.Max, def.Max)
	p.Window = cmp.Or(p.Window, def.Window)
	p.BlockFor = cmp.Or(p.BlockFor, def.BlockFor)
	p.AutoBlock = p.AutoBlock.Over(def.AutoBlock)
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
	// One label for both sources: metrics need not tell them apart.
	kindVerifyCaller = limitKind{"verify_number_caller_daily", gen.ErrorCodeVerifyCallerNumberDailyLimit}
)

const day = 24 * time.Hour

// maxLimits is how many limits limitsFor builds at most.
const maxLimits = 6

// limitsFor builds the limits of one send, most specific first, so that a
// refusal names the narrowest reason (a second send within the cooldown is
// SMS.0001, not a device limit), and the key of its code (codeKey's). Each
// key carries the hash tag of the entity it counts, within the
// application's (see entityKey): the number's keys one tag, the device's,
// the client address's and the prefix's each another, and the
// application's daily count the app's own tag, so that on a Redis Cluster
// one application's keys spread over the slots. The number and its prefix
// appear in them only as ids (keyed hashes, see keyIDs). pfx is the
// number's prefix (pumpPrefixOf). kinds[i] names ls[i]; it is an array,
// returned by value, to spare an allocation.
func limitsFor(tag string, l Limits, p Pumping, pfx pumpPrefix, ids keyIDs, scenario gen.Scenario, c Caller) (code string, ls []store.Limit, kinds [maxLimits]limitKind) {
	// Every key is written into b, on the stack (a send's keys are about
	// 700 bytes), then cut out of one string: a send's seven keys cost one
	// allocation together, where a concatenation each (and the device's id)
	// cost eight.
	var buf [1024]byte
	var endBuf [maxLimits + 1]int
	b, ends := buf[:0], endBuf[:0]
	var specs [maxLimits]store.Limit
	// add ends the key just written in b as the next limit's.
	add := func(k limitKind, max int64, window, block time.Duration) {
		kinds[len(ends)], specs[len(ends)] = k, store.Limit{Max: max, Window: window, Block: block}
		ends = append(ends, len(b))
	}
	b = appendEntityKey(b, tag, entityNumber, ids.number, ":cd:", string(scenario))
	add(kindCooldown, 1, l.NumberCooldown, 0)
	b = appendEntityKey(b, tag, entityNumber, ids.number, ":nd", "")
	add(kindNumber, l.NumberDaily, day, 0)
	b = appendEntityClose(ids.appendDevice(appendEntityOpen(b, tag, entityDevice), c.Fingerprint), ":dev", "")
	add(kindDevice, l.DevicePerHour, time.Hour, 0)
	if c.RemoteIP != "" {
		b = appendEntityClose(appendClientIP(appendEntityOpen(b, tag, entityIP), c.RemoteIP), ":ip", "")
		add(kindIP, l.IPPerHour, time.Hour, 0)
	}
	if !p.Disabled && !pfx.allowed {
		b = appendEntityKey(b, tag, entityPrefix, pfx.id, ":pfx", "")
		add(kindPrefix, p.Max, p.Window, p.BlockFor)
	}
	// The one application-wide key of a send.
	b = append(append(b, tag...), ":app"...)
	add(kindApp, l.AppDaily, day, 0)
	n := len(ends)
	b = appendEntityKey(b, tag, entityNumber, ids.number, ":code:", string(scenario))

	keys, start := string(b), 0
	ls = make([]store.Limit, n)
	for i := range ls {
		ls[i] = specs[i]
		ls[i].Key, start = keys[start:ends[i]], ends[i]
	}
	return keys[start:], ls, kinds
}

// appendEntityKey appends entityKey(tag, entity, id, rest, arg) to b.
func appendEntityKey(b []byte, tag, entity, id, rest, arg string) []byte {
	return appendEntityClose(append(appendEntityOpen(b, tag, entity), id...), rest, arg)
}

// appendEntityOpen and appendEntityClose write an entity key around its id,
// which the caller appends in between: "{scope:n:" + id + "}" + rest + arg.
func appendEntityOpen(b []byte, tag, entity string) []byte {
	return append(append(b, tag[:len(tag)-1]...), entity...)
}

func appendEntityClose(b []byte, rest, arg string) []byte {
	return append(append(append(b, '}'), rest...), arg...)
}

// The entities whose keys get a hash tag of their own (entityKey).
const (
	entityNumber = ":n:"
	entityDevice = ":d:"
	entityIP     = ":i:"
	entityPrefix = ":p:"
)

// entityKey is the key named by rest and arg (two parts, so that callers
// need not concatenate them first) of entity id (a number's, a device's
// or a prefix's keyed id, or a client address) within the application
// whose tag is tag: "{scope:n:<id>}:cd:LOGIN_SMS". The hash tag is the
// application's scope with the entity, so that every key of one entity
// (a number's cooldown, daily count, code and verify counts) is in one
// slot, different entities are in different slots, and two applications
// never share a key. tag is apps.Tag's "{scope}".
func entityKey(tag, entity, id, rest, arg string) string {
	var buf [256]byte
	return string(appendEntityKey(buf[:0], tag, entity, id, rest, arg))
}

// maxVerifyLimits is how many limits verifyLimitsFor builds at most.
const maxVerifyLimits = 5

// verifyLimitsFor builds the limits of one verification, most specific
// first: wrong codes per number per day from this client IP and from this
// device (maxAttempts each, the code's own cap, across codes and
// scenarios), wrong codes per number per day, then failures per device and
// per client IP per hour. kinds[i] names ls[i]. The keys are tagged as
// limitsFor's: the number's with the code's tag, the device's and the
// address's each with their own.
//
// The per-caller daily limits make a lock-out expensive: the number's daily
// budget (VerifyNumberDaily wrong codes) can only be spent from
// VerifyNumberDaily/maxAttempts distinct addresses and as many devices,
// however many codes the attacker has sent to the number, in however many
// scenarios; without them, one address could spend it over a few codes.
//
// ip is the caller's clientIP ("" when unknown), dev its device id.
func verifyLimitsFor(tag string, l Limits, ids keyIDs, ip, dev string, maxAttempts int) (ls []store.VerifyLimit, kinds [maxVerifyLimits]limitKind) {
	ls = make([]store.VerifyLimit, 0, maxVerifyLimits)
	add := func(k limitKind, key string, max int64, window time.Duration, anyFailure bool) {
		kinds[len(ls)] = k
		ls = append(ls, store.VerifyLimit{Limit: store.Limit{Key: key, Max: max, Window: window}, AnyFailure: anyFailure})
	}
	if ip != "" {
		add(kindVerifyCaller, entityKey(tag, entityNumber, ids.number, ":vnc:i", ip), int64(maxAttempts), day, false)
	}
	add(kindVerifyCaller, entityKey(tag, entityNumber, ids.number, ":vnc:d", dev), int64(maxAttempts), day, false)
	add(kindVerifyNumber, entityKey(tag, entityNumber, ids.number, ":vn", ""), l.VerifyNumberDaily, day, false)
	add(kindVerifyDevice, entityKey(tag, entityDevice, dev, ":vdev", ""), l.VerifyDevicePerHour, time.Hour, true)
	if ip != "" {
		add(kindVerifyIP, entityKey(tag, entityIP, ip, ":vip", ""), l.VerifyIPPerHour, time.Hour, true)
	}
	return ls, kinds
}

// clientIP is the client address as the limits count it: an IPv4 address
// as it is (an IPv4-mapped IPv6 address, ::ffff:a.b.c.d, is the same
// client and counts as a.b.c.d), an IPv6 address as its /64, which is what
// one subscriber is usually given, so that walking the addresses of one /64
// (2^64 of them) buys no more sends or guesses than one address.
func clientIP(ip string) string {
	if ip == "" {
		return "" // unknown: no address limit (see limitsFor)
	}
	var buf [64]byte
	return string(appendClientIP(buf[:0], ip))
}

// appendClientIP appends clientIP(ip) to b; ip is not empty.
func appendClientIP(b []byte, ip string) []byte {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		// Not an address (Echo's RealIP gives one; a misconfigured
		// proxy chain might not): one shared bucket rather than the
		// text itself, which would be unbounded and could hold a "}"
		// that ends the key's hash tag early.
		return append(b, unparsedIP...)
	}
	if a = a.Unmap(); a.Is4() {
		return a.AppendTo(b)
	}
	p, err := a.Prefix(64)
	if err != nil {
		return append(b, ip...)
	}
	return p.AppendTo(b)
}

// unparsedIP is clientIP's answer for a remote address that does not parse.
const unparsedIP = "unparsed"

// verifySources names the caller of a verification to the store: its
// client address (clientIP) and its device id, each of which may spend a
// code's attempts, for this caller only.
func verifySources(ip, dev string) []string {
	src := make([]string, 0, 2)
	if ip != "" {
		src = append(src, "i"+ip)
	}
	return append(src, "d"+dev)
}

// pumpPrefix is a number's pumping prefix as the two pumping rules need
// it: the volume rule's limit (limitsFor) and the learning rule's step
// (conversionFor) key on the same keyed id, so a send works it out once
// (pumpPrefixOf) and hands it to both.
type pumpPrefix struct {
	id      string // ids.prefix of the prefix; "" when no rule keys on it
	allowed bool   // on Pumping.Allow: never blocked, by either rule
}

// pumpPrefixOf is num's prefix under p. Its keyed id (an HMAC) is worked
// out only when a rule keys on it: the volume rule does for a prefix off
// the allow list, the learning rule, when on, for every prefix (the
// allow-listed ones count towards the application's norm).
func (ids keyIDs) pumpPrefixOf(p Pumping, num phone.Number) pumpPrefix {
	if p.Disabled {
		return pumpPrefix{}
	}
	prefix := num.Prefix(p.PrefixDigits)
	pfx := pumpPrefix{allowed: allowed(p.Allow, prefix)}
	if !pfx.allowed || p.AutoBlock.On() {
		pfx.id = ids.prefix(prefix)
	}
	return pfx
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
