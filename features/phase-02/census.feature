@phase-02 @read-only
Feature: P02-E no unit in error, subordinates included, and the census reported
  Zero units with workload-status error and zero with juju-status error, counting the
  subordinates under every principal. The census is reported so the operator can
  compare it with the runbook's pre-flight numbers. A key the gate reads that is absent
  is PRECONDITION, never "0 errors" (R2; DOCFIX-044 counted `agent-status`, a key units
  do not have, and reported 0 hook errors for weeks).

  Background:
    Given the testcloud site profile

  @gate-P02-E
  Scenario: the healthy pre-vault cloud has no unit in error and reports its census
    Given the fixture world "phase02-pre-vault"
    When gate P02-E runs
    Then gate P02-E is PASS
    And gate P02-E reports the census
      | units             | 63 |
      | principals        | 31 |
      | subordinates      | 32 |
      | active            | 51 |
      | blocked           | 2  |
      | waiting           | 9  |
      | maintenance       | 0  |
      | unknown           | 1  |
      | workload_error    | 0  |
      | juju_status_error | 0  |
    And the census of gate P02-E counts every unit once
    And the run exits 0

  @gate-P02-E
  Scenario Outline: a unit in error fails the gate, named
    Given the fixture world "<world>"
    When gate P02-E runs
    Then gate P02-E is FAIL
    And gate P02-E marks no unit but <unit> BAD
    And gate P02-E reports metric "workload_error" = <workload_error>
    And gate P02-E reports metric "juju_status_error" = <juju_status_error>
    And the census of gate P02-E counts every unit once
    And gate P02-E cannot settle by waiting, naming "<unit> in error"
    And the run exits 1

    Examples: a subordinate's hook failed, in the shape juju 3.6 prints it (workload-status error, juju-status idle)
      | world                          | unit                 | workload_error | juju_status_error |
      | phase02-subordinate-hook-error | keystone-hacluster/0 | 1              | 0                 |

    Examples: DOCFIX-044 regression: a subordinate's juju-status is error, which a gate reading agent-status counts as 0
      | world                           | unit                     | workload_error | juju_status_error |
      | phase02-subordinate-agent-error | placement-mysql-router/0 | 0              | 1                 |

    Examples: a principal's workload-status is error
      | world                  | unit     | workload_error | juju_status_error |
      | phase02-workload-error | glance/0 | 1              | 0                 |

  @gate-P02-E
  Scenario Outline: the census walks into the subordinates to find the unit in error
    Given the fixture world "<world>"
    When gate P02-E runs
    Then <unit> is a subordinate of <principal>
    And gate P02-E marks <unit> BAD
    And gate P02-E has a BAD line naming "<status key>"

    Examples:
      | world                           | unit                     | principal   | status key      |
      | phase02-subordinate-hook-error  | keystone-hacluster/0     | keystone/0  | workload-status |
      | phase02-subordinate-agent-error | placement-mysql-router/0 | placement/0 | juju-status     |

  @gate-P02-E
  Scenario: a unit without its juju-status key is PRECONDITION, never PASS (R2)
    Given the fixture world "phase02-unit-missing-juju-status"
    When gate P02-E runs
    Then gate P02-E is PRECONDITION
    And gate P02-E reports a missing key path ending in "juju-status"
    And gate P02-E marks cinder/0 MISSING
    And the run exits 2
