@phase-02 @mutation @needs-bao @needs-stat @needs-sed
Feature: vault-init, vault-unseal, vault-authorize on a real OpenBao, between the phase-02 gates
  Seed 004 steps 2.1b-2.3 as actions. A real `bao server` on loopback is initialized,
  unsealed and used to mint the charm's child token by the actions themselves; the juju
  side (authorize-charm, generate-root-ca, juju status) is the simulator, which walks
  juju status through the recorded worlds of the authorized moment. The shares and the
  root token exist only in the capture file the init wrote; the operator reads them off
  it and types them (the scenario's operator feeds them at the hidden prompts, never on
  an argv). The canary check searches every report, call record, argv, snapshot and
  fixture for every share, the root token and the child token.

  Background:
    Given the testcloud site profile
    And a real OpenBao server on loopback with in-memory storage
    And the simulated juju of "phase02-pre-vault" answers the juju commands and real programs the rest

  @action-vault-init @action-vault-unseal @action-vault-authorize @destructive
  Scenario: from a fresh vault to P02-AUTHORIZED, gate, action, gate
    When gate P02-SEALED runs
    Then gate P02-SEALED is PROCEED
    When vault-init is applied with confirmation "openstack"
    Then the action is DONE
    And the action's report says "take the 5 unseal key shares and the initial root token off this machine"
    When gate P02-INIT runs
    Then gate P02-INIT is PASS
    And gate P02-INIT reports metric "unseal_key_shares" = 5
    When vault-unseal is applied with the unseal keys the operator reads from the init capture
    Then the action is DONE
    And the action's report says "vault unseal key 3 of 3"
    When gate P02-UNSEALED runs
    Then gate P02-UNSEALED is PASS
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is FAIL
    When vault-authorize is applied with the root token the operator reads from the init capture
    Then the action is DONE
    And the token authorize-charm was given is a child of the root token that expires within 600 seconds
    When gate P02-AUTHORIZED runs
    Then gate P02-AUTHORIZED is PASS
    And no share, root token or child token appears in a report, a call record, an argv the runner saw, a snapshot or the fixtures

  @action-vault-init @destructive
  Scenario: a second vault-init plans nothing and says the vault is initialized
    When vault-init is applied with confirmation "openstack"
    And vault-init is applied with confirmation "openstack"
    Then the action is NOTHING-TO-DO
    And the action's report says "is already initialized"
    And no mutation ran

  @action-vault-init @destructive
  Scenario: vault-init without the model name typed changes nothing
    When vault-init is applied
    Then the action is UNCONFIRMED
    And the action exits 2
    When gate P02-SEALED runs
    Then gate P02-SEALED is PROCEED

  @action-vault-init
  Scenario: an init by hand: vault-init plans nothing on the initialized vault
    Given the OpenBao server is initialized with 5 key shares and a threshold of 3, its output captured to a 0600 file in a 0700 directory
    When vault-init is planned
    Then the action is NOTHING-TO-DO
    And the action's report says "runs once per vault"

  @action-vault-init
  Scenario: a capture already at the path refuses the init before anything runs
    Given a capture file is already at the init capture path
    When vault-init is planned
    Then the action is REFUSED
    And the action exits 1
    And the action's report says "an init never overwrites a capture"
    When gate P02-SEALED runs
    Then gate P02-SEALED is PROCEED

  @action-vault-unseal
  Scenario: vault-unseal on a vault never initialized is refused
    When vault-unseal is planned
    Then the action is REFUSED
    And the action's report says "run vault-init first"

  @action-vault-unseal @destructive
  Scenario: a second vault-unseal plans nothing
    When vault-init is applied with confirmation "openstack"
    And vault-unseal is applied with the unseal keys the operator reads from the init capture
    And vault-unseal is applied with the unseal keys the operator reads from the init capture
    Then the action is NOTHING-TO-DO
    And the action's report says "is already unsealed"

  @action-vault-unseal @destructive
  Scenario: a wrong share at the threshold fails its step, named, without the key
    When vault-init is applied with confirmation "openstack"
    And vault-unseal is applied with two keys from the init capture and then a wrong one
    Then the action is STEP-FAILED
    And the action exits 1
    And the action's report says "step 3 `sh -c"
    And the action's report says "exited 2"
    When gate P02-UNSEALED runs
    Then gate P02-UNSEALED is FAIL
    And no share, root token or child token appears in a report, a call record, an argv the runner saw, a snapshot or the fixtures

  @action-vault-authorize @destructive
  Scenario: vault-authorize on a sealed vault is refused
    When vault-init is applied with confirmation "openstack"
    And vault-authorize is planned
    Then the action is REFUSED
    And the action's report says "run vault-unseal first"

  @action-vault-authorize @destructive
  Scenario: a root token that is not the vault's mints nothing and juju is never asked
    When vault-init is applied with confirmation "openstack"
    And vault-unseal is applied with the unseal keys the operator reads from the init capture
    And vault-authorize is applied with a root token that is not this vault's
    Then the action is STEP-FAILED
    And the action's report says "permission denied"
    And no mutation ran
    And no share, root token or child token appears in a report, a call record, an argv the runner saw, a snapshot or the fixtures

  @action-vault-authorize @destructive
  Scenario: a second vault-authorize plans nothing
    When vault-init is applied with confirmation "openstack"
    And vault-unseal is applied with the unseal keys the operator reads from the init capture
    And vault-authorize is applied with the root token the operator reads from the init capture
    And vault-authorize is applied with the root token the operator reads from the init capture
    Then the action is NOTHING-TO-DO
    And the action's report says "nothing to do"
