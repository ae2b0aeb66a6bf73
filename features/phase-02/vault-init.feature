@phase-02 @read-only
Feature: P02-INIT: the init output is captured, owner-only, and never read by value
  Step 2.1b runs `vault operator init -key-shares=5 -key-threshold=3` once, under
  umask 077, into ~/vault-init/init.txt on vault/0. The gate proves the capture's shape
  without reading a secret: `stat` gives the modes (0700 directory, 0600 file: group
  and others get nothing), and `sed` prints only the label of each line that holds a
  value (`Unseal Key 1` ... `Unseal Key 5`, `Initial Root Token`), so what stackgate
  reads, logs and records holds no share and no token. Each share is named (identity,
  not a count). It runs at moment `init`: `stackgate gate --phase 02 --moment init`.

  Background:
    Given the testcloud site profile

  @gate-P02-INIT
  Scenario: five shares and the root token in an owner-only file in an owner-only directory
    Given the fixture world "phase02-vault-initialized"
    When gate P02-INIT runs
    Then gate P02-INIT is PASS
    And gate P02-INIT reports metric "unseal_key_shares" = 5
    And gate P02-INIT has an ok line naming "Unseal Key 5 present"
    And gate P02-INIT has an ok line naming "Initial Root Token present"
    And gate P02-INIT has an ok line naming "directory 0700"
    And gate P02-INIT has an ok line naming "regular file 0600"
    And the run exits 0

  @gate-P02-INIT
  Scenario Outline: a capture that others can read, or that lost lines, fails
    Given the fixture world "<world>"
    When gate P02-INIT runs
    Then gate P02-INIT is FAIL
    And gate P02-INIT has a BAD line naming "<bad>"
    And the run exits 1

    Examples: the file is world-readable
      | world                            | bad               |
      | phase02-init-file-world-readable | regular file 0644 |

    Examples: the directory is open
      | world                 | bad            |
      | phase02-init-dir-open | directory 0755 |

    Examples: the tee was cut short after three shares
      | world                      | bad                       |
      | phase02-init-short-capture | Unseal Key 4 absent       |
      | phase02-init-short-capture | Unseal Key 5 absent       |
      | phase02-init-short-capture | Initial Root Token absent |

    Examples: nothing was captured (absence from stat's and sed's exit status and message)
      | world                        | bad                       |
      | phase02-init-capture-missing | No such file or directory |

  @gate-P02-INIT
  Scenario: the phase-02 moment after init runs P02-INIT on its own world
    Given the fixture world "phase02-vault-initialized"
    When the phase 02 gates of moment init run
    Then gate P02-INIT is PASS
    And the run exits 0

  @gate-P02-INIT @needs-bao @needs-stat @needs-sed
  Scenario: a real `bao operator init` capture passes, and no share or token leaves the file
    Given a real OpenBao server on loopback with in-memory storage
    And the OpenBao server is initialized with 5 key shares and a threshold of 3, its output captured to a 0600 file in a 0700 directory
    When gate P02-INIT runs
    Then gate P02-INIT is PASS
    And gate P02-INIT reports metric "unseal_key_shares" = 5
    And no secret of the scenario appears in the report, the snapshot or the call log

  @gate-P02-INIT @needs-bao @needs-stat @needs-sed
  Scenario: a real capture made world-readable fails on its mode
    Given a real OpenBao server on loopback with in-memory storage
    And the OpenBao server is initialized with 5 key shares and a threshold of 3, its output captured to a 0600 file in a 0700 directory
    And the init capture file is made mode 644
    When gate P02-INIT runs
    Then gate P02-INIT is FAIL
    And gate P02-INIT has a BAD line naming "regular file 0644"
    And no secret of the scenario appears in the report, the snapshot or the call log

  @gate-P02-INIT @needs-bao @needs-stat @needs-sed
  Scenario: a real capture made read-only for its owner (0400) is stricter and passes
    Given a real OpenBao server on loopback with in-memory storage
    And the OpenBao server is initialized with 5 key shares and a threshold of 3, its output captured to a 0600 file in a 0700 directory
    And the init capture file is made mode 400
    When gate P02-INIT runs
    Then gate P02-INIT is PASS
    And gate P02-INIT has an ok line naming "regular file 0400"

  @gate-P02-INIT @needs-bao @needs-stat @needs-sed
  Scenario: a real capture directory others can enter fails on its mode
    Given a real OpenBao server on loopback with in-memory storage
    And the OpenBao server is initialized with 5 key shares and a threshold of 3, its output captured to a 0600 file in a 0700 directory
    And the init capture directory is made mode 755
    When gate P02-INIT runs
    Then gate P02-INIT is FAIL
    And gate P02-INIT has a BAD line naming "directory 0755"

  @gate-P02-INIT @needs-bao @needs-stat @needs-sed
  Scenario: a real capture cut after its third share names the shares it lost
    Given a real OpenBao server on loopback with in-memory storage
    And the OpenBao server is initialized with 5 key shares and a threshold of 3, its output captured to a 0600 file in a 0700 directory
    And the init capture keeps only its first 3 lines
    When gate P02-INIT runs
    Then gate P02-INIT is FAIL
    And gate P02-INIT has a BAD line naming "Unseal Key 4 absent"
    And gate P02-INIT has a BAD line naming "Initial Root Token absent"
    And gate P02-INIT reports metric "unseal_key_shares" = 3
