@phase-00 @read-only
Feature: P00-REENROLL: the hosts are back in MAAS, fresh, tagged, booting on metal
  After a decompose the four hosts are re-created in MAAS with newly minted system_ids
  (DOCFIX-040: never reuse a previous cycle's ids), the openstack tag the bundle places
  units by, and the boot NIC on the metal-admin plane (seed 002 step 5, D-055).

  Background:
    Given the testcloud site profile

  @gate-P00-REENROLL
  Scenario: four Ready hosts with fresh ids, the tag and the boot NIC on metal pass
    Given the fixture world "phase00-ready-carved"
    When gate P00-REENROLL runs
    Then gate P00-REENROLL is PASS
    And gate P00-REENROLL reports metric "reenrolled" = 4

  @gate-P00-REENROLL
  Scenario: a host that is Deployed is not re-enrolled
    Given the fixture world "phase00-deployed-during-carve"
    When gate P00-REENROLL runs
    Then gate P00-REENROLL is FAIL
    And gate P00-REENROLL has a BAD line naming "host openstack0"
    And gate P00-REENROLL reports metric "reenrolled" = 3
    And the run exits 1
