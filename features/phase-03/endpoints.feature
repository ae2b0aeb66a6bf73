@phase-03 @read-only
Feature: P03-ENDPOINTS: the service catalog on the D-052 planes at the bundle's VIPs
  Seed 004 3.2 as amended for D-052: public endpoints on provider 10.12.4.X, internal
  on metal-internal 10.12.12.X, admin on metal-admin 10.12.8.X, keystone admin on
  :35357, X the service's VIP octet in the bundle. The simplestreams image stream is
  per deploy and never pinned. The catalog call itself proves the token is scoped.

  Background:
    Given the testcloud site profile

  @gate-P03-ENDPOINTS
  Scenario: the settled catalog passes, the image stream reported but not pinned
    Given the fixture world "phase03-settled"
    When gate P03-ENDPOINTS runs
    Then gate P03-ENDPOINTS is PASS
    And gate P03-ENDPOINTS reports metric "endpoints" = 33
    And gate P03-ENDPOINTS has an info line naming "image-stream public"

  @gate-P03-ENDPOINTS
  Scenario: internal endpoints on the metal-admin VIP (the pre-D-052 gate text) fail
    Given the fixture world "phase03-endpoints-internal-on-admin"
    When gate P03-ENDPOINTS runs
    Then gate P03-ENDPOINTS is FAIL
    And gate P03-ENDPOINTS has a BAD line naming "keystone internal"
    And gate P03-ENDPOINTS reports metric "endpoints_ok" = 22

  @gate-P03-ENDPOINTS
  Scenario: keystone admin off :35357 fails
    Given the fixture world "phase03-endpoints-keystone-admin-5000"
    When gate P03-ENDPOINTS runs
    Then gate P03-ENDPOINTS is FAIL
    And gate P03-ENDPOINTS has a BAD line naming "keystone admin"

  @gate-P03-ENDPOINTS
  Scenario: an endpoint on another service's VIP fails by name
    Given the fixture world "phase03-endpoints-vip-mismatch"
    When gate P03-ENDPOINTS runs
    Then gate P03-ENDPOINTS is FAIL
    And gate P03-ENDPOINTS has a BAD line naming "glance public"

  @gate-P03-ENDPOINTS
  Scenario: an unscoped token is a precondition, never an empty catalog
    Given the fixture world "phase03-endpoints-unscoped"
    When gate P03-ENDPOINTS runs
    Then gate P03-ENDPOINTS is PRECONDITION
    And the run exits 2
