@phase-04 @phase-05 @phase-03 @read-only @real-cli @needs-openstack-caracal @needs-python3
Feature: the real python-openstackclient reads what the composed fixtures say it prints
  The phase 03-05 gates read the cloud through `openstack ... -f json`. The worlds they
  are tested on were composed by hand; here the client Caracal pins (6.6.1 on
  openstacksdk 3.0.0) runs against a loopback stub of the Keystone, Neutron and Glance
  APIs holding the same cloud, while juju and MAAS answer from the world. The gates must
  decide exactly as on the world, and what `stackgate record` captures of the client
  must be the world's files byte for byte (issue 11: fixtures that share a gate's bug
  hide it, DOCFIX-044).

  One run through the recorder proves all three: the gates decide on what it records
  (the client's output through the redactor), so each client command runs once.

  Scenario Outline: <world> through the real client: the world's verdicts, its files byte for byte
    Given the OpenStack API stub serving the cloud of "<world>"
    When stackgate records phase <phase> with the real client and "<credentials>" over fixture world "<world>"
    Then every gate gives the verdict it gives on the fixture world alone
    And each openstack command it recorded is the fixture world's, byte for byte
    And no recorded file holds the client's password

    Examples:
      | world                               | phase | credentials          |
      | phase03-settled                     | 03    | admin-openrc         |
      | phase03-endpoints-vip-mismatch      | 03    | admin-openrc         |
      | phase03-openrc-stale                | 03    | a stale admin-openrc |
      | phase04-network-created             | 04    | admin-openrc         |
      | phase04-before-create               | 04    | admin-openrc         |
      | phase04-network-shared              | 04    | admin-openrc         |
      | phase04-subnet-dhcp-on              | 04    | admin-openrc         |
      | phase04-no-openrc                   | 04    | no admin-openrc      |
      | phase05-complete                    | 05    | admin-openrc         |
      | phase05-entry                       | 05    | admin-openrc         |
      | phase05-two-amphorae                | 05    | admin-openrc         |
      | phase05-amphora-deactivated         | 05    | admin-openrc         |
