@phase-03 @mutation
Feature: admin-openrc on the simulated testcloud, between P02-AUTHORIZED and P03-OPENRC
  Seed 004 Step 3.2 (`phase-03-admin-openrc.sh`): vault's root CA from charm-vault's
  get-root-ca, keystone's admin password from charm-keystone's get-admin-password, the
  project scope that password gets a token for discovered by `openstack token issue`
  (DOCFIX-022), the admin-openrc written owner-only under umask 077 and never over an
  existing file, the password never on argv or in a report; then P03-OPENRC and a
  scoped `endpoint list` with the file sourced.

  @action-admin-openrc
  Scenario: from no openrc to P03-OPENRC PASS and a scoped catalog, then nothing to do
    Given the simulated cloud "phase03-openrc-missing"
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is FAIL
    When admin-openrc is planned
    Then the action is PLANNED
    And the action's report says "juju run -m openstack --format=json --wait=2m keystone/leader get-admin-password"
    And the action's report says "OS_AUTH_URL"
    And no mutation ran
    When admin-openrc is applied
    Then the action is DONE
    And the action's report says "chose project admin in domain admin_domain"
    And the simulated admin password is in the admin-openrc and in no argv or report
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is PASS
    And gate P03-OPENRC has an ok line naming "regular file 0600"
    When admin-openrc is applied
    Then the action is NOTHING-TO-DO
    And the action's report says "nothing to do"
    And no mutation ran

  @action-admin-openrc
  Scenario: the scope keystone does not grant is tried first and refused, the granted one is written (DOCFIX-022)
    Given the simulated cloud "phase03-openrc-missing"
    And the profile tries the openrc scopes "admin/Default, admin/admin_domain"
    When admin-openrc is applied
    Then the action is DONE
    And the action's report says "chose project admin in domain admin_domain after project admin in domain Default"
    And the action's report says "(HTTP 401)"
    And the simulated admin password is in the admin-openrc and in no argv or report
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is PASS

  @action-admin-openrc
  Scenario: no scope the profile lists gets a token: the step fails and no openrc is written
    Given the simulated cloud "phase03-openrc-missing"
    And the profile tries the openrc scopes "admin/Default, demo/admin_domain"
    When admin-openrc is applied
    Then the action is STEP-FAILED
    And the action exits 1
    And the action's report says "no alternative succeeded"
    When gate P03-OPENRC runs
    Then gate P03-OPENRC is FAIL
    And gate P03-OPENRC has a BAD line naming "No such file or directory"

  @action-admin-openrc
  Scenario: before the charm is authorized vault has no root CA: refused
    Given the simulated cloud "phase02-missing-ca"
    When admin-openrc is planned
    Then the action is REFUSED
    And the action's report says "run vault-authorize first"
    And no mutation ran

  @action-admin-openrc
  Scenario: an openrc from an earlier cloud whose credentials no longer list the catalog is refused, never overwritten
    Given the simulated cloud "phase03-openrc-stale"
    When admin-openrc is planned
    Then the action is REFUSED
    And the action's report says "move it aside (it is never overwritten)"
    And no mutation ran

  @action-admin-openrc
  Scenario: an openrc P03-OPENRC fails (world-readable) is refused, never overwritten
    Given the simulated cloud "phase03-openrc-world-readable"
    When admin-openrc is planned
    Then the action is REFUSED
    And the action's report says "regular file 0644"
    And no mutation ran

  @action-admin-openrc
  Scenario: a CA file already where OS_CACERT points (an earlier vault's) is refused, never overwritten
    Given the simulated cloud "phase03-ca-present"
    When admin-openrc is planned
    Then the action is REFUSED
    And the action's report says "an earlier vault's CA would not verify this one"
    And no mutation ran
