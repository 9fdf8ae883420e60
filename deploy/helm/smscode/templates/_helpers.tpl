{{/* The release's base name, at most 63 characters (a DNS label). */}}
{{- define "smscode.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "smscode.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The labels of every object, but the component. */}}
{{- define "smscode.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "smscode.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "smscode.labels" -}}
{{ include "smscode.commonLabels" . }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "smscode.redisLabels" -}}
{{ include "smscode.commonLabels" . }}
app.kubernetes.io/component: redis
{{- end -}}

{{- define "smscode.selectorLabels" -}}
app.kubernetes.io/name: {{ include "smscode.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "smscode.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "smscode.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end -}}

{{/* The Secret the server reads: yours, or the one the chart makes. */}}
{{- define "smscode.secretName" -}}
{{- if .Values.secret.existingSecret -}}
{{- .Values.secret.existingSecret -}}
{{- else -}}
{{- include "smscode.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "smscode.redisName" -}}
{{- printf "%s-redis" (include "smscode.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
