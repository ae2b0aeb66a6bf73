@phase-05 @read-only
Feature: P05-CONFIG the amphora retrofit is configured to build what octavia boots
  Seed 004 phase-05 config gate: octavia-diskimage-retrofit reaches glance on its
  internal endpoint (use-internal-endpoints=true, LP#1937003; DOCFIX-049), uploads raw
  images for Ceph RBD (image-format=raw) and tags them with octavia's amp-image-tag.
  The retrofit's options are read from `juju config --format=json` under settings; an
  option the deployed charm revision lacks is PRECONDITION naming its path (R2), never a
  default. Octavia's tag is read alone (`juju config octavia amp-image-tag`), so the
  lb-mgmt CA key and passphrase in octavia's settings are never read (R6).

  Background:
    Given the testcloud site profile

  @gate-P05-CONFIG
  Scenario: the retrofit as seed 004's entry audit found it
    Given the fixture world "phase05-complete"
    When gate P05-CONFIG runs
    Then gate P05-CONFIG is PASS
    And gate P05-CONFIG has an ok line naming "use-internal-endpoints true"
    And gate P05-CONFIG has an ok line naming "image-format raw"
    And gate P05-CONFIG has an ok line naming "amp-image-tag octavia-amphora"
    And the run exits 0

  @gate-P05-CONFIG
  Scenario Outline: a retrofit option left otherwise fails: <why>
    Given the fixture world "<world>"
    When gate P05-CONFIG runs
    Then gate P05-CONFIG is FAIL
    And gate P05-CONFIG has a BAD line naming "<names>"
    And the run exits 1

    Examples:
      | world                          | why                                          | names                        |
      | phase05-image-format-qcow2     | image-format at the charm default qcow2      | image-format qcow2           |
      | phase05-amp-image-tag-unset    | amp-image-tag unset, unlike octavia's        | amp-image-tag                |
      | phase05-internal-endpoints-off | use-internal-endpoints at the default false  | use-internal-endpoints false |

  @gate-P05-CONFIG
  Scenario: a charm revision without the image-format option is PRECONDITION naming the key (R2)
    Given the fixture world "phase05-retrofit-without-image-format"
    When gate P05-CONFIG runs
    Then gate P05-CONFIG is PRECONDITION
    And gate P05-CONFIG reports a missing key path ending in "settings.image-format"
    And the run exits 2
