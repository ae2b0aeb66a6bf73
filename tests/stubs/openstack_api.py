#!/usr/bin/env python3
"""A loopback stub of the OpenStack APIs python-openstackclient reads in phases 03-05.

Stdlib only (http.server, json). It answers the real `openstack` CLI
(python-openstackclient on openstacksdk / keystoneauth1) so that what the CLI prints can
be recorded byte for byte and compared with the composed fixture worlds under
fixtures/testcloud/ (docs/notes/openstack-client-vs-fixtures.md).

Usage:

    python3 tests/stubs/openstack_api.py [--data FILE] [--variant NAME]...
                                         [--idle SECS] [--max-life SECS]
                                         [--exit-on-stdin-eof] [--log FILE]

- Binds 127.0.0.1 on an ephemeral port (never any other address) and prints the port,
  alone, as the first line of stdout once it is listening (then flushes; nothing else is
  printed on stdout). Point the client at it with
  OS_AUTH_URL=http://127.0.0.1:<port>/v3.
- Bounded lifetime: exits after --idle seconds without a request (default 30), after
  --max-life seconds in all (default 600), and, with --exit-on-stdin-eof, as soon as its
  stdin reaches EOF (the parent closed the pipe or died).
- --data: the objects it serves (default: openstack_api_data.json next to this file):
  keystone users/projects/services/endpoints, neutron networks/subnets/security groups,
  glance images, each an API body as the API reference shows it. --variant NAME applies
  the data file's `variants.NAME` patch (per object, keyed by name or id; a key set to
  null is removed, as an API omits an attribute its extensions do not define;
  `"__absent__": true` removes the object; objects under `add` are added), so one file
  holds every world's state (tests/stubs/record_openstack.py runs them all).
- --log FILE: one line per request (method, path, status), for the notes.

What it serves and where each body comes from (API reference samples, and the server
code where the sample and the server differ):

Identity v3 (openstack/keystone api-ref/source/v3, samples/admin/):
- GET /           300, identity-versions-response.json (keystone's root lists v3)
- GET /v3, /v3/   200, identity-version-response.json
- POST /v3/auth/tokens  201 + X-Subject-Token header,
  auth-password-project-scoped-response.json (methods, user, audit_ids, expires_at,
  issued_at, project, is_domain, roles, catalog); expires_at is now + 3600 s
  (keystone's default [token] expiration). Without a scope in the request: an unscoped
  token, auth-password-unscoped-response.json (no catalog), whose calls to the admin
  APIs get keystone's 403 {"error": {"code": 403, "message": "You are not authorized to
  perform the requested action: identity:list_endpoints.", "title": "Forbidden"}}
  (keystone/exception.py ForbiddenAction). A wrong user or password, or a project the
  user holds no role on, is keystone's 401 body {"error": {"code": 401, "message": "The request you have made
  requires authentication.", "title": "Unauthorized"}} (keystone/exception.py
  Unauthorized). Every response carries x-openstack-request-id: req-<uuid>
  (oslo.middleware request_id), which keystoneauth puts in its error message.
- GET /v3/endpoints  endpoints-list-response.json; GET /v3/services[/{id}]
  services-list-response.json / service-show-response.json; a missing service is 404
  {"error": {"code": 404, "message": "Could not find service: <id>.", "title": "Not
  Found"}}.
  The catalog in the token names this stub (identity, network, image only, all on
  127.0.0.1); the endpoint *list* is the testcloud's, from the data file.

Networking v2.0 (openstack/neutron-lib api-ref/source/v2, samples/networks,
samples/subnets, samples/security-groups), under the path prefix /networking:
- GET /networking            versions-list-response.json (200, the v2.0 entry)
- GET /networking/v2.0/{networks,subnets,security-groups}[?name=..&..]
  {"networks": [...]}: the list filtered by every query parameter that is a body key
- GET /networking/v2.0/{collection}/{id}  {"network": {...}}, or 404 with neutron's
  error body {"NeutronError": {"type": "NetworkNotFound", "message": "Network <id>
  could not be found.", "detail": ""}} (neutron-lib exceptions NetworkNotFound,
  SubnetNotFound; neutron extensions/securitygroup.py SecurityGroupNotFound "Security
  group <id> does not exist")
- POST /networking/v2.0/{networks,subnets}  create (201, the new object);
  PUT /networking/v2.0/{collection}/{id}/tags  {"tags": [...]} (neutron tag extension,
  api-ref "Replace all tags"); GET /networking/v2.0/extensions  {"extensions": []}.
  The security group's rules are served in the key order of Caracal neutron's
  `_make_security_group_rule_dict` (openstack/neutron unmaintained/2024.1
  neutron/db/securitygroups_db.py) followed by its extenders (description, tags,
  created_at, updated_at, revision_number): the client prints them as neutron sends them.

Image v2 (openstack/glance api-ref/source/v2/samples, api-ref/source/versions/samples),
under the path prefix /image:
- GET /image                 300, image-versions-response.json
- GET /image/v2/images[?tag=..&name=..&os_hidden=..]  images-list-response.json
  ({"images": [...], "first": ..., "schema": "/v2/schemas/images"}); glance lists only
  visible (os_hidden false) images unless os_hidden=true is asked.
- GET /image/v2/images/{id}  image-show-response.json, or glance's 404 ("No image found
  with ID <id>", glance/db/__init__.py, in webob's HTML error page)
- POST /image/v2/images (201, queued), PUT /image/v2/images/{id}/file (204: the data is
  read and hashed, the image goes active), for `image create --file`.
"""

import argparse
import copy
import hashlib
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "openstack_api_data.json")

# The fake token id: obviously not a real Fernet token.
TOKEN_ID = "gAAAAAstub-token-not-a-secret-0000000000000000000000000000"
# An unscoped token (no project in the request): keystone issues it without a catalog,
# and its policy refuses the admin APIs (403).
UNSCOPED_TOKEN_ID = "gAAAAAstub-unscoped-token-not-a-secret-00000000000000000000"

NEUTRON_COLLECTIONS = {
    # collection path: (data key, member name, NotFound type, message)
    "networks": ("networks", "network", "NetworkNotFound",
                 "Network {id} could not be found."),
    "subnets": ("subnets", "subnet", "SubnetNotFound",
                "Subnet {id} could not be found."),
    "security-groups": ("security_groups", "security_group",
                        "SecurityGroupNotFound",
                        "Security group {id} does not exist"),
}


def apply_variant(data, patch):
    """Applies one `variants.NAME` patch: {section: {collection: {name or id: change}}}.

    A change maps keys to new values (null removes the key: the API omits it and the
    SDK shows null); {"__absent__": true} removes the object; `add` lists new objects.
    """
    for section, collections in patch.items():
        for coll, changes in collections.items():
            objects = data[section][coll]
            for name, change in changes.items():
                if name == "add":
                    objects.extend(copy.deepcopy(change))
                    continue
                hits = [o for o in objects if o.get("name") == name or o.get("id") == name]
                if not hits:
                    raise SystemExit(f"variant names no {section}.{coll} object {name!r}")
                for obj in hits:
                    if change.get("__absent__"):
                        objects.remove(obj)
                        continue
                    for k, v in change.items():
                        if v is None:
                            obj.pop(k, None)
                        else:
                            obj[k] = copy.deepcopy(v)


class State:
    def __init__(self, data):
        self.data = data
        self.lock = threading.Lock()
        self.last_request = time.monotonic()
        self.port = None
        self.log = None
        self.clock = 0

    def now(self):
        # Timestamps for what the stub creates: a fixed day, one second per write.
        self.clock += 1
        return "2026-06-27T18:%02d:%02dZ" % (2 + self.clock // 60, 11 + self.clock % 49)

    def base(self):
        return f"http://127.0.0.1:{self.port}"


def new_id():
    return str(uuid.uuid4())


class Handler(BaseHTTPRequestHandler):
    server_version = "stub"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    # quiet: the request log goes to --log only
    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.state

    # ---- plumbing

    def _send(self, status, body=None, headers=None, ctype="application/json"):
        raw = b""
        if body is not None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("x-openstack-request-id", "req-" + str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)
        if self.st.log:
            with self.st.lock:
                self.st.log.write(f"{self.command} {self.path} {status}\n")
                self.st.log.flush()

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if self.headers.get("Content-Type", "").startswith("application/json") and raw:
            return json.loads(raw)
        return raw

    def _authorized(self):
        if self.headers.get("X-Auth-Token") == TOKEN_ID:
            return True
        self._send(401, {"error": {"code": 401,
                                   "message": "The request you have made requires authentication.",
                                   "title": "Unauthorized"}})
        return False

    def _dispatch(self):
        self.st.last_request = time.monotonic()
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = parse_qsl(url.query, keep_blank_values=True)
        try:
            if path == "/" or path == "/v3" or path.startswith("/v3/"):
                return self.keystone(path, query)
            if path == "/networking" or path.startswith("/networking/"):
                return self.neutron(path[len("/networking"):] or "/", query)
            if path == "/image" or path.startswith("/image/"):
                return self.glance(path[len("/image"):] or "/", query)
            self._send(404, {"error": "no such path"})
        except Exception as e:  # a bug in the stub: a 500 the client reports
            self._send(500, {"error": {"code": 500, "message": f"stub: {e!r}",
                                       "title": "Internal Server Error"}})
            raise

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = lambda self: self._dispatch()

    # ---- identity v3

    def identity_version(self):
        return {
            "id": "v3.14",
            "links": [{"href": self.st.base() + "/v3/", "rel": "self"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v3+json"}],
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
        }

    def catalog(self):
        ks = self.st.data["keystone"]
        region = ks.get("region", "RegionOne")
        base = self.st.base()
        entries = []
        for name, stype, url in (("keystone", "identity", base + "/v3"),
                                 ("neutron", "network", base + "/networking"),
                                 ("glance", "image", base + "/image")):
            sid = next((s["id"] for s in ks["services"] if s["type"] == stype), new_id())
            entries.append({
                "endpoints": [{"region_id": region, "url": url, "region": region,
                               "interface": iface,
                               "id": hashlib.md5((stype + iface).encode()).hexdigest()}
                              for iface in ("public", "internal", "admin")],
                "type": stype, "id": sid, "name": name,
            })
        return entries

    def keystone(self, path, query):
        ks = self.st.data["keystone"]
        if path == "/":
            return self._send(300, {"versions": {"values": [self.identity_version()]}})
        if path == "/v3":
            return self._send(200, {"version": self.identity_version()})
        if path == "/v3/auth/tokens" and self.command == "POST":
            return self.issue_token(self._body())
        if self.headers.get("X-Auth-Token") == UNSCOPED_TOKEN_ID:
            # keystone's policy: identity:list_endpoints etc. need a scoped admin token
            rule = {"/v3/endpoints": "identity:list_endpoints",
                    "/v3/services": "identity:list_services"}.get(path, "identity:get_service")
            return self._send(403, {"error": {
                "code": 403,
                "message": f"You are not authorized to perform the requested action: {rule}.",
                "title": "Forbidden"}})
        if not self._authorized():
            return
        if path == "/v3/auth/tokens" and self.command in ("GET", "HEAD"):
            return self._send(200, self.token_body(ks["users"][0], ks["projects"][0]),
                              {"X-Subject-Token": TOKEN_ID})
        if path == "/v3/endpoints":
            eps = [self.endpoint_body(e) for e in ks["endpoints"]
                   if all(e.get(k) == v for k, v in query if k in ("interface", "service_id", "region_id"))]
            return self._send(200, {"endpoints": eps,
                                    "links": {"next": None, "previous": None,
                                              "self": self.st.base() + "/v3/endpoints"}})
        if path == "/v3/services":
            svcs = [self.service_body(s) for s in ks["services"]
                    if all(s.get(k) == v for k, v in query if k in ("name", "type"))]
            return self._send(200, {"services": svcs,
                                    "links": {"next": None, "previous": None,
                                              "self": self.st.base() + "/v3/services"}})
        if path.startswith("/v3/services/"):
            sid = path.rsplit("/", 1)[1]
            for s in ks["services"]:
                if s["id"] == sid:
                    return self._send(200, {"service": self.service_body(s)})
            return self._send(404, {"error": {"code": 404,
                                              "message": f"Could not find service: {sid}.",
                                              "title": "Not Found"}})
        self._send(404, {"error": {"code": 404, "message": "The resource could not be found.",
                                   "title": "Not Found"}})

    def endpoint_body(self, e):
        # endpoints-list-response.json key set
        return {"enabled": e.get("enabled", True), "id": e["id"], "interface": e["interface"],
                "links": {"self": self.st.base() + "/v3/endpoints/" + e["id"]},
                "region": e.get("region"), "region_id": e.get("region"),
                "service_id": e["service_id"], "url": e["url"]}

    def service_body(self, s):
        # service-show-response.json key set
        return {"description": s.get("description", ""), "enabled": True, "id": s["id"],
                "links": {"self": self.st.base() + "/v3/services/" + s["id"]},
                "name": s["name"], "type": s["type"]}

    def token_body(self, user, project):
        if project is None:
            return {"token": {
                "methods": ["password"],
                "expires_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() + 3600)),
                "user": {"domain": {"id": user["domain_id"], "name": user["domain"]},
                         "id": user["id"], "name": user["name"], "password_expires_at": None},
                "audit_ids": ["stubAuditId0000000000B"],
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            }}
        return {"token": {
            "methods": ["password"],
            "user": {"domain": {"id": user["domain_id"], "name": user["domain"]},
                     "id": user["id"], "name": user["name"], "password_expires_at": None},
            "audit_ids": ["stubAuditId0000000000A"],
            # keystone's default [token] expiration: 3600 s from now
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() + 3600)),
            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            "project": {"domain": {"id": project["domain_id"], "name": project["domain"]},
                        "id": project["id"], "name": project["name"]},
            "is_domain": False,
            "roles": [{"id": "51cc68287d524c759f47c811e6463340", "name": "admin"},
                      {"id": "9fe2ff9ee4384b1894a90878d3e92bab", "name": "member"},
                      {"id": "3e1f9b5c2a7d4f60b8c9d0e1f2a3b4c5", "name": "reader"}],
            "catalog": self.catalog(),
        }}

    def issue_token(self, body):
        ks = self.st.data["keystone"]
        unauthorized = {"error": {"code": 401,
                                  "message": "The request you have made requires authentication.",
                                  "title": "Unauthorized"}}
        try:
            ident = body["auth"]["identity"]
            pw = ident["password"]["user"]
            scope = body["auth"].get("scope", {})
        except (KeyError, TypeError):
            return self._send(400, {"error": {"code": 400, "message": "Expecting to find identity in auth.",
                                              "title": "Bad Request"}})

        def dom_ok(d, name, did):
            d = d or {}
            return d.get("name") == name or d.get("id") == did

        user = next((u for u in ks["users"]
                     if (pw.get("id") == u["id"] or
                         (pw.get("name") == u["name"] and dom_ok(pw.get("domain"), u["domain"], u["domain_id"])))
                     and pw.get("password") == u["password"]), None)
        if user is None:
            return self._send(401, unauthorized)
        proj = scope.get("project")
        if not proj:
            # an unscoped token: auth-password-unscoped-response.json (no project, no
            # roles, no catalog)
            body = self.token_body(user, None)
            return self._send(201, body, {"X-Subject-Token": UNSCOPED_TOKEN_ID})
        project = next((p for p in ks["projects"]
                        if (proj.get("id") == p["id"] or
                            (proj.get("name") == p["name"] and dom_ok(proj.get("domain"), p["domain"], p["domain_id"])))
                        and user["name"] in p.get("admins", [])), None)
        if project is None:
            # keystone: no role on the scope asked for is the same 401
            return self._send(401, unauthorized)
        self._send(201, self.token_body(user, project), {"X-Subject-Token": TOKEN_ID})

    # ---- networking v2.0

    def neutron(self, path, query):
        if path == "/":
            return self._send(200, {"versions": [{"status": "CURRENT", "id": "v2.0",
                                                  "links": [{"href": self.st.base() + "/networking/v2.0/",
                                                             "rel": "self"}]}]})
        if not self._authorized():
            return
        parts = path.strip("/").split("/")
        if parts[0] != "v2.0":
            return self._send(404, {"NeutronError": {"type": "HTTPNotFound",
                                                     "message": "The resource could not be found.",
                                                     "detail": ""}})
        parts = parts[1:]
        if parts == [] or parts == ["extensions"]:
            return self._send(200, {"extensions": []} if parts else {"resources": []})
        coll = parts[0].removesuffix(".json")
        if coll not in NEUTRON_COLLECTIONS:
            return self._send(404, {"NeutronError": {"type": "HTTPNotFound",
                                                     "message": "The resource could not be found.",
                                                     "detail": ""}})
        key, member, nf_type, nf_msg = NEUTRON_COLLECTIONS[coll]
        objects = self.st.data["neutron"].setdefault(key, [])
        if len(parts) == 1 and self.command == "GET":
            hits = [o for o in objects if self.matches(o, query)]
            fields = [v for k, v in query if k == "fields"]
            if fields:
                hits = [{k: o[k] for k in fields if k in o} for o in hits]
            return self._send(200, {key: hits})
        if len(parts) == 1 and self.command == "POST":
            return self.neutron_create(coll, member, objects, self._body())
        oid = parts[1]
        obj = next((o for o in objects if o["id"] == oid), None)
        if obj is None:
            return self._send(404, {"NeutronError": {"type": nf_type,
                                                     "message": nf_msg.format(id=oid),
                                                     "detail": ""}})
        if len(parts) == 2 and self.command == "GET":
            return self._send(200, {member: obj})
        if len(parts) == 3 and parts[2] == "tags" and self.command == "PUT":
            tags = self._body().get("tags", [])
            with self.st.lock:
                obj["tags"] = list(tags)
                obj["revision_number"] = obj.get("revision_number", 0) + 1
                obj["updated_at"] = self.st.now()
            return self._send(200, {"tags": tags})
        self._send(405, {"NeutronError": {"type": "HTTPMethodNotAllowed", "message": "", "detail": ""}})

    @staticmethod
    def matches(obj, query):
        for k, v in query:
            if k in ("fields", "limit", "marker", "sort_key", "sort_dir"):
                continue
            if k in ("tags", "tags-any"):
                want = v.split(",")
                have = obj.get("tags", [])
                if (k == "tags" and not all(t in have for t in want)) or \
                   (k == "tags-any" and not any(t in have for t in want)):
                    return False
                continue
            if k not in obj:
                continue  # neutron ignores filters on attributes it does not know
            have = obj[k]
            if isinstance(have, bool):
                if str(have).lower() != v.lower():
                    return False
            elif str(have) != v:
                return False
        return True

    def neutron_create(self, coll, member, objects, body):
        req = body.get(member, {})
        nd = self.st.data["neutron"]
        project = self.st.data["keystone"]["projects"][0]["id"]
        now = self.st.now()
        if coll == "networks":
            physnet = req.get("provider:physical_network")
            ntype = req.get("provider:network_type", "geneve")
            for other in objects:
                if ntype == "flat" and other.get("provider:network_type") == "flat" and \
                   other.get("provider:physical_network") == physnet:
                    return self._send(409, {"NeutronError": {
                        "type": "FlatNetworkInUse",
                        "message": f"Unable to create the flat network. Physical network {physnet} is in use.",
                        "detail": ""}})
            external = bool(req.get("router:external", False))
            obj = {"id": new_id(), "name": req.get("name", ""), "tenant_id": project,
                   "admin_state_up": req.get("admin_state_up", True), "mtu": 1500,
                   "status": "ACTIVE", "subnets": [], "shared": bool(req.get("shared", False)),
                   "availability_zone_hints": [], "availability_zones": [],
                   "ipv4_address_scope": None, "ipv6_address_scope": None,
                   "router:external": external, "description": req.get("description", ""),
                   "port_security_enabled": req.get("port_security_enabled", True),
                   "qos_policy_id": None, "l2_adjacency": True,
                   "provider:network_type": ntype, "provider:physical_network": physnet,
                   "provider:segmentation_id": req.get("provider:segmentation_id"),
                   "tags": [], "created_at": now, "updated_at": now,
                   "revision_number": 1, "project_id": project}
            if external:
                obj["is_default"] = bool(req.get("is_default", False))
        else:  # subnets
            net = next((n for n in nd["networks"] if n["id"] == req.get("network_id")), None)
            if net is None:
                return self._send(404, {"NeutronError": {
                    "type": "NetworkNotFound",
                    "message": f"Network {req.get('network_id')} could not be found.",
                    "detail": ""}})
            obj = {"id": new_id(), "name": req.get("name", ""), "tenant_id": project,
                   "network_id": net["id"], "ip_version": req.get("ip_version", 4),
                   "subnetpool_id": None, "enable_dhcp": req.get("enable_dhcp", True),
                   "ipv6_ra_mode": None, "ipv6_address_mode": None,
                   "gateway_ip": req.get("gateway_ip"), "cidr": req.get("cidr"),
                   "allocation_pools": req.get("allocation_pools", []),
                   "host_routes": [], "dns_nameservers": [],
                   "description": req.get("description", ""), "service_types": [],
                   "tags": [], "created_at": now, "updated_at": now,
                   "segment_id": None, "revision_number": 1, "project_id": project}
            with self.st.lock:
                net["subnets"].append(obj["id"])
                net["revision_number"] = net.get("revision_number", 0) + 1
        with self.st.lock:
            objects.append(obj)
        self._send(201, {member: obj})

    # ---- image v2

    def glance(self, path, query):
        base = self.st.base() + "/image"
        if path == "/":
            vers = [{"id": v, "links": [{"href": base + "/v2/", "rel": "self"}], "status": s}
                    for v, s in (("v2.16", "CURRENT"), ("v2.15", "SUPPORTED"), ("v2.9", "SUPPORTED"),
                                 ("v2.8", "SUPPORTED"), ("v2.7", "SUPPORTED"), ("v2.6", "SUPPORTED"),
                                 ("v2.5", "SUPPORTED"), ("v2.4", "SUPPORTED"), ("v2.3", "SUPPORTED"),
                                 ("v2.2", "SUPPORTED"), ("v2.1", "SUPPORTED"), ("v2.0", "SUPPORTED"))]
            return self._send(300, {"versions": vers})
        if not self._authorized():
            return
        images = self.st.data["glance"].setdefault("images", [])
        parts = path.strip("/").split("/")
        if parts[:2] != ["v2", "images"]:
            return self._send(404, self.glance_404("The resource could not be found."),
                              ctype="text/html; charset=UTF-8")
        if len(parts) == 2 and self.command == "GET":
            q = dict(query)
            hidden = q.get("os_hidden", "false").lower() == "true"
            hits = []
            for im in images:
                if bool(im.get("os_hidden", False)) != hidden:
                    continue
                tags = [v for k, v in query if k == "tag"]
                if any(t not in im.get("tags", []) for t in tags):
                    continue
                if "name" in q and im.get("name") != q["name"]:
                    continue
                if "status" in q and im.get("status") != q["status"]:
                    continue
                hits.append(im)
            first = "/v2/images" + (("?" + urlsplit(self.path).query) if urlsplit(self.path).query else "")
            return self._send(200, {"images": hits, "first": first, "schema": "/v2/schemas/images"})
        if len(parts) == 2 and self.command == "POST":
            return self.glance_create(images, self._body())
        iid = parts[2]
        im = next((i for i in images if i["id"] == iid), None)
        if im is None:
            return self._send(404, self.glance_404(f"No image found with ID {iid}"),
                              ctype="text/html; charset=UTF-8")
        if len(parts) == 3 and self.command == "GET":
            return self._send(200, im)
        if len(parts) == 4 and parts[3] == "file" and self.command == "PUT":
            data = self._body()
            if isinstance(data, dict):
                data = json.dumps(data).encode()
            with self.st.lock:
                im.update({"status": "active", "size": len(data),
                           "checksum": hashlib.md5(data).hexdigest(),
                           "os_hash_algo": "sha512",
                           "os_hash_value": hashlib.sha512(data).hexdigest(),
                           "virtual_size": None, "updated_at": self.st.now()})
            return self._send(204)
        self._send(405, self.glance_404("Method not allowed"), ctype="text/html; charset=UTF-8")

    @staticmethod
    def glance_404(msg):
        # webob.exc.HTTPNotFound's HTML page, as glance answers a missing image
        return ("<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n"
                "  <h1>404 Not Found</h1>\n  " + msg + "<br /><br />\n\n\n\n </body>\n</html>").encode()

    def glance_create(self, images, body):
        now = self.st.now()
        iid = body.get("id") or new_id()
        im = {"status": "queued", "name": body.get("name"), "tags": body.get("tags", []),
              "container_format": body.get("container_format"), "created_at": now,
              "disk_format": body.get("disk_format"), "updated_at": now,
              "visibility": body.get("visibility", "shared"), "self": f"/v2/images/{iid}",
              "min_disk": body.get("min_disk", 0), "protected": body.get("protected", False),
              "id": iid, "file": f"/v2/images/{iid}/file", "checksum": None,
              "os_hash_algo": None, "os_hash_value": None, "os_hidden": False,
              "owner": self.st.data["keystone"]["projects"][0]["id"], "size": None,
              "min_ram": body.get("min_ram", 0), "schema": "/v2/schemas/image",
              "virtual_size": None}
        for k, v in body.items():
            if k not in im:
                im[k] = v
        with self.st.lock:
            images.append(im)
        self._send(201, im, {"Location": f"{self.st.base()}/image/v2/images/{iid}"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--idle", type=float, default=30.0)
    ap.add_argument("--max-life", type=float, default=600.0)
    ap.add_argument("--exit-on-stdin-eof", action="store_true")
    ap.add_argument("--log")
    args = ap.parse_args()

    with open(args.data) as f:
        doc = json.load(f)
    data = {k: doc[k] for k in ("keystone", "neutron", "glance")}
    for name in args.variant:
        if name not in doc.get("variants", {}):
            raise SystemExit(f"no variant {name!r} in {args.data}")
        apply_variant(data, doc["variants"][name])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = State(data)
    state.port = server.server_address[1]
    if args.log:
        state.log = open(args.log, "a")
    server.state = state

    started = time.monotonic()

    def watchdog():
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            if now - state.last_request > args.idle or now - started > args.max_life:
                os._exit(0)

    def stdin_watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    if args.exit_on_stdin_eof:
        threading.Thread(target=stdin_watch, daemon=True).start()
    sys.stdout.write(f"{state.port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
