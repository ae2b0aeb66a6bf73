@phase-00 @read-only
Feature: P00-CARVE: the Pattern A interface tree on every host
  Seed 002 step 6 (D-060): br-ex (OVS, parent enp1s0) STATIC .4.N, br-metal .8.N,
  br-metal.103 -> br-internal .12.N, enp8s0/enp9s0/enp10s0 .16/.32/.36.N; no retired
  interfaces; hosts Ready. One sub-result per host and interface. A DISCOVERED record
  on the host's own metal IP is its commissioning ghost and is released; one owned by
  another node is refused (004 carve hardening).

  Background:
    Given the testcloud site profile

  @gate-P00-CARVE
  Scenario: four carved hosts pass with one line per host and interface
    Given the fixture world "phase00-ready-carved"
    When gate P00-CARVE runs
    Then gate P00-CARVE is PASS
    And gate P00-CARVE reports metric "checks" = 68
    And gate P00-CARVE has an ok line naming "host openstack2 br-metal.103"

  @gate-P00-CARVE
  Scenario: the same cloud with every MAAS id re-minted gives the same verdict
    Given the fixture world "phase00-renumbered"
    When gate P00-CARVE runs
    Then gate P00-CARVE is PASS
    And gate P00-CARVE reports metric "checks_ok" = 68

  @gate-P00-CARVE
  Scenario: a host missing one static fails on that interface only
    Given the fixture world "phase00-host-missing-static"
    When gate P00-CARVE runs
    Then gate P00-CARVE is FAIL
    And gate P00-CARVE has a BAD line naming "host openstack2 enp9s0"
    And gate P00-CARVE reports metric "checks_ok" = 67

  @gate-P00-CARVE
  Scenario: the runbook's stale pre-D-052 link block is caught by CIDR
    Given the fixture world "phase00-pre-d052-carve"
    When gate P00-CARVE runs
    Then gate P00-CARVE is FAIL
    And gate P00-CARVE has a BAD line naming "host openstack1 enp8s0"
    And the evidence of gate P00-CARVE names "STATIC 10.12.12.41 on 10.12.12.0/22"

  @gate-P00-CARVE
  Scenario: a host that went Deployed mid-carve fails: link-subnet needs Ready
    Given the fixture world "phase00-deployed-during-carve"
    When gate P00-CARVE runs
    Then gate P00-CARVE is FAIL
    And the evidence of gate P00-CARVE names "Deployed"

  @gate-P00-CARVE
  Scenario: a DISCOVERED ghost on the host's own metal IP is released, not refused
    Given the fixture world "phase00-discovered-own"
    When gate P00-CARVE runs
    Then gate P00-CARVE is FAIL
    And gate P00-CARVE has an info line naming "host openstack3 10.12.8.43"
    And gate P00-CARVE reports metric "discovered_own" = 1
    And gate P00-CARVE reports metric "refused_foreign" = 0

  @gate-P00-CARVE
  Scenario: a DISCOVERED record owned by another node is refused
    Given the fixture world "phase00-discovered-foreign"
    When gate P00-CARVE runs
    Then gate P00-CARVE is FAIL
    And gate P00-CARVE has a BAD line naming "host openstack3 10.12.8.43"
    And the evidence of gate P00-CARVE names "owned by lxd"
    And gate P00-CARVE reports metric "refused_foreign" = 1
