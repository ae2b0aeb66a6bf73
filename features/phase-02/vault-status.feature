@phase-02 @read-only
Feature: P02-SEALED and P02-UNSEALED: what `vault status -format=json` says
  Step 2.1a of the runbook reads vault's own status before the irreversible init:
  initialized false, sealed true, storage mysql, HA false (correct for vault on mysql)
  is safe to init (PROCEED); anything else HOLDs the init. After the unseal (Step 2.2)
  the same read must say initialized true, sealed false, storage mysql, HA false.
  Exit 2 with JSON is a sealed vault, not a failed read; exit 1 is an error and the
  gate could not read (PRECONDITION). Live, the CLI runs on vault/0 through
  `juju exec`; the real-server scenarios run OpenBao's `bao` against a server the
  scenario starts on loopback, with a profile expecting its in-memory storage.

  Background:
    Given the testcloud site profile

  @gate-P02-SEALED
  Scenario: a fresh, sealed vault on mysql is safe to init
    Given the fixture world "phase02-pre-vault"
    When gate P02-SEALED runs
    Then gate P02-SEALED is PROCEED
    And gate P02-SEALED has an ok line naming "initialized false"
    And gate P02-SEALED has an ok line naming "storage_type mysql"
    And gate P02-SEALED has an ok line naming "ha_enabled false"
    And the run exits 0

  @gate-P02-SEALED
  Scenario Outline: a vault that is not fresh, sealed and on mysql without HA holds the init
    Given the fixture world "<world>"
    When gate P02-SEALED runs
    Then gate P02-SEALED is HOLD
    And gate P02-SEALED has a BAD line naming "<bad>"
    And the run exits 1

    Examples: already initialized (it may hold keys)
      | world                     | bad                |
      | phase02-vault-initialized | initialized true   |

    Examples: already unsealed
      | world            | bad          |
      | phase02-unsealed | sealed false |

    Examples: on raft, not mysql (raft is HA)
      | world                 | bad               |
      | phase02-vault-on-raft | storage_type raft |
      | phase02-vault-on-raft | ha_enabled true   |

    Examples: on mysql with an etcd HA backend
      | world                 | bad             |
      | phase02-vault-etcd-ha | ha_enabled true |

  @gate-P02-SEALED @gate-P02-UNSEALED
  Scenario Outline: a status that lacks a key the gates read is PRECONDITION, never "HA false"
    Given the fixture world "phase02-vault-status-without-ha"
    When gate <gate> runs
    Then gate <gate> is PRECONDITION
    And gate <gate> reports a missing key path ending in "ha_enabled"
    And the run exits 2

    Examples:
      | gate         |
      | P02-SEALED   |
      | P02-UNSEALED |

  @gate-P02-SEALED @gate-P02-UNSEALED
  Scenario Outline: vault not answering is PRECONDITION naming vault's error
    Given the fixture world "phase02-vault-unreachable"
    When gate <gate> runs
    Then gate <gate> is PRECONDITION
    And the evidence of gate <gate> names "exited 1: connection failed"
    And the run exits 2

    Examples:
      | gate         |
      | P02-SEALED   |
      | P02-UNSEALED |

  @gate-P02-SEALED
  Scenario: an expired juju login is PRECONDITION and does not hang
    Given the fixture world "phase02-login-expired"
    When gate P02-SEALED runs
    Then gate P02-SEALED is PRECONDITION
    And the evidence of gate P02-SEALED names "the juju login has expired"
    And the run exits 2

  @gate-P02-UNSEALED
  Scenario Outline: an unsealed vault on mysql passes
    Given the fixture world "<world>"
    When gate P02-UNSEALED runs
    Then gate P02-UNSEALED is PASS
    And gate P02-UNSEALED has an ok line naming "sealed false"
    And the run exits 0

    Examples:
      | world              |
      | phase02-unsealed   |
      | phase02-authorized |

  @gate-P02-UNSEALED
  Scenario Outline: a vault that is sealed, fresh or not on mysql fails
    Given the fixture world "<world>"
    When gate P02-UNSEALED runs
    Then gate P02-UNSEALED is FAIL
    And gate P02-UNSEALED has a BAD line naming "<bad>"
    And the run exits 1

    Examples: still sealed
      | world                     | bad         |
      | phase02-vault-initialized | sealed true |

    Examples: never initialized
      | world             | bad               |
      | phase02-pre-vault | initialized false |

    Examples: on raft
      | world                 | bad               |
      | phase02-vault-on-raft | storage_type raft |

  @gate-P02-SEALED @gate-P02-UNSEALED @needs-bao
  Scenario: a fresh real OpenBao server is safe to init and not unsealed
    Given a real OpenBao server on loopback with in-memory storage
    When gates P02-SEALED and P02-UNSEALED run
    Then gate P02-SEALED is PROCEED
    And gate P02-SEALED has an ok line naming "storage_type inmem"
    And gate P02-UNSEALED is FAIL
    And gate P02-UNSEALED has a BAD line naming "initialized false"

  @gate-P02-SEALED @gate-P02-UNSEALED @needs-bao
  Scenario: a real OpenBao server initialized and still sealed holds the init and is not unsealed
    Given a real OpenBao server on loopback with in-memory storage
    And the OpenBao server is initialized with 5 key shares and a threshold of 3, its output captured to a 0600 file in a 0700 directory
    When gates P02-SEALED and P02-UNSEALED run
    Then gate P02-SEALED is HOLD
    And gate P02-SEALED has a BAD line naming "initialized true"
    And gate P02-UNSEALED is FAIL
    And gate P02-UNSEALED has a BAD line naming "sealed true"
    And no secret of the scenario appears in the report, the snapshot or the call log

  @gate-P02-SEALED @gate-P02-UNSEALED @needs-bao
  Scenario: a real OpenBao server unsealed with three of five shares is unsealed
    Given a real OpenBao server on loopback with in-memory storage
    And the OpenBao server is initialized with 5 key shares and a threshold of 3, its output captured to a 0600 file in a 0700 directory
    And the OpenBao server is unsealed with 3 of its key shares
    When gates P02-SEALED and P02-UNSEALED run
    Then gate P02-UNSEALED is PASS
    And gate P02-UNSEALED has an ok line naming "sealed false"
    And gate P02-SEALED is HOLD
    And no secret of the scenario appears in the report, the snapshot or the call log

  @gate-P02-SEALED @gate-P02-UNSEALED @needs-bao
  Scenario: a real OpenBao server that stopped answering is PRECONDITION with bao's own error
    Given a real OpenBao server on loopback with in-memory storage
    And the OpenBao server is stopped
    When gates P02-SEALED and P02-UNSEALED run
    Then gate P02-SEALED is PRECONDITION
    And gate P02-UNSEALED is PRECONDITION
    And the evidence of gate P02-SEALED names "exited 1: connection failed"
