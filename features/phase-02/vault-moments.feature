@phase-02 @read-only
Feature: phase 02 runs in moments, each on its own world
  The runbook's phase 02 is a sequence: the pre-flight before the irreversible init
  (P02-A..E and P02-SEALED, the default run), then after init (P02-INIT), after the
  unseal (P02-UNSEALED) and after authorize-charm and generate-root-ca (P02-UNSEALED
  and P02-AUTHORIZED). `stackgate gate --phase 02 --moment <name>` runs a later moment,
  on that moment's embedded world unless --world or --live says otherwise.

  Background:
    Given the testcloud site profile

  @gate-P02-SEALED @gate-P02-INIT @gate-P02-UNSEALED @gate-P02-AUTHORIZED
  Scenario: which gates each moment runs
    Then the default run of phase 02 includes P02-SEALED and not P02-UNSEALED
    And the moment init of phase 02 runs exactly "P02-INIT"
    And the moment unseal of phase 02 runs exactly "P02-UNSEALED"
    And the moment authorize of phase 02 runs exactly "P02-UNSEALED, P02-AUTHORIZED"

  @gate-P02-SEALED
  Scenario: the pre-flight on the fresh cloud proceeds, P02-SEALED included
    Given the fixture world "phase02-pre-vault"
    When the phase 02 gates run
    Then gate P02-SEALED is PROCEED
    And the run exits 0

  @gate-P02-UNSEALED
  Scenario: after the unseal the vault is unsealed
    Given the fixture world "phase02-unsealed"
    When the phase 02 gates of moment unseal run
    Then every gate of the run is PASS
    And the run exits 0

  @gate-P02-UNSEALED @gate-P02-AUTHORIZED
  Scenario Outline: the exit gate of phase 02
    Given the fixture world "<world>"
    When the phase 02 gates of moment authorize run
    Then gate P02-UNSEALED is PASS
    And gate P02-AUTHORIZED is <verdict>
    And the run exits <exit>

    Examples:
      | world                          | verdict | exit |
      | phase02-authorized             | PASS    | 0    |
      | phase02-missing-ca             | FAIL    | 1    |
      | phase02-chassis-awaiting-certs | FAIL    | 1    |
