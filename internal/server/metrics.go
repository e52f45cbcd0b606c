package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// scimEndpoints are the lower-cased first path segments the SCIM
	// handler serves (users, groups, bulk, ...): the only ones that become
	// labels of their own.
	scimEndpoints map[string]bool
}

func newMetrics(reg prometheus.Registerer, scimRoutes []string) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_http_requests_total",
			Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scimbridge_http_request_duration_seconds",
			Help:    "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		scimEndpoints: endpointSet(scimRoutes),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// endpointSet takes routes as "METHOD /Users/{id}" and returns their
// lower-cased first segments.
func endpointSet(routes []string) map[string]bool {
	set := map[string]bool{}
	for _, r := range routes {
		_, path, _ := strings.Cut(r, " ")
		seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		set[strings.ToLower(seg)] = true
	}
	return set
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// methods are the request methods that are labels of their own; any other
// method is counted as "other".
var methods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func methodLabel(method string) string {
	if methods[method] {
		return method
	}
	return "other"
}

// routeLabel keeps metric cardinality bounded, whatever the client sends:
// the label is the route pattern the root router matched (so only routes
// the server defines), refined under the SCIM base to one of the SCIM
// handler's endpoints with ids as {id}; a request no route matched is
// "other".
func (m *metrics) routeLabel(r *http.Request, base string) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return "other"
	}
	pattern := rctx.RoutePattern()
	switch {
	case pattern == "" || pattern == "/*":
		return "other"
	case pattern == base+"/*" || pattern == base:
		return m.scimLabel(strings.TrimPrefix(r.URL.Path, base), base)
	}
	return pattern
}

// scimLabel is the label of a path below the SCIM base: base/<endpoint>
// or base/<endpoint>/{id} for a known endpoint, else base/other.
func (m *metrics) scimLabel(rest, base string) string {
	seg, tail, _ := strings.Cut(strings.Trim(rest, "/"), "/")
	seg = strings.ToLower(seg)
	if !m.scimEndpoints[seg] {
		return base + "/other"
	}
	if tail != "" {
		return base + "/" + seg + "/{id}"
	}
	return base + "/" + seg
}
