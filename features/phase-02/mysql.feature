@phase-02 @read-only
Feature: P02-C mysql-innodb-cluster is whole before vault stores into it
  Vault keeps its storage in mysql, so the cluster must have its three units, all active
  and "Cluster is ONLINE and can tolerate up to ONE failure.", with exactly one R/W
  member.

  Background:
    Given the testcloud site profile

  @gate-P02-C
  Scenario: three ONLINE units with one read/write member pass
    Given the fixture world "phase02-pre-vault"
    When gate P02-C runs
    Then gate P02-C is PASS
    And gate P02-C reports metric "units" = 3
    And gate P02-C reports metric "online" = 3
    And gate P02-C reports metric "read_write" = 1
    And gate P02-C marks mysql-innodb-cluster/0 ok
    And the run exits 0

  @gate-P02-C
  Scenario: an OFFLINE member fails the gate, naming the unit
    Given the fixture world "phase02-mysql-offline"
    When gate P02-C runs
    Then gate P02-C is FAIL
    And gate P02-C marks mysql-innodb-cluster/2 BAD
    And gate P02-C has a BAD line naming "Cluster is inaccessible from this instance"
    And gate P02-C reports metric "online" = 0
    And the run exits 1

  @gate-P02-C
  Scenario: two read/write members fail the gate, naming both
    Given the fixture world "phase02-mysql-two-rw"
    When gate P02-C runs
    Then gate P02-C is FAIL
    And gate P02-C marks mysql-innodb-cluster/0 BAD
    And gate P02-C marks mysql-innodb-cluster/1 BAD
    And gate P02-C reports metric "read_write" = 2
    And gate P02-C reports metric "online" = 3
    And the run exits 1
