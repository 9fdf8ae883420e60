// Package server is the HTTP layer of smscode: an Echo server that serves
// the operations of openapi.yaml (POST /api/v2/sdk/sms/send and
// /api/v2/sdk/sms/verify) through the generated strict server (package gen)
// and hands each valid request to a Service.
//
// # What a request goes through
//
// When tracing is on (Config.TracerProvider), tracing.Middleware first
// (the server span, a child of the caller's traceparent). Then RequestID
// (X-Request-Id echoed or generated, and a deadline of
// Config.RequestTimeout), AccessLog (one JSON line: request id, method,
// route, status, error_code, latency; no bodies, no header values; the
// probes at debug),
// Recover (a panic is a 500 SYS.0001, its stack is logged only),
// HeaderLimit (431 HEADER.0006), BodyLimit (413 REQ.0002) and the
// validator, then the generated handler.
//
// The validator checks each request against the embedded spec with
// kin-openapi's openapi3filter, with the operation found from Echo's
// matched route (a map built once), and turns the faults into the error
// codes the spec documents for them, from one table (rules.go): for each
// header and body member, the code when it is missing, when it is empty and
// when it is otherwise invalid. When a request has several faults, the
// answer is fixed by the table's order: X-client-id, the other headers in
// spec order, then the body. Content-Type may be any spelling of
// application/json with or without parameters (OneAccess documents
// "application/json;charset=utf8"); a request without one is read as JSON;
// anything else is 415 REQ.0003.
//
// Every answer that is not 2xx is {"error_code", "error_msg"}: error_msg is
// the catalog's message (package apierr) in the language of X-L, and never
// holds the submitted value, a pattern, a schema or a Go error. Errors from
// the Service are *apierr.Error values; their RetryAfter becomes a
// Retry-After header. Bad input is never answered with a 5xx.
//
// The validator, the error handler and the middleware are package kit's
// (the stub kit, which a backend team uses to serve the spec with its own
// implementation, without importing this package and the service with it).
//
// # Using the pieces with your own implementation
//
// A team that implements genserver.StrictServerInterface itself imports
// package kit, not this one: kit.NewEcho mounts it with the same checks and
// error answers, and kit.Unimplemented answers 501 for the operations it
// does not offer. See examples/stubserver.
package server
