# The phase-02 census in jq, over `juju status -m openstack --format=json`: what the
# runbook's pre-flight computed in "one jq metrics pass (eval'd key=value)" (seed 004),
# reconstructed over the keys P02-B and P02-E read: every unit, subordinates included,
# counted by workload status; the units in error by workload and by juju-status; the
# machines and containers not started. benches/census.rs times it against stackgate.
def units:
  .applications[] | (.units // {}) | .[] | ., ((.subordinates // {}) | .[]);
[units] as $all
| "units=\($all | length)",
  ($all | group_by(.["workload-status"].current)
        | .[] | "\(.[0]["workload-status"].current)=\(length)"),
  "workload_error=\([$all[] | select(.["workload-status"].current == "error")] | length)",
  "juju_status_error=\([$all[] | select(.["juju-status"].current == "error")] | length)",
  "machines_not_started=\([.machines[] | ., ((.containers // {}) | .[])
      | select(.["juju-status"].current != "started")] | length)"
