@phase-01 @mutation
Feature: model-prep on the simulated testcloud: default-space, add-model, reload-spaces
  Change log 004 R1-R3: the controller's model-defaults default-space must name a live
  MAAS space before add-model (a dead one poisoned network-get for every endpoint), the
  model's effective default-space is verified after add-model, and its spaces (per
  model) are imported with reload-spaces before P01-MODEL-SPACES.

  @action-model-prep
  Scenario: from a dead default space to the phase-01 model gates PASS
    Given the simulated cloud "phase01-dead-default-space"
    When gate P01-DEFAULT-SPACE runs
    Then gate P01-DEFAULT-SPACE is FAIL
    When model-prep is applied
    Then the action is DONE
    When gate P01-DEFAULT-SPACE runs
    Then gate P01-DEFAULT-SPACE is PASS
    When gate P01-MODEL-SPACES runs
    Then gate P01-MODEL-SPACES is PASS
    When model-prep is planned
    Then the action is NOTHING-TO-DO
