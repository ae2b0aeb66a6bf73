@phase-05 @read-only @needs-ip
Feature: the o-hm0 reader on what the real ip prints
  P05-POST reads o-hm0 with `ip -j addr show dev o-hm0` on each octavia unit through
  `juju exec`. These scenarios run iproute2's real `ip` on this machine and wrap its
  answer as juju exec returns a task, so absence is decided by ip's own exit status and
  words (R3) and the JSON shape is iproute2's, not a copy of it.

  @gate-P05-POST
  Scenario: a device that does not exist is absent by ip's exit status and message
    Then the real `ip -j addr show dev stackgate-nodev0`, as juju exec returns it from octavia/0, reads as absent

  @gate-P05-POST
  Scenario: the loopback device, like an OVS internal port, reports operstate UNKNOWN (R5)
    Then the real `ip -j addr show dev lo`, as juju exec returns it from octavia/0, reads as present with operstate UNKNOWN
