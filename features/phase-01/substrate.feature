@phase-01 @read-only
Feature: P01-PLANES, P01-NODES and P01-LINKS: the substrate is ready for the bundle
  The deploy pre-flight of seed 004 (DOCFIX-039): six planes by CIDR with their VID,
  gateway and DNS; the four hosts Ready with power off; and per host octet the
  metal-internal, data, storage and replication links on the right subnets, found by
  CIDR and hostname (never by the subnet ids the old runbook hard-coded).

  @gate-P01-PLANES
  Scenario: the six planes match by CIDR
    Given the testcloud site profile
    And the fixture world "phase00-ready-carved"
    When gate P01-PLANES runs
    Then gate P01-PLANES is PASS

  @gate-P01-PLANES
  Scenario: planes whose VID, gateway or DNS differ from the profile fail
    Given the site profile file "d058.toml", checked against a cloud recorded for another profile
    And the fixture world "phase00-ready-carved"
    When gate P01-PLANES runs
    Then gate P01-PLANES is FAIL
    And gate P01-PLANES has a BAD line naming "plane metal-internal 10.12.16.0/22"
    And gate P01-PLANES has a BAD line naming "plane data-tenant 10.12.20.0/22"
    And the run exits 1

  @gate-P01-NODES
  Scenario: four hosts Ready with power off pass
    Given the testcloud site profile
    And the fixture world "phase00-ready-carved"
    When gate P01-NODES runs
    Then gate P01-NODES is PASS
    And gate P01-NODES reports metric "ready" = 4

  @gate-P01-NODES
  Scenario: a Deployed, powered-on host fails
    Given the testcloud site profile
    And the fixture world "phase00-deployed-during-carve"
    When gate P01-NODES runs
    Then gate P01-NODES is FAIL
    And gate P01-NODES has a BAD line naming "host openstack0"
    And the run exits 1

  @gate-P01-LINKS
  Scenario: every host's four data links are on their CIDRs
    Given the testcloud site profile
    And the fixture world "phase00-ready-carved"
    When gate P01-LINKS runs
    Then gate P01-LINKS is PASS
    And gate P01-LINKS reports metric "links_ok" = 16

  @gate-P01-LINKS
  Scenario: a host missing its storage static fails, naming host and interface
    Given the testcloud site profile
    And the fixture world "phase00-host-missing-static"
    When gate P01-LINKS runs
    Then gate P01-LINKS is FAIL
    And gate P01-LINKS has a BAD line naming "host openstack2 enp9s0"
    And gate P01-LINKS reports metric "links_ok" = 15

  @gate-P01-LINKS
  Scenario: a host carved on the pre-D-052 subnets fails (the runbook bug seed 004 records)
    Given the testcloud site profile
    And the fixture world "phase00-pre-d052-carve"
    When gate P01-LINKS runs
    Then gate P01-LINKS is FAIL
    And gate P01-LINKS has a BAD line naming "host openstack1 enp8s0"
    And the evidence of gate P01-LINKS names "STATIC 10.12.12.41 on 10.12.12.0/22"

  @gate-P01-LINKS
  Scenario: the links resolve on a world whose ids are all renumbered (R1)
    Given the testcloud site profile
    And the fixture world "phase00-renumbered"
    When gate P01-LINKS runs
    Then gate P01-LINKS is PASS
