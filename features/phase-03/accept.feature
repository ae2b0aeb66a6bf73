@phase-03 @read-only
Feature: P03-ACCEPT every unit active/idle except the allowlist
  The post-vault acceptance walk: every unit active with juju-status idle, except the
  profile's allowlist (octavia blocked awaiting configure-resources until phase 05, in
  its leader's or its other units' form; glance-simplestreams-sync unknown before any
  image sync, or maintenance "Synchronising images" during one). Units are matched by
  identity (application, status, the whole message, the unit's role), never by count
  (R4): a charms.openstack charm joins every failing state into one message, so a message
  that holds an allowed state among others is not allowed (issue 8). A unit whose
  policyd override failed to load ("PO (broken): ", charm-helpers policyd) fails; the
  profile's waiver FINDING-1 (seed 004: keystone "PO (broken): Unit is ready",
  "expected; no regression") reports it WAIVED, with its justification, until its date.

  Background:
    Given the testcloud site profile

  @gate-P03-ACCEPT
  Scenario: the settled cloud's broken keystone policy override is waived until the waiver's date
    Given the fixture world "phase03-settled"
    And the date is 2027-06-30
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is WAIVED
    And gate P03-ACCEPT has a waived line naming "waived by FINDING-1 until 2027-06-30"
    And gate P03-ACCEPT marks keystone/0 waived
    And gate P03-ACCEPT marks octavia/0 allowed
    And gate P03-ACCEPT marks glance-simplestreams-sync/0 allowed
    And gate P03-ACCEPT reports metric "policy_override_broken" = 1
    And gate P03-ACCEPT counts 2 units not active/idle
    And the run exits 0

  @gate-P03-ACCEPT
  Scenario: past the waiver's date the broken policy override fails again, and the verdict says the waiver expired
    Given the fixture world "phase03-settled"
    And the date is 2027-07-01
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is FAIL
    And gate P03-ACCEPT marks no unit but keystone/0 BAD
    And gate P03-ACCEPT has a BAD line naming "PO (broken): Unit is ready"
    And gate P03-ACCEPT has an info line naming "expired 2027-06-30 (today is 2027-07-01)"
    And the run exits 1

  @gate-P03-ACCEPT
  Scenario: another application blocked fails by identity, though the count matches the allowlist's (R4)
    Given the fixture world "phase03-unexpected-blocked"
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is FAIL
    And gate P03-ACCEPT counts 2 units not active/idle
    And gate P03-ACCEPT marks no unit but barbican-vault/0 BAD
    And gate P03-ACCEPT has a BAD line naming "'secrets-storage' missing"
    And gate P03-ACCEPT marks octavia/0 allowed
    And gate P03-ACCEPT has a waived line naming "FINDING-1"
    And the run exits 1

  @gate-P03-ACCEPT
  Scenario: a unit without its juju-status key is PRECONDITION, never PASS (R2)
    Given the fixture world "phase02-unit-missing-juju-status"
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is PRECONDITION
    And gate P03-ACCEPT reports a missing key path ending in "juju-status"
    And gate P03-ACCEPT marks cinder/0 MISSING
    And the run exits 2

  @gate-P03-ACCEPT
  Scenario: octavia's awaiting state joined with its certificate state fails (issue 8)
    Given the fixture world "phase03-octavia-certs-missing"
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is FAIL
    And gate P03-ACCEPT marks no unit but octavia/0 BAD
    And gate P03-ACCEPT has a BAD line naming "Missing required certificate configuration, please examine documentation"
    And gate P03-ACCEPT has a BAD line naming "holds the allowlisted"
    And the run exits 1

  @gate-P03-ACCEPT
  Scenario: each of octavia's awaiting forms is allowed for its role only
    # phase-05 entry is the phase-03 state of octavia: still awaiting configure-resources.
    Given the fixture world "phase05-entry-two-octavia"
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is WAIVED
    And gate P03-ACCEPT marks octavia/0 allowed
    And gate P03-ACCEPT marks octavia/1 allowed
    And gate P03-ACCEPT has an allowed line naming "Awaiting leader to create required resources"

  @gate-P03-ACCEPT
  Scenario Outline: glance-simplestreams-sync <state>: <verdict>
    # charm-glance-simplestreams-sync's sync script is the only place that sets its status
    # (files/glance_simplestreams_sync.py); see the profile's allowlist for each state.
    Given the fixture world "<world>"
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is <verdict>
    And gate P03-ACCEPT marks glance-simplestreams-sync/0 <mark>
    And the evidence of gate P03-ACCEPT names "<says>"

    Examples:
      | world                       | state                                   | verdict | mark    | says                                                              |
      | phase03-settled             | unknown before any sync                 | WAIVED  | allowed | no image sync has run yet                                         |
      | phase03-glance-syncing      | syncing                                 | WAIVED  | allowed | Synchronising images                                              |
      | phase03-glance-sync-failed  | failed                                  | FAIL    | BAD     | Image sync failed, retrying soon.                                 |
      | phase03-glance-swift-pending | without the object store's endpoints   | FAIL    | BAD     | Swift usage has been requested but its endpoints are not yet in the catalog |

  @gate-P03-ACCEPT
  Scenario: glance-simplestreams-sync synced is settled, not allowlisted
    Given the fixture world "phase03-glance-synced"
    When gate P03-ACCEPT runs
    Then gate P03-ACCEPT is WAIVED
    And gate P03-ACCEPT counts 1 unit not active/idle
    And gate P03-ACCEPT reports metric "allowed" = 1
    And gate P03-ACCEPT marks octavia/0 allowed
