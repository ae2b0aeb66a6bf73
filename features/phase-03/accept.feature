@phase-03 @read-only
Feature: P03-ACCEPT every unit active/idle except the allowlist
  The post-vault acceptance walk: every unit active with juju-status idle, except the
  profile's allowlist (octavia blocked awaiting configure-resources until phase 05,
  glance-simplestreams-sync unknown or waiting). Units are matched by identity
  (application, status, message), never by count (R4). Known findings are reported,
  never hidden, never a failure.

  Background:
    Given the testcloud site profile

  @gate-P03-ACCEPT
  Scenario: the settled cloud passes and reports the keystone known finding
    Given the fixture world "phase03-settled"
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is PASS
    And gate P03-ACCEPT has a finding line naming "FINDING-1"
    And gate P03-ACCEPT marks keystone/0 finding
    And gate P03-ACCEPT marks octavia/0 allowed
    And gate P03-ACCEPT marks glance-simplestreams-sync/0 allowed
    And gate P03-ACCEPT reports metric "known_findings" = 1
    And gate P03-ACCEPT counts 2 units not active/idle
    And the run exits 0

  @gate-P03-ACCEPT
  Scenario: another application blocked fails by identity, though the count matches the allowlist's (R4)
    Given the fixture world "phase03-unexpected-blocked"
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is FAIL
    And gate P03-ACCEPT counts 2 units not active/idle
    And gate P03-ACCEPT marks no unit but barbican-vault/0 BAD
    And gate P03-ACCEPT has a BAD line naming "'secrets-storage' missing"
    And gate P03-ACCEPT marks octavia/0 allowed
    And gate P03-ACCEPT has a finding line naming "FINDING-1"
    And the run exits 1

  @gate-P03-ACCEPT
  Scenario: a unit without its juju-status key is PRECONDITION, never PASS (R2)
    Given the fixture world "phase02-unit-missing-juju-status"
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is PRECONDITION
    And gate P03-ACCEPT reports a missing key path ending in "juju-status"
    And gate P03-ACCEPT marks cinder/0 MISSING
    And the run exits 2
