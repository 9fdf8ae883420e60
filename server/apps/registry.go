package apps

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
)

// Registry holds the validated applications. It is read-only after
// NewRegistry, so it is safe for concurrent use.
type Registry struct {
	byKey map[appKey]*App
	// clients holds every client id, with any tenant, so that a miss can
	// say in the logs whether the tenant was the problem.
	clients map[string]bool
	all     []*App
	devOnly bool
}

// appKey is how requests name an application: X-tenant-id (possibly empty)
// and X-client-id.
type appKey struct{ tenant, client string }

// ErrNoApps is returned by NewRegistry when no application is configured: a
// server without one could only answer APP.0001.
var ErrNoApps = errors.New("apps: no application configured")

// NewRegistry validates apps and returns a registry of copies of them (later
// changes to the slice or its maps do not reach the registry). It reports
// every problem found, each prefixed with the application's index and
// client id; two applications may not share a (tenant_id, client_id) pair.
func NewRegistry(apps []App) (*Registry, error) {
	if len(apps) == 0 {
		return nil, ErrNoApps
	}
	r := &Registry{byKey: make(map[appKey]*App, len(apps)), clients: make(map[string]bool, len(apps))}
	var errs []error
	for i := range apps {
		a := apps[i].clone()
		for _, err := range a.validate() {
			errs = append(errs, fmt.Errorf("apps[%d] (client_id %q): %w", i, a.ClientID, err))
		}
		k := appKey{a.TenantID, a.ClientID}
		if _, dup := r.byKey[k]; dup {
			errs = append(errs, fmt.Errorf("apps[%d]: client_id %q with tenant_id %q is registered twice", i, a.ClientID, a.TenantID))
			continue
		}
		r.byKey[k] = a
		r.clients[a.ClientID] = true
		r.all = append(r.all, a)
		r.devOnly = r.devOnly || a.DevOnly()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// Lookup returns the application a request names: clientID is X-client-id
// and tenantID X-tenant-id ("" when absent). The pair must match exactly: a
// request without a tenant finds only applications registered without one,
// and an ISV application only with its tenant. An unknown application is
// APP.0001 (gen.ErrorCodeAppNotFound), a disabled one APP.0003
// (gen.ErrorCodeAppDisabled).
//
// The App returned is shared: callers must not modify it.
func (r *Registry) Lookup(clientID, tenantID string) (*App, error) {
	a, ok := r.byKey[appKey{tenantID, clientID}]
	if !ok {
		return nil, apierr.Wrap(gen.ErrorCodeAppNotFound, r.notFoundCause(clientID, tenantID))
	}
	if a.Disabled {
		return nil, apierr.Wrap(gen.ErrorCodeAppDisabled, fmt.Errorf("application %s is disabled", a.Scope()))
	}
	return a, nil
}

// notFoundCause says, for the logs only, whether the client id exists
// under another tenant: the usual mistake with ISV applications is a
// missing or extra X-tenant-id.
func (r *Registry) notFoundCause(clientID, tenantID string) error {
	if r.HasClient(clientID) {
		return fmt.Errorf("client id %q is not registered with tenant id %q, only with others", clientID, tenantID)
	}
	return fmt.Errorf("client id %q is not registered", clientID)
}

// HasClient reports whether clientID is registered, under any tenant and
// enabled or not: the bounded set of client ids that metrics may name.
func (r *Registry) HasClient(clientID string) bool { return r.clients[clientID] }

// Apps returns the applications in configuration order, for start-up
// checks such as provider names. They must not be modified.
func (r *Registry) Apps() []*App { return slices.Clone(r.all) }

// DevOnly reports whether any application lists captcha test tokens or
// test numbers: the server then refuses to start unless development mode
// is on.
func (r *Registry) DevOnly() bool { return r.devOnly }

// clone copies a so that the registry owns every slice and map it keeps.
func (a *App) clone() *App {
	c := *a
	c.Scenarios = slices.Clone(a.Scenarios)
	c.Phone.AllowCountries = slices.Clone(a.Phone.AllowCountries)
	c.Phone.DenyCountries = slices.Clone(a.Phone.DenyCountries)
	c.Providers = slices.Clone(a.Providers)
	c.Captcha.TestTokens = slices.Clone(a.Captcha.TestTokens)
	c.TestNumbers = maps.Clone(a.TestNumbers)
	c.testCodes = nil // built by validate
	if a.Templates != nil {
		c.Templates = make(map[string]map[gen.Scenario]string, len(a.Templates))
		for lang, m := range a.Templates {
			c.Templates[lang] = maps.Clone(m)
		}
	}
	c.Code.PerScenario = maps.Clone(a.Code.PerScenario)
	return &c
}
