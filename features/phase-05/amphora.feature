@phase-05 @read-only
Feature: P05-AMPHORA exactly one ACTIVE amphora image carries octavia's tag
  Seed 004 phase-05 step 5.2: octavia boots amphorae from the image tagged with its
  amp-image-tag. Exactly one ACTIVE image with that tag passes; with the control plane
  up and no such image the route is CONTROL-PLANE-DONE (run the amphora pipeline, exit
  0); two ACTIVE tagged images, or tagged images none of which is ACTIVE, fail. Images
  are listed by tag and each is read with `image show`, by the id the same run listed.

  Background:
    Given the testcloud site profile

  @gate-P05-AMPHORA
  Scenario: the retrofitted amphora of 2026-06-27 is the one ACTIVE tagged image
    Given the fixture world "phase05-complete"
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA is PASS
    And gate P05-AMPHORA has an ok line naming "amphora-haproxy-x86_64-ubuntu-22.04-20260627"
    And gate P05-AMPHORA reports metric "active_tagged" = 1
    And the run exits 0

  @gate-P05-AMPHORA
  Scenario: control plane up and no tagged image routes to CONTROL-PLANE-DONE
    Given the fixture world "phase05-control-plane-done"
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA is PROCEED
    And gate P05-AMPHORA routes to CONTROL-PLANE-DONE
    And gate P05-AMPHORA reports metric "tagged" = 0
    And the run exits 0

  @gate-P05-AMPHORA
  Scenario: two ACTIVE tagged images fail
    Given the fixture world "phase05-two-amphorae"
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA is FAIL
    And gate P05-AMPHORA reports metric "active_tagged" = 2
    And gate P05-AMPHORA has a BAD line naming "amphora-haproxy-x86_64-ubuntu-22.04-20260520"
    And the run exits 1

  @gate-P05-AMPHORA
  Scenario: a tagged image that is not ACTIVE leaves zero ACTIVE tagged images: FAIL
    Given the fixture world "phase05-amphora-deactivated"
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA is FAIL
    And gate P05-AMPHORA reports metric "tagged" = 1
    And gate P05-AMPHORA reports metric "active_tagged" = 0
    And gate P05-AMPHORA has a BAD line naming "deactivated"
    And the run exits 1

  @gate-P05-AMPHORA
  Scenario: no image and the control plane not up fails, it is not CONTROL-PLANE-DONE
    Given the fixture world "phase05-entry"
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA is FAIL
    And gate P05-AMPHORA has a BAD line naming "o-hm0 presence absent"
    And the run exits 1

  @gate-P05-AMPHORA
  Scenario: octavia booting by another tag than the image's fails, though retrofit and octavia agree
    Given the fixture world "phase05-octavia-tag-custom"
    When gate P05-AMPHORA runs
    Then gate P05-AMPHORA is FAIL
    And gate P05-AMPHORA has a BAD line naming "amp-image-tag amphora-jammy"
    And the run exits 1

  @gate-P05-CONFIG @gate-P05-PRE @gate-P05-POST @gate-P05-AMPHORA
  Scenario: stackgate gate --phase 05 on the embedded exit-state world passes, the pre-flight skipped
    Given the fixture world "phase05-complete"
    When the phase 05 gates run
    Then gate P05-CONFIG is PASS
    And gate P05-PRE is SKIP
    And gate P05-POST is PASS
    And gate P05-AMPHORA is PASS
    And the run exits 0
