package apps_test

import (
	"fmt"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
)

func Example() {
	reg, err := apps.NewRegistry([]apps.App{
		{ClientID: "web", Code: apps.CodeSettings{TTL: 10 * time.Minute}},
		{ClientID: "isv", TenantID: "acme", Scenarios: []gen.Scenario{gen.ScenarioLogin}},
		{ClientID: "old", Disabled: true},
	})
	if err != nil {
		panic(err)
	}

	// X-client-id: web, no X-tenant-id.
	app, err := reg.Lookup("web", "")
	if err != nil {
		panic(err)
	}
	code := app.CodeFor(gen.ScenarioBindMobile)
	fmt.Println(app.Scope(), code.Length, code.TTL, code.MaxAttempts)

	// An ISV application is found only with its tenant.
	isv, _ := reg.Lookup("isv", "acme")
	fmt.Println(isv.Scope(), isv.Allows(gen.ScenarioLogin), isv.Allows(gen.ScenarioRegister))
	_, err = reg.Lookup("isv", "")
	fmt.Println(apierr.From(err).Code)

	_, err = reg.Lookup("old", "")
	fmt.Println(apierr.From(err).Code)
	// Output:
	// web 6 10m0s 5
	// isv/acme true false
	// APP.0001
	// APP.0003
}

func ExampleNewRegistry() {
	_, err := apps.NewRegistry([]apps.App{
		{ClientID: "web", Code: apps.CodeSettings{Length: 12}},
	})
	fmt.Println(err)
	// Output:
	// apps[0] (client_id "web"): code.length 12 is outside 4..10
}
