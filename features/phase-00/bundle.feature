@phase-00 @read-only
Feature: P00-BUNDLE: the deploy bundle holds the invariants provider-bundle-check.py checks
  Before deploy the bundle is read as the jumphost holds it (seed 002 step 7): the API
  charms bind public to provider-public, every VIP triple is aligned in the .50-.60
  band, every host's provider MAC is in the chassis bridge mappings, every relation
  names an application of the bundle, mysql runs 3 units (D-062), keystone's policyd
  resource is wired (DOCFIX-071), and the one overlay is complete and ASCII clean.

  Background:
    Given the testcloud site profile

  @gate-P00-BUNDLE
  Scenario: the hardened bundle and its octavia-pki overlay pass
    Given the fixture world "phase00-ready-carved"
    When gate P00-BUNDLE runs
    Then gate P00-BUNDLE is PASS
    And gate P00-BUNDLE reports metric "bad" = 0
    And gate P00-BUNDLE has an ok line naming "application ceph-radosgw"

  @gate-P00-BUNDLE
  Scenario: a VIP triple whose internal address drifted one octet fails
    Given the fixture world "phase00-bundle-vip-misaligned"
    When gate P00-BUNDLE runs
    Then gate P00-BUNDLE is FAIL
    And gate P00-BUNDLE has a BAD line naming "application keystone"
    And the evidence of gate P00-BUNDLE names "octets differ across planes: .50 .51"
    And gate P00-BUNDLE reports metric "bad" = 1

  @gate-P00-BUNDLE
  Scenario: a chassis mapping without openstack0's provider MAC fails
    Given the fixture world "phase00-bundle-chassis-mac-missing"
    When gate P00-BUNDLE runs
    Then gate P00-BUNDLE is FAIL
    And gate P00-BUNDLE has a BAD line naming "host openstack0"
    And gate P00-BUNDLE reports metric "bad" = 1

  @gate-P00-BUNDLE
  Scenario: a relation to an application the bundle does not define fails
    Given the fixture world "phase00-bundle-absent-relation"
    When gate P00-BUNDLE runs
    Then gate P00-BUNDLE is FAIL
    And the evidence of gate P00-BUNDLE names "lxd:lxd: no application lxd in the bundle"

  @gate-P00-BUNDLE
  Scenario: a relation defined twice, either way round, fails as juju's verifier refuses it
    Given the fixture world "phase00-bundle-relation-twice"
    When gate P00-BUNDLE runs
    Then gate P00-BUNDLE is FAIL
    And the evidence of gate P00-BUNDLE names "more than once"

  @gate-P00-BUNDLE
  Scenario: mysql-innodb-cluster at one unit fails
    Given the fixture world "phase00-bundle-mysql-one-unit"
    When gate P00-BUNDLE runs
    Then gate P00-BUNDLE is FAIL
    And gate P00-BUNDLE has a BAD line naming "application mysql-innodb-cluster"

  @gate-P00-BUNDLE
  Scenario: an API charm whose public endpoint is not on provider-public fails
    Given the fixture world "phase00-bundle-public-unbound"
    When gate P00-BUNDLE runs
    Then gate P00-BUNDLE is FAIL
    And gate P00-BUNDLE has a BAD line naming "application octavia"

  @gate-P00-BUNDLE
  Scenario: keystone without its policyd-override resource fails
    Given the fixture world "phase00-bundle-policyd-unwired"
    When gate P00-BUNDLE runs
    Then gate P00-BUNDLE is FAIL
    And the evidence of gate P00-BUNDLE names "resources.policyd-override"

  @gate-P00-BUNDLE
  Scenario: an overlay that was never generated fails the bundle gate
    Given the fixture world "phase00-overlay-absent"
    When gate P00-BUNDLE runs
    Then gate P00-BUNDLE is FAIL
    And the evidence of gate P00-BUNDLE names "No such file or directory"
