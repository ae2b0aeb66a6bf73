@phase-03 @read-only
Feature: P03-OPENRC: the admin-openrc is owner-only and never echoes the password
  Step 3.2 writes ~/admin-openrc on the jumphost under umask 077 with the keystone
  admin password in it. The gate reads its mode with `stat` and the names of the
  variables it assigns with `sed` (which prints the name, never the value), and
  finds by line number any line that would print the password when the file is
  sourced (an echo or printf of OS_PASSWORD, or shell tracing). The password never
  enters stackgate.

  Background:
    Given the testcloud site profile

  @gate-P03-OPENRC
  Scenario: an owner-only openrc assigning every required variable passes
    Given the fixture world "phase03-settled"
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is PASS
    And gate P03-OPENRC has an ok line naming "regular file 0600"
    And gate P03-OPENRC has an ok line naming "OS_PASSWORD assigned"
    And the run exits 0

  @gate-P03-OPENRC
  Scenario Outline: an openrc that others can read, lacks the password, echoes it, or is absent fails
    Given the fixture world "<world>"
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is FAIL
    And gate P03-OPENRC has a BAD line naming "<bad>"
    And the run exits 1

    Examples:
      | world                          | bad                          |
      | phase03-openrc-world-readable  | regular file 0644            |
      | phase03-openrc-no-password     | OS_PASSWORD not assigned     |
      | phase03-openrc-echoes-password | line(s) 12                   |
      | phase03-openrc-missing         | No such file or directory    |

  @gate-P03-OPENRC
  Scenario: the phase-03 run includes P03-OPENRC
    Given the fixture world "phase03-settled"
    When the phase 03 gates run
    Then gate P03-OPENRC is PASS
    And gate P03-ACCEPT is WAIVED
    And the run exits 0

  @gate-P03-OPENRC @needs-stat @needs-sed
  Scenario: a real owner-only openrc passes and its password appears nowhere
    Given an admin-openrc on this machine with mode 600 and a fresh password
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is PASS
    And no secret of the scenario appears in the report, the snapshot or the call log

  @gate-P03-OPENRC @needs-stat @needs-sed
  Scenario: a real world-readable openrc fails on its mode
    Given an admin-openrc on this machine with mode 644 and a fresh password
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is FAIL
    And gate P03-OPENRC has a BAD line naming "regular file 0644"

  @gate-P03-OPENRC @needs-stat @needs-sed
  Scenario: a real openrc that echoes the password fails on that line, without printing it
    Given an admin-openrc on this machine with mode 600 and a fresh password
    And the admin-openrc also has the line "echo \"admin password: $OS_PASSWORD\""
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is FAIL
    And gate P03-OPENRC has a BAD line naming "line(s) 10"
    And no secret of the scenario appears in the report, the snapshot or the call log

  @gate-P03-OPENRC @needs-stat @needs-sed
  Scenario: a real openrc that turns on shell tracing fails
    Given an admin-openrc on this machine with mode 600 and a fresh password
    And the admin-openrc also has the line "set -x"
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is FAIL
    And gate P03-OPENRC has a BAD line naming "line(s) 10"
