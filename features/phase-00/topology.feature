@phase-00 @read-only
Feature: P00-SPACES and P00-STANDUP: the MAAS topology is the profile's, by CIDR
  The six D-052/D-053 spaces must exist with their CIDRs before anything is deployed
  (seed 002 step 1, a hard blocker), and the standup check reports one DRIFT line per
  mismatch of space, VID, gateway, DNS or reserved range (seed 002 step 7). Subnet ids
  are re-minted by every cutover, so every plane is found by its CIDR (R1).

  @gate-P00-SPACES
  Scenario: the six spaces hold their CIDRs
    Given the testcloud site profile
    And the fixture world "phase00-ready-carved"
    When gate P00-SPACES runs
    Then gate P00-SPACES is PASS
    And the run exits 0

  @gate-P00-SPACES @gate-P00-STANDUP
  Scenario: the same verdicts when every MAAS id is renumbered (R1)
    Given the testcloud site profile
    And the fixture world "phase00-renumbered"
    When the phase 00 gates run
    Then gate P00-SPACES is PASS
    And gate P00-STANDUP is PASS
    And gate P00-REENROLL is PASS
    And gate P00-ROUTE is PASS

  @gate-P00-SPACES
  Scenario: spaces holding other CIDRs than the profile's are a hard blocker
    Given the site profile file "d058.toml", checked against a cloud recorded for another profile
    And the fixture world "phase00-ready-carved"
    When gate P00-SPACES runs
    Then gate P00-SPACES is FAIL
    And gate P00-SPACES has a BAD line naming "10.12.8.0/22"
    And gate P00-SPACES has a BAD line naming "10.12.20.0/22"
    And the run exits 1

  @gate-P00-STANDUP
  Scenario: the D-052 topology shows no drift against its own profile
    Given the testcloud site profile
    And the fixture world "phase00-ready-carved"
    When gate P00-STANDUP runs
    Then gate P00-STANDUP is PASS
    And gate P00-STANDUP reports metric "drift_planes" = 0

  @gate-P00-STANDUP
  Scenario: a D-052 cloud checked against the D-058 profile shows exactly three DRIFT planes
    Given the site profile file "d058.toml", checked against a cloud recorded for another profile
    And the fixture world "phase00-ready-carved"
    When gate P00-STANDUP runs
    Then gate P00-STANDUP is FAIL
    And gate P00-STANDUP reports metric "drift_planes" = 3
    And gate P00-STANDUP has a BAD line naming "DRIFT 10.12.8.0/22"
    And gate P00-STANDUP has a BAD line naming "DRIFT 10.12.12.0/22"
    And gate P00-STANDUP has a BAD line naming "DRIFT 10.12.16.0/22"
    And gate P00-STANDUP has a BAD line naming "ABSENT 10.12.20.0/22"
    And the run exits 1
