@phase-03 @read-only
Feature: P03-HAPROXY zero haproxy backends DOWN on the API units
  The haproxy sweep of step 3.1b (D-045, DOCFIX-031): `show stat` read from the admin
  socket of every principal unit of the applications the profile names as running
  haproxy, through `juju exec`, at most --jobs at once. The CSV is read by header name,
  its rows told apart by `type` (a listener row is no server), each status read in
  haproxy's vocabulary for its row type. Every DOWN row is named by unit, proxy, server
  and check status. An expected application without units is a finding (R4); a unit
  whose stats cannot be read, whose header lacks a column the gate reads, whose dump
  lacks the empty line haproxy ends every answer with, or whose status is outside
  haproxy's vocabulary, is PRECONDITION naming it (R2, R3), never "zero DOWN".

  Background:
    Given the testcloud site profile

  @gate-P03-HAPROXY
  Scenario: the settled cloud has every backend UP on the ten haproxy units
    Given the fixture world "phase03-settled"
    When gate P03-HAPROXY runs
    Then gate P03-HAPROXY is PASS
    And gate P03-HAPROXY names no DOWN row
    And gate P03-HAPROXY reports metric "units" = 10
    And gate P03-HAPROXY reports metric "servers" = 33
    And gate P03-HAPROXY marks keystone/0 ok
    And gate P03-HAPROXY marks ceph-radosgw/0 ok
    And the run exits 0

  @gate-P03-HAPROXY
  Scenario: one DOWN server is named with its backend, which is DOWN with it
    Given the fixture world "phase03-haproxy-down"
    When gate P03-HAPROXY runs
    Then gate P03-HAPROXY is FAIL
    And gate P03-HAPROXY names exactly these DOWN rows:
      | unit     | proxy                   | server   | check |
      | glance/0 | glance_api_10.12.12.105 | glance-0 | L4CON |
      | glance/0 | glance_api_10.12.12.105 | BACKEND  | -     |
    And gate P03-HAPROXY reports metric "down_rows" = 2
    And the run exits 1

  @gate-P03-HAPROXY
  Scenario: DOWN rows on several units are each named
    Given the fixture world "phase03-haproxy-down-several"
    When gate P03-HAPROXY runs
    Then gate P03-HAPROXY is FAIL
    And gate P03-HAPROXY names exactly these DOWN rows:
      | unit                    | proxy                            | server                  | check |
      | glance/0                | glance_api_10.12.12.105          | glance-0                | L4CON |
      | glance/0                | glance_api_10.12.12.105          | BACKEND                 | -     |
      | nova-cloud-controller/0 | nova-api-os-compute_10.12.8.107  | nova-cloud-controller-0 | L4CON |
      | nova-cloud-controller/0 | nova-api-os-compute_10.12.8.107  | BACKEND                 | -     |
      | nova-cloud-controller/0 | nova-api-os-compute_10.12.12.107 | nova-cloud-controller-0 | L4CON |
      | nova-cloud-controller/0 | nova-api-os-compute_10.12.12.107 | BACKEND                 | -     |
      | nova-cloud-controller/0 | nova-api-os-compute_10.12.4.113  | nova-cloud-controller-0 | L4CON |
      | nova-cloud-controller/0 | nova-api-os-compute_10.12.4.113  | BACKEND                 | -     |
    And the run exits 1

  @gate-P03-HAPROXY
  Scenario: a unit whose stats socket cannot be read is PRECONDITION naming the unit (R3)
    Given the fixture world "phase03-haproxy-socket-missing"
    When gate P03-HAPROXY runs
    Then gate P03-HAPROXY is PRECONDITION
    And gate P03-HAPROXY marks no unit but cinder/0 MISSING
    And gate P03-HAPROXY has a MISSING line naming "not found"
    And gate P03-HAPROXY names no DOWN row
    And the run exits 2

  @gate-P03-HAPROXY
  Scenario: a header without the status column is PRECONDITION naming the column, never zero DOWN (R2)
    Given the fixture world "phase03-haproxy-no-status-column"
    When gate P03-HAPROXY runs
    Then gate P03-HAPROXY is PRECONDITION
    And gate P03-HAPROXY reports a missing key path ending in "placement/0: show stat column `status`"
    And the run exits 2

  @gate-P03-HAPROXY
  Scenario: an expected haproxy application absent from the model fails by name, though every unit read is UP (R4)
    Given the fixture world "phase03-haproxy-app-missing"
    When gate P03-HAPROXY runs
    Then gate P03-HAPROXY is FAIL
    And gate P03-HAPROXY names no DOWN row
    And gate P03-HAPROXY has a BAD line naming "application ceph-radosgw"
    And gate P03-HAPROXY reports metric "units" = 9
    And the run exits 1

  @gate-P03-HAPROXY
  Scenario: a unit with only a frontend and its listeners serves nothing: FAIL (issue 8)
    # Listener rows (type 3, `option socket-stats`) were counted as servers.
    Given the fixture world "phase03-haproxy-listeners-only"
    When gate P03-HAPROXY runs
    Then gate P03-HAPROXY is FAIL
    And gate P03-HAPROXY marks no unit but placement/0 BAD
    And gate P03-HAPROXY has a BAD line naming "haproxy servers none in show stat"
    And gate P03-HAPROXY names no DOWN row
    And gate P03-HAPROXY reports metric "servers" = 30
    And the run exits 1

  @gate-P03-HAPROXY
  Scenario: a status outside haproxy's vocabulary is PRECONDITION naming the line, never "not DOWN"
    Given the fixture world "phase03-haproxy-unknown-status"
    When gate P03-HAPROXY runs
    Then gate P03-HAPROXY is PRECONDITION
    And gate P03-HAPROXY marks no unit but cinder/0 MISSING
    And gate P03-HAPROXY has a MISSING line naming "show stat line 5 column `status`"
    And gate P03-HAPROXY has a MISSING line naming "outside haproxy's vocabulary for a server row"
    And the run exits 2

  @gate-P03-HAPROXY
  Scenario: a dump cut at a line boundary is PRECONDITION, never read as whole
    Given the fixture world "phase03-haproxy-truncated"
    When gate P03-HAPROXY runs
    Then gate P03-HAPROXY is PRECONDITION
    And gate P03-HAPROXY marks no unit but glance/0 MISSING
    And gate P03-HAPROXY has a MISSING line naming "cut short"
    And gate P03-HAPROXY has a MISSING line naming "glance/0: show stat line 6"
    And gate P03-HAPROXY names no DOWN row
    And the run exits 2

  @gate-P03-HAPROXY @needs-haproxy @needs-nc
  Scenario: real haproxy on loopback: the sweep finds exactly the DOWN servers
    Given the fixture world "phase03-settled"
    And the profile's haproxy applications are "keystone, glance"
    And real haproxy processes on loopback serve these units:
      | unit       | proxy                        | server     | backend |
      | keystone/0 | keystone-public_10.12.12.104 | keystone-0 | up      |
      | keystone/0 | keystone-admin_10.12.12.104  | keystone-0 | closed  |
      | glance/0   | glance_api_10.12.12.105      | glance-0   | up      |
      | glance/0   | glance_api_10.12.12.105      | glance-1   | closed  |
    When gate P03-HAPROXY runs against the loopback programs
    Then gate P03-HAPROXY is FAIL
    And gate P03-HAPROXY names exactly these DOWN rows:
      | unit       | proxy                       | server     | check |
      | keystone/0 | keystone-admin_10.12.12.104 | keystone-0 | L4CON |
      | keystone/0 | keystone-admin_10.12.12.104 | BACKEND    | -     |
      | glance/0   | glance_api_10.12.12.105     | glance-1   | L4CON |
    And gate P03-HAPROXY reports metric "servers" = 4
    And the run exits 1

  @gate-P03-HAPROXY @needs-haproxy @needs-nc
  Scenario: real haproxy on loopback with every backend up passes
    Given the fixture world "phase03-settled"
    And the profile's haproxy applications are "keystone, glance"
    And real haproxy processes on loopback serve these units:
      | unit       | proxy                        | server     | backend |
      | keystone/0 | keystone-public_10.12.12.104 | keystone-0 | up      |
      | glance/0   | glance_api_10.12.12.105      | glance-0   | up      |
    When gate P03-HAPROXY runs against the loopback programs
    Then gate P03-HAPROXY is PASS
    And gate P03-HAPROXY names no DOWN row
    And the run exits 0

  @gate-P03-HAPROXY @needs-haproxy @needs-nc
  Scenario: a unit with no haproxy running is PRECONDITION naming it, through the real netcat error
    Given the fixture world "phase03-settled"
    And the profile's haproxy applications are "keystone, glance"
    And real haproxy processes on loopback serve these units:
      | unit       | proxy                        | server     | backend |
      | keystone/0 | keystone-public_10.12.12.104 | keystone-0 | up      |
    And glance/0 runs no haproxy on loopback
    When gate P03-HAPROXY runs against the loopback programs
    Then gate P03-HAPROXY is PRECONDITION
    And gate P03-HAPROXY marks no unit but glance/0 MISSING
    And gate P03-HAPROXY has a MISSING line naming "not found"
    And the run exits 2

  @gate-P03-HAPROXY @needs-haproxy @needs-nc
  Scenario: real haproxy with only a frontend and its listeners: no server, FAIL
    Given the fixture world "phase03-settled"
    And the profile's haproxy applications are "keystone, glance"
    And real haproxy processes on loopback serve these units:
      | unit       | proxy                        | server     | backend |
      | keystone/0 | keystone-public_10.12.12.104 | keystone-0 | up      |
    And real haproxy on loopback serves glance/0 with only a frontend and its listeners
    When gate P03-HAPROXY runs against the loopback programs
    Then gate P03-HAPROXY is FAIL
    And gate P03-HAPROXY marks no unit but glance/0 BAD
    And gate P03-HAPROXY has a BAD line naming "haproxy servers none in show stat"
    And gate P03-HAPROXY reports metric "servers" = 1
    And the run exits 1

  @gate-P03-HAPROXY @needs-haproxy @needs-nc
  Scenario: real haproxy with a server in maintenance: not a DOWN row, but not serving: FAIL
    Given the fixture world "phase03-settled"
    And the profile's haproxy applications are "keystone, glance"
    And real haproxy processes on loopback serve these units:
      | unit       | proxy                        | server     | backend |
      | keystone/0 | keystone-public_10.12.12.104 | keystone-0 | up      |
      | glance/0   | glance_api_10.12.12.105      | glance-0   | up      |
      | glance/0   | glance_api_10.12.12.105      | glance-1   | maint   |
    When gate P03-HAPROXY runs against the loopback programs
    Then gate P03-HAPROXY is FAIL
    And gate P03-HAPROXY names no DOWN row
    And gate P03-HAPROXY marks no unit but glance/0 BAD
    And gate P03-HAPROXY has a BAD line naming "proxy glance_api_10.12.12.105 server glance-1 MAINT"
    And gate P03-HAPROXY reports metric "findings" = 1
    And the run exits 1
