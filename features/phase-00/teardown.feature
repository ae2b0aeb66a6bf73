@phase-00 @read-only
Feature: P00-TEARDOWN: the model is gone, the hosts left MAAS, their domains survive shut off
  Seed 002 step 2 (D-061): the destroy path removes the openstack model, decomposes
  openstack0-3 out of the virsh-pod MAAS and deletes the retired capi-mgmt; the libvirt
  domains survive, shut off, for the re-enrollment. A host back in MAAS under a fresh
  system_id was re-enrolled after the teardown (step 5, DOCFIX-040). A model still
  destroying past the profile's bound (10 min) gets the remediation; how long it has
  been destroying is in the read itself: juju prints `since` relative to the moment of
  the read ("14 minutes ago"). A bare-metal site releases its hosts to Ready instead
  (seed 000) and has no domains.

  @gate-P00-TEARDOWN
  Scenario: the phase-00 exit state: no model, hosts re-enrolled fresh, domains shut off
    Given the testcloud site profile
    And the fixture world "phase00-ready-carved"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is PASS
    And gate P00-TEARDOWN has an ok line naming "re-enrolled after the teardown (Ready, fresh system_id w7e3kq)"
    And gate P00-TEARDOWN has an ok line naming "domain openstack3"
    And the run exits 0

  @gate-P00-TEARDOWN
  Scenario: a live model on Deployed hosts: the teardown has not run
    Given the testcloud site profile
    And the fixture world "phase00-dirty"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is FAIL
    And gate P00-TEARDOWN routes to MODEL-PRESENT
    And gate P00-TEARDOWN has a BAD line naming "present (life alive, status available)"
    And gate P00-TEARDOWN has a BAD line naming "still in MAAS (Deployed, system_id w7e3kq)"
    And the run exits 1

  @gate-P00-TEARDOWN
  Scenario: a model destroying for 4 minutes: wait, the remediation is not due yet
    Given the testcloud site profile
    And the fixture world "phase00-model-destroying"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is FAIL
    And gate P00-TEARDOWN routes to DESTROYING
    And gate P00-TEARDOWN reports metric "destroying_minutes" = 4
    And the summary of gate P00-TEARDOWN names "the remediation is due at 10 min"
    And the run exits 1

  @gate-P00-TEARDOWN
  Scenario: a model still destroying after 14 minutes: remove-machine --force and re-run
    Given the testcloud site profile
    And the fixture world "phase00-model-destroying-stuck"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is FAIL
    And gate P00-TEARDOWN routes to REMEDIATE
    And gate P00-TEARDOWN reports metric "destroying_minutes" = 14
    And the summary of gate P00-TEARDOWN names "juju remove-machine -m openstack --force <id>"
    And the run exits 1

  @gate-P00-TEARDOWN
  Scenario: the retired capi-mgmt still in MAAS
    Given the testcloud site profile
    And the fixture world "phase00-capi-present"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is FAIL
    And gate P00-TEARDOWN has a BAD line naming "machine capi-mgmt"
    And the run exits 1

  @gate-P00-TEARDOWN
  Scenario: a host domain running after the teardown
    Given the testcloud site profile
    And the fixture world "phase00-domain-running"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is FAIL
    And gate P00-TEARDOWN has a BAD line naming "domain openstack1"
    And the run exits 1

  @gate-P00-TEARDOWN
  Scenario: a host domain undefined: virsh list --all no longer shows it
    Given the testcloud site profile
    And the fixture world "phase00-domain-undefined"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is FAIL
    And gate P00-TEARDOWN has a BAD line naming "not listed"
    And gate P00-TEARDOWN has a BAD line naming "domain openstack3"
    And the run exits 1

  @gate-P00-TEARDOWN
  Scenario: a bare-metal site: hosts released to Ready, no domains to read
    Given the fixture world "phase00-bare-metal"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is PASS
    And gate P00-TEARDOWN has an ok line naming "Ready, owner (none)"
    And gate P00-TEARDOWN has an info line naming "no [libvirt] section"
    And the run read nothing from virsh, qemu-img or stat
    And the run exits 0

  @gate-P00-TEARDOWN
  Scenario: a bare-metal site whose hosts are still Deployed: not released
    Given the site profile file "bare-metal.toml", checked against a cloud recorded for another profile
    And the fixture world "phase00-dirty"
    When gate P00-TEARDOWN runs
    Then gate P00-TEARDOWN is FAIL
    And gate P00-TEARDOWN has a BAD line naming "Deployed, owner jessea123"
    And the run exits 1

  @gate-P00-TEARDOWN @needs-virsh
  Scenario: real virsh on the test driver: every host domain shut off
    Given a libvirt test node with the four host domains, shut off
    When gate P00-TEARDOWN runs on the test node
    Then gate P00-TEARDOWN is PASS
    And gate P00-TEARDOWN has an ok line naming "domain openstack2"
    And the run exits 0

  @gate-P00-TEARDOWN @needs-virsh
  Scenario: real virsh on the test driver: a running host domain fails the teardown
    Given a libvirt test node with the four host domains, shut off
    And domain openstack2 is running
    When gate P00-TEARDOWN runs on the test node
    Then gate P00-TEARDOWN is FAIL
    And gate P00-TEARDOWN has a BAD line naming "domain openstack2"
    And the summary of gate P00-TEARDOWN names "domain openstack2 running"
    And the run exits 1
