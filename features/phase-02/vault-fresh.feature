@phase-02 @read-only
Feature: P02-D vault/0 is fresh: the irreversibility guard
  `vault operator init` can run once. The gate proceeds only when vault/0 is blocked
  "Vault needs to be initialized"; any other state may mean vault already holds keys,
  and the guard HOLDs (exit 1) instead of letting a second init run.

  Background:
    Given the testcloud site profile

  @gate-P02-D
  Scenario: a fresh vault lets the init proceed
    Given the fixture world "phase02-pre-vault"
    When gate P02-D runs
    Then gate P02-D is PROCEED
    And gate P02-D marks vault/0 ok
    And gate P02-D has an ok line naming "Vault needs to be initialized"
    And the run exits 0

  @gate-P02-D
  Scenario Outline: a vault that is not fresh holds the init
    Given the fixture world "<world>"
    When gate P02-D runs
    Then gate P02-D is HOLD
    And gate P02-D marks vault/0 BAD
    And gate P02-D has a BAD line naming "<state>"
    And the run exits 1

    Examples: already initialized, still sealed
      | world                     | state          |
      | phase02-vault-initialized | Unit is sealed |

    Examples: initialized, unsealed and authorized (the settled phase-03 cloud)
      | world           | state         |
      | phase03-settled | Unit is ready |
