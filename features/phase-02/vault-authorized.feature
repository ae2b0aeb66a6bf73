@phase-02 @read-only
Feature: P02-AUTHORIZED, the read-only half: vault ready and its certificate consumers active
  After authorize-charm (a short-lived child token, not root) and generate-root-ca
  (Step 2.3), charm-vault reports vault/0 active "Unit is ready (active: true, mlock:
  disabled)"; before, it reports "Vault charm not yet authorized: run authorize-charm
  action." and then "Missing CA cert". The certificate cascade then brings every
  consumer active: ovn-central x3, ovn-chassis x3, ovn-chassis-octavia,
  neutron-api-plugin-ovn, barbican-vault (unit counts from the profile). Each unit
  that is not active is named (identity, not counts). Whether the token was a child
  token is the vault-authorize action's to prove, not this read's. It runs at moment
  `authorize` with P02-UNSEALED.

  Background:
    Given the testcloud site profile

  @gate-P02-AUTHORIZED
  Scenario: an authorized vault and every consumer active
    Given the fixture world "phase02-authorized"
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is PASS
    And gate P02-AUTHORIZED marks vault/0 ok
    And gate P02-AUTHORIZED has an ok line naming "Unit is ready (active: true, mlock: disabled)"
    And gate P02-AUTHORIZED reports metric "consumer_units_active" = 9
    And the run exits 0

  @gate-P02-AUTHORIZED
  Scenario Outline: a vault not yet authorized or without its CA fails, naming vault's message
    Given the fixture world "<world>"
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is FAIL
    And gate P02-AUTHORIZED marks vault/0 BAD
    And gate P02-AUTHORIZED has a BAD line naming "<message>"
    And gate P02-AUTHORIZED marks ovn-chassis/0 BAD
    And gate P02-AUTHORIZED has a BAD line naming "'certificates' awaiting server certificate data"
    And the run exits 1

    Examples: unsealed, authorize-charm not yet run
      | world            | message                                                    |
      | phase02-unsealed | Vault charm not yet authorized: run authorize-charm action. |

    Examples: authorized, generate-root-ca not yet run
      | world              | message         |
      | phase02-missing-ca | Missing CA cert |

  @gate-P02-AUTHORIZED
  Scenario: the cascade just after generate-root-ca: vault ready, every consumer still waiting, fails and names them
    Given the fixture world "phase02-cascade-started"
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is FAIL
    And gate P02-AUTHORIZED marks vault/0 ok
    And gate P02-AUTHORIZED marks ovn-chassis/0 BAD
    And gate P02-AUTHORIZED marks barbican-vault/0 BAD
    And gate P02-AUTHORIZED reports metric "consumer_units_active" = 0
    And the run exits 1

  @gate-P02-AUTHORIZED
  Scenario: a consumer whose certificates hook failed is in error, which waiting cannot fix
    Given the fixture world "phase02-cascade-unit-error"
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is FAIL
    And gate P02-AUTHORIZED marks no unit but ovn-chassis/1 BAD
    And gate P02-AUTHORIZED has a BAD line naming "certificates-relation-changed"
    And gate P02-AUTHORIZED cannot settle by waiting, naming "ovn-chassis/1 in error"
    And the run exits 1

  @gate-P02-AUTHORIZED
  Scenario: one chassis still waiting for its certificate fails naming that unit alone
    Given the fixture world "phase02-chassis-awaiting-certs"
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is FAIL
    And gate P02-AUTHORIZED marks no unit but ovn-chassis/1 BAD
    And gate P02-AUTHORIZED marks vault/0 ok
    And gate P02-AUTHORIZED reports metric "consumer_units_active" = 8
    And the run exits 1

  @gate-P02-AUTHORIZED
  Scenario: a consumer application short of units fails on its count, naming the units it has
    Given the fixture world "phase02-ovn-central-two-units"
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is FAIL
    And gate P02-AUTHORIZED has a BAD line naming "2 (ovn-central/0, ovn-central/1)"
    And the run exits 1

  @gate-P02-AUTHORIZED
  Scenario: the fresh pre-vault cloud is not authorized
    Given the fixture world "phase02-pre-vault"
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is FAIL
    And gate P02-AUTHORIZED has a BAD line naming "Vault needs to be initialized"

  @gate-P02-AUTHORIZED
  Scenario: a consumer unit without its workload-status key is PRECONDITION naming the key path (R2)
    Given the fixture world "phase02-consumer-missing-workload-status"
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is PRECONDITION
    And gate P02-AUTHORIZED reports a missing key path ending in "subordinates.ovn-chassis/2.workload-status"
    And the run exits 2

  @gate-P02-AUTHORIZED
  Scenario: an expired juju login is PRECONDITION
    Given the fixture world "phase02-login-expired"
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is PRECONDITION
    And the run exits 2
