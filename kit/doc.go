// Package kit is the stub kit for a backend team that implements the API of
// openapi.yaml itself: the request validator, the error catalog's answers,
// the error handler and the middleware that smscode's own server uses, so
// that a team's server makes the same checks and answers the same
// documented {"error_code", "error_msg"} bodies. It imports Echo,
// kin-openapi, the generated packages (gen, gen/genserver) and the error
// catalog (server/apierr, which reads openapi.yaml), and nothing of the
// service: no store, SMS provider, CAPTCHA or metrics.
//
// # Wiring
//
// A team embeds Unimplemented in its own type, so that it writes only the
// operations it offers (the others answer 501 SYS.0003 with the Error body,
// gRPC's Unimplemented convention), and mounts it with NewEcho:
//
//	type api struct{ kit.Unimplemented }
//
//	func (api) SendSms(ctx context.Context, req genserver.SendSmsRequestObject) (genserver.SendSmsResponseObject, error) {
//		// req passed the validator: headers and body are as the spec says.
//		return genserver.SendSms200JSONResponse{Body: gen.SendSmsResultOK}, nil
//	}
//
//	e, err := kit.NewEcho(api{}, kit.Config{Log: logger})
//	...
//	http.ListenAndServe(addr, e)
//
// A handler refuses a request by returning an *apierr.Error
// (apierr.New(gen.ErrorCodeTooFrequent), apierr.Retry for a Retry-After);
// any other error is answered 500 SYS.0001, with its text logged, never
// shown. examples/stubserver is a whole team server, with its tests.
//
// # What a request goes through
//
// NewEcho installs, in this order: RequestContext (X-Request-Id echoed or
// generated, and a deadline of Config.RequestTimeout), AccessLog (one JSON
// line: request id, method, route, status, error_code, latency; no bodies,
// no header values; /healthz, /readyz, /livez and /metrics at debug level),
// Recover (a panic is a 500 SYS.0001, its stack is logged only),
// HeaderLimit (431 HEADER.0006), BodyLimit (413 REQ.0002) and the
// validator, then the generated strict handler; ErrorHandler is Echo's
// HTTPErrorHandler. A team that builds its own Echo can use each piece
// alone (see the package example).
//
// The validator checks each request against the embedded spec
// (genserver.GetSpec), with the operation found from Echo's matched route,
// and turns the faults into the error codes the spec documents for them,
// from one table (rules.go): for each header and body member, the code when
// it is missing, when it is empty and when it is otherwise invalid. When a
// request has several faults, the answer is fixed by the table's order:
// X-client-id, the other headers in spec order, then the body. Content-Type
// may be any spelling of application/json with or without parameters
// (OneAccess documents "application/json;charset=utf8"); a request without
// one is read as JSON; anything else is 415 REQ.0003.
//
// Every answer that is not 2xx is {"error_code", "error_msg"}: error_msg is
// the catalog's message (package apierr) in the language of X-L, and never
// holds the submitted value, a pattern, a schema or a Go error. Bad input is
// never answered with a 5xx.
package kit
