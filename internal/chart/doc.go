// Package chart holds the tests of the Helm chart in deploy/helm/smscode.
// They read the chart's renders committed in deploy/helm/rendered (one per
// ci/NAME-values.yaml), since Helm is too heavy to run in `go test`: `make
// chart` writes them with `helm template`, and CI's `make check-chart` fails
// when they are not what the chart renders, so the test reads the chart as
// it is.
package chart
