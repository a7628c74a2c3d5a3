#!/usr/bin/env python3
"""Writes crds/*.yaml, the source of truth for the nonevent.dev API. The shared pieces
(DrainPolicy, label selectors, durations, conditions) are defined once here so the two
CRDs cannot drift apart. Run after changing the API; commit the YAML it writes."""
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "crds"
# At most seven digits a component: what fits Go's int64 nanoseconds (the operator refuses
# the same, kube/clock.cpp parse_duration).
DURATION = r"^([0-9]{1,7}(\.[0-9]+)?(ms|s|m|h))+$"


def duration(default=None, desc=""):
    s = {"type": "string", "pattern": DURATION, "description": desc + " A Go duration such as 90s, 30m or 2h."}
    if default is not None:
        s["default"] = default
    return s


def label_selector(desc):
    return {"type": "object", "description": desc, "x-kubernetes-map-type": "atomic", "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matchExpressions": {"type": "array", "x-kubernetes-list-type": "atomic", "items": {
            "type": "object", "required": ["key", "operator"], "properties": {
                "key": {"type": "string"},
                "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                "values": {"type": "array", "x-kubernetes-list-type": "atomic", "items": {"type": "string"}}}}}}}


DRAIN = {"type": "object", "default": {}, "description": "How nodes are drained.", "properties": {
    "maxConcurrentEvictions": {"type": "integer", "minimum": 1, "default": 50,
                               "description": "Evictions in flight at once, cluster-wide."},
    "podEvictionTimeout": duration("10m", "How long one pod may stay blocked before its node is reported blocked."),
    "gracePeriodSeconds": {"type": "integer", "minimum": -1, "default": -1,
                           "description": "Grace period for evicted pods; -1 uses each pod's own."},
    "deleteEmptyDirData": {"type": "boolean", "default": False,
                           "description": "Evict pods with emptyDir volumes (their data is lost). When false they are blockers."},
    "evictUnmanagedPods": {"type": "boolean", "default": False,
                           "description": "Evict pods no controller will recreate. When false they are blockers."},
    "skipPodSelector": label_selector("Pods left alone on drained nodes."),
    "onBlocked": {"type": "string", "enum": ["Wait", "SkipNode", "Force"], "default": "Wait",
                  "description": "What to do about a pod that cannot be evicted: wait, leave its node, or delete it after forceAfter."},
    "forceAfter": duration(None, "With onBlocked Force: how long a pod is tried before it is deleted."),
    "rollout": {"type": "object", "default": {}, "description":
                "Pods their PodDisruptionBudget will not let go (a single replica, a budget equal to the replicas), moved by "
                "their Deployment while the node is cordoned: a rollout when it surges, else one replica more and back. "
                "Needs the chart's drainRollout.enabled.", "properties": {
        "when": {"type": "string", "enum": ["Never", "WhenBlocked"], "default": "Never",
                 "description": "Never: wait on the budget. WhenBlocked: move the pod by its Deployment."},
        "namespaceSelector": label_selector("Namespaces whose Deployments may be moved (empty: all)."),
    }},
}, "x-kubernetes-validations": [
    {"rule": "self.onBlocked != 'Force' || has(self.forceAfter)", "message": "onBlocked: Force needs forceAfter",
     "fieldPath": ".forceAfter", "reason": "FieldValueRequired"}]}

CONDITIONS = {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"], "items": {
    "type": "object", "required": ["type", "status", "lastTransitionTime", "reason", "message"], "properties": {
        "type": {"type": "string"}, "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
        "observedGeneration": {"type": "integer", "minimum": 0},
        "lastTransitionTime": {"type": "string", "format": "date-time"},
        "reason": {"type": "string"}, "message": {"type": "string"}}}}

COUNT = {"type": "integer", "minimum": 0}
TIME = {"type": "string", "format": "date-time"}
BLOCKERS = {"type": "array", "maxItems": 20, "description": "Most important first; bounded.", "items": {
    "type": "object", "required": ["reason"], "properties": {
        "kind": {"type": "string", "enum": ["Pod", "PodDisruptionBudget", "Workload", "Node", "Zone", "MachineDeployment", "DaemonSet"]},
        "namespace": {"type": "string"}, "name": {"type": "string"},
        "reason": {"type": "string"}, "message": {"type": "string"}}}}


def crd(plural, kind, short, spec_schema, status_schema, columns, desc):
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.nonevent.dev"},
            "spec": {"group": "nonevent.dev", "scope": "Cluster",
                     "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": kind + "List",
                               "shortNames": [short], "categories": ["nonevent"]},
                     "versions": [{"name": "v1alpha1", "served": True, "storage": True,
                                   "subresources": {"status": {}},
                                   "additionalPrinterColumns": columns,
                                   "schema": {"openAPIV3Schema": {
                                       "type": "object", "description": desc, "required": ["spec"], "properties": {
                                           "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                           "metadata": {"type": "object"},
                                           "spec": spec_schema, "status": status_schema}}}}]}}


HEALTH_CHECKS = {"type": "object", "required": ["checks"], "description":
    "What must hold before new work: checked every interval; one failing check stops new work (fail closed: a check that "
    "cannot be answered fails), failureThreshold failing evaluations in a row act per onFailure. Prometheus checks go to the "
    "operator's --prometheus-url.", "properties": {
    "interval": duration("1m", "How often the checks run."),
    "failureThreshold": {"type": "integer", "minimum": 1, "default": 3, "description": "Failing evaluations in a row before onFailure acts."},
    "onFailure": {"type": "string", "enum": ["Pause", "Abort"], "default": "Pause",
                  "description": "Pause (set spec.paused; resume once healthy) or Abort."},
    "checks": {"type": "array", "minItems": 1, "maxItems": 20, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
               "items": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 63},
        "prometheus": {"type": "object", "properties": {
            "query": {"type": "string", "minLength": 1, "description": "PromQL for an instant vector or scalar; every series must be within max/min. No data fails (append `or vector(0)` if it means healthy)."},
            "max": {"type": "number"}, "min": {"type": "number"},
            "expectEmpty": {"type": "boolean", "description": "Healthy when the query returns no series (alert-style queries)."},
            "firingAlerts": {"type": "object", "additionalProperties": {"type": "string"},
                             "description": "Fails while any firing alert has all these labels ({} for any alert)."}},
            "x-kubernetes-validations": [
                {"rule": "has(self.query) != has(self.firingAlerts)", "message": "give query (with max, min or expectEmpty) or firingAlerts"},
                {"rule": "!has(self.query) || has(self.max) || has(self.min) || (has(self.expectEmpty) && self.expectEmpty)",
                 "message": "say what healthy is: max, min, or expectEmpty: true"}]},
        "kubernetes": {"type": "object", "properties": {
            "nodesReady": {"type": "boolean", "description": "Fails while a node nothing cordoned is NotReady."},
            "pendingPodsOlderThan": duration(None, "Fails while a pod has been Pending for longer than this.")}}},
        "x-kubernetes-validations": [{"rule": "has(self.prometheus) != has(self.kubernetes)", "message": "give exactly one of prometheus or kubernetes"}]}}}}

HEALTH_STATUS = {"type": "object", "description": "The newest health evaluation (spec.healthChecks).", "properties": {
    "checkedAt": {"type": "string", "format": "date-time"}, "passing": {"type": "boolean"},
    "consecutiveFailures": {"type": "integer", "minimum": 0}, "failureThreshold": {"type": "integer", "minimum": 0},
    "reason": {"type": "string"}, "message": {"type": "string"},
    "checks": {"type": "array", "maxItems": 20, "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "passing": {"type": "boolean"}, "query": {"type": "string"},
        "observed": {"type": "string"}, "message": {"type": "string"}}}}}}

MW_SPEC = {"type": "object", "required": ["zones"], "properties": {
    "zones": {"type": "array", "minItems": 1, "x-kubernetes-list-type": "set", "items": {"type": "string", "minLength": 1},
              "description": "Values of zoneLabel whose nodes go away during the window."},
    "zoneLabel": {"type": "string", "minLength": 1, "default": "topology.kubernetes.io/zone"},
    "nodeSelector": label_selector("Restrict the window to some nodes of those zones."),
    "start": {"type": "string", "format": "date-time", "description": "One-off window: when the zone goes away (RFC 3339)."},
    "end": {"type": "string", "format": "date-time", "description": "One-off window: when the zone is back."},
    "schedule": {"type": "string", "pattern": r"^\S+( \S+){4}$",
                 "description": "Recurring window: a 5-field cron expression (minute hour day-of-month month day-of-week)."},
    "duration": duration(None, "Recurring window: how long each occurrence lasts."),
    "timeZone": {"type": "string", "default": "UTC", "description": "IANA time zone of the schedule."},
    "evacuateBefore": duration("2h", "Lead time: the zone must be empty by the window's start."),
    "restore": {"type": "string", "enum": ["Uncordon", "Keep"], "default": "Uncordon",
                "description": "After the window: uncordon the nodes the operator cordoned, or keep them cordoned."},
    "rebalance": {"type": "boolean", "default": True, "description": "Move displaced pods back into the zone after restore."},
    "healthChecks": dict(HEALTH_CHECKS, description="Rebalancing after the window evicts only while these pass (the window's times are the provider's; they never move). onFailure Abort stops rebalancing once failureThreshold is reached."),
    "drain": DRAIN,
    "safety": {"type": "object", "default": {}, "properties": {
        "minAvailableZones": {"type": "integer", "minimum": 1, "default": 2,
                              "description": "Never leave fewer schedulable zones than this."},
        "requireCapacity": {"type": "boolean", "default": True,
                            "description": "Refuse to evacuate unless the other zones can hold the displaced pods' requests."}}},
    "suspend": {"type": "boolean", "default": False},
}, "x-kubernetes-validations": [
    {"rule": "has(self.start) || has(self.schedule)", "message": "set start and end (one-off) or schedule and duration (recurring)"},
    {"rule": "!(has(self.start) && has(self.schedule))", "message": "start/end and schedule/duration are mutually exclusive"},
    {"rule": "has(self.start) == has(self.end)", "message": "start and end go together", "fieldPath": ".end"},
    {"rule": "has(self.schedule) == has(self.duration)", "message": "schedule and duration go together", "fieldPath": ".duration"},
    {"rule": "!has(self.start) || !has(self.end) || timestamp(self.start) < timestamp(self.end)",
     "message": "end must be after start", "fieldPath": ".end"},
]}
# minAvailableZones needs the cluster's zone count, so the controller enforces it, not the schema.

HELD_BY_OTHERS = {"type": "array", "maxItems": 100, "description": "Nodes another disruptor holds (kured, node-maintenance-operator, Karpenter, cluster-autoscaler, a hand cordon): out of service, never claimed, never uncordoned by nonevent.",
                  "items": {"type": "object", "required": ["node", "holder"], "properties": {
                      "node": {"type": "string"}, "holder": {"type": "string"}, "reason": {"type": "string"}}}}

MW_STATUS = {"type": "object", "properties": {
    "phase": {"type": "string", "enum": ["Scheduled", "Evacuating", "Evacuated", "InProgress", "Restoring",
                                          "Rebalancing", "Completed", "Blocked", "Missed", "Failed"],
              "description": "Missed: the window ended before anything was done (created too late, or Blocked throughout); nothing was touched."},
    "observedGeneration": {"type": "integer", "minimum": 0},
    "conditions": CONDITIONS,
    "evacuationStart": TIME, "windowStart": TIME, "windowEnd": TIME, "nextWindowStart": TIME,
    "nodes": {"type": "object", "properties": {"total": COUNT, "cordoned": COUNT, "drained": COUNT, "restored": COUNT, "skipped": COUNT}},
    "pods": {"type": "object", "properties": {"evicted": COUNT, "blocked": COUNT, "pendingElsewhere": COUNT}},
    "blockers": BLOCKERS,
    "heldByOthers": HELD_BY_OTHERS,
    "preflight": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                  "description": "The plan computed before touching anything (see `nonevent plan`)."},
    "health": HEALTH_STATUS,
    "summary": {"type": "string", "description": "One line for `kubectl get`: what the window is doing and what it waits on."}}}

MW_COLUMNS = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Zones", "type": "string", "jsonPath": ".spec.zones"},
    {"name": "Drained", "type": "integer", "jsonPath": ".status.nodes.drained"},
    {"name": "Nodes", "type": "integer", "jsonPath": ".status.nodes.total"},
    {"name": "Start", "type": "string", "jsonPath": ".status.windowStart"},
    {"name": "Summary", "type": "string", "jsonPath": ".status.summary"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
# Start, ETA and Deadline are strings, not kubectl's "date" type: that one prints an age, and a
# time in the future as 0s (issue 23.10).

# Nodes per zone: no zone has more than 10,000 (kube-apiserver's own scalability limit is
# 5,000 nodes a cluster), and a percentage above 100% means nothing. The operator checks the
# same bounds (controllers/campaign_spec.cpp, kMaxNodesPerZone).
INT_OR_PERCENT = lambda default, desc: {
    "x-kubernetes-int-or-string": True, "default": default, "description": desc + " An integer (0 to 10000) or a percentage (0% to 100%) such as 10%.",
    "x-kubernetes-validations": [{"rule": "type(self) == int ? self >= 0 && self <= 10000 : self.matches('^(100|[1-9]?[0-9])%$')",
                                  "message": "must be an integer from 0 to 10000 or a percentage from 0% to 100%"}]}

PC_SPEC = {"type": "object", "required": ["target"], "properties": {
    "target": {"type": "object", "required": ["version"], "properties": {
        "version": {"type": "string", "minLength": 1, "description": "What a patched node reports."},
        "source": {"type": "string", "enum": ["Label", "Annotation", "OSImage", "KernelVersion", "KubeletVersion"],
                   "default": "Label", "description": "Where a node reports its version."},
        "key": {"type": "string", "default": "nonevent.dev/image-version",
                "description": "The label or annotation key, for source Label or Annotation."}}},
    "nodeSelector": label_selector("Restrict the campaign to some nodes."),
    "zones": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string", "minLength": 1},
              "description": "Order to roll zones in; empty means every zone, in name order."},
    "zoneLabel": {"type": "string", "minLength": 1, "default": "topology.kubernetes.io/zone"},
    "strategy": {"type": "object", "default": {}, "properties": {
        "type": {"type": "string", "enum": ["InPlace", "Replace", "External"], "default": "InPlace"},
        "maxUnavailable": INT_OR_PERCENT("10%", "Nodes per zone out at once."),
        "maxSurge": INT_OR_PERCENT(0, "Replace only: new nodes per zone added before old ones go, by scaling up the Cluster API MachineDeployment that owns each node (nodes without one are only replaced under maxUnavailable). With maxUnavailable 0 a zone never has less capacity than it started with."),
        "zonesInParallel": {"type": "integer", "minimum": 1, "default": 1},
        "canary": {"type": "object", "default": {}, "properties": {
            "nodes": {"type": "integer", "minimum": 0, "default": 1},
            "soak": duration("10m", "Pause after the canary batch to watch health.")}},
        "batchSoak": duration("0s", "Pause between batches.")},
        "x-kubernetes-validations": [
            {"rule": "self.type == 'Replace' || self.maxSurge == 0", "message": "maxSurge is only valid for strategy Replace",
             "fieldPath": ".maxSurge"},
            {"rule": "!((self.maxUnavailable == 0 || self.maxUnavailable == '0%') && (self.maxSurge == 0 || self.maxSurge == '0%'))",
             "message": "must be more than 0 (or maxSurge, for strategy Replace): nothing could ever be patched",
             "fieldPath": ".maxUnavailable"}]},
    "inPlace": {"type": "object", "properties": {
        "jobTemplate": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                        "description": "PodTemplateSpec of the patch Job; the operator pins nodeName and adds the tolerations it needs."},
        "timeout": duration("30m", "Per node.")}},
    "replace": {"type": "object", "properties": {"timeout": duration("20m", "Per node: until a Ready replacement reports the target.")}},
    "external": {"type": "object", "properties": {
        "annotation": {"type": "string", "default": "nonevent.dev/desired-version"},
        "timeout": duration("30m", "Per node: until the outside agent makes it report the target.")}},
    "deadline": duration("12h", "The campaign's SLO: ETA and alerts are held against it."),
    "failurePolicy": {"type": "object", "default": {}, "properties": {
        "maxFailedNodes": {"type": "integer", "minimum": 0, "default": 1,
                           "description": "Failed nodes that trigger the action (0 behaves as 1)."},
        "action": {"type": "string", "enum": ["Pause", "Abort"], "default": "Pause"},
        "keepFailedNodesCordoned": {"type": "boolean", "default": False,
                                    "description": "Leave a node whose patch failed cordoned (and counted as unavailable) "
                                                   "for someone to look at; by default it is given back to the scheduler."},
        "undrainable": {"type": "string", "enum": ["Wait", "Quarantine"], "default": "Wait",
                        "description": "A node whose drain runs past drainTimeout: Wait on it (the default), or Quarantine it: "
                                       "left cordoned and marked (annotation nonevent.dev/quarantined-by), counted as unavailable, "
                                       "and the campaign moves on. Remove the annotation and uncordon to give it back."},
        "drainTimeout": duration("30m", "Undrainable: Quarantine: how long a node's drain may take."),
        "maxQuarantinedNodes": {"type": "integer", "minimum": 0, "default": 1,
                                "description": "Quarantined nodes allowed; one more undrainable node pauses the campaign instead."}}},
    "schedule": {"type": "object", "description": "When new batches may start: inside an allowed slot (any time, without slots) and outside "
                                                 "every blackout. A batch running when the schedule closes finishes; none starts until it opens. "
                                                 "The ETA counts only open time.", "properties": {
        "timeZone": {"type": "string", "default": "UTC", "description": "IANA time zone of the allowed slots' cron expressions."},
        "allowed": {"type": "array", "minItems": 1, "maxItems": 50, "x-kubernetes-list-type": "atomic", "items": {
            "type": "object", "required": ["cron", "duration"], "properties": {
                "cron": {"type": "string", "minLength": 1,
                         "description": "When a slot starts: a 5-field cron expression (minute hour day-of-month month day-of-week)."},
                "duration": duration(None, "How long a slot lasts (at most 168h).")}}},
        "blackouts": {"type": "array", "maxItems": 100, "x-kubernetes-list-type": "atomic", "items": {
            "type": "object", "required": ["start", "end"], "properties": {
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
                "reason": {"type": "string", "maxLength": 200, "description": "Shown in the condition, e.g. Black Friday."}},
            "x-kubernetes-validations": [{"rule": "timestamp(self.start) < timestamp(self.end)", "message": "end must be after start",
                                          "fieldPath": ".end"}]}}}},
    "healthChecks": HEALTH_CHECKS,
    "respectMaintenanceWindows": {"type": "boolean", "default": True},
    "drain": DRAIN,
    "paused": {"type": "boolean", "default": False},
}, "x-kubernetes-validations": [
    {"rule": "self.strategy.type != 'InPlace' || has(self.inPlace) && has(self.inPlace.jobTemplate)",
     "message": "strategy InPlace needs inPlace.jobTemplate", "fieldPath": ".inPlace"},
    {"rule": "!has(self.inPlace) || self.strategy.type == 'InPlace'", "message": "inPlace is only valid for strategy InPlace",
     "fieldPath": ".inPlace"},
    {"rule": "!has(self.replace) || self.strategy.type == 'Replace'", "message": "replace is only valid for strategy Replace",
     "fieldPath": ".replace"},
    {"rule": "!has(self.external) || self.strategy.type == 'External'", "message": "external is only valid for strategy External",
     "fieldPath": ".external"},
    {"rule": "!(self.target.source in ['Label', 'Annotation']) || size(self.target.key) > 0",
     "message": "target.key is required for source Label or Annotation", "fieldPath": ".target.key"}]}

PC_STATUS = {"type": "object", "properties": {
    "phase": {"type": "string", "enum": ["Pending", "Progressing", "Paused", "Completed", "Failed"]},
    "observedGeneration": {"type": "integer", "minimum": 0},
    "conditions": CONDITIONS,
    "currentZone": {"type": "string"},
    "zones": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["zone"], "items": {
        "type": "object", "required": ["zone"], "properties": {
            "zone": {"type": "string"}, "total": COUNT, "updated": COUNT, "inProgress": COUNT, "failed": COUNT,
            "surging": dict(COUNT, description="Of inProgress, Replace maxSurge nodes (a new node is added before each goes)."),
            "state": {"type": "string", "enum": ["Pending", "Progressing", "Soaking", "Completed", "Paused", "HeldByWindow",
                                                 "Blackout", "OutsideSchedule", "HealthCheckFailing", "HealthCheckUnavailable"]},
            "quarantined": dict(COUNT, description="Nodes left cordoned and marked because their drain ran past drainTimeout."),
            "batch": {"type": "array", "maxItems": 1000, "items": {"type": "string"},
                      "description": "Nodes of the zone's running batch."},
            "batchStartedAt": TIME, "batchIsCanary": {"type": "boolean"}, "soakUntil": TIME,
            "heldBy": {"type": "string", "description": "HeldByWindow: the window holding the zone (MaintenanceWindow/<name>)."},
            "heldUntil": TIME,
            "heldByOthers": HELD_BY_OTHERS,
            "replace": {"type": "object", "description": "Replace: the running batch's nodes awaiting replacements.",
                        "properties": {"updatedBefore": COUNT, "count": COUNT, "since": TIME}}}}},
    "nodes": {"type": "object", "properties": {"total": COUNT, "updated": COUNT, "inProgress": COUNT, "failed": COUNT, "quarantined": COUNT}},
    "quarantinedNodes": {"type": "array", "maxItems": 100, "items": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "zone": {"type": "string"}, "since": TIME, "reason": {"type": "string"}}},
        "description": "Nodes this campaign left cordoned because their drain ran past drainTimeout (from the nodes' nonevent.dev/quarantined-by marks)."},
    "quarantinePause": {"type": "object", "description": "Set when maxQuarantinedNodes paused the campaign (spec.paused was set by the operator).",
                        "properties": {"generation": COUNT, "since": TIME}},
    "schedule": {"type": "object", "description": "spec.schedule now: Open, Blackout or OutsideSchedule, and when that changes.", "properties": {
        "state": {"type": "string", "enum": ["Open", "Blackout", "OutsideSchedule"]}, "message": {"type": "string"},
        "opensAt": TIME, "closesAt": TIME}},
    "health": HEALTH_STATUS,
    "healthPause": {"type": "object", "description": "Set when failing health checks paused the campaign (spec.paused was set by the operator).",
                    "properties": {"generation": COUNT, "since": TIME, "message": {"type": "string"},
                                   "check": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}},
    "currentBatch": {"type": "array", "maxItems": 1000, "items": {"type": "string"}},
    "failedNodes": {"type": "array", "maxItems": 100, "items": {"type": "object", "required": ["name", "reason"], "properties": {
        "name": {"type": "string"}, "reason": {"type": "string"}, "message": {"type": "string"}}}},
    "startedAt": TIME, "completedAt": TIME, "estimatedCompletion": TIME, "deadline": TIME,
    "canaryCompleted": {"type": "boolean"},
    "observed": {"type": "object", "description": "Durations observed so far, behind the ETA.", "properties": {
        "nodes": COUNT, "nodeSeconds": {"type": "number", "minimum": 0},
        "batches": COUNT, "batchSeconds": {"type": "number", "minimum": 0}}},
    "failurePause": {"type": "object", "description": "Set when the failure budget paused the campaign (spec.paused was set by the operator); resuming retries the failed nodes.",
                     "properties": {"generation": COUNT, "since": TIME}},
    "blockers": BLOCKERS,
    "summary": {"type": "string", "description": "One line for `kubectl get`: what the campaign is doing and what it waits on."}}}

PC_COLUMNS = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Updated", "type": "integer", "jsonPath": ".status.nodes.updated"},
    {"name": "Total", "type": "integer", "jsonPath": ".status.nodes.total"},
    {"name": "Failed", "type": "integer", "jsonPath": ".status.nodes.failed"},
    {"name": "Zone", "type": "string", "jsonPath": ".status.currentZone"},
    {"name": "ETA", "type": "string", "jsonPath": ".status.estimatedCompletion"},
    {"name": "Deadline", "type": "string", "jsonPath": ".status.deadline"},
    {"name": "Summary", "type": "string", "jsonPath": ".status.summary"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]


def dump(obj, name):
    # JSON is valid YAML; pretty-printed it stays diff-friendly and needs no YAML writer.
    text = "# Generated by hack/gen-crds.py: edit that, not this.\n" + json.dumps(obj, indent=2) + "\n"
    (OUT / name).write_text(text)
    (OUT.parent / "charts" / "nonevent" / "crds" / name).write_text(text)  # Helm installs CRDs from its crds/


dump(crd("maintenancewindows", "MaintenanceWindow", "mw", MW_SPEC, MW_STATUS, MW_COLUMNS,
         "A period when the nodes of some zones go away; the operator empties them before and brings pods home after."),
     "maintenancewindows.nonevent.dev.yaml")
dump(crd("patchcampaigns", "PatchCampaign", "pcamp", PC_SPEC, PC_STATUS, PC_COLUMNS,
         "A fleet-wide node image rollout, zone by zone, a safe batch at a time."),
     "patchcampaigns.nonevent.dev.yaml")
print("wrote", *sorted(p.name for p in OUT.glob("*.yaml")))
