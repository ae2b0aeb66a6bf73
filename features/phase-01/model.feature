@phase-01 @read-only
Feature: P01-DEFAULT-SPACE, P01-MODEL-SPACES, P01-BINDINGS: the model the bundle lands in
  The last deploy failed on every charm's install hook because controller model-defaults
  default-space was `metal`, a dead pre-D-052 name (004): an invalid default space
  poisons network-get for every endpoint whatever its explicit binding. Spaces are per
  model, so they can only be checked after add-model (DOCFIX-039).

  Background:
    Given the testcloud site profile

  @gate-P01-DEFAULT-SPACE
  Scenario: before add-model, controller default-space metal-admin is live
    Given the fixture world "phase01-live-default-space"
    When gate P01-DEFAULT-SPACE runs
    Then gate P01-DEFAULT-SPACE is PASS
    And the evidence of gate P01-DEFAULT-SPACE names "model not added yet"

  @gate-P01-DEFAULT-SPACE
  Scenario: the dead name metal in controller model-defaults fails
    Given the fixture world "phase01-dead-default-space"
    When gate P01-DEFAULT-SPACE runs
    Then gate P01-DEFAULT-SPACE is FAIL
    And gate P01-DEFAULT-SPACE has a BAD line naming "controller model-defaults"
    And the evidence of gate P01-DEFAULT-SPACE names "a dead name poisons network-get"

  @gate-P01-DEFAULT-SPACE
  Scenario: default-space never set on the controller fails: new models land on alpha
    Given the fixture world "phase01-default-space-unset"
    When gate P01-DEFAULT-SPACE runs
    Then gate P01-DEFAULT-SPACE is FAIL
    And gate P01-DEFAULT-SPACE has a BAD line naming "controller model-defaults"
    And the evidence of gate P01-DEFAULT-SPACE names "not set"

  @gate-P01-DEFAULT-SPACE
  Scenario: after add-model the model inherits the live default space
    Given the fixture world "phase01-model-added"
    When gate P01-DEFAULT-SPACE runs
    Then gate P01-DEFAULT-SPACE is PASS
    And gate P01-DEFAULT-SPACE has an ok line naming "model openstack"

  @gate-P01-DEFAULT-SPACE
  Scenario: a model carrying its own dead default-space fails although the controller is fixed
    Given the fixture world "phase01-model-dead-default-space"
    When gate P01-DEFAULT-SPACE runs
    Then gate P01-DEFAULT-SPACE is FAIL
    And gate P01-DEFAULT-SPACE has an ok line naming "controller model-defaults"
    And gate P01-DEFAULT-SPACE has a BAD line naming "model openstack"

  @gate-P01-MODEL-SPACES
  Scenario: before add-model the model's spaces are a precondition, not a failure
    Given the fixture world "phase01-live-default-space"
    When gate P01-MODEL-SPACES runs
    Then gate P01-MODEL-SPACES is PRECONDITION
    And the run exits 2

  @gate-P01-MODEL-SPACES
  Scenario: after add-model and reload-spaces every plane's CIDR is in its space
    Given the fixture world "phase01-model-added"
    When gate P01-MODEL-SPACES runs
    Then gate P01-MODEL-SPACES is PASS

  @gate-P01-MODEL-SPACES
  Scenario: a plane whose CIDR is in no model space fails naming the plane
    Given the fixture world "phase01-spaces-missing-cidr"
    When gate P01-MODEL-SPACES runs
    Then gate P01-MODEL-SPACES is FAIL
    And gate P01-MODEL-SPACES has a BAD line naming "plane replication 10.12.36.0/22"

  @gate-P01-BINDINGS
  Scenario: before deploy the bundle's bindings are the ones juju will apply
    Given the fixture world "phase01-model-added"
    When gate P01-BINDINGS runs
    Then gate P01-BINDINGS is PASS
    And the evidence of gate P01-BINDINGS names "not deployed yet"

  @gate-P01-BINDINGS
  Scenario: once deployed the endpoint bindings juju status prints are checked
    Given the fixture world "phase03-settled"
    When gate P01-BINDINGS runs
    Then gate P01-BINDINGS is PASS
    And the evidence of gate P01-BINDINGS names "juju status -m openstack"

  @gate-P01-BINDINGS
  Scenario: the pre-D-052 binding map fails naming each wrong endpoint
    Given the fixture world "phase01-binding-drift"
    When gate P01-BINDINGS runs
    Then gate P01-BINDINGS is FAIL
    And gate P01-BINDINGS has a BAD line naming "application ceph-osd"
    And gate P01-BINDINGS has a BAD line naming "application vault"
