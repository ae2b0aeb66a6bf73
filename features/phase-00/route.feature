@phase-00 @read-only
Feature: P00-ROUTE routes the teardown from the state the cloud is in
  Seed 000: the openstack model present or absent, and how many hosts MAAS shows Ready,
  decide whether the cloud is already clean, must be torn down, or is in an anomaly to
  investigate before anything destructive runs. Hosts are found by hostname.

  Background:
    Given the testcloud site profile

  @gate-P00-ROUTE
  Scenario: no model and every host Ready is CLEAN
    Given the fixture world "phase00-ready-carved"
    When gate P00-ROUTE runs
    Then gate P00-ROUTE is PASS
    And gate P00-ROUTE routes to CLEAN
    And gate P00-ROUTE reports metric "ready" = 4
    And the run exits 0

  @gate-P00-ROUTE
  Scenario: a live model on Deployed hosts is DIRTY: proceed to the full teardown
    Given the fixture world "phase00-dirty"
    When gate P00-ROUTE runs
    Then gate P00-ROUTE is PROCEED
    And gate P00-ROUTE routes to DIRTY
    And the run exits 0

  @gate-P00-ROUTE
  Scenario: a model still listed while every host is Ready is ANOMALY-DESTROYING
    Given the fixture world "phase00-model-destroying"
    When gate P00-ROUTE runs
    Then gate P00-ROUTE is FAIL
    And gate P00-ROUTE routes to ANOMALY-DESTROYING
    And the evidence of gate P00-ROUTE names "destroying"
    And the run exits 1

  @gate-P00-ROUTE
  Scenario: some hosts Ready and some not is PARTIAL
    Given the fixture world "phase00-deployed-during-carve"
    When gate P00-ROUTE runs
    Then gate P00-ROUTE is FAIL
    And gate P00-ROUTE routes to PARTIAL
    And gate P00-ROUTE reports metric "ready" = 3
    And the run exits 1
