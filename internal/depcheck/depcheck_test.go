package depcheck

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The limits. (a) a program importing only client/: gen (models and
// client), oapi-codegen's runtime and its two small deps, x/text/language
// (X-L) and client itself: 11 today. (b) the stub server: Echo, kin-openapi
// and their dependencies are the floor (about 55); 63 today, against 118
// when a team had to import server/.
const (
	maxClientOnly = 12
	maxStubServer = 70
)

type program struct {
	name, pkg string
	max       int      // 0: printed, not limited
	forbidden []string // import path prefixes that must not be linked
}

var programs = []program{
	{"(a) client only", "github.com/smscode/smscode/examples/sendcode", maxClientOnly, []string{
		"github.com/labstack/echo", "github.com/getkin/kin-openapi", "github.com/santhosh-tekuri/jsonschema",
		"golang.org/x/crypto/acme", "github.com/smscode/smscode/gen/genserver", "github.com/smscode/smscode/kit",
		"github.com/smscode/smscode/server",
	}},
	{"(b) stub server", "github.com/smscode/smscode/examples/stubserver", maxStubServer, []string{
		"github.com/smscode/smscode/server/sender", "github.com/smscode/smscode/server/sms",
		"github.com/smscode/smscode/server/captcha", "github.com/smscode/smscode/server/metrics",
		"github.com/smscode/smscode/server/store", "github.com/prometheus", "github.com/nyaruka/phonenumbers",
		"github.com/redis",
	}},
	{"(c) full binary", "github.com/smscode/smscode/cmd/smscode", 0, nil},
}

// TestDependencyFigures prints, for (a) a program importing only client/,
// (b) the example stub server and (c) the full binary, the packages outside
// the standard library that go list -deps finds (the program itself not
// counted), and fails when (a) or (b) is over its limit or links a
// forbidden package.
func TestDependencyFigures(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	for _, p := range programs {
		out, err := exec.Command(gobin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", p.pkg).Output()
		if err != nil {
			t.Fatalf("%s: go list -deps %s: %v", p.name, p.pkg, err)
		}
		var deps []string
		for _, line := range strings.Fields(string(out)) {
			if line != p.pkg {
				deps = append(deps, line)
			}
		}
		limit := "no limit"
		if p.max > 0 {
			limit = "limit " + strconv.Itoa(p.max)
		}
		t.Logf("%s, %s: %d packages outside the standard library (%s)", p.name, p.pkg, len(deps), limit)
		if p.max > 0 && len(deps) > p.max {
			t.Errorf("%s links %d packages outside the standard library, over %d:\n%s", p.name, len(deps), p.max, strings.Join(deps, "\n"))
		}
		for _, d := range deps {
			for _, f := range p.forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s links %s (forbidden: %s)", p.name, d, f)
				}
			}
		}
	}
}
