package kit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
)

const mimeJSON = "application/json"

// NewValidator returns Echo middleware that checks every request to an
// operation of spec (the embedded genserver.GetSpec() document, or one with the
// same parameters and bodies) before the handler runs, and refuses a faulty
// one with the *apierr.Error that openapi.yaml documents for its first
// fault (see rules for the precedence). Requests to routes that are not
// operations of spec (health checks, metrics), and those marked
// x-raw-request: true (see rawRequest), pass untouched.
//
// The middleware matches operations by Echo's route path and method, so the
// handlers must be registered with the spec's paths (genserver.RegisterHandlers
// does). It reads the body whole: put BodyLimit before it. It leaves the
// validated body on the request for the generated strict handler to bind,
// so the body is decoded once.
//
// NewValidator fails if spec is not a valid document, or has a parameter or
// body member that the error-code table does not cover, so that the table
// cannot fall behind the spec unnoticed. Validating the document puts
// faster, equivalent matchers for its simple patterns into kin-openapi's
// process-wide pattern cache (see compilePattern).
func NewValidator(spec *openapi3.T) (echo.MiddlewareFunc, error) {
	return NewLoggingValidator(spec, nil, slog.LevelDebug)
}

// NewLoggingValidator is NewValidator that also logs each refused request
// to log at level (the field at fault and the code, never the value): the
// full service logs them at Info in dev mode, at Debug otherwise.
func NewLoggingValidator(spec *openapi3.T, log *slog.Logger, level slog.Level) (echo.MiddlewareFunc, error) {
	v, err := newValidator(spec, log, level)
	if err != nil {
		return nil, err
	}
	return v.middleware, nil
}

// validator holds what is built once from the spec, so that a request costs
// a map lookup and the precompiled header and body checks (headerCheck,
// bodyCheck); kin-openapi checks only what they do not cover, and names the
// fault of a body they refuse.
type validator struct {
	routes map[routeKey]*operation
	// opts are shared, read-only kin-openapi options.
	opts  *openapi3filter.Options
	log   *slog.Logger
	level slog.Level // of the "request refused" log line
}

type routeKey struct{ method, path string }

// operation is one spec operation, ready for openapi3filter.
type operation struct {
	route *routers.Route
	// headers are the header parameters checked by our precompiled rules;
	// params the parameters left to kin-openapi (none in the embedded
	// spec), in the order ValidateRequest visits them.
	headers    []*headerCheck
	params     []*openapi3.Parameter
	security   openapi3.SecurityRequirements // when not empty
	body       *openapi3.RequestBody         // when hasBody
	bodyCheck  *bodyCheck                    // nil: kin-openapi checks every body
	hasBody    bool
	pathParams bool
}

func newValidator(spec *openapi3.T, log *slog.Logger, level slog.Level) (*validator, error) {
	if spec == nil || spec.Paths == nil {
		return nil, errors.New("kit: the validator needs an OpenAPI document with paths")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// A shallow copy, so that clearing Servers does not change the caller's
	// document: operations are matched by Echo, not by server URL.
	doc := *spec
	doc.Servers = nil
	// Validating the document also compiles its patterns, with our compiler,
	// into kin-openapi's (process-wide) pattern cache, where request
	// validation looks them up; see compilePattern.
	if err := doc.Validate(context.Background(), openapi3.SetRegexCompiler(compilePattern)); err != nil {
		return nil, fmt.Errorf("kit: the OpenAPI document is invalid: %w", err)
	}
	v := &validator{
		routes: make(map[routeKey]*operation),
		opts: &openapi3filter.Options{
			MultiError:         true, // every fault, so that precedence is ours, not the visit order
			KeepValidatedValue: true, // the strict handler binds the validated value: one decode
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			// For patterns not yet in the cache (there should be none).
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.SetSchemaRegexCompiler(compilePattern)},
		},
		log:   log,
		level: level,
	}

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if raw, _ := op.Extensions[rawRequest].(bool); raw {
				continue
			}
			o, err := newOperation(&doc, path, item, method, op)
			if err != nil {
				return nil, err
			}
			v.routes[routeKey{method, echoPath(path)}] = o
		}
	}
	return v, nil
}

func newOperation(doc *openapi3.T, path string, item *openapi3.PathItem, method string, op *openapi3.Operation) (*operation, error) {
	o := &operation{route: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}}
	// The parameters as ValidateRequest takes them: the path item's, but
	// for those the operation overrides, then the operation's.
	var params openapi3.Parameters
	for _, p := range item.Parameters {
		if p.Value != nil && op.Parameters.GetByInAndName(p.Value.In, p.Value.Name) != nil {
			continue
		}
		params = append(params, p)
	}
	params = append(params, op.Parameters...)
	for _, p := range params {
		if p.Value == nil {
			return nil, fmt.Errorf("kit: %s %s: unresolved parameter %s", method, path, p.Ref)
		}
		switch p.Value.In {
		case openapi3.ParameterInPath:
			o.pathParams = true
			o.params = append(o.params, p.Value)
			continue
		case openapi3.ParameterInHeader:
		default:
			return nil, fmt.Errorf("kit: %s %s: %s parameter %q: only header and path parameters are mapped to error codes", method, path, p.Value.In, p.Value.Name)
		}
		i := ruleIndex(inHeader, p.Value.Name)
		if i < 0 {
			return nil, fmt.Errorf("kit: %s %s: header %q has no error codes in the rules table", method, path, p.Value.Name)
		}
		hc, ok, err := newHeaderCheck(doc, p.Value, i)
		switch {
		case err != nil:
			return nil, fmt.Errorf("kit: %s %s: %w", method, path, err)
		case !ok:
			// Our rule's own checks still run; the schema is kin-openapi's.
			hc = &headerCheck{key: http.CanonicalHeaderKey(p.Value.Name), rule: i, schemaByKin: true}
			o.params = append(o.params, p.Value)
		}
		o.headers = append(o.headers, hc)
	}
	security := op.Security
	if security == nil {
		security = &doc.Security
	}
	if len(*security) > 0 {
		o.security = *security
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		mt := rb.Value.Content.Get(mimeJSON)
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
			return nil, fmt.Errorf("kit: %s %s: the request body must be described as application/json", method, path)
		}
		for name := range mt.Schema.Value.Properties {
			if ruleIndex(inBody, name) < 0 {
				return nil, fmt.Errorf("kit: %s %s: body member %q has no error codes in the rules table", method, path, name)
			}
		}
		o.body, o.hasBody = rb.Value, true
		bc, err := newBodyCheck(doc, mt)
		if err != nil {
			return nil, fmt.Errorf("kit: %s %s: body: %w", method, path, err)
		}
		o.bodyCheck = bc
	}
	return o, nil
}

// rawRequest marks an operation whose requests the validator passes
// untouched, as it does routes outside the spec: its handler checks them.
// smscode's delivery receipts are such (their bodies are each SMS
// gateway's own format, and a signature covers the raw bytes); a team's
// server built with the kit does not serve them (they are not in
// genserver's interface).
const rawRequest = "x-raw-request"

// echoPath turns an OpenAPI path template into an Echo route path.
func echoPath(p string) string {
	p = strings.ReplaceAll(p, "{", ":")
	return strings.ReplaceAll(p, "}", "")
}

func (v *validator) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		op, ok := v.routes[routeKey{req.Method, c.Path()}]
		if !ok {
			return next(c)
		}
		f, err := v.check(c, op)
		if err != nil {
			return err
		}
		if f.rule >= 0 {
			v.logRefusal(c, f)
			return apierr.New(f.code)
		}
		return next(c)
	}
}

// check validates the request and returns its fault of highest precedence
// (noFailure when there is none). The error is for faults that are not
// the request's content, such as a body over the limit.
func (v *validator) check(c echo.Context, op *operation) (failure, error) {
	req := c.Request()
	best := noFailure
	consider := func(f failure) {
		if f.before(best) {
			best = f
		}
	}
	// The headers, by our precompiled rules (see headerCheck). Within one
	// header the first fault found is kept, across headers the rules
	// table's order decides.
	for _, h := range op.headers {
		if f := h.check(req.Header); f.rule >= 0 {
			consider(f)
		}
	}

	// The body is read first, so that its fault, if any, comes before
	// kin-openapi's, as when one ValidateRequest call checked everything.
	kinBody := false
	if op.hasBody {
		f, data, err := readBody(req)
		if err != nil {
			return noFailure, err
		}
		if f.rule >= 0 {
			consider(f)
		} else if value, members, ok, dup := op.bodyCheck.pass(data); ok {
			// The fast path: a body that passes our compiled schema needs
			// nothing from kin-openapi.
			keepValidated(req, data, value, members)
		} else if dup {
			// A member named twice: encoding/json (so kin-openapi and the
			// handler) would keep the last, a gateway may read the first.
			consider(failure{ruleBody, gen.ErrorCodeBodyMalformed, "duplicate"})
		} else if !json.Valid(data) {
			// json.Valid also refuses trailing data after the value, which
			// kin-openapi's decoder would ignore.
			consider(failure{ruleBody, gen.ErrorCodeBodyMalformed, "json"})
		} else {
			// kin-openapi, below, tells what is wrong with it.
			kinBody = true
		}
		if kinBody {
			req.Body = io.NopCloser(bytes.NewReader(data))
			req.ContentLength = int64(len(data))
		}
	}
	if len(op.params) == 0 && len(op.security) == 0 && !kinBody {
		return best, nil
	}

	// What is left to kin-openapi, in ValidateRequest's order: security
	// (none in the embedded spec), parameters without precompiled rules
	// (none either), then the body.
	ctx := req.Context()
	input := &openapi3filter.RequestValidationInput{Request: req, Route: op.route, Options: v.opts}
	if op.pathParams {
		input.PathParams = make(map[string]string, len(c.ParamNames()))
		for i, name := range c.ParamNames() {
			input.PathParams[name] = c.ParamValues()[i]
		}
	}
	if len(op.security) > 0 {
		if err := openapi3filter.ValidateSecurityRequirements(ctx, input, op.security); err != nil {
			collect(err, consider)
		}
	}
	for _, p := range op.params {
		if err := openapi3filter.ValidateParameter(ctx, input, p); err != nil {
			collect(err, consider)
		}
	}
	if kinBody {
		if err := openapi3filter.ValidateRequestBody(ctx, input, op.body); err != nil {
			collect(err, consider)
		}
	}
	return best, nil
}

// readBody checks the Content-Type and reads the body whole (check decides
// whether it is JSON, and puts it back on the request). It returns a
// failure for a body fault, an error for a body over the limit.
func readBody(req *http.Request) (failure, []byte, error) {
	ct := req.Header.Get(echo.HeaderContentType)
	if ct != "" && !isJSON(ct) {
		return failure{ruleBody, gen.ErrorCodeUnsupportedMediaType, "content-type"}, nil, nil
	}
	if ct != mimeJSON {
		// One spelling for kin-openapi and Echo's binder, which compare
		// media types more strictly than OneAccess's clients write them.
		// The request's own one-value slice is rewritten in place: no
		// allocation for the common case (OneAccess's clients send
		// "application/json;charset=utf8").
		if vs := req.Header[echo.HeaderContentType]; len(vs) == 1 {
			vs[0] = mimeJSON
		} else {
			req.Header[echo.HeaderContentType] = []string{mimeJSON}
		}
	}
	data, err := io.ReadAll(req.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return noFailure, nil, apierr.Wrap(gen.ErrorCodeBodyTooLarge, err)
		}
		// The client stopped sending or was too slow: its fault, not ours.
		return failure{ruleBody, gen.ErrorCodeBodyMalformed, "read"}, nil, nil
	}
	_ = req.Body.Close()
	return noFailure, data, nil
}

// isJSON reports whether a Content-Type value is application/json with any
// parameters, in any letter case ("application/json;charset=utf8" as
// OneAccess documents it, "Application/JSON; charset=UTF-8", ...).
func isJSON(ct string) bool {
	typ, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(typ), mimeJSON)
}

// collect reports each fault in a kin-openapi error to consider.
func collect(err error, consider func(failure)) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, err := range e {
			collect(err, consider)
		}
	case *openapi3filter.RequestError:
		if e.Parameter != nil {
			consider(paramFailure(e))
			return
		}
		if e.Err == nil || !collectSchema(e.Err, consider) {
			// Not decodable, or absent: the body as a whole.
			consider(failure{ruleBody, gen.ErrorCodeBodyMalformed, "decode"})
		}
	default:
		// Nothing else is expected (the spec has no security schemes); a
		// request that fails an unforeseen check is still a bad request.
		consider(failure{ruleBody, gen.ErrorCodeBodyMalformed, "other"})
	}
}

func paramFailure(e *openapi3filter.RequestError) failure {
	i := ruleIndex(inHeader, e.Parameter.Name)
	if i < 0 { // newOperation makes sure this cannot happen
		return failure{ruleBody, gen.ErrorCodeBodyMalformed, "parameter"}
	}
	r := &rules[i]
	switch {
	case errors.Is(e.Err, openapi3filter.ErrInvalidRequired):
		return failure{i, r.missing, "required"}
	case errors.Is(e.Err, openapi3filter.ErrInvalidEmptyValue):
		return failure{i, r.empty, "empty"}
	}
	if se, ok := errors.AsType[*openapi3.SchemaError](e.Err); ok {
		if s, ok := se.Value.(string); ok && s == "" {
			return failure{i, r.empty, "empty"}
		}
		return failure{i, r.invalid, se.SchemaField}
	}
	return failure{i, r.invalid, "parse"}
}

// collectSchema reports the schema errors in err and whether it found any.
func collectSchema(err error, consider func(failure)) bool {
	switch e := err.(type) {
	case openapi3.MultiError:
		found := false
		for _, err := range e {
			found = collectSchema(err, consider) || found
		}
		return found
	case *openapi3.SchemaError:
		consider(bodyFailure(e))
		return true
	}
	return false
}

func bodyFailure(se *openapi3.SchemaError) failure {
	ptr := se.JSONPointer()
	if len(ptr) == 0 {
		if se.SchemaField == "properties" { // additionalProperties: false
			return failure{ruleUnknown, gen.ErrorCodeUnknownField, "unknown"}
		}
		return failure{ruleBody, gen.ErrorCodeBodyMalformed, se.SchemaField} // not an object
	}
	i := ruleIndex(inBody, ptr[0])
	if i < 0 {
		return failure{ruleUnknown, gen.ErrorCodeUnknownField, "unknown"}
	}
	r := &rules[i]
	if se.SchemaField == "required" && len(ptr) == 1 {
		return failure{i, r.missing, "required"}
	}
	if s, ok := se.Value.(string); ok && s == "" {
		return failure{i, r.empty, "empty"}
	}
	return failure{i, r.invalid, se.SchemaField}
}

// logRefusal says which header or member was refused and why, never with
// its value.
func (v *validator) logRefusal(c echo.Context, f failure) {
	ctx := c.Request().Context()
	if !v.log.Enabled(ctx, v.level) {
		return
	}
	r := &rules[f.rule]
	field := r.name
	switch {
	case f.rule == ruleBody:
		field = "(body)"
	case f.rule == ruleUnknown:
		field = "(unknown member)"
	}
	v.log.LogAttrs(ctx, v.level, "request refused",
		slog.String("request_id", RequestIDFromContext(ctx)),
		slog.String("error_code", string(f.code)),
		slog.String("in", r.in),
		slog.String("field", field),
		slog.String("rule", f.what))
}
