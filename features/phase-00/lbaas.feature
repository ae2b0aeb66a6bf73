@phase-00 @read-only @libvirt
Feature: P00-LBAAS: the idle 8_lbaas libvirt network is gone and no host domain uses it
  Seed 002 step 3: every host carried an idle virtio NIC on the isolated 8_lbaas network
  (bridge virbr6). The NICs are detached from the persistent configs, then the network
  is destroyed and undefined. The gate reads `virsh net-list --all` and each host
  domain's `dumpxml` (interface source network). The detach is refused unless every
  host domain is shut off: when the network is still there and a domain is not, the
  gate HOLDs and names the domain. A bare-metal site has no libvirt networks: SKIP,
  with the reason.

  @gate-P00-LBAAS
  Scenario: the network is gone and no domain references it
    Given the testcloud site profile
    And the fixture world "phase00-ready-carved"
    When gate P00-LBAAS runs
    Then gate P00-LBAAS is PASS
    And gate P00-LBAAS has an ok line naming "libvirt network 8_lbaas"
    And the run exits 0

  @gate-P00-LBAAS
  Scenario: step 3 not done, every domain shut off: the detach may run
    Given the testcloud site profile
    And the fixture world "phase00-lbaas-present"
    When gate P00-LBAAS runs
    Then gate P00-LBAAS is FAIL
    And gate P00-LBAAS routes to DETACH-READY
    And gate P00-LBAAS has a BAD line naming "present (active, persistent yes)"
    And gate P00-LBAAS has a BAD line naming "interface 52:54:00:7c:b5:40 source network"
    And the run exits 1

  @gate-P00-LBAAS
  Scenario: the network undefined, but one domain still has a NIC on it
    Given the testcloud site profile
    And the fixture world "phase00-lbaas-referenced"
    When gate P00-LBAAS runs
    Then gate P00-LBAAS is FAIL
    And gate P00-LBAAS has an ok line naming "libvirt network 8_lbaas"
    And gate P00-LBAAS has a BAD line naming "domain openstack2"
    And the summary of gate P00-LBAAS names "referenced by openstack2"
    And the run exits 1

  @gate-P00-LBAAS
  Scenario: the network still there and a domain running: the detach is refused
    Given the testcloud site profile
    And the fixture world "phase00-domain-running"
    When gate P00-LBAAS runs
    Then gate P00-LBAAS is HOLD
    And gate P00-LBAAS routes to DETACH-REFUSED
    And the summary of gate P00-LBAAS names "detach refused: openstack1 (running) not shut off"
    And the run exits 1

  @gate-P00-LBAAS
  Scenario: a bare-metal site has no libvirt networks: SKIP with the reason
    Given the fixture world "phase00-bare-metal"
    When gate P00-LBAAS runs
    Then gate P00-LBAAS is SKIP
    And the summary of gate P00-LBAAS names "profile bare-metal has no [libvirt] section"
    And the run read nothing from virsh, qemu-img or stat
    And the run exits 0

  @gate-P00-LBAAS @needs-virsh
  Scenario: real virsh on the test driver: no 8_lbaas network, no interface on it
    Given a libvirt test node with the four host domains, shut off
    When gate P00-LBAAS runs on the test node
    Then gate P00-LBAAS is PASS
    And the run exits 0

  @gate-P00-LBAAS @needs-virsh
  Scenario: real virsh on the test driver: the network defined, domains shut off
    Given a libvirt test node with the four host domains, shut off
    And the "8_lbaas" network is defined on the test node
    When gate P00-LBAAS runs on the test node
    Then gate P00-LBAAS is FAIL
    And gate P00-LBAAS routes to DETACH-READY
    And gate P00-LBAAS has a BAD line naming "libvirt network 8_lbaas"
    And the run exits 1

  @gate-P00-LBAAS @needs-virsh
  Scenario: real virsh on the test driver: a domain interface still on the network
    Given a libvirt test node with the four host domains, shut off
    And domain openstack3 still has an interface on "8_lbaas"
    When gate P00-LBAAS runs on the test node
    Then gate P00-LBAAS is FAIL
    And gate P00-LBAAS has a BAD line naming "interface 52:54:00:00:b5:43 source network"
    And the run exits 1

  @gate-P00-LBAAS @needs-virsh
  Scenario: real virsh on the test driver: the network defined and a domain running
    Given a libvirt test node with the four host domains, shut off
    And the "8_lbaas" network is defined on the test node
    And every host domain still has an interface on "8_lbaas"
    And domain openstack0 is running
    When gate P00-LBAAS runs on the test node
    Then gate P00-LBAAS is HOLD
    And gate P00-LBAAS has a BAD line naming "domain openstack0"
    And the summary of gate P00-LBAAS names "detach refused: openstack0 (running) not shut off"
    And the run exits 1

  @gate-P00-LBAAS @needs-virsh
  Scenario: real virsh on the test driver: a running domain does not matter once the network is gone
    Given a libvirt test node with the four host domains, shut off
    And domain openstack0 is running
    When gate P00-LBAAS runs on the test node
    Then gate P00-LBAAS is PASS
    And gate P00-LBAAS has an info line naming "running"
    And the run exits 0
