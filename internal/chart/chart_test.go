package chart_test

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/smscode/smscode/internal/image"
	"github.com/smscode/smscode/server/config"
)

// The subset of the Kubernetes objects the tests read. Decoding is not
// strict: the fields not named here are not checked by these types.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec       yaml.Node         `yaml:"spec"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
}

type deploymentSpec struct {
	Replicas int `yaml:"replicas"`
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec podSpec `yaml:"spec"`
	} `yaml:"template"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int            `yaml:"terminationGracePeriodSeconds"`
	AutomountServiceAccountToken  *bool           `yaml:"automountServiceAccountToken"`
	EnableServiceLinks            *bool           `yaml:"enableServiceLinks"`
	SecurityContext               securityContext `yaml:"securityContext"`
	Containers                    []container     `yaml:"containers"`
	Volumes                       []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type securityContext struct {
	RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
	RunAsUser                *int64 `yaml:"runAsUser"`
	ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
	Privileged               *bool  `yaml:"privileged"`
	Capabilities             struct {
		Add  []string `yaml:"add"`
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
	SeccompProfile struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env     []envVar `yaml:"env"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext securityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef *struct {
			Name string `yaml:"name"`
			Key  string `yaml:"key"`
		} `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
	PeriodSeconds    int `yaml:"periodSeconds"`
	FailureThreshold int `yaml:"failureThreshold"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
		Name       string `yaml:"name"`
		Port       int    `yaml:"port"`
		TargetPort any    `yaml:"targetPort"`
	} `yaml:"ports"`
}

type pdbSpec struct {
	MinAvailable   any `yaml:"minAvailable"`
	MaxUnavailable any `yaml:"maxUnavailable"`
	Selector       struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
}

// render is one committed render of the chart: the objects by kind and name.
type render map[string]map[string]object

func load(t *testing.T, file string) render {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "helm", "rendered", file))
	if err != nil {
		t.Fatalf("%v (make chart writes it)", err)
	}
	r := render{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if o.Kind == "" {
			continue // an empty document
		}
		if r[o.Kind] == nil {
			r[o.Kind] = map[string]object{}
		}
		if _, dup := r[o.Kind][o.Metadata.Name]; dup {
			t.Errorf("%s: two %s named %s", file, o.Kind, o.Metadata.Name)
		}
		r[o.Kind][o.Metadata.Name] = o
	}
	return r
}

func decodeSpec[T any](t *testing.T, o object) T {
	t.Helper()
	var s T
	if err := o.Spec.Decode(&s); err != nil {
		t.Fatalf("%s %s: spec: %v", o.Kind, o.Metadata.Name, err)
	}
	return s
}

// selects reports whether a selector's labels are all in labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestChartRenders checks each committed render of the chart for what a
// safe deployment of the server needs: probes on /healthz and /readyz, a
// non-root read-only security context with the image's user, resources, a
// PodDisruptionBudget and a Service that select the pods, the HMAC secret
// and provider keys from a Secret that exists (or the operator's), the
// Redis URL, a grace period longer than the drain, and a configuration
// file the server loads.
func TestChartRenders(t *testing.T) {
	tests := []struct {
		file string
		// The Secret the pods must read, and whether the chart renders it.
		secretName     string
		secretRendered bool
		// The environment for loading the configuration: the Secret's keys
		// (from the render when it has the Secret).
		env map[string]string
		// Where SMSCODE_REDIS_URL comes from: the bundled Redis's Service,
		// or the Secret.
		redisFromService bool
	}{
		{file: "default.yaml", secretName: "smscode", secretRendered: true, redisFromService: true},
		{
			file: "external.yaml", secretName: "smscode-keys",
			env: map[string]string{
				"SMSCODE_SECRET":     strings.Repeat("ab", 32),
				"SMS_WEBHOOK_SECRET": "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3",
				"SMSCODE_REDIS_URL":  "redis://:password@redis.example:6379/0",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := load(t, tt.file)
			var server object
			var found int
			for _, d := range r["Deployment"] {
				if d.Metadata.Labels["app.kubernetes.io/component"] == "server" {
					server, found = d, found+1
				}
			}
			if found != 1 {
				t.Fatalf("%d server Deployments, want 1", found)
			}
			dep := decodeSpec[deploymentSpec](t, server)
			pod := dep.Template.Spec
			podLabels := dep.Template.Metadata.Labels
			if !selects(dep.Selector.MatchLabels, podLabels) {
				t.Errorf("the Deployment's selector %v does not select its pods %v", dep.Selector.MatchLabels, podLabels)
			}
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			c := pod.Containers[0]

			// Probes, by the container port's name.
			ports := map[string]int{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			for _, p := range []struct {
				name string
				pr   *probe
				path string
			}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
				if p.pr == nil || p.pr.HTTPGet == nil {
					t.Errorf("no %s probe with httpGet", p.name)
					continue
				}
				if p.pr.HTTPGet.Path != p.path || p.pr.HTTPGet.Port != "http" {
					t.Errorf("%s probe GET %s on port %v, want %s on http", p.name, p.pr.HTTPGet.Path, p.pr.HTTPGet.Port, p.path)
				}
			}
			if ports["http"] != image.APIPort || ports["metrics"] != image.MetricsPort {
				t.Errorf("container ports %v, want http %d and metrics %d (the image's)", ports, image.APIPort, image.MetricsPort)
			}

			// Every Deployment's pods run as non-root, read-only, without
			// privileges; the server as the image's user.
			for _, d := range r["Deployment"] {
				ps := decodeSpec[deploymentSpec](t, d).Template.Spec
				checkSecurity(t, d.Metadata.Name, ps)
				if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
					t.Errorf("%s: the service account token is mounted; nothing here calls the Kubernetes API", d.Metadata.Name)
				}
			}
			// Kubernetes would set SMSCODE_PORT and the like from the Service
			// names, in the namespace the server reads its SMSCODE_* overrides from.
			if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
				t.Error("enableServiceLinks is not false")
			}
			if u := pod.SecurityContext.RunAsUser; u == nil || *u != image.UID {
				t.Errorf("server pod runAsUser %v, want the image's %d", u, image.UID)
			}

			// Secrets: every reference names the expected Secret, which the
			// render has (with the keys referenced) or the operator makes.
			refs, keys := secretRefs(c, pod)
			if len(refs) == 0 {
				t.Error("the server reads no Secret")
			}
			for _, name := range refs {
				if name != tt.secretName {
					t.Errorf("a reference to Secret %q, want %q", name, tt.secretName)
				}
			}
			secret, rendered := r["Secret"][tt.secretName]
			if rendered != tt.secretRendered {
				t.Fatalf("Secret %s rendered: %v, want %v", tt.secretName, rendered, tt.secretRendered)
			}
			env := map[string]string{}
			if rendered {
				for k, v := range secret.StringData {
					env[k] = v
				}
				for _, k := range keys {
					if _, ok := secret.StringData[k]; !ok {
						t.Errorf("secretKeyRef to key %s, which Secret %s has not", k, tt.secretName)
					}
				}
			} else {
				env = tt.env
			}
			byName := map[string]envVar{}
			for _, e := range c.Env {
				byName[e.Name] = e
			}
			if e := byName[config.EnvSecret]; e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.Value != "" {
				t.Errorf("%s is not taken from a secretKeyRef: %+v", config.EnvSecret, e)
			}
			for _, e := range c.Env {
				for k, v := range env {
					if e.Value != "" && strings.Contains(e.Value, v) && k != config.EnvRedisURL {
						t.Errorf("env %s holds the value of secret key %s in clear", e.Name, k)
					}
				}
			}

			// The Redis URL.
			redis := byName[config.EnvRedisURL]
			if tt.redisFromService {
				u, err := url.Parse(redis.Value)
				if err != nil || u.Scheme != "redis" {
					t.Fatalf("%s %q: want redis://SERVICE:6379/0", config.EnvRedisURL, redis.Value)
				}
				svc, ok := r["Service"][u.Hostname()]
				if !ok {
					t.Fatalf("%s names host %s: no such Service in the render", config.EnvRedisURL, u.Hostname())
				}
				ss := decodeSpec[serviceSpec](t, svc)
				if len(ss.Ports) != 1 || strconv.Itoa(ss.Ports[0].Port) != u.Port() {
					t.Errorf("Redis Service ports %+v, URL port %s", ss.Ports, u.Port())
				}
				var backed bool
				for _, d := range r["Deployment"] {
					if selects(ss.Selector, decodeSpec[deploymentSpec](t, d).Template.Metadata.Labels) {
						backed = backed || d.Metadata.Name != server.Metadata.Name
					}
				}
				if !backed {
					t.Errorf("Service %s selects no Redis pods", u.Hostname())
				}
				env[config.EnvRedisURL] = redis.Value
				// The bundled Redis has no password: a NetworkPolicy lets
				// only the server's pods in.
				checkRedisPolicy(t, r, ss.Selector, podLabels)
			} else if redis.ValueFrom == nil || redis.ValueFrom.SecretKeyRef == nil || redis.ValueFrom.SecretKeyRef.Key != config.EnvRedisURL {
				t.Errorf("%s: %+v, want the Secret's key %s", config.EnvRedisURL, redis, config.EnvRedisURL)
			}

			// The configuration: mounted from the ConfigMap at the path of
			// -config, and loadable by the server with the Secret's values.
			cfgPath := flagValue(c.Args, "-config")
			if cfgPath == "" {
				t.Fatalf("args %q: no -config", c.Args)
			}
			var cmName string
			for _, m := range c.VolumeMounts {
				if strings.HasPrefix(cfgPath, m.MountPath+"/") {
					for _, v := range pod.Volumes {
						if v.Name == m.Name && v.ConfigMap != nil {
							cmName = v.ConfigMap.Name
						}
					}
					if !m.ReadOnly {
						t.Errorf("the configuration is mounted writable")
					}
				}
			}
			cm, ok := r["ConfigMap"][cmName]
			if !ok {
				t.Fatalf("-config %s is not in a mounted ConfigMap of the render (%q)", cfgPath, cmName)
			}
			text, ok := cm.Data[path.Base(cfgPath)]
			if !ok {
				t.Fatalf("ConfigMap %s has no %s", cmName, path.Base(cfgPath))
			}
			for k, v := range env {
				if k != config.EnvRedisURL && strings.Contains(text, v) {
					t.Errorf("ConfigMap %s holds the value of secret key %s", cmName, k)
				}
			}
			cfg := loadConfig(t, text, env)
			if cfg.DevMode {
				t.Error("the chart's configuration is in dev mode")
			}
			if cfg.Store.Kind != "redis" {
				t.Errorf("store.kind %q, want redis (replicas share limits and codes)", cfg.Store.Kind)
			}
			for _, a := range []struct {
				what, addr string
				port       int
			}{{"addr", cfg.Addr, ports["http"]}, {"metrics_addr", cfg.MetricsAddr, ports["metrics"]}} {
				host, port, err := net.SplitHostPort(a.addr)
				if err != nil || port != strconv.Itoa(a.port) || (host != "0.0.0.0" && host != "" && host != "::") {
					t.Errorf("config %s %q: want every interface on the container port %d", a.what, a.addr, a.port)
				}
			}

			// The grace period outlasts the drain and the in-flight requests.
			// config.Load has filled in the defaults of what the file omits.
			drain, inFlight := cfg.Shutdown.DrainDelay, cfg.Shutdown.GraceTimeout()
			// The drain outlasts the readiness probe's failures that take the
			// pod out of the endpoints (Kubernetes' defaults: 10 s, 3 times),
			// or the load balancer still sends when the listener closes.
			if rp := c.ReadinessProbe; rp != nil {
				period, failures := cmp.Or(rp.PeriodSeconds, 10), cmp.Or(rp.FailureThreshold, 3)
				if notReady := time.Duration(period*failures) * time.Second; drain <= notReady {
					t.Errorf("shutdown.drain_delay %s, not longer than the readiness probe's %d s × %d failures = %s", drain, period, failures, notReady)
				}
			}
			if pod.TerminationGracePeriodSeconds == nil {
				t.Error("no terminationGracePeriodSeconds")
			} else if grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second; grace <= drain+inFlight {
				t.Errorf("terminationGracePeriodSeconds %s, not longer than the drain %s + in-flight %s", grace, drain, inFlight)
			}

			// The Service and the PodDisruptionBudget select the server's pods.
			svc, ok := r["Service"][server.Metadata.Name]
			if !ok {
				t.Fatalf("no Service %s", server.Metadata.Name)
			}
			ss := decodeSpec[serviceSpec](t, svc)
			if !selects(ss.Selector, podLabels) {
				t.Errorf("Service selector %v does not select the pods %v", ss.Selector, podLabels)
			}
			var targets []string
			for _, p := range ss.Ports {
				targets = append(targets, fmt.Sprint(p.TargetPort))
			}
			slices.Sort(targets)
			if !slices.Equal(targets, []string{"http", "metrics"}) {
				t.Errorf("Service targets %v, want http and metrics", targets)
			}
			if len(r["PodDisruptionBudget"]) != 1 {
				t.Fatalf("%d PodDisruptionBudgets, want 1", len(r["PodDisruptionBudget"]))
			}
			for _, p := range r["PodDisruptionBudget"] {
				ps := decodeSpec[pdbSpec](t, p)
				if !selects(ps.Selector.MatchLabels, podLabels) {
					t.Errorf("PodDisruptionBudget selector %v does not select the pods", ps.Selector.MatchLabels)
				}
				if ps.MaxUnavailable == nil && ps.MinAvailable == nil {
					t.Error("PodDisruptionBudget sets neither maxUnavailable nor minAvailable")
				}
				if n, ok := ps.MinAvailable.(int); ok && n >= dep.Replicas {
					t.Errorf("minAvailable %d with %d replicas: no pod can ever be evicted", n, dep.Replicas)
				}
			}
		})
	}
}

// checkSecurity checks a pod and its containers: non-root, no privilege
// escalation, every capability dropped, a read-only root file system, the
// runtime's seccomp profile, and resources.
func checkSecurity(t *testing.T, name string, ps podSpec) {
	t.Helper()
	psc := ps.SecurityContext
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod runAsNonRoot is not true", name)
	}
	if psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: pod runAsUser %v, want a non-root uid", name, psc.RunAsUser)
	}
	if psc.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("%s: seccompProfile %q, want RuntimeDefault", name, psc.SeccompProfile.Type)
	}
	for _, c := range ps.Containers {
		sc := c.SecurityContext
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s/%s: readOnlyRootFilesystem is not true", name, c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s/%s: allowPrivilegeEscalation is not false", name, c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s/%s: privileged", name, c.Name)
		}
		if !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s/%s: capabilities %+v, want drop ALL and add none", name, c.Name, sc.Capabilities)
		}
		if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
			t.Errorf("%s/%s: runAsNonRoot false", name, c.Name)
		}
		if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
			t.Errorf("%s/%s: resources %+v, want cpu and memory requests and a memory limit", name, c.Name, c.Resources)
		}
	}
}

// secretRefs returns the Secrets a container reads (env secretKeyRef,
// envFrom secretRef, secret volumes) and the keys its secretKeyRefs name.
func secretRefs(c container, pod podSpec) (names, keys []string) {
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			names = append(names, e.ValueFrom.SecretKeyRef.Name)
			keys = append(keys, e.ValueFrom.SecretKeyRef.Key)
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			names = append(names, ef.SecretRef.Name)
		}
	}
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			names = append(names, v.Secret.SecretName)
		}
	}
	return names, keys
}

func flagValue(args []string, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}

// loadConfig loads text as the server does (config.Load: ${VAR} expanded,
// SMSCODE_* overrides, validated) in the environment env.
func loadConfig(t *testing.T, text string, env map[string]string) config.Config {
	t.Helper()
	for _, k := range []string{config.EnvAddr, config.EnvMetricsAddr, config.EnvDevMode, config.EnvLogLevel} {
		t.Setenv(k, "") // the test runner's own must not change the file's
	}
	for _, ref := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(text, -1) {
		if _, ok := env[ref[1]]; !ok {
			t.Errorf("the configuration reads ${%s}, which the Secret has not", ref[1])
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("the server refuses the chart's configuration: %v", err)
	}
	return cfg
}

// networkPolicySpec is the part of a NetworkPolicy the test reads.
type networkPolicySpec struct {
	PodSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"podSelector"`
	PolicyTypes []string `yaml:"policyTypes"`
	Ingress     []struct {
		From []struct {
			PodSelector *struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"podSelector"`
		} `yaml:"from"`
	} `yaml:"ingress"`
}

// checkRedisPolicy: one NetworkPolicy selects the Redis pods (those the
// Redis Service selects) and admits ingress only from pods that are the
// server's.
func checkRedisPolicy(t *testing.T, r render, redisSelector, serverPods map[string]string) {
	t.Helper()
	var found int
	for name, o := range r["NetworkPolicy"] {
		np := decodeSpec[networkPolicySpec](t, o)
		if !selects(np.PodSelector.MatchLabels, redisSelector) {
			continue
		}
		found++
		if !slices.Contains(np.PolicyTypes, "Ingress") || len(np.Ingress) == 0 {
			t.Errorf("NetworkPolicy %s: no ingress rules", name)
		}
		for _, in := range np.Ingress {
			if len(in.From) == 0 {
				t.Errorf("NetworkPolicy %s: an ingress rule from anywhere", name)
			}
			for _, f := range in.From {
				if f.PodSelector == nil || !selects(f.PodSelector.MatchLabels, serverPods) || selects(f.PodSelector.MatchLabels, redisSelector) {
					t.Errorf("NetworkPolicy %s admits %+v, want only the server's pods", name, f)
				}
			}
		}
	}
	if found != 1 {
		t.Errorf("%d NetworkPolicies select the bundled Redis, want 1", found)
	}
}
