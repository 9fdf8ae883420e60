package sender

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/phone"
	"github.com/smscode/smscode/server/store"
)

// AutoBlock is the learning SMS-pumping defence's configuration (see
// apps.AutoBlock): server-wide under pumping.auto_block, per application
// under apps[].auto_block.
type AutoBlock = apps.AutoBlock

// DefaultAutoBlock is the learning rule where configuration says nothing:
// off; when enabled, a prefix with 50 sends or more in an hour whose
// conversion is below a fifth of the application's (the norm, never taken
// below 0.5: the bar is between 10 % and 20 %) is blocked for an hour.
//
// Off by default because it blocks on a ratio that only the deployment can
// judge: an application whose users often ask for a code and do not use it
// (a sign-up form that is left half way) has a low conversion of its own.
// Read the dashboard's conversion panel for a while, then enable it.
var DefaultAutoBlock = AutoBlock{
	Enabled: new(bool), MinSends: 50, MaxRatioOfNorm: 0.2, NormFloor: ptr(0.5),
	Window: time.Hour, BlockFor: time.Hour,
}

func ptr[T any](v T) *T { return &v }

// kindAutoBlock is a send refused because the learning rule has blocked
// its prefix: the same answer as the volume rule (429 SMS.0006), its own
// name in smscode_limit_refusals_total.
var kindAutoBlock = limitKind{"prefix_conversion", gen.ErrorCodePrefixBlocked}

// conversion is what one send or verify needs for the learning rule.
type conversion struct {
	req    store.ConversionSendRequest
	prefix string // the prefix's keyed id, for the log
}

// learning reports whether the learning rule is on: the pumping defence
// enabled and its auto_block with it.
func (p Pumping) learning() bool { return !p.Disabled && p.AutoBlock.On() }

// conversionFor returns the conversion step of a number whose prefix is
// pfx (pumpPrefixOf) under pumping p, whose learning rule is on. The
// prefix's keys (its counts and block) have the prefix's hash tag, the
// app's counts the app's (see entityKey); they name the prefix by its
// keyed id only.
func conversionFor(tag string, p Pumping, pfx pumpPrefix) conversion {
	a := p.AutoBlock
	return conversion{
		prefix: pfx.id,
		req: store.ConversionSendRequest{
			Keys: store.ConversionKeys{Prefix: entityKey(tag, entityPrefix, pfx.id, ":cv", ""), App: tag + ":cv",
				Block: entityKey(tag, entityPrefix, pfx.id, ":cvb", "")},
			Rule: store.ConversionRule{
				MinSends: a.MinSends, MaxRatio: a.MaxRatioOfNorm, Floor: a.Floor(),
				Window: a.Window, BlockFor: a.BlockFor,
			},
			// The allow list wins: its prefixes count towards the
			// application's norm and are never blocked.
			Exempt: pfx.allowed,
		},
	}
}

// conversionSend is the learning rule's step of a send that Reserve has
// allowed: nil when the send may go on (it is then counted), else the
// error to answer (429 SMS.0006, or 503 SYS.0002 when the store fails:
// fail closed, as Reserve does). A block this step makes is logged at warn
// and counted.
func (s *Service) conversionSend(ctx context.Context, req SendRequest, num phone.Number, cv conversion) error {
	sctx, span := s.startSpan(ctx, spanConversion)
	res, err := s.d.Store.ConversionSend(sctx, cv.req)
	if err != nil {
		err = apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
		endSpan(span, "error", err)
		return err
	}
	if !res.Blocked {
		endSpan(span, "counted", nil)
		return nil
	}
	setLimit(span, kindAutoBlock.name)
	defer func() { endSpan(span, "refused", apierr.New(kindAutoBlock.code)) }()
	if res.NewBlock {
		s.d.Metrics.PrefixAutoBlock(req.ClientID)
		// The prefix as its keyed id and its calling code: no digits of
		// the number.
		s.d.Log.LogAttrs(ctx, slog.LevelWarn, "sms pumping: prefix blocked for low conversion",
			slog.String("request_id", req.RequestID), slog.String("client_id", req.ClientID),
			slog.String("prefix_id", cv.prefix), slog.String("country_code", "+"+strconv.Itoa(num.CallingCode)),
			slog.Int64("prefix_sent", res.PrefixSent), slog.Int64("prefix_verified", res.PrefixVerified),
			slog.Int64("app_sent", res.AppSent), slog.Int64("app_verified", res.AppVerified),
			slog.Duration("block_for", cv.req.Rule.BlockFor))
	}
	s.d.Metrics.Refusal(kindAutoBlock.name)
	return apierr.Retry(kindAutoBlock.code, res.RetryAfter)
}

// conversionUnsend gives back the count of a send whose SMS no provider
// accepted; a failure only skews the figures, so it is logged, not answered.
func (s *Service) conversionUnsend(cv conversion) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := s.d.Store.ConversionUnsend(ctx, cv.req.Keys); err != nil {
		s.d.Log.Warn("giving back a conversion count failed", slog.String("error", err.Error()))
	}
}

// conversionVerified counts a verified code for the learning rule. The
// code is already used up, so a store failure here does not change the
// answer: it is logged, and the prefix looks a little worse than it is.
func (s *Service) conversionVerified(ctx context.Context, cv conversion) {
	if err := s.d.Store.ConversionVerified(ctx, cv.req.Keys); err != nil {
		s.d.Log.LogAttrs(ctx, slog.LevelWarn, "counting a verified code for conversion failed",
			slog.String("error", err.Error()))
	}
}
