@phase-02 @read-only
Feature: P02-B every machine and container is started
  A machine whose agent is not started cannot host the vault init and its consumers.
  Machines are named by hostname as well as by Juju id, which is re-minted every
  rebuild (R1).

  Background:
    Given the testcloud site profile

  @gate-P02-B
  Scenario: all four hosts and their LXD containers are started
    Given the fixture world "phase02-pre-vault"
    When gate P02-B runs
    Then gate P02-B is PASS
    And gate P02-B reports metric "machines" = 4
    And gate P02-B reports metric "machines_started" = 4
    And gate P02-B reports metric "containers" = 24
    And gate P02-B reports metric "containers_started" = 24
    And the run exits 0

  @gate-P02-B
  Scenario: a host whose machine agent is down fails, named by id and hostname
    Given the fixture world "phase02-machine-down"
    When gate P02-B runs
    Then gate P02-B is FAIL
    And gate P02-B has a BAD line naming "machine 2 (openstack3)"
    And gate P02-B has a BAD line naming "agent is not communicating with the server"
    And gate P02-B reports metric "machines_started" = 3
    And gate P02-B reports metric "containers_started" = 24
    And the run exits 1
