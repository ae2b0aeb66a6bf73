@phase-04 @mutation
Feature: network-create on the simulated testcloud, between P04-PRE and P04-POST
  Seed 004 Step 4.1 (scripts/phase-04-network-create.sh, D-056): provider-ext external,
  flat on physnet1, not shared; provider-ext-fip on it with the provider plane's CIDR,
  the gateway MAAS holds for that CIDR (DOCFIX-047: found by CIDR, never a subnet id),
  DHCP off and exactly the FIP pool MAAS reserves; each skipped when present. Neutron
  allows a second network of one name, so the action decides presence by name itself
  and refuses a present object that is not the runbook's.

  @action-network-create
  Scenario: from the phase-04 entry to P04-POST PASS, then nothing to do
    Given the simulated cloud "phase04-before-create"
    When gate P04-PRE runs
    Then gate P04-PRE is PROCEED
    When gate P04-POST runs
    Then gate P04-POST is FAIL
    When network-create is planned
    Then the action is PLANNED
    And the action's report says "gateway of 10.12.4.0/22 (MAAS subnet id 31, by CIDR)"
    And the action's report says "10.12.4.1"
    And the action's report says "--gateway 10.12.4.1 --no-dhcp --allocation-pool start=10.12.5.0,end=10.12.7.254"
    And no mutation ran
    When network-create is applied
    Then the action is DONE
    When gate P04-POST runs
    Then gate P04-POST is PASS
    When gate P04-PRE runs
    Then gate P04-PRE is PASS
    When network-create is applied
    Then the action is NOTHING-TO-DO
    And the action's report says "provider-ext already exists"
    And no mutation ran

  @action-network-create
  Scenario: the network was created by hand, the subnet not yet: only the subnet is planned
    Given the simulated cloud "phase04-before-create"
    When "openstack network create -f json --external --provider-network-type flat --provider-physical-network physnet1 --tag role=provider provider-ext" is run by hand
    And network-create is planned
    Then the action is PLANNED
    And the action's report says "provider-ext already exists, external flat on physnet1, not shared: skipped"
    And the action's report says "openstack subnet create"
    When network-create is applied
    Then the action is DONE
    When gate P04-POST runs
    Then gate P04-POST is PASS

  @action-network-create
  Scenario Outline: a present network that is not the runbook's is refused, naming what differs
    Given the simulated cloud "<world>"
    When gate P04-PRE runs
    Then gate P04-PRE is PASS
    When network-create is planned
    Then the action is REFUSED
    And the action exits 1
    And the action's report says "network provider-ext exists but is not the runbook's: <differs>"
    And no mutation ran

    Examples:
      | world                   | differs                                                   |
      | phase04-network-shared  | shared is true (want false)                               |
      | phase04-network-internal | router:external is false (want true)                     |
      | phase04-wrong-physnet   | provider:physical_network is physnet2 (want physnet1)     |
      | phase04-network-vlan    | provider:network_type is vlan (want flat)                 |

  @action-network-create
  Scenario Outline: a present subnet that is not the runbook's is refused, naming what differs
    Given the simulated cloud "<world>"
    When network-create is planned
    Then the action is REFUSED
    And the action's report says "subnet provider-ext-fip exists but is not the runbook's: <differs>"
    And no mutation ran

    Examples:
      | world                   | differs                                                              |
      | phase04-subnet-dhcp-on  | enable_dhcp is true (want false)                                     |
      | phase04-pool-whole-cidr | allocation_pools are 10.12.4.2-10.12.7.254 (want exactly 10.12.5.0-10.12.7.254) |
      | phase04-subnet-untagged | tags lack role=provider                                              |

  @action-network-create
  Scenario Outline: P04-PRE not holding refuses the action before anything runs
    Given the simulated cloud "<world>"
    When gate P04-PRE runs
    Then gate P04-PRE is FAIL
    When network-create is planned
    Then the action is REFUSED
    And the action's report says "P04-PRE is FAIL"
    And no mutation ran

    Examples:
      | world                         |
      | phase04-fip-pool-not-reserved |
      | phase04-wrong-gateway         |
      | phase04-provider-subnet-absent |

  @action-network-create
  Scenario: no admin-openrc on the jumphost
    Given the simulated cloud "phase04-openrc-absent"
    When network-create is planned
    Then the action is REFUSED
    And the action's report says "no admin-openrc at /home/ubuntu/admin-openrc"
    And no mutation ran

  @action-network-create
  Scenario: the admin-openrc not sourced: the client has no credentials
    Given the simulated cloud "phase04-no-openrc"
    When network-create is planned
    Then the action is PRECONDITION
    And the action exits 2
    And the action's report says "P04-PRE PRECONDITION"
    And no mutation ran

  @action-network-create
  Scenario: a second provider-ext beside one Neutron already holds is never attempted
    Given the simulated cloud "phase04-network-created"
    When "openstack network create -f json --external --provider-network-type flat --provider-physical-network physnet1 provider-ext" is attempted by hand
    Then the command attempted by hand was refused saying "Physical network physnet1 is in use."
