@phase-04 @read-only
Feature: P04-PRE the MAAS provider plane is ready before provider-ext is created
  Seed 004 phase-04: before step 4.1 creates the external network, the provider subnet
  is found in MAAS by its CIDR 10.12.4.0/22 whatever its id (DOCFIX-047: the do-doc's
  `subnet read 1` reads whatever subnet is id 1 this cycle), its gateway is 10.12.4.1,
  and the FIP pool 10.12.5.0-10.12.7.254 is a reserved range on it so MAAS never hands
  out an address Neutron floats. Whether provider-ext exists is decided by `network
  show`'s exit status and message (R3).

  Background:
    Given the testcloud site profile

  @gate-P04-PRE
  Scenario: before step 4.1 the plane is ready and provider-ext is absent: PROCEED
    Given the fixture world "phase04-before-create"
    When gate P04-PRE runs
    Then gate P04-PRE is PROCEED
    And gate P04-PRE has an ok line naming "reserved 10.12.5.0-10.12.7.254"
    And gate P04-PRE has an info line naming "No Network found for provider-ext"
    And the run exits 0

  @gate-P04-PRE
  Scenario: the provider subnet is found by CIDR under this cycle's id, not id 1
    Given the fixture world "phase04-network-created"
    When gate P04-PRE runs
    Then gate P04-PRE is PASS
    And gate P04-PRE has an info line naming "MAAS subnet id (this cycle) 31"
    And gate P04-PRE has an ok line naming "gateway_ip 10.12.4.1"
    And gate P04-PRE has an info line naming "P04-POST checks it"
    And the run exits 0

  @gate-P04-PRE
  Scenario Outline: a provider plane that is not ready fails: <why>
    Given the fixture world "<world>"
    When gate P04-PRE runs
    Then gate P04-PRE is FAIL
    And gate P04-PRE has a BAD line naming "<names>"
    And the run exits 1

    Examples:
      | world                          | why                                   | names                                  |
      | phase04-fip-pool-not-reserved  | the FIP pool is not reserved in MAAS  | not reserved; ranges held              |
      | phase04-wrong-gateway          | the gateway is not 10.12.4.1          | 10.12.4.254                            |
      | phase04-provider-subnet-absent | no MAAS subnet has the CIDR           | no subnet with this CIDR               |

  @gate-P04-PRE
  Scenario: without admin-openrc the network read fails and is not taken for absence (R3)
    Given the fixture world "phase04-no-openrc"
    When gate P04-PRE runs
    Then gate P04-PRE is PRECONDITION
    And gate P04-PRE has a MISSING line naming "source the admin-openrc"
    And the run exits 2
