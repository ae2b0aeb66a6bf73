@phase-02 @read-only
Feature: P02-C mysql-innodb-cluster is whole before vault stores into it
  Vault keeps its storage in mysql, so the cluster must have its three units, each
  active "Unit is ready: Mode: R/W|R/O, <statusText>" as charm-mysql-innodb-cluster
  prints it, the statusText exactly "Cluster is ONLINE and can tolerate up to ONE
  failure.", with exactly one member in Mode: R/W. The message is parsed, never searched:
  MySQL Shell appends " 1 member is not active." to that text while a member is
  RECOVERING, and the charm still reports active.

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

  @gate-P02-C
  Scenario Outline: a member not active fails though every unit is active: <why>
    Given the fixture world "<world>"
    When gate P02-C runs
    Then gate P02-C is FAIL
    And gate P02-C has a BAD line naming "<says>"
    And gate P02-C reports metric "online" = 0
    And gate P02-C reports metric "read_write" = 1
    And the run exits 1

    Examples:
      | world                            | why                     | says                                                                          |
      | phase02-mysql-member-recovering  | one member RECOVERING   | Cluster is ONLINE and can tolerate up to ONE failure. 1 member is not active.  |
      | phase02-mysql-members-recovering | two members RECOVERING  | Cluster is ONLINE and can tolerate up to ONE failure. 2 members are not active. |
