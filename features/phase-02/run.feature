@phase-02 @read-only
Feature: a phase-02 run exits as the runbook scripts do
  `stackgate gate --phase 02` runs gates A-E and exits 0 when every gate passes or
  proceeds, 1 on any FAIL or HOLD, 2 on any PRECONDITION: the verdict set is then
  incomplete, and that outranks a failure.

  Background:
    Given the testcloud site profile

  @gate-P02-A @gate-P02-B @gate-P02-C @gate-P02-D @gate-P02-E
  Scenario Outline: the exit code of the whole phase
    Given the fixture world "<world>"
    When the phase 02 gates run
    Then the run exits <exit>

    Examples: the healthy pre-vault cloud proceeds
      | world             | exit |
      | phase02-pre-vault | 0    |

    Examples: a failure or a hold exits 1
      | world                     | exit |
      | phase02-machine-down      | 1    |
      | phase02-vault-initialized | 1    |

    Examples: a precondition exits 2, even when the other gates pass
      | world                            | exit |
      | phase02-login-expired            | 2    |
      | phase02-unit-missing-juju-status | 2    |

  @gate-P02-A @gate-P02-B @gate-P02-C @gate-P02-D @gate-P02-E
  Scenario: an expired login leaves every gate of the phase PRECONDITION
    Given the fixture world "phase02-login-expired"
    When the phase 02 gates run
    Then every gate of the run is PRECONDITION
    And the evidence of gate P02-E names "the juju login has expired"
    And the run exits 2
