#!/usr/bin/env python3
"""Records what the real `openstack` CLI prints for each testcloud world's argvs.

For every world below it starts tests/stubs/openstack_api.py (127.0.0.1, ephemeral
port, --variant <world>, --exit-on-stdin-eof: the stub dies with this script), runs each
argv the way stackgate's live runner does (no shell, stdin /dev/null, LC_ALL=C, a new
session, the admin-openrc's OS_* variables in the environment, a scratch HOME so no
clouds.yaml or cache of the operator's is read) and writes, per world and argv,
<out>/<client>/<world>/<n>.{argv,stdout,stderr,exit}.

    python3 tests/stubs/record_openstack.py --openstack /path/to/bin/openstack \
        --client-name osc-10.5.0 --out /tmp/osc-recordings [--world NAME]...

Nothing here reaches anything but 127.0.0.1. No real secret: the password is
"stub-password".
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "openstack_api.py")

NET = ["network", "show", "provider-ext", "-f", "json"]
SUB = ["subnet", "show", "provider-ext-fip", "-f", "json"]
LBNET = ["network", "show", "lb-mgmt-net", "-f", "json"]
LBSUB = ["subnet", "show", "lb-mgmt-subnetv6", "-f", "json"]
SG = ["security", "group", "show", "lb-mgmt-sec-grp", "-f", "json"]
TAGGED = ["image", "list", "--tag", "octavia-amphora", "-f", "json"]
AMP = "c8f9f53a-980b-4224-9949-9e141708dd6f"
OLD_AMP = "7d2e4b19-6a3c-4f58-b0e1-2c9d8f7a6b54"
BASE = "jammy-amphora-base"
ENDPOINTS = ["endpoint", "list", "-f", "json"]

# The phase-03 scope discovery (src/actions/phase03.rs SCOPE_SCRIPT, TOKEN_ISSUE): the
# password on stdin, every other credential on argv.
SCOPE_SCRIPT = ('read -r OS_PASSWORD && export OS_PASSWORD && unset OS_CLOUD OS_TOKEN '
                'OS_AUTH_TYPE && exec openstack "$@"')
TOKEN_ISSUE = ["token", "issue", "-f", "json", "-c", "expires", "-c", "project_id"]

# phase 04's network-create (src/actions/phase04.rs) with profiles/testcloud.toml's values
NET_CREATE = ["network", "create", "-f", "json", "--external", "--provider-network-type",
              "flat", "--provider-physical-network", "physnet1", "--tag", "role=provider",
              "provider-ext"]
SUB_CREATE = ["subnet", "create", "-f", "json", "--network", "provider-ext", "--subnet-range",
              "10.12.4.0/22", "--gateway", "10.12.4.1", "--no-dhcp", "--allocation-pool",
              "start=10.12.5.0,end=10.12.7.254", "--tag", "role=provider", "--tag",
              "netbox-iprange=10.12.5.0-10.12.7.254", "provider-ext-fip"]

# world -> (variant or None, credentials mode, [argv after "openstack"])
WORLDS = {
    "phase03-settled": (None, "openrc", [ENDPOINTS]),
    "phase03-endpoints-internal-on-admin": ("phase03-endpoints-internal-on-admin", "openrc", [ENDPOINTS]),
    "phase03-endpoints-keystone-admin-5000": ("phase03-endpoints-keystone-admin-5000", "openrc", [ENDPOINTS]),
    "phase03-endpoints-vip-mismatch": ("phase03-endpoints-vip-mismatch", "openrc", [ENDPOINTS]),
    "phase03-openrc-stale": (None, "wrong-password", [ENDPOINTS]),
    "phase03-endpoints-unscoped": (None, "wrong-scope", [ENDPOINTS]),
    "phase03-openrc-wrong-password": (None, "wrong-password", [ENDPOINTS]),
    "phase03-openrc-no-project": (None, "no-project", [ENDPOINTS]),
    "phase03-scope-discovery": (None, "scope", []),
    "phase04-network-created": (None, "openrc", [NET, SUB]),
    "phase04-osc3-display-strings": (None, "openrc", [NET, SUB]),
    "phase04-before-create": ("phase04-before-create", "openrc", [NET, SUB]),
    "phase04-network-internal": ("phase04-network-internal", "openrc", [NET]),
    "phase04-network-shared": ("phase04-network-shared", "openrc", [NET]),
    "phase04-network-vlan": ("phase04-network-vlan", "openrc", [NET]),
    "phase04-wrong-physnet": ("phase04-wrong-physnet", "openrc", [NET]),
    "phase04-pool-whole-cidr": ("phase04-pool-whole-cidr", "openrc", [SUB]),
    "phase04-subnet-dhcp-on": ("phase04-subnet-dhcp-on", "openrc", [SUB]),
    "phase04-subnet-untagged": ("phase04-subnet-untagged", "openrc", [SUB]),
    "phase04-no-openrc": (None, "none", [NET, SUB]),
    "phase04-network-create": ("phase04-before-create", "openrc", [NET_CREATE, SUB_CREATE, NET, SUB]),
    "phase05-complete": (None, "openrc", [LBNET, LBSUB, SG, TAGGED, ["image", "show", AMP, "-f", "json"]]),
    "phase05-control-plane-done": ("phase05-control-plane-done", "openrc",
                                   [TAGGED, ["image", "show", BASE, "-f", "json"]]),
    "phase05-base-present": ("phase05-base-present", "openrc", [["image", "show", BASE, "-f", "json"]]),
    "phase05-entry": ("phase05-entry", "openrc", [LBNET, LBSUB, SG]),
    "phase05-sec-grp-missing": ("phase05-sec-grp-missing", "openrc", [SG]),
    "phase05-amphora-deactivated": ("phase05-amphora-deactivated", "openrc",
                                    [TAGGED, ["image", "show", AMP, "-f", "json"]]),
    "phase05-two-amphorae": ("phase05-two-amphorae", "openrc",
                             [TAGGED, ["image", "show", OLD_AMP, "-f", "json"]]),
    "phase05-no-openrc": ("phase05-entry", "none", [LBNET, LBSUB, SG, TAGGED]),
    "phase05-image-create": ("phase05-control-plane-done", "openrc",
                             [["image", "create", "--disk-format", "qcow2", "--container-format",
                               "bare", "--file", "@IMAGE@", "-f", "json", BASE],
                              ["image", "show", BASE, "-f", "json"]]),
}


def openrc_env(port, password="stub-password"):
    # the admin-openrc src/actions/phase03.rs writes (openrc_template), with the stub's
    # auth URL; the CA path is the profile's and only matters for https
    return {
        "OS_AUTH_URL": f"http://127.0.0.1:{port}/v3",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": "admin",
        "OS_PASSWORD": password,
        "OS_USER_DOMAIN_NAME": "admin_domain",
        "OS_PROJECT_NAME": "admin",
        "OS_PROJECT_DOMAIN_NAME": "admin_domain",
        "OS_REGION_NAME": "RegionOne",
        "OS_CACERT": "/home/ubuntu/vault-root-ca.pem",
        "OS_INTERFACE": "public",
    }


def run(argv, env, stdin_bytes=None):
    p = subprocess.run(argv, env=env, input=stdin_bytes,
                       stdin=None if stdin_bytes is not None else subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       start_new_session=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--openstack", required=True, help="the openstack executable to record")
    ap.add_argument("--client-name", required=True)
    ap.add_argument("--out", default="/tmp/osc-recordings")
    ap.add_argument("--world", action="append")
    args = ap.parse_args()

    home = tempfile.mkdtemp(prefix="osc-home-")
    bindir = os.path.dirname(os.path.abspath(args.openstack))
    base_env = {"PATH": bindir + ":/usr/bin:/bin", "HOME": home, "LC_ALL": "C"}
    image = os.path.join(home, "jammy-server-cloudimg-amd64.img")
    with open(image, "wb") as f:
        f.write(b"QFI\xfb" + b"\0" * 4092)  # a small stand-in: the stub only hashes it

    for world in args.world or WORLDS:
        variant, mode, argvs = WORLDS[world]
        os.makedirs(os.path.join(args.out, args.client_name, world), exist_ok=True)
        log = os.path.join(args.out, args.client_name, world + ".requests")
        open(log, "w").close()
        cmd = [sys.executable, STUB, "--idle", "60", "--exit-on-stdin-eof", "--log", log]
        if variant:
            cmd += ["--variant", variant]
        stub = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        port = int(stub.stdout.readline())
        try:
            jobs = []
            if mode == "scope":
                for project_domain in ("admin_domain", "Default"):
                    argv = ["sh", "-c", SCOPE_SCRIPT, "sh"]
                    for flag, value in (("--os-auth-url", f"http://127.0.0.1:{port}/v3"),
                                        ("--os-identity-api-version", "3"),
                                        ("--os-username", "admin"),
                                        ("--os-user-domain-name", "admin_domain"),
                                        ("--os-project-name", "admin"),
                                        ("--os-project-domain-name", project_domain),
                                        ("--os-region-name", "RegionOne"),
                                        ("--os-cacert", "/home/ubuntu/vault-root-ca.pem")):
                        argv += [flag, value]
                    jobs.append((argv + TOKEN_ISSUE, dict(base_env), b"stub-password\n"))
            for a in argvs:
                a = [image if w == "@IMAGE@" else w for w in a]
                env = dict(base_env)
                if mode == "openrc":
                    env.update(openrc_env(port))
                elif mode == "wrong-password":
                    env.update(openrc_env(port, "stub-password-of-an-earlier-cloud"))
                elif mode == "wrong-scope":
                    # a project the admin user holds no role on (keystone: 401)
                    env.update(openrc_env(port))
                    env["OS_PROJECT_DOMAIN_NAME"] = "Default"
                elif mode == "no-project":
                    # no project at all: keystone issues an unscoped token
                    env.update(openrc_env(port))
                    del env["OS_PROJECT_NAME"], env["OS_PROJECT_DOMAIN_NAME"]
                jobs.append((["openstack"] + a, env, None))
            for n, (argv, env, stdin_bytes) in enumerate(jobs):
                code, out, err = run(argv, env, stdin_bytes)
                stem = os.path.join(args.out, args.client_name, world, str(n))
                shown = [w.replace(str(port), "PORT").replace(home, "HOME") for w in argv]
                with open(stem + ".argv", "w") as f:
                    json.dump(shown, f)
                    f.write("\n")
                for ext, data in (("stdout", out), ("stderr", err)):
                    with open(f"{stem}.{ext}", "wb") as f:
                        f.write(data)
                with open(stem + ".exit", "w") as f:
                    f.write(f"{code}\n")
                print(f"{args.client_name} {world} {' '.join(shown[:6])} -> {code}", flush=True)
        finally:
            stub.stdin.close()
            stub.wait(timeout=10)


if __name__ == "__main__":
    main()
