@phase-05 @mutation
Feature: amphora-pipeline on the simulated testcloud, between P05-CONFIG and P05-AMPHORA
  Seed 004 Step 5.2 (`phase-05-amphora-pipeline.sh`, D-056): the retrofit's config gate
  first; an amphora already ACTIVE and tagged: nothing to do; the base image already in
  glance: the retrofit alone, downloading nothing; otherwise the base image is
  downloaded in-process, its sha256 checked against the published SHA256SUMS (a
  mismatch stops before the upload), uploaded, and retrofitted; then P05-AMPHORA PASS.
  The base image comes from a loopback server that logs every request.

  @action-amphora-pipeline
  Scenario: from the phase-05 entry through configure-resources and the fresh pipeline to P05-AMPHORA PASS, then nothing to do
    Given the simulated cloud "phase05-entry"
    And the amphora base image is published on a loopback server
    When gate P05-CONFIG runs
    Then gate P05-CONFIG is PASS
    When octavia-configure-resources is applied
    Then the action is DONE
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA routes to CONTROL-PLANE-DONE
    When amphora-pipeline is planned
    Then the action is PLANNED
    And the action's report says "(in-process) download http://127.0.0.1:"
    And the action's report says "openstack image create --disk-format qcow2 --container-format bare --file"
    And the action's report says "retrofit-image source-image=<id of jammy-amphora-base>"
    And no mutation ran
    And no request reached the loopback server
    When amphora-pipeline is applied
    Then the action is DONE
    And the action's report says "P05-AMPHORA PASS: exactly one ACTIVE image tagged octavia-amphora"
    And the loopback server served the SHA256SUMS and the base image
    And the simulated cloud answered "openstack image create" once
    And the simulated cloud answered "juju run -m openstack --wait=30m octavia-diskimage-retrofit/leader retrofit-image" once
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA is PASS
    When amphora-pipeline is applied
    Then the action is NOTHING-TO-DO
    And the action's report says "nothing to do: the amphora is ACTIVE and tagged octavia-amphora"
    And no mutation ran

  @action-amphora-pipeline
  Scenario: the base image already in glance: the retrofit alone, proven not to download
    Given the simulated cloud "phase05-base-present"
    And the amphora base image is published on a loopback server
    When amphora-pipeline is planned
    Then the action is PLANNED
    And the action's report says "retrofit only; nothing is downloaded or uploaded"
    And the action's report says "retrofit-image source-image=6ed034f7-10b0-4231-adcd-89e36ff79901"
    When amphora-pipeline is applied
    Then the action is DONE
    And no request reached the loopback server
    And the simulated cloud answered no "openstack image create"
    And the simulated cloud answered "juju run -m openstack --wait=30m octavia-diskimage-retrofit/leader retrofit-image source-image=6ed034f7-10b0-4231-adcd-89e36ff79901" once
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA is PASS

  @action-amphora-pipeline
  Scenario: a download whose sha256 is not the published one stops the pipeline before the upload
    Given the simulated cloud "phase05-control-plane-done"
    And the amphora base image is published on a loopback server with a wrong digest
    When amphora-pipeline is applied
    Then the action is STEP-FAILED
    And the action exits 1
    And the action's report says "is not the published"
    And the loopback server served the SHA256SUMS and the base image
    And the download directory holds nothing
    And the simulated cloud answered no "openstack image create"
    And the simulated cloud answered no "juju run"
    And no mutation ran
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA routes to CONTROL-PLANE-DONE

  @action-amphora-pipeline
  Scenario Outline: the retrofit's config gate comes first: P05-CONFIG FAIL is refused, even with the amphora present
    Given the simulated cloud "<world>"
    And the amphora base image is published on a loopback server
    When gate P05-CONFIG runs
    Then gate P05-CONFIG is FAIL
    When amphora-pipeline is planned
    Then the action is REFUSED
    And the action's report says "runs only on P05-CONFIG PASS"
    And no mutation ran
    And no request reached the loopback server

    Examples:
      | world                       |
      | phase05-image-format-qcow2  |
      | phase05-amp-image-tag-unset |

  @action-amphora-pipeline
  Scenario: the control plane not up yet (P05-AMPHORA FAIL) is refused
    Given the simulated cloud "phase05-entry"
    And the amphora base image is published on a loopback server
    When amphora-pipeline is planned
    Then the action is REFUSED
    And the action's report says "runs only on P05-AMPHORA CONTROL-PLANE-DONE"
    And no mutation ran
    And no request reached the loopback server

  @action-amphora-pipeline
  Scenario: the amphora already ACTIVE and tagged: nothing to do, nothing fetched
    Given the simulated cloud "phase05-complete"
    And the amphora base image is published on a loopback server
    When amphora-pipeline is applied
    Then the action is NOTHING-TO-DO
    And the action exits 0
    And no mutation ran
    And no request reached the loopback server

  @action-amphora-pipeline
  Scenario: a base image uploaded by hand after the review makes the reviewed plan stale
    Given the simulated cloud "phase05-control-plane-done"
    And the amphora base image is published on a loopback server
    When amphora-pipeline is planned
    Then the action is PLANNED
    When "openstack image create --disk-format qcow2 --container-format bare --file /dev/null -f json jammy-amphora-base" is run by hand
    And amphora-pipeline is applied again with the reviewed plan and confirmation "openstack"
    Then the action is STALE-PLAN
    And no mutation ran
    And no request reached the loopback server

  @action-amphora-pipeline
  Scenario: without credentials glance cannot be read: PRECONDITION
    Given the simulated cloud "phase05-no-openrc"
    And the amphora base image is published on a loopback server
    When amphora-pipeline is planned
    Then the action is PRECONDITION
    And the action exits 2
    And no mutation ran
