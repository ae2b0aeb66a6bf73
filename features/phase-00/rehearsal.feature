@phase-00 @mutation @destructive
Feature: Phase 00 rehearsed on the simulated testcloud, between its gates
  Seed 002 runs phase 00 as discrete, individually gated steps: teardown (destroy
  path), 8_lbaas removal, OSD wipe, re-enrollment, the Pattern A carve per host, then
  the exit gate. Each action here is dry-run first and applied with the plan's
  fingerprint, as the operator runs it; the simulator behaves as the change log
  recorded: destroy-model decomposes the hosts (D-055/D-061), re-enrolled machines get
  new system_ids (DOCFIX-040) and pass New -> Commissioning -> Ready, each host's
  commissioning lease leaves a DISCOVERED record on its own metal IP.

  @action-teardown-destroy @action-lbaas-net-remove @action-osd-wipe @action-reenroll @action-carve
  Scenario: from the dirty cloud to P00-EXIT PASS
    Given the simulated cloud "sim-phase00-dirty"
    When gate P00-ROUTE runs
    Then gate P00-ROUTE routes to DIRTY
    When gate P00-TEARDOWN-PLAN runs
    Then gate P00-TEARDOWN-PLAN is PASS
    When gate P00-EXIT runs
    Then gate P00-EXIT is FAIL
    When teardown-destroy is applied with confirmation "openstack"
    Then the action is DONE
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is PASS
    When lbaas-net-remove is applied with confirmation "openstack"
    Then the action is DONE
    When gate P00-LBAAS runs
    Then gate P00-LBAAS is PASS
    When osd-wipe is applied with confirmation "openstack"
    Then the action is DONE
    When gate P00-OSD runs
    Then gate P00-OSD is PASS
    When reenroll is applied
    Then the action is DONE
    And the typed secret appears in no argv, report or call log
    When gate P00-REENROLL runs
    Then gate P00-REENROLL is PASS
    When gate P00-CARVE runs
    Then gate P00-CARVE is FAIL
    When carve for openstack0 is applied
    Then the action is DONE
    And the action's report says "release 10.12.8.40"
    When carve for openstack1 is applied
    Then the action is DONE
    When carve for openstack2 is applied
    Then the action is DONE
    When carve for openstack3 is applied
    Then the action is DONE
    When gate P00-CARVE runs
    Then gate P00-CARVE is PASS
    When gate P00-EXIT runs
    Then gate P00-EXIT is PASS
    And the run exits 0

  @action-teardown-destroy @action-lbaas-net-remove @action-osd-wipe @action-reenroll @action-carve @needs-virsh @needs-qemu-img @needs-qemu-io
  Scenario: from the dirty cloud to P00-EXIT PASS with real virsh on libvirt's test driver and real qcow2 images
    Given the simulated cloud "sim-phase00-dirty" with real virsh, qemu-img and qemu-io
    When gate P00-LBAAS runs
    Then gate P00-LBAAS is FAIL
    When gate P00-OSD runs
    Then gate P00-OSD is FAIL
    When teardown-destroy is applied with confirmation "openstack"
    Then the action is DONE
    When lbaas-net-remove is applied with confirmation "openstack"
    Then the action is DONE
    When gate P00-LBAAS runs
    Then gate P00-LBAAS is PASS
    When osd-wipe is applied with confirmation "openstack"
    Then the action is DONE
    When gate P00-OSD runs
    Then gate P00-OSD is PASS
    When lbaas-net-remove is planned
    Then the action is NOTHING-TO-DO
    When osd-wipe is planned
    Then the action is NOTHING-TO-DO
    When reenroll is applied
    Then the action is DONE
    When carve for openstack0 is applied
    And carve for openstack1 is applied
    And carve for openstack2 is applied
    And carve for openstack3 is applied
    And gate P00-EXIT runs
    Then gate P00-EXIT is PASS
    And the run exits 0
    And the simulated jumphost ran the real programs

  @action-teardown-destroy @action-lbaas-net-remove @action-osd-wipe @action-reenroll @action-carve @action-model-prep @phase-01
  Scenario: the rebuild's first two phases on one simulated cloud: phase 00 to P00-EXIT, then model-prep to P01 all PASS
    Given the simulated cloud "sim-phase00-dirty"
    When teardown-destroy is applied with confirmation "openstack"
    And lbaas-net-remove is applied with confirmation "openstack"
    And osd-wipe is applied with confirmation "openstack"
    And reenroll is applied
    And carve for openstack0 is applied
    And carve for openstack1 is applied
    And carve for openstack2 is applied
    And carve for openstack3 is applied
    And gate P00-EXIT runs
    Then gate P00-EXIT is PASS
    When gate P01-MODEL-SPACES runs
    Then gate P01-MODEL-SPACES is PRECONDITION
    When model-prep is applied
    Then the action is DONE
    When the phase 01 gates run
    Then every gate of the run is PASS

  @action-teardown-destroy @action-lbaas-net-remove @action-osd-wipe @action-reenroll @action-carve
  Scenario: applied twice, each phase-00 action plans nothing the second time
    Given the simulated cloud "sim-phase00-dirty"
    When teardown-destroy is applied with confirmation "openstack"
    Then the action is DONE
    When teardown-destroy is planned
    Then the action is NOTHING-TO-DO
    When lbaas-net-remove is applied with confirmation "openstack"
    Then the action is DONE
    When lbaas-net-remove is planned
    Then the action is NOTHING-TO-DO
    When osd-wipe is applied with confirmation "openstack"
    And osd-wipe is planned
    Then the action is NOTHING-TO-DO
    When reenroll is applied
    And reenroll is planned
    Then the action is NOTHING-TO-DO
    When carve for openstack2 is applied
    And carve for openstack2 is planned
    Then the action is NOTHING-TO-DO
    And the action exits 0

  @action-teardown-destroy
  Scenario: the dry-run changes nothing and shows every resolved id and the protected machines
    Given the simulated cloud "sim-phase00-dirty"
    When teardown-destroy is planned
    Then the action is PLANNED
    And no mutation ran
    And the action's report says "host openstack2    system_id c8rxma (Deployed)"
    And the action's report says "juju         EXCLUDED, system_id hbt6xc (Deployed)"
    And the action's report says "[DESTRUCTIVE] juju destroy-model openstack --force --no-wait --no-prompt --destroy-storage"
    And the action exits 0

  @action-teardown-destroy
  Scenario: a wrong or missing confirmation changes nothing and exits 2
    Given the simulated cloud "sim-phase00-dirty"
    When teardown-destroy is applied with confirmation "openstak"
    Then the action is UNCONFIRMED
    And no mutation ran
    And the action exits 2
    When teardown-destroy is applied
    Then the action is UNCONFIRMED
    And no mutation ran
    When gate P00-ROUTE runs
    Then gate P00-ROUTE routes to DIRTY

  @action-teardown-destroy
  Scenario: apply without a reviewed plan is refused before anything runs
    Given the simulated cloud "sim-phase00-dirty"
    When teardown-destroy is applied without a reviewed plan
    Then the action is PRECONDITION
    And no mutation ran
    And the action exits 2

  @action-carve
  Scenario: a plan reviewed before the host was re-enrolled again (new system_id) is stale
    Given the simulated cloud "sim-phase00-dirty"
    When teardown-destroy is applied with confirmation "openstack"
    And reenroll is applied
    And carve for openstack1 is planned
    And openstack1 is deleted from MAAS by hand
    And reenroll is applied meanwhile
    And carve for openstack1 is applied again with the reviewed plan and confirmation "openstack"
    Then the action is STALE-PLAN
    And no mutation ran
    And the action exits 1
    When carve for openstack1 is applied
    Then the action is DONE

  @action-teardown-destroy
  Scenario: a plan that saw nothing to destroy is stale once there is a model (terraform #24078)
    Given the simulated cloud "phase00-ready-carved"
    When teardown-destroy is planned
    Then the action is NOTHING-TO-DO
    Given the simulated cloud "sim-phase00-dirty"
    When teardown-destroy is applied again with the reviewed plan and confirmation "openstack"
    Then the action is STALE-PLAN
    And no mutation ran
    And the action exits 1

  @action-teardown-destroy
  Scenario: a protected machine carrying the host tag refuses the destroy
    Given the simulated cloud "sim-phase00-protected-tagged"
    When teardown-destroy is planned
    Then the action is REFUSED
    And the action's report says "protected lxd (system_id m3qdrk) carries tag openstack"
    And no mutation ran
    And the action exits 1

  @action-teardown-destroy
  Scenario: a model destroying past the bound gets remove-machine --force per lingering machine, then goes
    Given the simulated cloud "sim-phase00-dirty" whose model never finishes destroying
    When teardown-destroy is applied with confirmation "openstack"
    Then the action is STEP-FAILED
    And the action's report says "still not holding after"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is FAIL
    When teardown-destroy is applied with confirmation "openstack"
    Then the action is DONE
    And the action's report says "juju remove-machine -m openstack --force --no-prompt 3"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is PASS

  @action-lbaas-net-remove
  Scenario: a running host domain refuses the 8_lbaas detach
    Given the simulated cloud "phase00-domain-running"
    When lbaas-net-remove is planned
    Then the action is REFUSED
    And the action's report says "openstack1 is running"
    And no mutation ran

  @action-osd-wipe
  Scenario: a running host domain refuses the OSD wipe
    Given the simulated cloud "phase00-domain-running"
    When osd-wipe is planned
    Then the action is PRECONDITION
    And no mutation ran

  @action-carve
  Scenario: a Deployed host refuses the carve (link-subnet is rejected on Deployed)
    Given the simulated cloud "sim-phase00-dirty"
    When carve for openstack0 is planned
    Then the action is REFUSED
    And the action's report says "openstack0 is Deployed, not Ready"
    And no mutation ran

  @action-carve
  Scenario: an address another node discovered refuses the carve
    Given the simulated cloud "phase00-discovered-foreign"
    When carve for openstack3 is planned
    Then the action is REFUSED
    And the action's report says "held by another node"
    And no mutation ran
    And the action exits 1

  @action-carve
  Scenario: the host's own commissioning ghost is released before its STATIC link
    Given the simulated cloud "phase00-discovered-own"
    When gate P00-CARVE runs
    Then gate P00-CARVE is FAIL
    When carve for openstack3 is applied
    Then the action is DONE
    And the action's report says "ipaddresses release ip=10.12.8.43 force=true discovered=true"
    When gate P00-CARVE runs
    Then gate P00-CARVE is PASS

  @action-teardown-release
  Scenario: Path A canary: the canary leaves the model with --keep-instance and survives Deployed with its carve
    Given the simulated cloud "sim-phase00-canary"
    When teardown-release is planned
    Then the action is PLANNED
    And the action's report says "juju remove-machine -m openstack --force --keep-instance --no-prompt 0"
    And no mutation ran
    When teardown-release is applied with confirmation "openstack"
    Then the action is DONE
    When gate P00-RELEASE-CANARY runs
    Then gate P00-RELEASE-CANARY is PASS

  @action-teardown-release
  Scenario: applied twice, the Path A canary plans nothing the second time: juju no longer holds it
    Given the simulated cloud "sim-phase00-canary"
    When teardown-release is applied with confirmation "openstack"
    Then the action is DONE
    When teardown-release is planned
    Then the action is NOTHING-TO-DO
    And the action's report says "is no machine of model openstack: already released"
    And the action exits 0

  Scenario: the deprecated teardown (release expecting Ready) ends with the hosts gone, and the gates say so (D-055)
    Given the simulated cloud "sim-phase00-dirty"
    When the deprecated release teardown runs
    Then every release answered "No Machine matches the given query."
    When gate P00-REENROLL runs
    Then gate P00-REENROLL is FAIL
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is PASS
