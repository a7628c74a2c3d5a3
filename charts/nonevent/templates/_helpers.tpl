{{/* Names, truncated to 63 characters (the DNS label limit) without a trailing dash. */}}
{{- define "nonevent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nonevent.fullname" -}}
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

{{- define "nonevent.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nonevent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nonevent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "nonevent.labels" -}}
helm.sh/chart: {{ include "nonevent.chart" . }}
{{ include "nonevent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "nonevent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "nonevent.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The metrics Service: the full name with room for the suffix within 63 characters. */}}
{{- define "nonevent.metricsServiceName" -}}
{{- printf "%s-metrics" (include "nonevent.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{/* Where InPlace patch Jobs run: patchJobs.namespace, else "<release namespace>-patch". */}}
{{- define "nonevent.patchJobNamespace" -}}
{{- default (printf "%s-patch" .Release.Namespace) .Values.patchJobs.namespace }}
{{- end }}
