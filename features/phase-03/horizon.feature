@phase-03 @read-only
Feature: P03-HORIZON the plain-http Horizon leg through the :81 proxy
  Step 3.3 (D-044, DOCFIX-046): the dashboard VIP .58 serves Horizon over plain http :80
  (GET /horizon/ -> 302 to the login page), the proxy on :81 answers the same redirect,
  and the login page sets the csrftoken cookie without Secure, so a browser on the
  plain-http leg sends it back. Three GETs through curl, headers only, no redirect
  followed; the cookie's value is never shown.

  Background:
    Given the testcloud site profile

  @gate-P03-HORIZON
  Scenario: the settled cloud's proxy passes the dashboard's redirect and a non-Secure csrftoken
    Given the fixture world "phase03-settled"
    When gate P03-HORIZON runs
    Then gate P03-HORIZON is PASS
    And gate P03-HORIZON has an ok line naming "dashboard VIP 10.12.4.58:80"
    And gate P03-HORIZON has an ok line naming "302 Found -> /horizon/auth/login/?next=/horizon/"
    And gate P03-HORIZON has an ok line naming "no Secure"
    And the run exits 0

  @gate-P03-HORIZON
  Scenario: a Secure csrftoken on the plain-http leg fails
    Given the fixture world "phase03-horizon-secure-cookie"
    When gate P03-HORIZON runs
    Then gate P03-HORIZON is FAIL
    And gate P03-HORIZON has a BAD line naming "with Secure"
    And the run exits 1

  @gate-P03-HORIZON
  Scenario: a proxy that answers 200 itself instead of the login redirect fails
    Given the fixture world "phase03-horizon-200"
    When gate P03-HORIZON runs
    Then gate P03-HORIZON is FAIL
    And gate P03-HORIZON has a BAD line naming "GET /horizon/ 200 OK"
    And gate P03-HORIZON has a BAD line naming "no csrftoken cookie"
    And the run exits 1

  @gate-P03-HORIZON
  Scenario: a proxy nothing listens on fails, decided by curl's exit status (R3)
    Given the fixture world "phase03-horizon-refused"
    When gate P03-HORIZON runs
    Then gate P03-HORIZON is FAIL
    And gate P03-HORIZON has a BAD line naming "no connection"
    And gate P03-HORIZON has an ok line naming "dashboard VIP 10.12.4.58:80"
    And the run exits 1

  @gate-P03-HORIZON
  Scenario: a proxy repointed at the certless https :443 answers 502 and fails (DOCFIX-046)
    Given the fixture world "phase03-horizon-bad-gateway"
    When gate P03-HORIZON runs
    Then gate P03-HORIZON is FAIL
    And gate P03-HORIZON has a BAD line naming "502 Bad Gateway"
    And the run exits 1

  @gate-P03-HORIZON @needs-python3 @needs-curl @needs-haproxy
  Scenario: a real HTTP server behind a real proxy on loopback passes
    Given a Horizon stand-in on loopback that redirects
    And a proxy on loopback forwarding to the stand-in
    When gate P03-HORIZON runs against the loopback programs
    Then gate P03-HORIZON is PASS
    And gate P03-HORIZON has an ok line naming "forwards to"
    And the run exits 0

  @gate-P03-HORIZON @needs-python3 @needs-curl @needs-haproxy
  Scenario: a real server setting a Secure csrftoken fails
    Given a Horizon stand-in on loopback that sets-a-secure-cookie
    And a proxy on loopback forwarding to the stand-in
    When gate P03-HORIZON runs against the loopback programs
    Then gate P03-HORIZON is FAIL
    And gate P03-HORIZON has a BAD line naming "with Secure"
    And the run exits 1

  @gate-P03-HORIZON @needs-python3 @needs-curl @needs-haproxy
  Scenario: a real server answering 200 on /horizon/ fails
    Given a Horizon stand-in on loopback that answers-200
    And a proxy on loopback forwarding to the stand-in
    When gate P03-HORIZON runs against the loopback programs
    Then gate P03-HORIZON is FAIL
    And gate P03-HORIZON has a BAD line naming "GET /horizon/ 200 OK"
    And the run exits 1

  @gate-P03-HORIZON @needs-python3 @needs-curl
  Scenario: a closed proxy port on loopback fails with no connection
    Given a Horizon stand-in on loopback that redirects
    And nothing listening on the proxy's loopback port
    When gate P03-HORIZON runs against the loopback programs
    Then gate P03-HORIZON is FAIL
    And gate P03-HORIZON has a BAD line naming "no connection"
    And the run exits 1

  @gate-P03-HORIZON @needs-python3 @needs-curl @needs-haproxy
  Scenario: a real proxy forwarding to a dead upstream fails though the dashboard redirects
    Given a Horizon stand-in on loopback that redirects
    And a proxy on loopback forwarding to a closed port
    When gate P03-HORIZON runs against the loopback programs
    Then gate P03-HORIZON is FAIL
    And gate P03-HORIZON has a BAD line naming "503 Service Unavailable"
    And gate P03-HORIZON has an ok line naming "GET /horizon/ 302 Found"
    And the run exits 1
