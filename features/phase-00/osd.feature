@phase-00 @read-only @libvirt
Feature: P00-OSD: every host's OSD disk is a blank 512 GiB qcow2, root:root mode 600
  Seed 002 step 4 recreates each host's vdb (`<host>-1.qcow2`) blank: `qemu-img create
  -f qcow2 <f> 512G`, chown root:root, chmod 600; its gate reads 512 GiB virtual and
  about 200 KiB actual (seed 004 osd-blank-check). The gate reads `qemu-img info
  --output=json` and `stat -c '%U:%G %a'` for each disk, one evidence line per disk per
  property. The wipe is refused unless every host domain is shut off: a running
  domain's qemu holds its image's lock, and the gate HOLDs naming it. A bare-metal site
  has real disks that MAAS commissioning wipes: SKIP, with the reason.

  @gate-P00-OSD
  Scenario: four blank 512 GiB disks, root:root 600
    Given the testcloud site profile
    And the fixture world "phase00-ready-carved"
    When gate P00-OSD runs
    Then gate P00-OSD is PASS
    And gate P00-OSD reports metric "blank" = 4
    And gate P00-OSD has an ok line naming "200 KiB (204800 bytes)"
    And the run exits 0

  @gate-P00-OSD
  Scenario: a disk never wiped holds data
    Given the testcloud site profile
    And the fixture world "phase00-osd-data"
    When gate P00-OSD runs
    Then gate P00-OSD is FAIL
    And gate P00-OSD routes to WIPE-READY
    And gate P00-OSD has a BAD line naming "48.4 MiB (50733056 bytes): holds data"
    And gate P00-OSD reports metric "blank" = 3
    And the run exits 1

  @gate-P00-OSD
  Scenario: a disk recreated as 512M instead of 512G
    Given the testcloud site profile
    And the fixture world "phase00-osd-wrong-size"
    When gate P00-OSD runs
    Then gate P00-OSD is FAIL
    And gate P00-OSD has a BAD line naming "virtual-size 512 MiB (536870912 bytes)"
    And the run exits 1

  @gate-P00-OSD
  Scenario: a disk left at mode 644
    Given the testcloud site profile
    And the fixture world "phase00-osd-wrong-mode"
    When gate P00-OSD runs
    Then gate P00-OSD is FAIL
    And gate P00-OSD has a BAD line naming "openstack3-1.qcow2 mode 644"
    And the run exits 1

  @gate-P00-OSD
  Scenario: a disk removed and never recreated: absent by exit status and message
    Given the testcloud site profile
    And the fixture world "phase00-osd-missing"
    When gate P00-OSD runs
    Then gate P00-OSD is FAIL
    And gate P00-OSD has a BAD line naming "No such file or directory"
    And the run exits 1

  @gate-P00-OSD
  Scenario: a running domain holds its disk's lock: the wipe is refused
    Given the testcloud site profile
    And the fixture world "phase00-domain-running"
    When gate P00-OSD runs
    Then gate P00-OSD is HOLD
    And gate P00-OSD routes to WIPE-REFUSED
    And gate P00-OSD has a MISSING line naming "busy"
    And the summary of gate P00-OSD names "wipe refused: openstack1 (running) not shut off"
    And the run exits 1

  @gate-P00-OSD
  Scenario: a bare-metal site has no qcow2 OSD disks: SKIP with the reason
    Given the fixture world "phase00-bare-metal"
    When gate P00-OSD runs
    Then gate P00-OSD is SKIP
    And the summary of gate P00-OSD names "no qcow2 OSD disks to wipe"
    And the run exits 0

  @gate-P00-OSD @needs-virsh @needs-qemu-img
  Scenario: real qemu-img: blank 512G images pass
    Given a libvirt test node with the four host domains, shut off
    And blank 512G OSD disks made with qemu-img for the four hosts, mode 600
    When gate P00-OSD runs on the test node
    Then gate P00-OSD is PASS
    And gate P00-OSD reports metric "blank" = 4
    And the run exits 0

  @gate-P00-OSD @needs-virsh @needs-qemu-img @needs-qemu-io
  Scenario: real qemu-img: an image with data written into it fails
    Given a libvirt test node with the four host domains, shut off
    And blank 512G OSD disks made with qemu-img for the four hosts, mode 600
    And 1 MiB of data is written into the OSD disk of openstack1 with qemu-io
    When gate P00-OSD runs on the test node
    Then gate P00-OSD is FAIL
    And gate P00-OSD has a BAD line naming "holds data"
    And gate P00-OSD reports metric "blank" = 3
    And the run exits 1

  @gate-P00-OSD @needs-virsh @needs-qemu-img
  Scenario: real qemu-img: an image with the wrong mode fails
    Given a libvirt test node with the four host domains, shut off
    And blank 512G OSD disks made with qemu-img for the four hosts, mode 600
    And the OSD disk of openstack2 has mode 644
    When gate P00-OSD runs on the test node
    Then gate P00-OSD is FAIL
    And gate P00-OSD has a BAD line naming "openstack2-1.qcow2 mode 644"
    And the run exits 1

  @gate-P00-OSD @needs-virsh @needs-qemu-img
  Scenario: real qemu-img: an image with the wrong virtual size fails
    Given a libvirt test node with the four host domains, shut off
    And blank 512G OSD disks made with qemu-img for the four hosts, mode 600
    And the OSD disk of openstack3 is recreated with qemu-img as 256G
    When gate P00-OSD runs on the test node
    Then gate P00-OSD is FAIL
    And gate P00-OSD has a BAD line naming "openstack3-1.qcow2 virtual-size 256 GiB"
    And the run exits 1

  @gate-P00-OSD @needs-virsh @needs-qemu-img
  Scenario: real stat: images owned by another user than the profile's fail
    Given a libvirt test node with the four host domains, shut off
    And blank 512G OSD disks made with qemu-img for the four hosts, mode 600
    And the profile expects the OSD disks owned by "libvirt-qemu:kvm"
    When gate P00-OSD runs on the test node
    Then gate P00-OSD is FAIL
    And gate P00-OSD has a BAD line naming "libvirt-qemu:kvm"
    And gate P00-OSD reports metric "blank" = 0
    And the run exits 1

  @gate-P00-OSD @needs-virsh @needs-qemu-img @needs-qemu-io
  Scenario: real programs: data on a disk while its domain runs: the wipe is refused
    Given a libvirt test node with the four host domains, shut off
    And blank 512G OSD disks made with qemu-img for the four hosts, mode 600
    And 1 MiB of data is written into the OSD disk of openstack0 with qemu-io
    And domain openstack0 is running
    When gate P00-OSD runs on the test node
    Then gate P00-OSD is HOLD
    And the summary of gate P00-OSD names "wipe refused: openstack0 (running) not shut off"
    And the run exits 1
