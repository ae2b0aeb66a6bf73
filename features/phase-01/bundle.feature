@phase-01 @read-only
Feature: P01-VIPS and P01-OVERLAY: the deploy pre-flight over the bundle
  The 004 checkpoint: "11 triple-column VIPs, aligned, .50-.60 band, OK=11 bad=0" and
  "octavia-pki overlay: present, 5 lb-mgmt-* keys, ASCII clean". The overlay names its
  PKI files (include-base64://), so no key material is in any fixture.

  Background:
    Given the testcloud site profile

  @gate-P01-VIPS
  Scenario: eleven aligned VIP triples in the band pass with OK=11 bad=0
    Given the fixture world "phase01-model-added"
    When gate P01-VIPS runs
    Then gate P01-VIPS is PASS
    And gate P01-VIPS reports metric "ok" = 11
    And gate P01-VIPS reports metric "bad" = 0

  @gate-P01-VIPS
  Scenario: one misaligned triple gives OK=10 bad=1
    Given the fixture world "phase00-bundle-vip-misaligned"
    When gate P01-VIPS runs
    Then gate P01-VIPS is FAIL
    And gate P01-VIPS reports metric "ok" = 10
    And gate P01-VIPS reports metric "bad" = 1
    And gate P01-VIPS has a BAD line naming "application keystone"

  @gate-P01-OVERLAY
  Scenario: the octavia-pki overlay with its five keys, ASCII clean, passes
    Given the fixture world "phase01-model-added"
    When gate P01-OVERLAY runs
    Then gate P01-OVERLAY is PASS
    And gate P01-OVERLAY reports metric "ok" = 6

  @gate-P01-OVERLAY
  Scenario: an overlay missing one lb-mgmt key fails naming the key
    Given the fixture world "phase00-overlay-missing-key"
    When gate P01-OVERLAY runs
    Then gate P01-OVERLAY is FAIL
    And the evidence of gate P01-OVERLAY names "lb-mgmt-controller-cert"
    And gate P01-OVERLAY reports metric "bad" = 1

  @gate-P01-OVERLAY
  Scenario: a UTF-8 em-dash in the overlay fails the ASCII check by line
    Given the fixture world "phase00-overlay-non-ascii"
    When gate P01-OVERLAY runs
    Then gate P01-OVERLAY is FAIL
    And the evidence of gate P01-OVERLAY names "non-ASCII on line(s) 2"

  @gate-P01-OVERLAY
  Scenario: an overlay that is not there fails, it is not an empty pass
    Given the fixture world "phase00-overlay-absent"
    When gate P01-OVERLAY runs
    Then gate P01-OVERLAY is FAIL
    And gate P01-OVERLAY reports metric "ok" = 0
