@phase-05 @mutation
Feature: octavia-configure-resources on the simulated testcloud, between P05-PRE and P05-POST
  Seed 004 Step 5.1: `juju run octavia/leader configure-resources --wait=20m` once every
  octavia unit is blocked awaiting it with the lb-mgmt resources absent (P05-PRE
  PROCEED); charm-octavia creates lb-mgmt-net, lb-mgmt-subnetv6 and lb-mgmt-sec-grp and
  plugs o-hm0, which comes up after the action (the bring-up transient is waited out,
  never accepted at the end).

  @action-octavia-configure-resources
  Scenario: from the phase-05 entry to P05-POST PASS, then nothing to do
    Given the simulated cloud "phase05-entry"
    When gate P05-PRE runs
    Then gate P05-PRE is PROCEED
    When octavia-configure-resources is planned
    Then the action is PLANNED
    And the action's report says "juju run -m openstack --wait=20m octavia/leader configure-resources"
    And no mutation ran
    When octavia-configure-resources is applied
    Then the action is DONE
    And the action's report says "after 5 poll(s)"
    When gate P05-POST runs
    Then gate P05-POST is PASS
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA routes to CONTROL-PLANE-DONE
    When gate P05-PRE runs
    Then gate P05-PRE is SKIP
    When octavia-configure-resources is applied
    Then the action is NOTHING-TO-DO
    And the action's report says "ALREADY-CONFIGURED"
    And no mutation ran

  @action-octavia-configure-resources
  Scenario: o-hm0 never comes up: the wait ends at its bound and the step fails naming it
    Given the simulated cloud "phase05-entry" whose o-hm0 never comes up
    When octavia-configure-resources is applied
    Then the action is STEP-FAILED
    And the action exits 1
    And the action's report says "unit octavia/0 o-hm0 presence"

  @action-octavia-configure-resources
  Scenario: resources already present while octavia waits for them (P05-PRE FAIL) is refused
    Given the simulated cloud "phase05-blocked-resources-present"
    When gate P05-PRE runs
    Then gate P05-PRE is FAIL
    When octavia-configure-resources is planned
    Then the action is REFUSED
    And the action's report says "P05-PRE ANOMALY"
    And no mutation ran

  @action-octavia-configure-resources
  Scenario: a missing certificate configuration is not the awaiting state (P05-PRE HOLD) and is refused
    Given the simulated cloud "phase05-certs-missing"
    When octavia-configure-resources is planned
    Then the action is REFUSED
    And the action's report says "configure-resources runs only on P05-PRE PROCEED"
    And no mutation ran

  @action-octavia-configure-resources
  Scenario: without credentials the lb-mgmt resources cannot be read: PRECONDITION
    Given the simulated cloud "phase05-no-openrc"
    When octavia-configure-resources is planned
    Then the action is PRECONDITION
    And no mutation ran
