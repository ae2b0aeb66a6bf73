@phase-04 @read-only
Feature: P04-POST provider-ext and provider-ext-fip are what step 4.1 creates
  Seed 004 phase-04 exit gate: provider-ext is external, flat, on physnet1 and not
  shared; provider-ext-fip hangs off it with the provider plane's CIDR and gateway, DHCP
  off, exactly the FIP pool as its one allocation pool, tagged role=provider. The client
  prints allocation_pools as a list of {start, end} objects since python-openstackclient
  4.0, and as the table string "start-end" before it (docs/schemas/openstack.md#version-changes-ci-must-detect): both pass.

  Background:
    Given the testcloud site profile

  @gate-P04-POST
  Scenario: the network and its FIP subnet as the 2026-06-27 run created them
    Given the fixture world "phase04-network-created"
    When gate P04-POST runs
    Then gate P04-POST is PASS
    And the world's `openstack subnet show provider-ext-fip` prints "allocation_pools" as a list of objects
    And the world's `openstack network show provider-ext` prints "router:external" as a boolean
    And gate P04-POST has an ok line naming "allocation_pools 10.12.5.0-10.12.7.254"
    And gate P04-POST has an ok line naming "network_id bb386c86-d646-4c71-b6b7-550f5c691bfb"
    And the run exits 0

  @gate-P04-POST
  Scenario: the pre-4.0 display strings pass the same checks
    Given the fixture world "phase04-osc3-display-strings"
    When gate P04-POST runs
    Then gate P04-POST is PASS
    And the world's `openstack subnet show provider-ext-fip` prints "allocation_pools" as a display string
    And the world's `openstack subnet show provider-ext-fip` prints "tags" as a display string
    And the world's `openstack network show provider-ext` prints "router:external" as a display string
    And gate P04-POST has an ok line naming "allocation_pools 10.12.5.0-10.12.7.254"
    And gate P04-POST has an ok line naming "role=provider"
    And the run exits 0

  @gate-P04-POST
  Scenario: before step 4.1 the network is absent by show's exit status and message
    Given the fixture world "phase04-before-create"
    When gate P04-POST runs
    Then gate P04-POST is FAIL
    And gate P04-POST has a BAD line naming "No Network found for provider-ext"
    And gate P04-POST has a BAD line naming "No Subnet found for provider-ext-fip"
    And the run exits 1

  @gate-P04-POST
  Scenario Outline: a network or subnet created otherwise fails: <why>
    Given the fixture world "<world>"
    When gate P04-POST runs
    Then gate P04-POST is FAIL
    And gate P04-POST has a BAD line naming "<names>"
    And the run exits 1

    Examples:
      | world                   | why                                          | names                                    |
      | phase04-network-shared  | shared=true                                  | shared true                              |
      | phase04-network-internal| not external                                 | router:external false                    |
      | phase04-wrong-physnet   | another physical network                     | provider:physical_network physnet2       |
      | phase04-network-vlan    | a VLAN network, not flat                     | provider:network_type vlan               |
      | phase04-subnet-dhcp-on  | DHCP on                                      | enable_dhcp true                         |
      | phase04-pool-whole-cidr | Neutron's default pool over the whole CIDR   | allocation_pools 10.12.4.2-10.12.7.254   |
      | phase04-subnet-untagged | no role=provider tag                         | includes role=provider                   |

  @gate-P04-POST
  Scenario: without admin-openrc the shows fail and are not taken for absence (R3)
    Given the fixture world "phase04-no-openrc"
    When gate P04-POST runs
    Then gate P04-POST is PRECONDITION
    And gate P04-POST has a MISSING line naming "exited 1: no cloud credentials in the environment"
    And the run exits 2

  @gate-P04-PRE @gate-P04-POST
  Scenario: stackgate gate --phase 04 on the embedded exit-state world passes
    Given the fixture world "phase04-network-created"
    When the phase 04 gates run
    Then every gate of the run is PASS
    And the run exits 0
