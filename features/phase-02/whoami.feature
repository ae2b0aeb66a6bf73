@phase-02 @read-only
Feature: P02-A the operator is logged in to the openstack model
  Before the irreversible `vault operator init` the operator must hold a live juju
  session on the controller, with openstack as the current model. `juju whoami` reads
  only the client store, so the live session is proven by `juju models`, which calls
  the controller. An expired login makes juju prompt for a password; with stdin closed
  the prompt fails at once, and the gate is PRECONDITION (exit 2), never a hang.

  Background:
    Given the testcloud site profile

  @gate-P02-A
  Scenario: the healthy pre-vault cloud shows the operator's live session
    Given the fixture world "phase02-pre-vault"
    When gate P02-A runs
    Then gate P02-A is PASS
    And gate P02-A has an ok line naming "jessea123"
    And gate P02-A has an ok line naming "juju-controller"
    And gate P02-A has an ok line naming "controller session live"
    And the evidence of gate P02-A names "model openstack"
    And the run exits 0

  @gate-P02-A
  Scenario: an expired login is PRECONDITION, not a password prompt that hangs
    Given the fixture world "phase02-login-expired"
    When gate P02-A runs
    Then gate P02-A is PRECONDITION
    And gate P02-A has a MISSING line naming "the juju login has expired"
    And the evidence of gate P02-A names "juju models --format=json"
    And the run exits 2
