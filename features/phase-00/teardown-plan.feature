@phase-00 @read-only
Feature: P00-TEARDOWN-PLAN and P00-RELEASE-CANARY: the two teardown paths, read-only
  The destroy path's dry run (seed 002 step 2, D-061) resolves every id live: the four
  hosts are decompose targets, capi-mgmt is the delete target, and the protected
  juju, lxd and tailscale machines are shown as excluded. Path A's canary validates
  survival only: the host kept Deployed with its carve intact.

  Background:
    Given the testcloud site profile

  @gate-P00-TEARDOWN-PLAN
  Scenario: before teardown the plan lists the hosts with their live ids and excludes the protected
    Given the fixture world "phase00-dirty"
    When gate P00-TEARDOWN-PLAN runs
    Then gate P00-TEARDOWN-PLAN is PASS
    And gate P00-TEARDOWN-PLAN routes to PLAN
    And gate P00-TEARDOWN-PLAN reports metric "decompose" = 4
    And gate P00-TEARDOWN-PLAN reports metric "excluded" = 3
    And the evidence of gate P00-TEARDOWN-PLAN names "decompose target, system_id w7e3kq"
    And the evidence of gate P00-TEARDOWN-PLAN names "EXCLUDED, system_id m3qdrk"

  @gate-P00-TEARDOWN-PLAN
  Scenario: capi-mgmt still in MAAS is the delete target
    Given the fixture world "phase00-capi-present"
    When gate P00-TEARDOWN-PLAN runs
    Then gate P00-TEARDOWN-PLAN is PASS
    And gate P00-TEARDOWN-PLAN routes to NOTHING-TO-DESTROY
    And gate P00-TEARDOWN-PLAN reports metric "delete" = 1

  @gate-P00-TEARDOWN-PLAN
  Scenario: a protected machine carrying the host tag makes the plan unsafe
    Given the fixture world "phase00-protected-tagged"
    When gate P00-TEARDOWN-PLAN runs
    Then gate P00-TEARDOWN-PLAN is FAIL
    And gate P00-TEARDOWN-PLAN has a BAD line naming "protected lxd"

  @gate-P00-RELEASE-CANARY
  Scenario: the canary kept with --keep-instance survives Deployed with its carve
    Given the fixture world "phase00-canary-kept"
    When gate P00-RELEASE-CANARY runs
    Then gate P00-RELEASE-CANARY is PASS
    And gate P00-RELEASE-CANARY reports metric "checks" = 17

  @gate-P00-RELEASE-CANARY
  Scenario: a canary decomposed out of MAAS fails
    Given the fixture world "phase00-canary-decomposed"
    When gate P00-RELEASE-CANARY runs
    Then gate P00-RELEASE-CANARY is FAIL
    And the evidence of gate P00-RELEASE-CANARY names "not in MAAS"

  @gate-P00-RELEASE-CANARY
  Scenario: a canary released to Ready instead of kept fails
    Given the fixture world "phase00-canary-released-ready"
    When gate P00-RELEASE-CANARY runs
    Then gate P00-RELEASE-CANARY is FAIL
    And gate P00-RELEASE-CANARY has a BAD line naming "canary openstack0"

  @gate-P00-RELEASE-CANARY
  Scenario: after the destroy path the canary gate says Path A was not taken
    Given the fixture world "phase00-ready-carved"
    When gate P00-RELEASE-CANARY runs
    Then gate P00-RELEASE-CANARY is SKIP
    And the evidence of gate P00-RELEASE-CANARY names "w7e3kq"
