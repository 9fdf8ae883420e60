package metrics

// The label and status functions, for TestHTTPIsEchoprometheus's reference
// (echoprometheus configured with them, as HTTP was).
var (
	StatusOf    = statusOf
	RouteLabel  = routeLabel
	MethodLabel = methodLabel
)
