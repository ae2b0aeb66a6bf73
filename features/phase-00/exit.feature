@phase-00 @read-only
Feature: P00-EXIT: the phase-00 exit gate
  Seed 002's exit gate and seed 000's acceptance: no model, capi-mgmt deleted, hosts
  re-enrolled Ready with fresh ids, 8_lbaas gone, OSD disks blank, Pattern A carve on
  all four, no standup drift, the bundle check passing, and the pre-destroy backup
  pointer naming a populated directory. Each part is reported by ID.

  Background:
    Given the testcloud site profile

  @gate-P00-EXIT
  Scenario: the clean, carved, checked cloud meets the exit gate
    Given the fixture world "phase00-ready-carved"
    When gate P00-EXIT runs
    Then gate P00-EXIT is PASS
    And gate P00-EXIT has an ok line naming "P00-CARVE"
    And gate P00-EXIT has an ok line naming "backup pointer"

  @gate-P00-EXIT
  Scenario: one host missing a static fails the exit gate through P00-CARVE
    Given the fixture world "phase00-host-missing-static"
    When gate P00-EXIT runs
    Then gate P00-EXIT is FAIL
    And gate P00-EXIT has a BAD line naming "P00-CARVE"
    And gate P00-EXIT has an ok line naming "P00-OSD"

  @gate-P00-EXIT
  Scenario: a destroy without its pre-destroy capture fails the exit gate
    Given the fixture world "phase00-backup-missing"
    When gate P00-EXIT runs
    Then gate P00-EXIT is FAIL
    And gate P00-EXIT has a BAD line naming "backup pointer"

  @gate-P00-EXIT
  Scenario: a misaligned VIP in the bundle fails the exit gate through P00-BUNDLE
    Given the fixture world "phase00-bundle-vip-misaligned"
    When gate P00-EXIT runs
    Then gate P00-EXIT is FAIL
    And gate P00-EXIT has a BAD line naming "P00-BUNDLE"
