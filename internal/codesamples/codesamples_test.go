package codesamples_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	smscode "github.com/smscode/smscode"
	"github.com/smscode/smscode/internal/seed"
)

// samplesDir is where the samples' source files are, one directory per
// operationId.
const samplesDir = "../../examples/samples"

// The three samples of every operation, in the order the page shows them,
// and the file each one is copied from.
var wantSamples = []struct{ lang, label, file string }{
	{"Shell", "curl", "curl.sh"},
	{"Go", "Go", "main.go"},
	{"TypeScript", "TypeScript", "sample.ts"},
}

type codeSample struct {
	Lang   string `yaml:"lang"`
	Label  string `yaml:"label"`
	Source string `yaml:"source"`
}

type operation struct {
	OperationID string       `yaml:"operationId"`
	Description string       `yaml:"description"`
	Samples     []codeSample `yaml:"x-codeSamples"`
	Parameters  []struct {
		Ref string `yaml:"$ref"`
	} `yaml:"parameters"`
	RequestBody *struct{} `yaml:"requestBody"`
}

type spec struct {
	Info struct {
		Description string `yaml:"description"`
	} `yaml:"info"`
	Servers []struct {
		URL       string `yaml:"url"`
		Variables map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"variables"`
	} `yaml:"servers"`
	Paths      map[string]map[string]operation `yaml:"paths"`
	Components struct {
		Parameters map[string]struct {
			Name     string `yaml:"name"`
			In       string `yaml:"in"`
			Required bool   `yaml:"required"`
		} `yaml:"parameters"`
		Schemas struct {
			ErrorCode struct {
				Codes []struct {
					Code   string `yaml:"code"`
					Status int    `yaml:"status"`
				} `yaml:"x-error-codes"`
			} `yaml:"ErrorCode"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

// op is one operation with where it is.
type op struct {
	method, path string
	operation
}

func load(t *testing.T) (spec, []op) {
	t.Helper()
	var s spec
	if err := yaml.Unmarshal([]byte(smscode.OpenAPIYAML), &s); err != nil {
		t.Fatal(err)
	}
	var ops []op
	for path, item := range s.Paths {
		for method, o := range item {
			ops = append(ops, op{strings.ToUpper(method), path, o})
		}
	}
	slices.SortFunc(ops, func(a, b op) int { return strings.Compare(a.OperationID, b.OperationID) })
	if len(ops) == 0 {
		t.Fatal("openapi.yaml has no operations")
	}
	return s, ops
}

// baseURL is the first server's URL with its variables' defaults, which the
// samples use.
func baseURL(s spec) string {
	u := s.Servers[0].URL
	for name, v := range s.Servers[0].Variables {
		u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
	}
	return u
}

// headerParams returns the operation's header parameters, by name, and
// whether each is required.
func headerParams(t *testing.T, s spec, o op) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, p := range o.Parameters {
		name := strings.TrimPrefix(p.Ref, "#/components/parameters/")
		def, ok := s.Components.Parameters[name]
		if !ok {
			t.Fatalf("%s: parameter %q is not in components", o.OperationID, p.Ref)
		}
		if def.In == "header" {
			out[def.Name] = def.Required
		}
	}
	return out
}

// Every operation shows the three samples, each byte for byte the file it
// comes from; every sample directory belongs to an operation.
func TestEveryOperationHasItsSamples(t *testing.T) {
	_, ops := load(t)
	var ids []string
	for _, o := range ops {
		ids = append(ids, o.OperationID)
		if len(o.Samples) != len(wantSamples) {
			t.Errorf("%s: %d x-codeSamples, want %d (curl, Go, TypeScript)", o.OperationID, len(o.Samples), len(wantSamples))
			continue
		}
		for i, w := range wantSamples {
			got := o.Samples[i]
			if got.Lang != w.lang || got.Label != w.label {
				t.Errorf("%s: sample %d is {lang: %s, label: %s}, want {lang: %s, label: %s}", o.OperationID, i, got.Lang, got.Label, w.lang, w.label)
			}
			file := filepath.Join(samplesDir, o.OperationID, w.file)
			want, err := os.ReadFile(file)
			if err != nil {
				t.Errorf("%s: %v", o.OperationID, err)
				continue
			}
			if got.Source != string(want) {
				t.Errorf("%s: the %s sample in openapi.yaml is not %s; copy the file into x-codeSamples", o.OperationID, w.label, file)
			}
		}
	}
	dirs, err := os.ReadDir(samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		// ts holds the tools of make check-samples, which type-checks the
		// TypeScript samples.
		if d.IsDir() && d.Name() != "ts" && !slices.Contains(ids, d.Name()) {
			t.Errorf("%s/%s: no operation has this operationId", samplesDir, d.Name())
		}
	}
}

// The curl sample of sendSms is the seed's request, OneAccess's example:
// the same headers, value for value, and the same body.
func TestSendCurlIsTheSeedRequest(t *testing.T) {
	s, ops := load(t)
	i := slices.IndexFunc(ops, func(o op) bool { return o.OperationID == "sendSms" })
	if i < 0 {
		t.Fatal("no sendSms operation")
	}
	req := parseCurl(t, ops[i].Samples[0].Source)
	if want := baseURL(s) + ops[i].path; req.method != http.MethodPost || req.url != want {
		t.Errorf("curl sends %s %s, want POST %s", req.method, req.url, want)
	}
	want := seed.Headers()
	for name := range want {
		if got := req.header.Values(name); !slices.Equal(got, want.Values(name)) {
			t.Errorf("header %s = %q, the seed's is %q", name, got, want.Values(name))
		}
	}
	for name := range req.header {
		if _, ok := want[name]; !ok {
			t.Errorf("header %s is not in the seed's request", name)
		}
	}
	if req.body != seed.Body {
		t.Errorf("body:\n%s\nthe seed's:\n%s", req.body, seed.Body)
	}
}

// Every curl sample calls its operation's method and path with every
// required header, and only headers the operation declares (and
// Content-Type, exactly when there is a body).
func TestCurlSamplesMatchTheirOperation(t *testing.T) {
	s, ops := load(t)
	for _, o := range ops {
		if len(o.Samples) == 0 {
			continue // TestEveryOperationHasItsSamples reports it
		}
		req := parseCurl(t, o.Samples[0].Source)
		if want := baseURL(s) + o.path; req.method != o.method || !pathURL(want).MatchString(req.url) {
			t.Errorf("%s: curl sends %s %s, want %s %s", o.OperationID, req.method, req.url, o.method, want)
		}
		params := headerParams(t, s, o)
		for name, required := range params {
			if required && req.header.Get(name) == "" {
				t.Errorf("%s: curl has no %s header, which is required", o.OperationID, name)
			}
		}
		for name := range req.header {
			if name == "Content-Type" {
				continue
			}
			if !slices.ContainsFunc(mapsKeys(params), func(p string) bool { return http.CanonicalHeaderKey(p) == name }) {
				t.Errorf("%s: curl sends %s, which the operation does not declare", o.OperationID, name)
			}
		}
		hasBody := o.RequestBody != nil
		if (req.body != "") != hasBody || (req.header.Get("Content-Type") != "") != hasBody {
			t.Errorf("%s: curl body %q, Content-Type %q; the operation takes a body: %v", o.OperationID, req.body, req.header.Get("Content-Type"), hasBody)
		}
	}
}

// Every TypeScript sample calls its operation's method and path through
// openapi-fetch and names every header parameter. (`make check-samples`
// type-checks them against openapi-typescript's types of the spec, with tsc.)
func TestTypeScriptSamplesNameTheirOperation(t *testing.T) {
	s, ops := load(t)
	for _, o := range ops {
		if len(o.Samples) < 3 {
			continue
		}
		src := o.Samples[2].Source
		if call := fmt.Sprintf("client.%s(%q, {", o.method, o.path); !strings.Contains(src, call) {
			t.Errorf("%s: the TypeScript sample does not call %s", o.OperationID, call)
		}
		if !strings.Contains(src, `from "openapi-fetch"`) {
			t.Errorf("%s: the TypeScript sample does not import openapi-fetch", o.OperationID)
		}
		for name := range headerParams(t, s, o) {
			if !strings.Contains(src, fmt.Sprintf("%q:", name)) {
				t.Errorf("%s: the TypeScript sample does not set header %s", o.OperationID, name)
			}
		}
		if hasBody := strings.Contains(src, "  body: "); hasBody != (o.RequestBody != nil) {
			t.Errorf("%s: the TypeScript sample has a body: %v; the operation takes one: %v", o.OperationID, hasBody, o.RequestBody != nil)
		}
	}
}

// The Go samples compile against the module's packages as they are now.
// (`go build ./...` and `go vet ./...` build them too; this says which
// test failed.)
func TestGoSamplesBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	out, err := exec.Command("go", "build", "-o", os.DevNull, samplesDir+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s/...: %v\n%s", samplesDir, err, out)
	}
}

// The page's "Error codes" section (in info.description) has a row for
// every code of x-error-codes, with its status; every operation links to
// it, and the codes an operation lists are those the section's rows give it.
func TestErrorCodesSection(t *testing.T) {
	s, ops := load(t)
	rows := map[string][]string{} // code -> status, operations
	re := regexp.MustCompile(`(?m)^\| (\d{3}) \| ([A-Z]+\.\d{4}) \| ([^|]+) \| [^|]+ \|$`)
	_, table, ok := strings.Cut(s.Info.Description, "# Error codes\n")
	if !ok {
		t.Fatal("info.description has no \"# Error codes\" heading")
	}
	for _, m := range re.FindAllStringSubmatch(table, -1) {
		rows[m[2]] = []string{m[1], m[3]}
	}
	var order []string
	for _, c := range s.Components.Schemas.ErrorCode.Codes {
		order = append(order, c.Code)
		r, ok := rows[c.Code]
		if !ok {
			t.Errorf("Error codes section has no row for %s", c.Code)
			continue
		}
		if r[0] != fmt.Sprint(c.Status) {
			t.Errorf("Error codes section: %s has status %s, x-error-codes %d", c.Code, r[0], c.Status)
		}
	}
	if len(rows) != len(order) {
		t.Errorf("Error codes section has %d rows, x-error-codes %d codes", len(rows), len(order))
	}
	listRe := regexp.MustCompile(`\*\*Errors:\*\* (.+?)\. Each`)
	for _, o := range ops {
		if !strings.Contains(o.Description, "[Error codes](#section/Error-codes)") {
			t.Errorf("%s: the description does not link to [Error codes](#section/Error-codes)", o.OperationID)
		}
		m := listRe.FindStringSubmatch(o.Description)
		if m == nil {
			t.Errorf("%s: the description has no **Errors:** list", o.OperationID)
			continue
		}
		listed := expand(t, o.OperationID, m[1], order)
		var want []string
		for _, code := range order {
			if r, ok := rows[code]; ok && (r[1] == "all" || slices.Contains(strings.Split(r[1], ", "), o.OperationID)) {
				want = append(want, code)
			}
		}
		if !slices.Equal(listed, want) {
			t.Errorf("%s: the description lists %v; the Error codes section gives it %v", o.OperationID, listed, want)
		}
	}
}

// pathURL matches the URLs of a path template: each {param} one path
// segment, then an optional query (receiveSmsReceipt's token).
func pathURL(template string) *regexp.Regexp {
	expr := regexp.QuoteMeta(template)
	expr = regexp.MustCompile(`\\\{[A-Za-z_]+\\\}`).ReplaceAllString(expr, `[^/?]+`)
	return regexp.MustCompile(`^` + expr + `(\?[^#]*)?$`)
}

// expand turns "`A.0001`-`A.0003`, `B.0001`" into the codes it names, in
// catalog order.
func expand(t *testing.T, where, list string, order []string) []string {
	t.Helper()
	var out []string
	for _, part := range strings.Split(list, ", ") {
		from, to, isRange := strings.Cut(part, "-")
		from, to = strings.Trim(from, "`"), strings.Trim(to, "`")
		i := slices.Index(order, from)
		j := i
		if isRange {
			j = slices.Index(order, to)
		}
		if i < 0 || j < i {
			t.Errorf("%s: **Errors:** %q names no codes of x-error-codes", where, part)
			continue
		}
		out = append(out, order[i:j+1]...)
	}
	return out
}

func mapsKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// curlRequest is what a curl command line sends.
type curlRequest struct {
	method, url, body string
	header            http.Header
}

// parseCurl reads the samples' curl command: single-quoted or bare words,
// lines joined by a backslash, and the flags -X, -H and --data-raw. It
// fails on anything else, so a sample stays in the subset it checks.
func parseCurl(t *testing.T, src string) curlRequest {
	t.Helper()
	words := shellWords(t, src)
	if len(words) == 0 || words[0] != "curl" {
		t.Fatalf("curl sample does not start with curl: %q", src)
	}
	req := curlRequest{method: http.MethodGet, header: http.Header{}}
	for i := 1; i < len(words); i++ {
		w := words[i]
		next := func() string {
			if i+1 >= len(words) {
				t.Fatalf("curl sample: %s takes a value", w)
			}
			i++
			return words[i]
		}
		switch {
		case w == "-X":
			req.method = next()
		case w == "-H":
			name, value, ok := strings.Cut(next(), ": ")
			if !ok {
				t.Fatalf("curl sample: header %q is not \"Name: value\"", words[i])
			}
			req.header.Add(name, value)
		case w == "--data-raw":
			req.body = next()
		case strings.HasPrefix(w, "https://") || strings.HasPrefix(w, "http://"):
			req.url = w
		default:
			t.Fatalf("curl sample: unexpected word %q", w)
		}
	}
	return req
}

func shellWords(t *testing.T, src string) []string {
	t.Helper()
	var words []string
	for i := 0; i < len(src); {
		switch c := src[i]; {
		case c == ' ' || c == '\n' || c == '\t':
			i++
		case strings.HasPrefix(src[i:], "\\\n"):
			i += 2
		case c == '\'':
			end := strings.IndexByte(src[i+1:], '\'')
			if end < 0 {
				t.Fatalf("curl sample: unterminated quote at %d", i)
			}
			words = append(words, src[i+1:i+1+end])
			i += end + 2
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \n\t", rune(src[j])) {
				if strings.ContainsRune("\"\\'$`", rune(src[j])) {
					t.Fatalf("curl sample: %q in a bare word; quote it with '...'", src[j])
				}
				j++
			}
			words = append(words, src[i:j])
			i = j
		}
	}
	return words
}
