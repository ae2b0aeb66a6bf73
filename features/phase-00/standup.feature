@phase-00 @mutation
Feature: standup and recidr on the simulated testcloud: MAAS topology as the profile sets it
  Seed 002 step 7 and seed 003: the standup is the single MAAS-address authority
  (gateways, DNS, the VIP band, mgmt and provider FIP pool reserves) and sets only what
  drifts; a plane in the wrong space or VLAN is topology drift it does not touch. The
  D-058 re-CIDR deletes before it creates and is refused while live addresses remain
  on a migrating subnet (MAAS refuses to delete a subnet with addresses in use).

  @action-standup
  Scenario: a cleared gateway and a deleted FIP reserve are set back, and a second apply plans nothing
    Given the simulated cloud "phase00-ready-carved"
    When "maas admin subnet update 2 gateway_ip=" is run by hand
    And "maas admin iprange delete 16" is run by hand
    And gate P00-STANDUP runs
    Then gate P00-STANDUP is FAIL
    When standup is planned
    Then the action is PLANNED
    And the action's report says "maas admin subnet update 2 gateway_ip=10.12.8.1"
    And the action's report says "maas admin ipranges create type=reserved subnet=1 start_ip=10.12.5.0 end_ip=10.12.7.254 'comment=provider FIP pool'"
    And no mutation ran
    When standup is applied
    Then the action is DONE
    When gate P00-STANDUP runs
    Then gate P00-STANDUP is PASS
    When standup is planned
    Then the action is NOTHING-TO-DO

  @action-standup
  Scenario: a D-052 cloud under the D-058 profile is topology drift: the standup refuses
    Given the simulated cloud "phase00-ready-carved"
    And the site profile file "d058.toml", checked against a cloud recorded for another profile
    When standup is planned
    Then the action is REFUSED
    And the action's report says "that is topology drift (D-058 recidr)"
    And no mutation ran

  @action-recidr
  Scenario: the D-058 re-CIDR is refused while the carved hosts hold addresses on the migrating subnets
    Given the simulated cloud "phase00-ready-carved"
    And the site profile file "d058.toml", checked against a cloud recorded for another profile
    When recidr is planned
    Then the action is REFUSED
    And the action's report says "live addresses remain on migrating subnets"
    And the action's report says "10.12.8.0/22 10.12.8.40"
    And no mutation ran
    And the action exits 1

  @action-recidr
  Scenario: under its own profile the D-052 cloud has nothing to re-CIDR
    Given the simulated cloud "phase00-ready-carved"
    When recidr is planned
    Then the action is NOTHING-TO-DO

  @action-recidr
  Scenario: even after the teardown the D-058 re-CIDR cannot apply: the controllers and the commissioning ghosts hold metal-admin addresses
    Seed 003 step 1 releases the hosts so that "the migrating subnets carry no live
    interface links"; on this cloud the MAAS rack controller and the protected juju,
    lxd and tailscale machines also sit on 10.12.8.0/22, and re-enrolment leaves each
    host's former metal IP DISCOVERED, so MAAS would refuse the delete.
    Given the simulated cloud "sim-phase00-dirty"
    When teardown-destroy is applied with confirmation "openstack"
    Then the action is DONE
    When reenroll is applied
    Then the action is DONE
    Given the site profile file "d058.toml", checked against a cloud recorded for another profile
    When recidr is planned
    Then the action is REFUSED
    And the action's report says "10.12.8.0/22 10.12.8.101 (alloc_type 1, maas)"
    And the action's report says "10.12.8.0/22 10.12.8.102 (alloc_type 1, juju)"
    And the action's report says "10.12.8.0/22 10.12.8.40 (alloc_type 6, no node)"
    And the action exits 1
