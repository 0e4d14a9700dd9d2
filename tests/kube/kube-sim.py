#!/usr/bin/python3
"""kube-sim.py - a strict Kubernetes API server simulator, a test fixture.

No API server can run on the test machines, so the tests talk to this one:
HTTPS on loopback with a CA it makes at start, bearer-token and client
certificate authentication (as a real server: a wrong or expired token, or
a client certificate of a CA it does not trust, is answered 401
Unauthorized with a Status, the reason only in the request log), the real
REST paths for namespaces, nodes, persistent volumes and claims, batch/v1
Jobs, pods and pod logs, the discovery paths a real client needs, list and
watch with one global resourceVersion (bookmarks, 410 Expired after a
compaction), and fault injection.  Every body it receives is checked against the schemas of the
models of Debian's python3-kubernetes (the official client, generated from
the API's OpenAPI spec): unknown fields and wrong types are refused with 400
as a server with strict field validation does, missing required fields and
the semantic rules of the real validation with 422 Invalid.

Each Job's pod runs its container's command as a local process with the
container's env; the Job's status is written as the Job controller writes it.
The process runs as a container runtime runs it (through setpriv): as the
effective securityContext's runAsUser and runAsGroup (else as the image's
user; the simulator has no images, and every image's user is root, gid 0),
with only the pod's supplementalGroups and fsGroup, the runtime's default
capabilities less those dropped plus those added (all when privileged),
and no_new_privs when allowPrivilegeEscalation is false.  As the kubelet,
it refuses to start a container with runAsNonRoot that would run as root
(runAsUser 0, or no runAsUser): the pod waits in
CreateContainerConfigError and the Job stays active.

What a pod sees is what a node gives it, no more: each container runs in a
mount namespace of its own whose root is a fresh tmpfs holding only

  * the image: the host's /usr, /bin, /sbin, /lib, /lib32, /lib64 and
    /etc (those that exist), read-only.  This is the one stand-in for
    what a cluster pulls: every image is the host's system, whatever the
    Job names (an image ending in ":pull-error" fails to pull);
  * a fresh /proc, a /dev of null, zero, full, random, urandom and tty
    (the host's) with a tmpfs /dev/shm, and a private tmpfs /tmp;
  * the pod's volumes at their volumeMounts' mountPaths (readOnly and
    subPath honoured, parents mounted before children), each a bind mount
    of a host directory:
      - persistentVolumeClaim: its bound volume's directory.  The
        simulator is every NFS server: a volume's nfs export is the
        host's directory of its path (the tests give exports that are
        host directories); a hostPath or local volume is its path.  A
        claim bound to no volume gets a directory of its own, made on
        first use as a provisioner would and kept across pods,
        STATE_DIR/volumes/<namespace>/<claim>.  A missing claim, or an
        export whose directory is missing, holds the pod in
        ContainerCreating with the kubelet's message: it never runs
        without its volume;
      - hostPath: the host path, with the kubelet's type checks
        (Directory must exist, else the pod is held as above;
        DirectoryOrCreate and FileOrCreate make it; no type: made as
        containerd makes it);
      - emptyDir: STATE_DIR/pods/<pod uid>/<volume>, the pod's own,
        removed when the pod is deleted;
      - any other kind (configMap, secret, projected, downwardAPI ...)
        is not mounted: the pod is held in ContainerCreating, saying so.

Nothing else of the host is there (not /home, /root, /run, /srv, /var,
nor the simulator's state).  The command is looked up in that root; a
workingDir missing there is made as runc makes it (as root, 0755) before
the process switches to its user.  The namespace is made with
unshare(2), mount(2) and pivot_root(2), so the simulator needs root: when
it cannot make one it refuses to start (exit status 3) rather than run
pods on the host's files.

A container's memory limit (resources.limits.memory) is enforced as
runc enforces it: its process joins a memory cgroup of its own with that
limit, and no swap beyond it, before it execs (cgroup v2 where a cgroup2
mount gives the simulator's cgroup the memory controller, writable, with
memory.oom.group set; else cgroup v1's memory hierarchy).  A container
the kernel OOM-killed there ends as a kubelet reports it: terminated,
reason "OOMKilled", its exit code (137 when its first process was
killed).  When a container's processes ended its cgroup is removed, any
process of it left killed first.  Where no memory cgroup is usable the
simulator says so once on stderr and enforces nothing (GET /state says
which: "memory_limits").

Other differences from a node: no PID or network namespace (a pod's pids
are the host's, which the tests use to check that processes are killed;
it shares the host's network), no CPU limits (requests.cpu and
limits.cpu are validated, not enforced), no limit on a pod as a whole
(only its containers'), no metrics, no /sys, no /etc/hosts or
resolv.conf of the pod's own.

    kube-sim.py --state-dir DIR [--port-file F] [--admin-port-file F]
                [--kubeconfig-out F] [--token-file F] [--nodes-file F]
                [--log F] ...

The request log (--log) has one JSON object a request: time, method, path,
query, watch, user (None: not authenticated), agent (the User-Agent), and
when there are: body, fault (the one injected), auth_error (why a request
was not authenticated).

Admin endpoint (plain HTTP, loopback, --admin-port-file), JSON bodies:
    POST /faults     {"kind": "500"|"429"|"delay"|"delay_after"|"drop"|
                      "drop_after", "count": N, "probability": P,
                      "retry_after": S, "seconds": S, "path": REGEX,
                      "method": M, "watch": true|false}
    DELETE /faults   clear every fault rule
    POST /compact    compact the watch history (watches from before: 410)
    POST /cut-watches  {"clean": false}: cut every open watch stream
    POST /chaos      {"cut_watches_every": S, "compact_every": S}
    GET /nodes, PUT /nodes [NODE...], POST /nodes/NAME {"ready": false, ...}
    GET /state       counters, resourceVersion, open watches, processes,
                     creations per object ("jobs/NS/NAME": N), and how
                     many times the kubelet found a pod held (not
                     startable yet: "held_checks": {"NS/POD": N}), and
                     whether memory limits are enforced ("memory_limits":
                     {"enforced": true, "cgroup": "v1"|"v2", "base": DIR,
                     "containers": N} or {"enforced": false, "why": WHY})
    POST /tokens     {"ttl": S}: a new bearer token, good for S seconds
                     (0 or less: expired already); answers {"token", "expires"}

Certificates, in STATE_DIR/pki: ca.crt (the cluster's CA, which signs the
server's certificate and the client certificates the server trusts),
client.crt and client.key (CN kube-sim-admin), and untrusted-ca.crt with
untrusted-client.crt and untrusted-client.key: a client certificate of
another CA.  A real API server asks for a client certificate without
requiring one (Go's RequestClientCert) and its authenticator refuses one
of an unknown CA with 401; Python's ssl cannot ask without verifying, so
the TLS layer here also takes certificates of untrusted-ca.crt and the
authenticator refuses them with 401 as the real one does (a certificate
of any other CA fails the TLS handshake instead).

    kube-sim.py --check-pods

exits 0 if pods can have roots of their own here (root, mount
namespaces), else 1 with the reason on stderr.

    kube-sim.py --check-manifests FILE...

checks every document of the YAML (or JSON) files as a server with strict
field validation would check it on create, without starting a server:
the kinds served above and ServiceAccount, Secret, ClusterRole,
ClusterRoleBinding and Deployment (the kinds of deploy/); one line per
problem, exit status 1 if there is any.
"""

import argparse
import base64
import collections
import copy
import ctypes
import datetime
import errno
import fractions
import hmac
import http.server
import json
import os
import pwd
import random
import re
import secrets
import select
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse


def import_models():
    try:
        import kubernetes.client.models as models
    except ImportError:
        # An interpreter other than Debian's (pyenv, venv): the package is
        # pure Python, so its directory serves any 3.x.
        sys.path.append('/usr/lib/python3/dist-packages')
        import kubernetes.client.models as models
    from kubernetes.client.configuration import Configuration
    return models, Configuration


def import_yaml():
    try:
        import yaml
    except ImportError:
        sys.path.append('/usr/lib/python3/dist-packages')    # as above
        import yaml
    return yaml


# main's exit status when pods cannot have roots of their own here
EXIT_NO_PODS = 3

SERVER_VERSION = {
    'major': '1', 'minor': '31', 'gitVersion': 'v1.31.0',
    'gitCommit': 'kube-sim', 'gitTreeState': 'clean',
    'buildDate': '2024-08-13T00:00:00Z', 'goVersion': 'go1.22.5',
    'compiler': 'gc', 'platform': 'linux/amd64',
}

# ---------------------------------------------------------------- errors


class ApiError(Exception):
    """A failure answered with a Kubernetes Status object."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details, self.headers = details, headers or {}

    def status(self):
        st = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
              'status': 'Failure', 'message': self.message,
              'reason': self.reason, 'code': self.code}
        if self.details is not None:
            st['details'] = self.details
        return st


def bad_request(msg):
    return ApiError(400, 'BadRequest', msg)


def not_found(res, name):
    r = RESOURCES[res]
    return ApiError(404, 'NotFound', '%s "%s" not found' % (r.qualified, name),
                    {'name': name, 'group': r.group, 'kind': res})


class FieldErrors:
    """field.ErrorList of the real validation; raised as 422 Invalid."""

    def __init__(self):
        self.causes = []

    def required(self, field, detail=''):
        self._add('FieldValueRequired', field,
                  'Required value' + (': ' + detail if detail else ''))

    def invalid(self, field, value, detail):
        self._add('FieldValueInvalid', field,
                  'Invalid value: %s: %s' % (go_repr(value), detail))

    def not_supported(self, field, value, allowed):
        self._add('FieldValueNotSupported', field,
                  'Unsupported value: %s: supported values: %s' % (
                      go_repr(value), ', '.join('"%s"' % a for a in allowed)))

    def duplicate(self, field, value):
        self._add('FieldValueDuplicate', field,
                  'Duplicate value: %s' % go_repr(value))

    def not_found(self, field, value):
        self._add('FieldValueNotFound', field,
                  'Not found: %s' % go_repr(value))

    def forbidden(self, field, detail):
        self._add('FieldValueForbidden', field, 'Forbidden: ' + detail)

    def _add(self, reason, field, message):
        self.causes.append({'reason': reason, 'message': message,
                            'field': field})

    def raise_if_any(self, kind_group, name, group, kind):
        if not self.causes:
            return
        msgs = ['%s: %s' % (c['field'], c['message']) for c in self.causes]
        text = msgs[0] if len(msgs) == 1 else '[' + ', '.join(msgs) + ']'
        raise ApiError(422, 'Invalid', '%s "%s" is invalid: %s' % (
            kind_group, name, text),
            {'name': name, 'group': group, 'kind': kind,
             'causes': self.causes})


def go_repr(v):
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(',', ':'))
    return str(v)

# ---------------------------------------------------------------- names

DNS1123_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DNS1123_SUBDOMAIN = re.compile(
    r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
QUALIFIED_NAME = re.compile(r'^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$')
LABEL_VALUE = re.compile(r'^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$')
ENV_NAME = re.compile(r'^[-._a-zA-Z][-._a-zA-Z0-9]*$')
QUANTITY = re.compile(r'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$')

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case "
             "alphanumeric characters or '-', and must start and end with an "
             "alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
             "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case "
                 "alphanumeric characters, '-' or '.', and must start and end "
                 "with an alphanumeric character (e.g. 'example.com', regex "
                 "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.["
                 "a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def check_label_name(errs, field, v):
    if len(v) > 63:
        errs.invalid(field, v, 'must be no more than 63 characters')
    if not DNS1123_LABEL.match(v):
        errs.invalid(field, v, LABEL_MSG)


def check_subdomain(errs, field, v):
    if len(v) > 253:
        errs.invalid(field, v, 'must be no more than 253 characters')
    if not DNS1123_SUBDOMAIN.match(v):
        errs.invalid(field, v, SUBDOMAIN_MSG)


def qualified_name_ok(key):
    parts = key.split('/')
    if len(parts) == 2:
        prefix, name = parts
        if not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix):
            return False
    elif len(parts) == 1:
        name = parts[0]
    else:
        return False
    return 0 < len(name) <= 63 and bool(QUALIFIED_NAME.match(name))


def check_labels(errs, field, labels):
    for k, v in (labels or {}).items():
        if not qualified_name_ok(k):
            errs.invalid(field, k, "name part must consist of alphanumeric "
                         "characters, '-', '_' or '.', and must start and end "
                         "with an alphanumeric character")
        if len(v) > 63:
            errs.invalid(field, v, 'must be no more than 63 characters')
        elif not LABEL_VALUE.match(v):
            errs.invalid(field, v, "a valid label must be an empty string or "
                         "consist of alphanumeric characters, '-', '_' or '.',"
                         " and must start and end with an alphanumeric "
                         "character")


def parse_quantity(q):
    """A resource.Quantity as an exact Fraction (None when malformed)."""
    if isinstance(q, bool):
        return None
    if isinstance(q, (int, float)):
        return fractions.Fraction(q)
    m = QUANTITY.match(q)
    if not m:
        return None
    try:
        num = fractions.Fraction(m.group(1))
    except (ValueError, ZeroDivisionError):
        return None
    suf = m.group(2)
    bin_ = {'Ki': 2**10, 'Mi': 2**20, 'Gi': 2**30, 'Ti': 2**40,
            'Pi': 2**50, 'Ei': 2**60}
    dec = {'': 1, 'n': fractions.Fraction(1, 10**9),
           'u': fractions.Fraction(1, 10**6), 'm': fractions.Fraction(1, 1000),
           'k': 10**3, 'M': 10**6, 'G': 10**9, 'T': 10**12, 'P': 10**15,
           'E': 10**18}
    if suf in bin_:
        return num * bin_[suf]
    if suf in dec:
        return num * dec[suf]
    m2 = re.match(r'^[eE]([-+]?[0-9]+)$', suf)
    if m2:
        return num * fractions.Fraction(10) ** int(m2.group(1))
    return None

# ---------------------------------------------------------------- schema

# Fields that are resource.Quantity in Go (a string or a number in JSON);
# the generated Python models call them str.
QUANTITY_FIELDS = {
    ('V1ResourceRequirements', 'limits'), ('V1ResourceRequirements', 'requests'),
    ('V1PersistentVolumeSpec', 'capacity'), ('V1EmptyDirVolumeSource', 'sizeLimit'),
    ('V1ResourceFieldSelector', 'divisor'), ('V1PodSpec', 'overhead'),
    ('V1PersistentVolumeClaimStatus', 'capacity'),
    ('V1NodeStatus', 'capacity'), ('V1NodeStatus', 'allocatable'),
}

GO_TYPE = {'int': 'int32', 'str': 'string', 'bool': 'bool',
           'float': 'float64', 'datetime': 'Time'}


def json_type(v):
    if isinstance(v, bool):
        return 'bool'
    if isinstance(v, (int, float)):
        return 'number ' + json.dumps(v)
    if isinstance(v, str):
        return 'string'
    if isinstance(v, list):
        return 'array'
    return 'object'


class DecodeError(Exception):
    pass


class Schema:
    """Field names, types and required flags from python3-kubernetes."""

    def __init__(self):
        self.models, Configuration = import_models()
        self.cfg = Configuration()
        self.cfg.client_side_validation = True
        self.cache = {}

    def model(self, name):
        got = self.cache.get(name)
        if got:
            return got
        cls = getattr(self.models, name)
        inst = cls.__new__(cls)
        inst.local_vars_configuration = self.cfg
        fields, required = {}, set()
        for attr, typ in cls.openapi_types.items():
            jname = cls.attribute_map[attr]
            fields[jname] = typ
            try:
                setattr(inst, attr, None)
            except ValueError:
                required.add(jname)
        self.cache[name] = (fields, required)
        return fields, required

    def decode(self, obj, model, kind, unknown, skip_required_under=()):
        """Strict decoding of obj as model: returns (unknown field paths,
        missing required paths); raises DecodeError on a type mismatch."""
        missing = []
        self._check(obj, model, '', model, '', unknown, missing,
                    skip_required_under, kind)
        return missing

    def _check(self, v, typ, path, owner, field, unknown, missing, skip, kind):
        if v is None:
            return
        if typ.startswith('list['):
            if not isinstance(v, list):
                self._type_error(v, typ, path, owner, field, kind)
            for i, x in enumerate(v):
                self._check(x, typ[5:-1], '%s[%d]' % (path, i), owner, field,
                            unknown, missing, skip, kind)
            return
        if typ.startswith('dict(str, '):
            if not isinstance(v, dict):
                self._type_error(v, typ, path, owner, field, kind)
            inner = typ[len('dict(str, '):-1]
            for k, x in v.items():
                self._check(x, inner, '%s[%s]' % (path, k), owner, field,
                            unknown, missing, skip, kind)
            return
        if typ == 'str':
            if (owner, field) in QUANTITY_FIELDS:
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    self._type_error(v, 'Quantity', path, owner, field, kind)
                if parse_quantity(v) is None:
                    raise DecodeError(
                        '%s in version "v1" cannot be handled as a %s: '
                        'quantities must match the regular expression '
                        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
                        % (kind, kind))
                return
            if not isinstance(v, str):
                self._type_error(v, typ, path, owner, field, kind)
            return
        if typ == 'int':
            if isinstance(v, bool) or not isinstance(v, int):
                self._type_error(v, typ, path, owner, field, kind)
            if not -2**63 <= v < 2**63:
                self._type_error(v, typ, path, owner, field, kind)
            return
        if typ == 'float':
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                self._type_error(v, typ, path, owner, field, kind)
            return
        if typ == 'bool':
            if not isinstance(v, bool):
                self._type_error(v, typ, path, owner, field, kind)
            return
        if typ == 'datetime':
            if not isinstance(v, str) or parse_time(v) is None:
                raise DecodeError(
                    '%s in version "v1" cannot be handled as a %s: parsing '
                    'time %s as "2006-01-02T15:04:05Z07:00": cannot parse'
                    % (kind, kind, json.dumps(v)))
            return
        if typ == 'object':
            return
        # a model
        if not isinstance(v, dict):
            self._type_error(v, typ, path, owner, field, kind)
        fields, required = self.model(typ)
        for k, x in v.items():
            sub = (path + '.' + k) if path else k
            if k not in fields:
                unknown.append(sub)
                continue
            self._check(x, fields[k], sub, typ, k, unknown, missing, skip, kind)
        if not any(path == s or path.startswith(s + '.') for s in skip):
            for r in sorted(required):
                if v.get(r) is None or v.get(r) == [] and fields[r].startswith('list['):
                    missing.append((path + '.' + r) if path else r)

    @staticmethod
    def _type_error(v, typ, path, owner, field, kind):
        gotype = GO_TYPE.get(typ, typ)
        if typ.startswith('list['):
            gotype = '[]' + GO_TYPE.get(typ[5:-1], typ[5:-1])
        elif typ.startswith('dict('):
            gotype = 'map[string]' + GO_TYPE.get(typ[10:-1], typ[10:-1])
        elif typ.startswith('V1'):
            gotype = 'v1.' + typ[2:]
        raise DecodeError(
            '%s in version "v1" cannot be handled as a %s: json: cannot '
            'unmarshal %s into Go struct field %s.%s of type %s' % (
                kind, kind, json_type(v), owner[2:] if owner.startswith('V1')
                else owner, path, gotype))


def parse_time(s):
    try:
        return datetime.datetime.fromisoformat(s.replace('Z', '+00:00'))
    except (ValueError, AttributeError):
        return None


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')

# ---------------------------------------------------------------- resources


class Res:
    def __init__(self, name, kind, group, model, namespaced, verbs,
                 short=(), singular=None, name_rule='subdomain'):
        self.name, self.kind, self.group, self.model = name, kind, group, model
        self.namespaced, self.verbs, self.short = namespaced, verbs, list(short)
        self.singular = singular or kind.lower()
        self.api_version = (group + '/v1') if group else 'v1'
        self.qualified = name + ('.' + group if group else '')
        self.kind_group = kind + ('.' + group if group else '')
        self.name_rule = name_rule


RESOURCES = {
    'namespaces': Res('namespaces', 'Namespace', '', 'V1Namespace', False,
                      ['create', 'get', 'list', 'watch'], ['ns'],
                      name_rule='label'),
    'nodes': Res('nodes', 'Node', '', 'V1Node', False,
                 ['get', 'list', 'watch'], ['no']),
    'persistentvolumes': Res('persistentvolumes', 'PersistentVolume', '',
                             'V1PersistentVolume', False,
                             ['create', 'delete', 'get', 'list', 'watch'],
                             ['pv']),
    'persistentvolumeclaims': Res('persistentvolumeclaims',
                                  'PersistentVolumeClaim', '',
                                  'V1PersistentVolumeClaim', True,
                                  ['create', 'delete', 'get', 'list', 'watch'],
                                  ['pvc']),
    'pods': Res('pods', 'Pod', '', 'V1Pod', True,
                ['delete', 'get', 'list', 'watch'], ['po']),
    'jobs': Res('jobs', 'Job', 'batch', 'V1Job', True,
                ['create', 'delete', 'get', 'list', 'patch', 'watch']),
}
LIST_KIND = {r: RESOURCES[r].kind + 'List' for r in RESOURCES}

# ---------------------------------------------------------------- selectors


class Selector:
    """A label selector: equality (=, ==, !=), set (in, notin), exists."""

    def __init__(self, text):
        self.reqs = []
        text = (text or '').strip()
        if not text:
            return
        pos, n = 0, len(text)

        def fail(msg):
            raise bad_request('unable to parse requirement: %s' % msg)

        while pos < n:
            while pos < n and text[pos] == ' ':
                pos += 1
            neg = False
            if pos < n and text[pos] == '!':
                neg, pos = True, pos + 1
            m = re.compile(r'[A-Za-z0-9._/-]+').match(text, pos)
            if not m:
                fail('found %r, expected: identifier' % text[pos:pos + 1])
            key, pos = m.group(0), m.end()
            if not qualified_name_ok(key):
                fail('invalid label key "%s"' % key)
            while pos < n and text[pos] == ' ':
                pos += 1
            if neg:
                self.reqs.append((key, '!', None))
            elif pos >= n or text[pos] == ',':
                self.reqs.append((key, 'exists', None))
            else:
                m = re.compile(r'(==|=|!=|notin\b|in\b)\s*').match(text, pos)
                if not m:
                    fail('found %r, expected: in, notin, =, ==, !=, gt, lt'
                         % text[pos:])
                op, pos = m.group(1), m.end()
                if op in ('in', 'notin'):
                    if pos >= n or text[pos] != '(':
                        fail("found %r, expected: '('" % text[pos:pos + 1])
                    end = text.find(')', pos)
                    if end < 0:
                        fail("found '', expected: ')'")
                    vals = [x.strip() for x in text[pos + 1:end].split(',')]
                    vals = [x for x in vals if x != ''] if vals != [''] else []
                    for x in vals:
                        self._value(x, fail)
                    if not vals and op == 'in':
                        fail('for \'in\', \'notin\' operators, values set '
                             "can't be empty")
                    self.reqs.append((key, op, set(vals)))
                    pos = end + 1
                else:
                    m = re.compile(r'[A-Za-z0-9._-]*').match(text, pos)
                    val, pos = m.group(0), m.end()
                    self._value(val, fail)
                    self.reqs.append((key, '!=' if op == '!=' else '=', val))
            while pos < n and text[pos] == ' ':
                pos += 1
            if pos < n:
                if text[pos] != ',':
                    fail("found %r, expected: ',' or 'end of string'"
                         % text[pos:pos + 1])
                pos += 1

    @staticmethod
    def _value(v, fail):
        if len(v) > 63 or not LABEL_VALUE.match(v):
            fail('invalid label value: "%s"' % v)

    def matches(self, labels):
        labels = labels or {}
        for key, op, val in self.reqs:
            have = key in labels
            if op == 'exists' and not have:
                return False
            if op == '!' and have:
                return False
            if op == '=' and labels.get(key) != val:
                return False
            if op == '!=' and have and labels[key] == val:
                return False
            if op == 'in' and labels.get(key) not in val:
                return False
            if op == 'notin' and have and labels[key] in val:
                return False
        return True


FIELD_SELECTABLE = {
    'pods': {'spec.nodeName': lambda o: o['spec'].get('nodeName', ''),
             'status.phase': lambda o: o.get('status', {}).get('phase', '')},
    'namespaces': {'status.phase': lambda o: o.get('status', {}).get('phase', '')},
    'jobs': {'status.successful': lambda o: str(o.get('status', {}).get('succeeded', 0))},
}


class FieldSelector:
    def __init__(self, res, text):
        self.reqs = []
        for part in filter(None, (text or '').split(',')):
            m = re.match(r'^([A-Za-z.]+)(==|=|!=)(.*)$', part)
            if not m:
                raise bad_request('invalid selector: \'%s\'; can\'t '
                                  'understand \'%s\'' % (text, part))
            key, op, val = m.groups()
            get = {'metadata.name': lambda o: o['metadata']['name'],
                   'metadata.namespace': lambda o: o['metadata'].get('namespace', '')}.get(key)
            get = get or FIELD_SELECTABLE.get(res, {}).get(key)
            if not get:
                raise bad_request('"%s" is not a known field selector: only '
                                  '"metadata.name", "metadata.namespace"' % key)
            self.reqs.append((get, op == '!=', val))

    def matches(self, obj):
        return all((get(obj) == val) != neg for get, neg, val in self.reqs)

# ---------------------------------------------------------------- store


class Event:
    __slots__ = ('rv', 'res', 'ns', 'type', 'obj', 'prev')

    def __init__(self, rv, res, ns, typ, obj, prev):
        self.rv, self.res, self.ns, self.type = rv, res, ns, typ
        self.obj, self.prev = obj, prev


class Watcher:
    def __init__(self):
        self.pos = 0
        self.cut = None     # None, 'clean' or 'abrupt'


class Store:
    """Every object, one global resourceVersion, a bounded event history."""

    def __init__(self, history):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1
        self.floor = 1          # events after floor are all in history
        self.history = collections.deque()
        self.max_history = history
        self.objects = {}       # (res, ns, name) -> obj
        self.watchers = set()
        # how many times each object was created (a name made again after
        # its delete counts twice): the tests look for duplicates
        self.created = collections.Counter()

    def get(self, res, ns, name):
        with self.lock:
            o = self.objects.get((res, ns or '', name))
            return copy.deepcopy(o) if o else None

    def list(self, res, ns=None):
        with self.lock:
            out = [copy.deepcopy(o) for (r, n, _), o in sorted(self.objects.items())
                   if r == res and (ns is None or n == ns)]
            return out, self.rv

    def put(self, res, obj, typ):
        """Store obj (ADDED or MODIFIED), stamping its resourceVersion."""
        with self.lock:
            md = obj['metadata']
            key = (res, md.get('namespace', ''), md['name'])
            prev = self.objects.get(key)
            if typ == 'ADDED':
                self.created['/'.join(key)] += 1
            self.rv += 1
            md['resourceVersion'] = str(self.rv)
            stored = copy.deepcopy(obj)
            self.objects[key] = stored
            self._event(res, key[1], typ, stored, prev)
            return copy.deepcopy(stored)

    def remove(self, res, ns, name):
        with self.lock:
            key = (res, ns or '', name)
            prev = self.objects.pop(key, None)
            if prev is None:
                return None
            self.rv += 1
            gone = copy.deepcopy(prev)
            gone['metadata']['resourceVersion'] = str(self.rv)
            self._event(res, key[1], 'DELETED', gone, prev)
            return copy.deepcopy(gone)

    def _event(self, res, ns, typ, obj, prev):
        self.history.append(Event(self.rv, res, ns, typ, obj, prev))
        while len(self.history) > self.max_history:
            self.floor = self.history.popleft().rv
        self.cond.notify_all()

    def compact(self):
        """Forget the history: a watch from an older resourceVersion gets
        410 Expired.  The counter moves on (as the other writes of a live
        cluster move it); watches that are up to date are carried over."""
        with self.lock:
            caught_up = [w for w in self.watchers if w.pos >= self.rv]
            self.rv += 1
            self.floor = self.rv
            self.history.clear()
            for w in caught_up:
                w.pos = self.rv
            self.cond.notify_all()
            return self.rv

    def cut_watches(self, clean):
        with self.lock:
            for w in self.watchers:
                w.cut = 'clean' if clean else 'abrupt'
            self.cond.notify_all()
            return len(self.watchers)

# ---------------------------------------------------------------- faults


class Faults:
    KINDS = ('500', '429', 'delay', 'delay_after', 'drop', 'drop_after')

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.rand = random.Random(int(os.environ.get('KUBE_SIM_SEED', '1')))

    def add(self, spec):
        kind = str(spec.get('kind', ''))
        if kind not in self.KINDS:
            raise ValueError('kind must be one of %s' % ', '.join(self.KINDS))
        rule = {'kind': kind, 'count': spec.get('count'),
                'probability': float(spec.get('probability', 1.0)),
                'retry_after': int(spec.get('retry_after', 1)),
                'seconds': float(spec.get('seconds', 5)),
                'path': re.compile(spec['path']) if spec.get('path') else None,
                'method': spec.get('method'), 'watch': spec.get('watch')}
        if rule['count'] is None and 'probability' not in spec:
            rule['count'] = 1
        with self.lock:
            self.rules.append(rule)

    def clear(self):
        with self.lock:
            self.rules = []

    def take(self, method, path, is_watch):
        with self.lock:
            for r in self.rules:
                if r['method'] and r['method'] != method:
                    continue
                if r['path'] and not r['path'].search(path):
                    continue
                if r['watch'] is not None and bool(r['watch']) != is_watch:
                    continue
                if r['count'] is not None and r['count'] <= 0:
                    continue
                if r['probability'] < 1.0 and self.rand.random() >= r['probability']:
                    continue
                if r['count'] is not None:
                    r['count'] -= 1
                return dict(r)
        return None

    def describe(self):
        with self.lock:
            return [{k: (v.pattern if hasattr(v, 'pattern') else v)
                     for k, v in r.items()} for r in self.rules]

# ---------------------------------------------------------------- pods


def expand_refs(s, env):
    """Kubernetes' $(VAR) expansion of command, args and env values."""
    out, i, n = [], 0, len(s)
    while i < n:
        if s[i] == '$' and i + 1 < n:
            if s[i + 1] == '$':
                out.append('$')
                i += 2
                continue
            if s[i + 1] == '(':
                end = s.find(')', i + 2)
                if end > 0:
                    name = s[i + 2:end]
                    if name in env:
                        out.append(env[name])
                        i = end + 1
                        continue
        out.append(s[i])
        i += 1
    return ''.join(out)


class PodProcess:
    """The processes of one pod's containers."""

    def __init__(self):
        self.procs = []
        self.cgroups = []       # each process's memory cgroup, or None
        self.ooms = []          # of the ended: was each OOM-killed
        self.killed = False
        self.lock = threading.Lock()

    def end_cgroups(self, memory):
        """Remove the ended processes' memory cgroups into `ooms`."""
        with self.lock:
            cgroups, self.cgroups = self.cgroups, []
        self.ooms = [memory.release(cg) for cg in cgroups]

    def kill(self, grace):
        with self.lock:
            self.killed = True
            procs = list(self.procs)
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                p.wait()


def pod_suffix():
    return ''.join(random.choice('bcdfghjklmnpqrstvwxz2456789') for _ in range(5))


class JobRunner(threading.Thread):
    """The Job controller and the kubelet for one Job."""

    def __init__(self, sim, ns, name, uid):
        super().__init__(daemon=True, name='job-%s-%s' % (ns, name))
        self.sim, self.ns, self.name, self.uid = sim, ns, name, uid
        self.stop = threading.Event()
        self.orphaned = False
        self.pod_name = None
        self.sources = {}       # the pod's volumes (Sim.pod_volumes)

    # Job status, written as the controller writes it.
    def update(self, fn):
        with self.sim.store.lock:
            job = self.sim.store.get('jobs', self.ns, self.name)
            if not job or job['metadata']['uid'] != self.uid or self.orphaned:
                return False
            if job['metadata'].get('deletionTimestamp'):
                return False
            fn(job['status'])
            self.sim.store.put('jobs', job, 'MODIFIED')
            return True

    def update_pod(self, pod_name, fn):
        with self.sim.store.lock:
            pod = self.sim.store.get('pods', self.ns, pod_name)
            if not pod or pod['metadata'].get('deletionTimestamp'):
                return None
            fn(pod)
            return self.sim.store.put('pods', pod, 'MODIFIED')

    def run(self):
        try:
            self._run()
        except Exception:
            traceback.print_exc()

    def _run(self):
        job = self.sim.store.get('jobs', self.ns, self.name)
        if not job:
            return
        spec = job['spec']
        if spec.get('suspend'):
            return
        started = time.time()
        deadline = spec.get('activeDeadlineSeconds')
        deadline_at = started + deadline if deadline is not None else None
        backoff = spec.get('backoffLimit', 6)
        completions = spec.get('completions', 1) or 0
        succeeded = failed = 0
        first = True
        outcome = None
        while succeeded < completions and not self.orphaned:
            pod_name = self.create_pod(job)
            t = now_iso()

            def start(st, first=first, t=t):
                if first:
                    st['startTime'] = t
                st['active'] = 1
                st['ready'] = 0
                st.setdefault('uncountedTerminatedPods', {})
            if not self.update(start):
                if not self.orphaned:
                    self.sim.delete_pod(self.ns, pod_name, 0)
                return
            first = False
            result = self.run_pod(job, pod_name, deadline_at)
            if result == 'stopped':
                return
            if result == 'succeeded':
                succeeded += 1
                if succeeded >= completions:
                    break

                def ok(st):
                    st['active'] = 0
                    st['ready'] = 0
                    st['succeeded'] = succeeded
                self.update(ok)
                continue
            failed += 1 if result in ('failed', 'deadline') else 0
            if result == 'deadline':
                outcome = ('DeadlineExceeded',
                           'Job was active longer than specified deadline')
                break
            if failed > backoff:
                outcome = ('BackoffLimitExceeded',
                           'Job has reached the specified backoff limit')
                break

            def fail_one(st):
                st['active'] = 0
                st['ready'] = 0
                st['failed'] = failed
            self.update(fail_one)
            if self.stop.wait(self.sim.args.pod_backoff):
                return
        if self.stop.is_set() or self.orphaned:
            return
        if outcome is None and succeeded >= completions:
            # SuccessCriteriaMet first, Complete once the pods are final.
            t = now_iso()

            def met(st):
                st['active'] = 0
                st['ready'] = 0
                st['succeeded'] = succeeded
                st.setdefault('conditions', []).append(cond(
                    'SuccessCriteriaMet', 'CompletionsReached',
                    'Reached expected number of succeeded pods', t))
            self.update(met)
            time.sleep(self.sim.args.condition_gap)

            def complete(st):
                st['completionTime'] = now_iso()
                st['conditions'].append(cond(
                    'Complete', 'CompletionsReached',
                    'Reached expected number of succeeded pods', now_iso()))
            self.update(complete)
        elif outcome is not None:
            reason, message = outcome
            t = now_iso()

            def target(st):
                st['active'] = 0
                st['ready'] = 0
                st['failed'] = failed
                st.setdefault('conditions', []).append(
                    cond('FailureTarget', reason, message, t))
            self.update(target)
            time.sleep(self.sim.args.condition_gap)

            def failed_(st):
                st['conditions'].append(
                    cond('Failed', reason, message, now_iso()))
            self.update(failed_)
        else:
            return
        ttl = spec.get('ttlSecondsAfterFinished')
        if ttl is not None and not self.stop.wait(ttl):
            # The TTL-after-finished controller deletes in the foreground.
            self.sim.delete_job(self.ns, self.name, 'Foreground',
                                uid=self.uid)

    def create_pod(self, job):
        tmpl = job['spec']['template']
        name = '%s-%s' % (self.name, pod_suffix())
        meta = copy.deepcopy(tmpl.get('metadata') or {})
        meta.update({'name': name, 'namespace': self.ns,
                     'uid': str(uuid4()), 'creationTimestamp': now_iso(),
                     'generateName': self.name + '-',
                     'ownerReferences': [{
                         'apiVersion': 'batch/v1', 'kind': 'Job',
                         'name': self.name, 'uid': self.uid,
                         'controller': True, 'blockOwnerDeletion': True}],
                     'finalizers': ['batch.kubernetes.io/job-tracking']})
        meta.pop('resourceVersion', None)
        pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': meta,
               'spec': copy.deepcopy(tmpl['spec']),
               'status': {'phase': 'Pending', 'qosClass': 'BestEffort'}}
        self.sim.store.put('pods', pod, 'ADDED')
        self.pod_name = name
        return name

    def blocker(self, pod):
        """Why the pod cannot start yet: (condition, waiting reason, msg)."""
        spec = pod['spec']
        node_name = spec.get('nodeName')
        if node_name:
            node = self.sim.store.get('nodes', '', node_name)
            if not node:
                return ('NodeNotFound', None,
                        'node "%s" not found' % node_name)
            if not node_ready(node):
                return ('NodeNotReady', None,
                        'node "%s" is not ready' % node_name)
        else:
            nodes, _ = self.sim.store.list('nodes')
            ready = [n for n in nodes if node_ready(n)
                     and not n['spec'].get('unschedulable')]
            if not ready:
                return ('Unschedulable', None, '0/%d nodes are available'
                        % len(nodes))
        try:
            # kept for start_containers once nothing holds the pod
            self.sources = self.sim.pod_volumes(pod)
        except Held as e:
            return (None, 'ContainerCreating', str(e))
        except OSError as e:
            return (None, 'ContainerCreating', 'MountVolume.SetUp failed: %s'
                    % e)
        for c in spec['containers']:
            if c.get('image', '').endswith(':pull-error'):
                return (None, 'ErrImagePull', 'failed to pull and unpack '
                        'image "%s": not found' % c['image'])
            for e in c.get('env') or []:
                vf = e.get('valueFrom') or {}
                for ref in ('secretKeyRef', 'configMapKeyRef'):
                    if vf.get(ref) and not vf[ref].get('optional'):
                        return (None, 'CreateContainerConfigError',
                                '%s "%s" not found' % (
                                    'secret' if ref == 'secretKeyRef'
                                    else 'configmap', vf[ref].get('name')))
            why = non_root_breach(pod, c)
            if why:
                return (None, 'CreateContainerConfigError', why)
            drop, add = run_as(pod, c)[3]
            for cap in drop + add:
                if cap != 'all' and cap not in CAPS:
                    return (None, 'CreateContainerError', 'failed to '
                            'generate container spec: unknown capability '
                            '"CAP_%s"' % cap.upper())
        return None

    def run_pod(self, job, pod_name, deadline_at):
        pod = self.sim.store.get('pods', self.ns, pod_name)
        shown = None
        pull_fail_since = None
        while True:
            if self.stop.is_set():
                return 'stopped'
            if deadline_at is not None and time.time() >= deadline_at:
                self.sim.delete_pod(self.ns, pod_name, 0)
                return 'deadline'
            pod = self.sim.store.get('pods', self.ns, pod_name)
            if pod is None:
                return 'failed'     # deleted behind the controller's back
            why = self.blocker(pod)
            if why is None:
                break
            cond_reason, wait_reason, msg = why
            if wait_reason == 'ErrImagePull':
                pull_fail_since = pull_fail_since or time.time()
                if time.time() - pull_fail_since > 1.0:
                    wait_reason = 'ImagePullBackOff'
                    msg = 'Back-off pulling image "%s"' % pod['spec'][
                        'containers'][0]['image']
            if (cond_reason, wait_reason, msg) != shown:
                shown = (cond_reason, wait_reason, msg)
                self.update_pod(pod_name, lambda p: set_pending(
                    p, cond_reason, wait_reason, msg))
            with self.sim.store.lock:
                self.sim.held_checks['%s/%s' % (self.ns, pod_name)] += 1
            time.sleep(0.1)
        node_name = pod['spec'].get('nodeName') or self.pick_node()
        proc = PodProcess()
        self.sim.register_pod(self.ns, pod_name, proc)
        try:
            started = now_iso()
            restart_policy = pod['spec'].get('restartPolicy')
            restarts = 0
            while True:
                codes = self.start_containers(pod, node_name, proc)
                if codes is None:
                    return 'stopped'
                ready_at = now_iso()

                def running(p, restarts=restarts):
                    p['spec']['nodeName'] = node_name
                    p['status'] = {
                        'phase': 'Running', 'startTime': started,
                        'hostIP': '127.0.0.1', 'podIP': '127.0.0.1',
                        'qosClass': p['status'].get('qosClass', 'BestEffort'),
                        'conditions': pod_conditions(True, ready_at),
                        'containerStatuses': [{
                            'name': c['name'], 'image': c['image'],
                            'imageID': '', 'ready': True, 'started': True,
                            'restartCount': restarts,
                            'state': {'running': {'startedAt': ready_at}}}
                            for c in p['spec']['containers']]}
                self.update_pod(pod_name, running)
                self.update(lambda st: st.__setitem__('ready', 1))
                result = self.wait_containers(proc, deadline_at)
                if result in ('stopped', 'deadline'):
                    return result
                codes = result
                failed = any(c != 0 for c in codes)
                if failed and restart_policy == 'OnFailure' and \
                        restarts < job['spec'].get('backoffLimit', 6):
                    restarts += 1
                    continue
                break
            finished = now_iso()
            ooms = proc.ooms + [False] * (len(codes) - len(proc.ooms))

            def terminated(p):
                p['status']['phase'] = 'Failed' if failed else 'Succeeded'
                p['status']['conditions'] = pod_conditions(False, finished)
                p['metadata']['finalizers'] = []
                for cs, code, oom in zip(p['status']['containerStatuses'],
                                         codes, ooms):
                    cs['ready'] = False
                    cs['started'] = False
                    cs['state'] = {'terminated': {
                        'exitCode': code,
                        'reason': 'OOMKilled' if oom else
                        'Completed' if code == 0 else 'Error',
                        'startedAt': ready_at, 'finishedAt': finished}}
            self.update_pod(pod_name, terminated)
            return 'failed' if failed else 'succeeded'
        finally:
            proc.end_cgroups(self.sim.memory)
            self.sim.unregister_pod(self.ns, pod_name, proc)

    def pick_node(self):
        nodes, _ = self.sim.store.list('nodes')
        ready = [n for n in nodes if node_ready(n)]
        return ready[0]['metadata']['name'] if ready else ''

    def start_containers(self, pod, node_name, proc):
        md = pod['metadata']
        with proc.lock:
            if proc.killed or self.stop.is_set():
                return None
            for c in pod['spec']['containers']:
                env = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:'
                       '/usr/bin:/sbin:/bin', 'HOSTNAME': md['name'],
                       'HOME': home_of(run_as(pod, c)[0]),
                       'KUBERNETES_SERVICE_HOST': '127.0.0.1',
                       'KUBERNETES_SERVICE_PORT': str(self.sim.port)}
                for e in c.get('env') or []:
                    if 'valueFrom' in e and e['valueFrom']:
                        fr = (e['valueFrom'].get('fieldRef') or {}).get('fieldPath')
                        val = {'metadata.name': md['name'],
                               'metadata.namespace': md['namespace'],
                               'metadata.uid': md['uid'],
                               'spec.nodeName': node_name,
                               'status.podIP': '127.0.0.1',
                               'status.hostIP': '127.0.0.1'}.get(fr, '')
                    else:
                        val = expand_refs(e.get('value') or '', env)
                    env[e['name']] = val
                argv = [expand_refs(a, env) for a in
                        (c.get('command') or []) + (c.get('args') or [])]
                log = self.sim.log_path(self.ns, md['name'], c['name'])
                with open(log, 'ab') as out:
                    try:
                        if not c.get('command'):
                            raise OSError('the simulator runs no image '
                                          'entrypoint: the container needs a '
                                          'command')
                        try:
                            mounts = container_mounts(c, self.sources, env)
                        except OSError as e:
                            raise StartError(START_ERROR + str(e))
                        cgroup = self.memory_cgroup(c)
                        root = PodRoot(self.sim.rootfs, mounts,
                                       c.get('workingDir'), argv[0],
                                       env['PATH'], cgroup)
                        argv = confine(pod, c) + argv
                        try:
                            p = subprocess.Popen(argv, env=env,
                                                 stdin=subprocess.DEVNULL,
                                                 stdout=out, stderr=out,
                                                 start_new_session=True,
                                                 preexec_fn=root)
                        except OSError:
                            self.sim.memory.release(cgroup)
                            raise
                    except OSError as e:
                        out.write(('%s\n' % e if isinstance(e, StartError)
                                   else 'exec failed: %s\n' % e).encode())
                        p = subprocess.Popen(['/bin/sh', '-c', 'exit 128'],
                                             start_new_session=True)
                        cgroup = None
                proc.procs.append(p)
                proc.cgroups.append(cgroup)
        return True

    def memory_cgroup(self, c):
        """The memory cgroup of container `c` if it has a memory limit and
        limits are enforced here (MemoryCgroups), else None."""
        limit = ((c.get('resources') or {}).get('limits') or {}).get('memory')
        if limit is None or self.sim.memory.version is None:
            return None
        try:
            return self.sim.memory.make(parse_quantity(limit))
        except OSError as e:
            raise StartError(START_ERROR + 'memory cgroup: %s' % e)

    def wait_containers(self, proc, deadline_at):
        while True:
            codes = [p.poll() for p in proc.procs]
            if all(c is not None for c in codes):
                proc.end_cgroups(self.sim.memory)
                if proc.killed:
                    return 'stopped'
                proc.procs = []
                return [c if c >= 0 else 128 - c for c in codes]
            # A deleted Job's pods are killed by the garbage collector
            # (delete_pod), which marks proc killed: keep waiting for that.
            if deadline_at is not None and time.time() >= deadline_at \
                    and not self.orphaned:
                self.sim.delete_pod(self.ns, self.pod_name, 0)
                return 'deadline'
            wait = 1.0
            if deadline_at is not None:
                wait = max(0.0, min(wait, deadline_at - time.time()))
            wait_exit([p for p, c in zip(proc.procs, codes) if c is None], wait)


# The capabilities a container runtime (containerd, CRI-O) gives a
# container that is not privileged; the others are dropped.
DEFAULT_CAPS = ('chown', 'dac_override', 'fsetid', 'fowner', 'mknod',
                'net_raw', 'setgid', 'setuid', 'setfcap', 'setpcap',
                'net_bind_service', 'sys_chroot', 'kill', 'audit_write')
CAPS = ('chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid',
        'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable',
        'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw',
        'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot',
        'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
        'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease',
        'audit_write', 'audit_control', 'setfcap', 'mac_override',
        'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read',
        'perfmon', 'bpf', 'checkpoint_restore')


def cap_name(cap):
    """A capability of a securityContext ("NET_ADMIN", "CAP_NET_ADMIN")
    as setpriv names it ("net_admin")."""
    cap = cap.lower()
    return cap[4:] if cap.startswith('cap_') else cap


def effective_sc(pod, c):
    """DetermineEffectiveSecurityContext: the container's fields win over
    the pod's."""
    sc = {}
    psc = pod['spec'].get('securityContext') or {}
    for k in ('runAsUser', 'runAsGroup', 'runAsNonRoot'):
        if psc.get(k) is not None:
            sc[k] = psc[k]
    for k, v in (c.get('securityContext') or {}).items():
        if v is not None:
            sc[k] = v
    return sc


def non_root_breach(pod, c):
    """The kubelet's verifyRunAsNonRoot: why this container may not
    start, or None.  The simulator has no images: every image's user is
    root, as debian:12's is."""
    sc = effective_sc(pod, c)
    if not sc.get('runAsNonRoot'):
        return None
    md = pod['metadata']
    where = '(pod: "%s_%s(%s)", container: %s)' % (
        md['name'], md['namespace'], md['uid'], c['name'])
    if sc.get('runAsUser') is not None:
        if sc['runAsUser'] == 0:
            return "container's runAsUser breaks non-root policy " + where
        return None
    return 'container has runAsNonRoot and image will run as root ' + where


def run_as(pod, c):
    """(uid, gid, supplementary groups, (capabilities dropped, added),
    no_new_privs) a container runtime gives the container.  With no
    runAsUser it runs as the image's user, root; with no runAsGroup as
    its primary group in the image's /etc/passwd, which here knows only
    root: 0."""
    sc = effective_sc(pod, c)
    psc = pod['spec'].get('securityContext') or {}
    uid = sc.get('runAsUser')
    gid = sc.get('runAsGroup')
    groups = list(psc.get('supplementalGroups') or [])
    if psc.get('fsGroup') is not None:
        groups.append(psc['fsGroup'])
    caps = sc.get('capabilities') or {}
    drop = [cap_name(x) for x in caps.get('drop') or []]
    add = [cap_name(x) for x in caps.get('add') or []]
    nnp = sc.get('allowPrivilegeEscalation') is False
    return (0 if uid is None else uid, 0 if gid is None else gid, groups,
            (drop, add), nnp)


def confine(pod, c):
    """The argv prefix (setpriv) that runs a container's command as a
    runtime would: as its uid and gid, with only its groups, the
    capability bounding set of its securityContext (all of them when
    privileged) and no_new_privs when allowPrivilegeEscalation is false.
    A non-root uid starts with no capabilities; root with the bounding
    set's."""
    uid, gid, groups, (drop, add), nnp = run_as(pod, c)
    argv = ['setpriv', '--reuid=%d' % uid, '--regid=%d' % gid]
    if groups:
        argv.append('--groups=' + ','.join(str(g) for g in groups))
    else:
        argv.append('--clear-groups')
    if not effective_sc(pod, c).get('privileged'):
        keep = [x for x in CAPS if x in DEFAULT_CAPS or x in add or
                'all' in add]
        keep = [x for x in keep if x not in drop and 'all' not in drop or
                x in add]
        argv.append('--bounding-set=' + ','.join(
            ['-all'] + ['+' + x for x in keep]))
        argv.append('--inh-caps=-all')
    if nnp:
        argv.append('--no-new-privs')
    return argv + ['--']


def executable(name, path):
    """Whether the container could exec `name` (a path, or a command
    found in $PATH), asked inside its root (PodRoot.enter)."""
    if '/' in name:
        return os.path.isfile(name) and os.access(name, os.X_OK)
    return shutil.which(name, path=path) is not None

# ---------------------------------------------------------------- pod roots
# Each container runs in a mount namespace of its own whose root holds only
# what the docstring lists.  The child process makes it between fork and
# exec (subprocess's preexec_fn), with the system calls themselves through
# ctypes rather than unshare(1) and mount(8): a pod's start costs one fork
# and a dozen mount calls, where a shell running mount(8) for each of them
# would fork and exec a dozen programs a pod (the benches start hundreds).
# preexec_fn is unsafe in a threaded program only when the child takes a
# lock that another thread held at the fork; PodRoot.enter takes none (no
# logging, no import, no Python file object): system calls on a libc loaded
# here, and os.write for its one message.

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                       ctypes.c_ulong, ctypes.c_char_p)
LIBC.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
LIBC.unshare.argtypes = (ctypes.c_int,)
LIBC.syscall.restype = ctypes.c_long
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
CLONE_NEWNS = 0x20000
# pivot_root(2) has no libc wrapper: its number, by machine.
SYS_PIVOT_ROOT = {'x86_64': 155, 'aarch64': 41, 'riscv64': 41}.get(
    os.uname().machine)
# The image: the host's system directories, read-only (a symbolic link,
# as /bin -> usr/bin, is made again as a link).
SYSTEM_DIRS = ('/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/etc')
DEVICES = ('null', 'zero', 'full', 'random', 'urandom', 'tty')
# what a failed start writes in the container's log (runc's words)
START_ERROR = ('runc create failed: unable to start container process: '
               'error during container init: ')


def sys_ok(ret, what):
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, '%s: %s' % (what, os.strerror(e)))


def fs_bytes(s):
    return None if s is None else os.fsencode(s)


def mount(src, dst, fstype, flags, data=None):
    sys_ok(LIBC.mount(fs_bytes(src), fs_bytes(dst), fs_bytes(fstype), flags,
                      fs_bytes(data)), 'mount %s on %s' % (src, dst))


def bind(src, dst, readonly):
    mount(src, dst, None, MS_BIND | MS_REC)
    if readonly:
        mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


class PodRoot:
    """A container's file system and working directory, made in its
    process between fork and exec (the preexec_fn of subprocess.Popen):
    a new mount namespace, private, whose root is a fresh tmpfs mounted on
    `rootfs` (one empty directory serves every pod: each mounts its own
    tmpfs there, in its own namespace) and pivoted to; the volumes bound
    at their mountPaths, parents first; then, as runc does, the working
    directory made if it is missing (MkdirAll(cwd, 0755), as root, in the
    container's root) and entered.  First of all, the process joins its
    memory cgroup, if it has one (MemoryCgroups).  A failure is written to
    the container's log and its exit status is 128, as a runtime's start
    error; so is a command not found in the container's root."""

    def __init__(self, rootfs, mounts, workdir, argv0, path, cgroup=None):
        self.rootfs = rootfs
        self.mounts = mounts    # [(host path, mountPath, readOnly)], sorted
        self.workdir = workdir or '/'
        self.argv0, self.path = argv0, path
        self.cgroup = cgroup

    def __call__(self):
        try:
            if self.cgroup:
                cgroup_write(self.cgroup, 'cgroup.procs', os.getpid())
            self.enter()
            if not executable(self.argv0, self.path):
                os.write(2, ('exec failed: exec: "%s": executable file not '
                             'found in $PATH\n' % self.argv0).encode())
                os._exit(128)
        except BaseException as e:
            if isinstance(e, OSError) and e.strerror:
                e = ('%s: %s' % (e.filename, e.strerror) if e.filename
                     else e.strerror)
            os.write(2, ('%s%s\n' % (START_ERROR, e)).encode())
            os._exit(128)

    def enter(self):
        r = self.rootfs
        os.umask(0o022)
        sys_ok(LIBC.unshare(CLONE_NEWNS), 'unshare(CLONE_NEWNS)')
        mount(None, '/', None, MS_REC | MS_PRIVATE)
        mount('tmpfs', r, 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=755')
        # The volumes by the host's paths, opened here, bound after the
        # pivot through /proc/self/fd: their mountPaths then resolve in
        # the container's root, never through a link to the host's.
        srcs = [(os.open(src, os.O_PATH | os.O_CLOEXEC), dst, ro)
                for src, dst, ro in self.mounts]
        for d in SYSTEM_DIRS:
            if os.path.islink(d):
                os.symlink(os.readlink(d), r + d)
            elif os.path.isdir(d):
                os.mkdir(r + d)
                bind(d, r + d, True)
        os.mkdir(r + '/proc')
        mount('proc', r + '/proc', 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC)
        dev = r + '/dev'
        os.mkdir(dev)
        mount('tmpfs', dev, 'tmpfs', MS_NOSUID | MS_NOEXEC, 'mode=755')
        for name in DEVICES:
            if os.path.exists('/dev/' + name):
                os.close(os.open(dev + '/' + name, os.O_CREAT | os.O_WRONLY,
                                 0o666))
                bind('/dev/' + name, dev + '/' + name, False)
        os.mkdir(dev + '/shm')
        mount('shm', dev + '/shm', 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC,
              'mode=1777')
        for name, target in (('fd', '/proc/self/fd'),
                             ('stdin', '/proc/self/fd/0'),
                             ('stdout', '/proc/self/fd/1'),
                             ('stderr', '/proc/self/fd/2')):
            os.symlink(target, dev + '/' + name)
        os.mkdir(r + '/tmp')
        mount('tmpfs', r + '/tmp', 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777')
        os.mkdir(r + '/.old-root')
        sys_ok(LIBC.syscall(ctypes.c_long(SYS_PIVOT_ROOT), fs_bytes(r),
                            fs_bytes(r + '/.old-root')), 'pivot_root')
        os.chdir('/')
        for fd, dst, ro in srcs:
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.makedirs(dst, 0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(dst), 0o755, exist_ok=True)
                os.close(os.open(dst, os.O_CREAT | os.O_WRONLY, 0o644))
            bind('/proc/self/fd/%d' % fd, dst, ro)
            os.close(fd)
        sys_ok(LIBC.umount2(b'/.old-root', MNT_DETACH), 'umount /.old-root')
        os.rmdir('/.old-root')
        os.makedirs(self.workdir, 0o755, exist_ok=True)
        os.chdir(self.workdir)


def check_pod_roots(rootfs):
    """None if pods can have roots of their own here (root, mount
    namespaces, pivot_root), else why not.  A pod tried: it must not see
    `rootfs` (which is on the host)."""
    if SYS_PIVOT_ROOT is None:
        return 'no pivot_root(2) known on %s' % os.uname().machine
    sh = shutil.which('sh', path='/usr/bin:/bin')
    if not sh:
        return 'no sh in /usr/bin or /bin'
    try:
        p = subprocess.Popen([sh, '-c', 'test ! -e "$1"', 'sh', rootfs],
                             preexec_fn=PodRoot(rootfs, [], '/', sh, ''),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env={})
        out, _ = p.communicate(timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return str(e)
    if p.returncode != 0:
        return out.decode(errors='replace').strip().replace(
            START_ERROR, '') or 'a pod saw the host\'s %s' % rootfs
    return None


def wait_exit(procs, timeout):
    """Sleep until one of procs exits or timeout passes (pidfd: no
    polling; a process's end is seen at once)."""
    fds = []
    try:
        for p in procs:
            try:
                fds.append(os.pidfd_open(p.pid))
            except (AttributeError, OSError):
                time.sleep(min(timeout, 0.05))
                return
        if fds:
            select.select(fds, [], [], timeout)
    finally:
        for fd in fds:
            os.close(fd)


# ---------------------------------------------------------------- memory
# A container's resources.limits.memory is enforced as runc enforces it for
# the kubelet: the container's processes in a memory cgroup of their own
# with that limit and no swap beyond it, and on cgroup v2 memory.oom.group
# set (the kubelet's default since 1.28: the kernel kills the container
# whole).  The container's process joins its cgroup between fork and exec
# (PodRoot), before it can allocate anything; once its processes ended, the
# cgroup's count of OOM kills says whether the kernel killed one of them at
# the limit (the kubelet's reason "OOMKilled"), and the cgroup is removed,
# with any process of the container still in it killed first, as a runtime
# kills what is left of a container whose first process ended.


def cgroup_read(path, name):
    with open(os.path.join(path, name)) as f:
        return f.read()


def cgroup_write(path, name, value):
    fd = os.open(os.path.join(path, name), os.O_WRONLY)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def cgroup_count(path, name, key):
    """The number of `key` in a flat keyed file (memory.events,
    memory.oom_control); 0 when it has none."""
    try:
        for line in cgroup_read(path, name).splitlines():
            k, _, v = line.partition(' ')
            if k == key:
                return int(v)
    except (OSError, ValueError):
        pass
    return 0


def cgroup_mounts():
    """[(fstype, mount root, mount point, super options)] of the cgroup
    file systems mounted here, from /proc/self/mountinfo."""
    out = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            left, _, right = line.partition(' - ')
            a, b = left.split(), right.split()
            if len(a) >= 5 and len(b) >= 3 and b[0] in ('cgroup', 'cgroup2'):
                out.append((b[0], a[3], a[4], b[2].split(',')))
    return out


def own_cgroup(controller):
    """This process's cgroup path in the v1 hierarchy of `controller`,
    or in the v2 one (controller None)."""
    with open('/proc/self/cgroup') as f:
        for line in f:
            num, ctrls, path = line.rstrip('\n').split(':', 2)
            if controller is None and num == '0' and not ctrls:
                return path
            if controller is not None and controller in ctrls.split(','):
                return path
    return None


def cgroup_dir(mount_point, mount_root, path):
    if mount_root != '/' and path.startswith(mount_root):
        path = path[len(mount_root):]
    return os.path.normpath(mount_point + '/' + path)


class MemoryCgroups:
    """The memory cgroups of the containers, made under the simulator's own
    cgroup: cgroup v2 where a cgroup2 mount gives that cgroup the memory
    controller and lets it be written (delegated), else the memory
    hierarchy of cgroup v1.  When neither serves, `why` says why, and
    limits are not enforced (the simulator says so on stderr, once)."""

    def __init__(self):
        self.version = self.base = self.why = None
        self.leaf = None        # v2: where the simulator moved itself
        self.made = set()       # the containers' cgroups not removed yet
        self.n = 0
        self.lock = threading.Lock()
        whys = []
        for version, find in ((2, self.find_v2), (1, self.find_v1)):
            try:
                self.base = find()
                self.version = version
                self.release(self.make(64 << 20))      # one tried
                return
            except OSError as e:
                whys.append('cgroup v%d: %s' % (version, e.strerror or e))
                self.version = self.base = None
        self.why = '; '.join(whys)

    def find_v2(self):
        mounts = [m for m in cgroup_mounts() if m[0] == 'cgroup2']
        path = own_cgroup(None)
        if not mounts or path is None:
            raise OSError(0, 'no cgroup2 mount')
        base = cgroup_dir(mounts[0][2], mounts[0][1], path)
        if 'memory' not in cgroup_read(base, 'cgroup.controllers').split():
            raise OSError(0, 'no memory controller in %s/cgroup.controllers'
                          % base)
        if 'memory' in cgroup_read(base, 'cgroup.subtree_control').split():
            return base
        # The no-internal-process rule: a cgroup that holds processes
        # gives no controller to its children (but the root).  The
        # simulator, alone in its cgroup, moves to a leaf of its own.
        try:
            cgroup_write(base, 'cgroup.subtree_control', '+memory')
            return base
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
        others = set(cgroup_read(base, 'cgroup.procs').split()) - {
            str(os.getpid())}
        if others:
            raise OSError(0, '%s holds other processes than the simulator '
                          '(pids %s): no memory controller for its children'
                          % (base, ' '.join(sorted(others))))
        self.leaf = os.path.join(base, 'kube-sim-%d' % os.getpid())
        os.makedirs(self.leaf, exist_ok=True)
        cgroup_write(self.leaf, 'cgroup.procs', os.getpid())
        cgroup_write(base, 'cgroup.subtree_control', '+memory')
        return base

    def find_v1(self):
        mounts = [m for m in cgroup_mounts()
                  if m[0] == 'cgroup' and 'memory' in m[3]]
        path = own_cgroup('memory')
        if not mounts or path is None:
            raise OSError(0, 'no memory hierarchy mounted')
        base = cgroup_dir(mounts[0][2], mounts[0][1], path)
        cgroup_read(base, 'memory.limit_in_bytes')
        return base

    def describe(self):
        if self.version is None:
            return {'enforced': False, 'why': self.why}
        with self.lock:
            return {'enforced': True, 'cgroup': 'v%d' % self.version,
                    'base': self.base, 'containers': len(self.made)}

    def make(self, limit):
        """A new cgroup limited to `limit` bytes (a Fraction: rounded up,
        as Quantity.Value() rounds); its path."""
        limit = -(-limit // 1)
        with self.lock:
            self.n += 1
            path = os.path.join(self.base, 'kube-sim-%d-%d' % (os.getpid(),
                                                              self.n))
        os.mkdir(path)
        try:
            if self.version == 2:
                cgroup_write(path, 'memory.max', limit)
                if os.path.exists(os.path.join(path, 'memory.swap.max')):
                    cgroup_write(path, 'memory.swap.max', 0)
                cgroup_write(path, 'memory.oom.group', 1)
            else:
                cgroup_write(path, 'memory.limit_in_bytes', limit)
                if os.path.exists(os.path.join(path,
                                               'memory.memsw.limit_in_bytes')):
                    cgroup_write(path, 'memory.memsw.limit_in_bytes', limit)
        except OSError:
            os.rmdir(path)
            raise
        with self.lock:
            self.made.add(path)
        return path

    def release(self, path):
        """Whether the kernel OOM-killed a process of cgroup `path`; the
        cgroup removed, what is left in it killed first."""
        if path is None:
            return False
        if self.version == 2:
            oom = cgroup_count(path, 'memory.events', 'oom_kill') > 0
        else:
            oom = cgroup_count(path, 'memory.oom_control', 'oom_kill') > 0
        deadline = time.monotonic() + 5
        while True:
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno != errno.EBUSY or time.monotonic() > deadline:
                    sys.stderr.write('kube-sim: cannot remove cgroup %s: %s\n'
                                     % (path, e.strerror))
                    break
            try:
                for pid in cgroup_read(path, 'cgroup.procs').split():
                    os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        with self.lock:
            self.made.discard(path)
        return oom

    def close(self):
        """Remove every cgroup made, and the simulator's leaf (v2)."""
        with self.lock:
            made = list(self.made)
        for path in made:
            self.release(path)
        if self.leaf:
            try:
                cgroup_write(self.base, 'cgroup.subtree_control', '-memory')
                cgroup_write(self.base, 'cgroup.procs', os.getpid())
                os.rmdir(self.leaf)
            except OSError:
                pass


class StartError(OSError):
    """A container the runtime could not start: its message."""


class Held(Exception):
    """Why the kubelet cannot start a pod's containers yet: its message."""


def make_dir(path, mode):
    """A directory made as a provisioner (or the kubelet, for emptyDir)
    makes one: `mode` whatever the umask."""
    if not os.path.isdir(path):
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)


# hostPath types: the test of the file's mode and the kubelet's name for it
HOST_PATH_TYPES = {
    'Directory': (stat.S_ISDIR, 'directory'),
    'DirectoryOrCreate': (stat.S_ISDIR, 'directory'),
    'File': (stat.S_ISREG, 'file'), 'FileOrCreate': (stat.S_ISREG, 'file'),
    'Socket': (stat.S_ISSOCK, 'socket file'),
    'CharDevice': (stat.S_ISCHR, 'character device'),
    'BlockDevice': (stat.S_ISBLK, 'block device')}


def host_path(vol, hp):
    """The kubelet's checkType for a hostPath of volume `vol`, which
    makes what DirectoryOrCreate and FileOrCreate ask for (0755, 0644);
    with no type, containerd makes a missing path a directory (0755)."""
    path, typ = hp.get('path') or '', hp.get('type') or ''
    try:
        if not os.path.exists(path):
            if typ in ('', 'DirectoryOrCreate'):
                os.makedirs(path, 0o755, exist_ok=True)
            elif typ == 'FileOrCreate':
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
        if typ in HOST_PATH_TYPES:
            test, what = HOST_PATH_TYPES[typ]
            if not os.path.exists(path) or not test(os.stat(path).st_mode):
                raise Held('MountVolume.SetUp failed for volume "%s" : '
                           'hostPath type check failed: %s is not a %s'
                           % (vol, path, what))
    except OSError as e:
        raise Held('MountVolume.SetUp failed for volume "%s" : %s'
                   % (vol, e))
    return path


def container_mounts(c, sources, env):
    """[(host path, mountPath, read-only)] of a container's volumeMounts,
    parents first.  A subPath missing in its volume is made as the
    kubelet makes it: a directory with the mode of the volume's root."""
    out = []
    for vm in c.get('volumeMounts') or []:
        src, ro = sources[vm['name']]
        sub = vm.get('subPath') or expand_refs(vm.get('subPathExpr') or '',
                                                env)
        if sub:
            path = os.path.join(src, sub)
            if not os.path.exists(path):
                os.makedirs(path, exist_ok=True)
                os.chmod(path, stat.S_IMODE(os.stat(src).st_mode))
            real = os.path.realpath(path)
            if os.path.commonpath([real, os.path.realpath(src)]) != \
                    os.path.realpath(src):
                # as the kubelet: a link may not lead out of the volume
                raise OSError('subPath "%s" is outside of volume "%s"'
                              % (sub, vm['name']))
            src = path
        dst = os.path.normpath(os.path.join('/', vm['mountPath']))
        out.append((src, dst, ro or bool(vm.get('readOnly'))))
    return sorted(out, key=lambda m: m[1])


def home_of(uid):
    """HOME as a runtime sets it: the user's in the image's /etc/passwd
    (here the host's, the image's stand-in), else /."""
    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return '/'


def cond(typ, reason, message, t):
    return {'type': typ, 'status': 'True', 'lastProbeTime': t,
            'lastTransitionTime': t, 'reason': reason, 'message': message}


def pod_conditions(ready, t):
    s = 'True' if ready else 'False'
    return [{'type': 'PodReadyToStartContainers', 'status': s, 'lastProbeTime': None, 'lastTransitionTime': t},
            {'type': 'Initialized', 'status': 'True', 'lastProbeTime': None, 'lastTransitionTime': t},
            {'type': 'Ready', 'status': s, 'lastProbeTime': None, 'lastTransitionTime': t},
            {'type': 'ContainersReady', 'status': s, 'lastProbeTime': None, 'lastTransitionTime': t},
            {'type': 'PodScheduled', 'status': 'True', 'lastProbeTime': None, 'lastTransitionTime': t}]


def set_pending(pod, cond_reason, wait_reason, msg):
    st = pod['status']
    st['phase'] = 'Pending'
    t = now_iso()
    if cond_reason:
        st['conditions'] = [{'type': 'PodScheduled', 'status': 'False',
                             'lastProbeTime': None, 'lastTransitionTime': t,
                             'reason': cond_reason, 'message': msg}]
        st.pop('containerStatuses', None)
    else:
        st['conditions'] = [{'type': 'PodScheduled', 'status': 'True',
                             'lastProbeTime': None, 'lastTransitionTime': t}]
        st['containerStatuses'] = [{
            'name': c['name'], 'image': c['image'], 'imageID': '',
            'ready': False, 'started': False, 'restartCount': 0,
            'state': {'waiting': {'reason': wait_reason, 'message': msg}}}
            for c in pod['spec']['containers']]


def node_ready(node):
    for c in node.get('status', {}).get('conditions', []):
        if c['type'] == 'Ready':
            return c['status'] == 'True'
    return False


def uuid4():
    import uuid
    return uuid.uuid4()

# ---------------------------------------------------------------- nodes


def make_node(spec, old=None):
    name = spec['name']
    cap = {'cpu': '8', 'memory': '32Gi', 'pods': '110',
           'ephemeral-storage': '100Gi'}
    cap.update({k: str(v) for k, v in (spec.get('capacity') or {}).items()})
    t = now_iso()

    def c(typ, true, reason_t, reason_f, msg_t, msg_f):
        st = 'True' if true else 'False'
        prev = None
        for oc in (old or {}).get('status', {}).get('conditions', []):
            if oc['type'] == typ:
                prev = oc
        lt = prev['lastTransitionTime'] if prev and prev['status'] == st else t
        return {'type': typ, 'status': st, 'lastHeartbeatTime': t,
                'lastTransitionTime': lt,
                'reason': reason_t if true else reason_f,
                'message': msg_t if true else msg_f}
    ready = spec.get('ready', True)
    labels = {'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux',
              'kubernetes.io/arch': 'amd64'}
    labels.update(spec.get('labels') or {})
    meta = {'name': name, 'labels': labels,
            'uid': old['metadata']['uid'] if old else str(uuid4()),
            'creationTimestamp': old['metadata']['creationTimestamp']
            if old else t}
    return {
        'apiVersion': 'v1', 'kind': 'Node', 'metadata': meta,
        'spec': {'unschedulable': True} if spec.get('unschedulable') else {},
        'status': {
            'capacity': cap, 'allocatable': dict(cap),
            'conditions': [
                c('MemoryPressure', spec.get('memoryPressure', False),
                  'KubeletHasInsufficientMemory', 'KubeletHasSufficientMemory',
                  'kubelet has insufficient memory available',
                  'kubelet has sufficient memory available'),
                c('DiskPressure', spec.get('diskPressure', False),
                  'KubeletHasDiskPressure', 'KubeletHasNoDiskPressure',
                  'kubelet has disk pressure', 'kubelet has no disk pressure'),
                c('PIDPressure', spec.get('pidPressure', False),
                  'KubeletHasInsufficientPID', 'KubeletHasSufficientPID',
                  'kubelet has insufficient PID available',
                  'kubelet has sufficient PID available'),
                c('Ready', ready, 'KubeletReady', 'KubeletNotReady',
                  'kubelet is posting ready status',
                  'container runtime network not ready'),
            ],
            'addresses': [{'type': 'InternalIP', 'address': '127.0.0.1'},
                          {'type': 'Hostname', 'address': name}],
            'nodeInfo': {'kubeletVersion': SERVER_VERSION['gitVersion'],
                         'kubeProxyVersion': SERVER_VERSION['gitVersion'],
                         'operatingSystem': 'linux', 'architecture': 'amd64',
                         'containerRuntimeVersion': 'containerd://1.7.20',
                         'osImage': 'kube-sim', 'kernelVersion': '',
                         'machineID': '', 'systemUUID': '', 'bootID': ''},
        }}


def node_spec_of(node):
    st = node['status']
    conds = {c['type']: c['status'] == 'True' for c in st['conditions']}
    return {'name': node['metadata']['name'], 'ready': conds.get('Ready'),
            'memoryPressure': conds.get('MemoryPressure'),
            'diskPressure': conds.get('DiskPressure'),
            'pidPressure': conds.get('PIDPressure'),
            'capacity': st['capacity'],
            'unschedulable': bool(node['spec'].get('unschedulable'))}

# ---------------------------------------------------------------- the API


class Sim:
    def __init__(self, args):
        self.args = args
        self.schema = Schema()
        self.store = Store(args.history)
        self.faults = Faults()
        self.runners = {}       # (ns, name) -> JobRunner
        self.pods = {}          # (ns, pod) -> PodProcess
        self.plock = threading.Lock()
        self.log_lock = threading.Lock()
        self.log_file = open(args.log, 'a') if args.log else None
        self.logdir = os.path.join(args.state_dir, 'logs')
        # where each pod mounts its root, in its own mount namespace
        self.rootfs = os.path.join(args.state_dir, 'rootfs')
        # emptyDir volumes, STATE_DIR/pods/<pod uid>/<volume>
        self.podsdir = os.path.join(args.state_dir, 'pods')
        # what the provisioner gives a claim bound to no volume,
        # STATE_DIR/volumes/<namespace>/<claim>
        self.volumesdir = os.path.join(args.state_dir, 'volumes')
        for d in (self.logdir, self.rootfs, self.podsdir, self.volumesdir):
            os.makedirs(d, exist_ok=True)
        # where containers' memory limits are enforced (MemoryCgroups)
        self.memory = MemoryCgroups()
        if self.memory.why:
            sys.stderr.write('kube-sim: containers\' memory limits are not '
                             'enforced: no usable memory cgroup (%s)\n'
                             % self.memory.why)
        self.port = 0
        self.counts = collections.Counter()
        # (ns, pod) -> times the kubelet found it could not start yet (a
        # test waits for more of them to see a pod stay held, not a time)
        self.held_checks = collections.Counter()
        for ns in ('default', 'kube-system', 'kube-public', 'kube-node-lease'):
            self.store.put('namespaces', self.namespace_obj(ns), 'ADDED')
        nodes = [{'name': 'sim-node', 'capacity': {'nvidia.com/gpu': '0'}}]
        if args.nodes_file:
            with open(args.nodes_file) as f:
                nodes = json.load(f)
        self.set_nodes(nodes)

    # ---- bookkeeping
    def log_request(self, entry):
        self.counts['requests'] += 1
        if not self.log_file:
            return
        line = json.dumps(entry, separators=(',', ':'))
        with self.log_lock:
            self.log_file.write(line + '\n')
            self.log_file.flush()

    def log_path(self, ns, pod, container):
        return os.path.join(self.logdir, '%s_%s_%s.log' % (ns, pod, container))

    def register_pod(self, ns, pod, proc):
        with self.plock:
            self.pods[(ns, pod)] = proc

    def unregister_pod(self, ns, pod, proc):
        with self.plock:
            if self.pods.get((ns, pod)) is proc:
                del self.pods[(ns, pod)]

    def namespace_obj(self, name):
        return {'apiVersion': 'v1', 'kind': 'Namespace',
                'metadata': {'name': name, 'uid': str(uuid4()),
                             'creationTimestamp': now_iso(),
                             'labels': {'kubernetes.io/metadata.name': name}},
                'spec': {'finalizers': ['kubernetes']},
                'status': {'phase': 'Active'}}

    # ---- nodes
    def set_nodes(self, specs):
        with self.store.lock:
            names = set()
            for s in specs:
                if not isinstance(s, dict) or not isinstance(s.get('name'), str):
                    raise ValueError('each node needs a "name"')
                names.add(s['name'])
                old = self.store.get('nodes', '', s['name'])
                self.store.put('nodes', make_node(s, old),
                               'MODIFIED' if old else 'ADDED')
            for n in self.store.list('nodes')[0]:
                if n['metadata']['name'] not in names:
                    self.store.remove('nodes', '', n['metadata']['name'])

    def patch_node(self, name, patch):
        with self.store.lock:
            old = self.store.get('nodes', '', name)
            spec = node_spec_of(old) if old else {'name': name}
            spec.update(patch)
            spec['name'] = name
            self.store.put('nodes', make_node(spec, old),
                           'MODIFIED' if old else 'ADDED')

    # ---- deletion and garbage collection
    def delete_pod(self, ns, name, grace=None):
        """The kubelet's part: terminate, then the object goes."""
        with self.plock:
            proc = self.pods.get((ns, name))
        pod = self.store.get('pods', ns, name)
        if pod is None:
            return None
        if grace is None:
            grace = pod['spec'].get('terminationGracePeriodSeconds', 30)
        grace = min(grace, self.args.max_grace)
        if not pod['metadata'].get('deletionTimestamp'):
            pod['metadata']['deletionTimestamp'] = now_iso()
            pod['metadata']['deletionGracePeriodSeconds'] = grace
            self.store.put('pods', pod, 'MODIFIED')
        if proc:
            proc.kill(grace)
        out = self.store.remove('pods', ns, name)
        # its emptyDir volumes go with it
        shutil.rmtree(os.path.join(self.podsdir, pod['metadata']['uid']),
                      ignore_errors=True)
        return out

    # ---- volumes, set up as the kubelet sets them up
    def pod_volumes(self, pod):
        """{volume name: (host path, read-only)} of every volume of the
        pod, each made where the kubelet (or a provisioner) would make it;
        raises Held with the kubelet's message for the first that cannot
        be set up."""
        md = pod['metadata']
        return {v['name']: self.volume_source(md['namespace'], md['uid'], v)
                for v in pod['spec'].get('volumes') or []}

    def volume_source(self, ns, pod_uid, v):
        name = v['name']
        if v.get('persistentVolumeClaim') is not None:
            src = v['persistentVolumeClaim']
            claim = src.get('claimName')
            pvc = self.store.get('persistentvolumeclaims', ns, claim)
            if pvc is None:
                raise Held('persistentvolumeclaim "%s" not found' % claim)
            ro = bool(src.get('readOnly'))
            pv = self.bound_volume(pvc)
            if pv is None and pvc['spec'].get('volumeName'):
                # the scheduler's words: the claim waits for its volume
                raise Held('pod has unbound immediate PersistentVolumeClaims'
                           ': persistentvolumeclaim "%s" names volume "%s", '
                           'which does not exist' % (
                               claim, pvc['spec']['volumeName']))
            if pv is None:
                # As a dynamic provisioner: a directory of the claim's
                # own, made on first use, kept across pods.
                path = os.path.join(self.volumesdir, ns, claim)
                make_dir(path, 0o777)
                return path, ro
            pv_name, spec = pv['metadata']['name'], pv['spec']
            if spec.get('nfs'):
                # The simulator is every NFS server: the export is the
                # host's directory of that path.
                nfs = spec['nfs']
                if not os.path.isdir(nfs.get('path') or ''):
                    raise Held(
                        'MountVolume.SetUp failed for volume "%s" : mount '
                        'failed: exit status 32\nMounting command: mount\n'
                        'Mounting arguments: -t nfs %s:%s /var/lib/kubelet/'
                        'pods/%s/volumes/kubernetes.io~nfs/%s\nOutput: '
                        'mount.nfs: mounting %s:%s failed, reason given by '
                        'server: No such file or directory' % (
                            pv_name, nfs.get('server'), nfs.get('path'),
                            pod_uid, pv_name, nfs.get('server'),
                            nfs.get('path')))
                return nfs['path'], ro or bool(nfs.get('readOnly'))
            if spec.get('hostPath'):
                return host_path(pv_name, spec['hostPath']), ro
            if spec.get('local'):
                return host_path(pv_name, {'path': spec['local'].get('path'),
                                           'type': 'Directory'}), ro
            raise Held('MountVolume.SetUp failed for volume "%s" : the '
                       'simulator mounts nfs, hostPath and local persistent '
                       'volumes only' % pv_name)
        if v.get('hostPath') is not None:
            return host_path(name, v['hostPath']), False
        if v.get('emptyDir') is not None:
            path = os.path.join(self.podsdir, pod_uid, name)
            make_dir(path, 0o777)
            return path, False
        kind = [k for k in v if k != 'name' and v[k] is not None]
        raise Held('MountVolume.SetUp failed for volume "%s" : the simulator '
                   'does not mount %s volumes' % (name, kind[0] if kind
                                                  else 'such'))

    def bound_volume(self, pvc):
        """The persistent volume a claim is bound to, or None."""
        name = pvc['spec'].get('volumeName')
        if name:
            return self.store.get('persistentvolumes', '', name)
        md = pvc['metadata']
        for pv in self.store.list('persistentvolumes')[0]:
            ref = pv['spec'].get('claimRef') or {}
            if (ref.get('namespace'), ref.get('name')) == (
                    md['namespace'], md['name']):
                return pv
        return None

    def job_pods(self, ns, uid):
        pods, _ = self.store.list('pods', ns)
        return [p for p in pods if any(
            o.get('uid') == uid for o in p['metadata'].get('ownerReferences') or [])]

    def delete_job(self, ns, name, policy, uid=None):
        with self.store.lock:
            job = self.store.get('jobs', ns, name)
            if not job or (uid and job['metadata']['uid'] != uid):
                return None
            job_uid = job['metadata']['uid']
            runner = self.runners.pop((ns, name), None)
            if runner and runner.uid == job_uid:
                if policy == 'Orphan':
                    runner.orphaned = True
                else:
                    runner.stop.set()
            if policy == 'Foreground':
                job['metadata']['deletionTimestamp'] = now_iso()
                job['metadata']['deletionGracePeriodSeconds'] = 0
                job['metadata']['finalizers'] = ['foregroundDeletion']
                out = self.store.put('jobs', job, 'MODIFIED')
            else:
                out = self.store.remove('jobs', ns, name)
            if policy == 'Orphan':
                for p in self.job_pods(ns, job_uid):
                    p['metadata']['ownerReferences'] = [
                        o for o in p['metadata']['ownerReferences']
                        if o.get('uid') != job_uid]
                    self.store.put('pods', p, 'MODIFIED')

        def gc():
            for p in self.job_pods(ns, job_uid):
                self.delete_pod(ns, p['metadata']['name'])
            if policy == 'Foreground':
                with self.store.lock:
                    j = self.store.get('jobs', ns, name)
                    if j and j['metadata']['uid'] == job_uid:
                        self.store.remove('jobs', ns, name)
        if policy != 'Orphan':
            threading.Thread(target=gc, daemon=True).start()
        return out

    def suspend_job(self, ns, name, uid):
        """The Job controller's part of a suspend: a Job that has not
        finished gets condition Suspended at once, its runner stops, and
        its pods go (graceful termination), after which it counts none
        active.  A finished Job is left as it is."""
        with self.store.lock:
            job = self.store.get('jobs', ns, name)
            if not job or job['metadata']['uid'] != uid:
                return
            conds = job['status'].get('conditions') or []
            if any(c['type'] in ('Complete', 'Failed') and
                   c['status'] == 'True' for c in conds):
                return
            runner = self.runners.pop((ns, name), None)
            if runner and runner.uid == uid:
                runner.stop.set()
            job['status'].setdefault('conditions', []).append(cond(
                'Suspended', 'JobSuspended', 'Job suspended', now_iso()))
            self.store.put('jobs', job, 'MODIFIED')

        def gc():
            for p in self.job_pods(ns, uid):
                self.delete_pod(ns, p['metadata']['name'])
            with self.store.lock:
                j = self.store.get('jobs', ns, name)
                if j and j['metadata']['uid'] == uid:
                    j['status']['active'] = 0
                    j['status']['ready'] = 0
                    self.store.put('jobs', j, 'MODIFIED')
        threading.Thread(target=gc, daemon=True).start()

    def shutdown(self):
        with self.plock:
            procs = list(self.pods.values())
        for p in procs:
            p.kill(0)
        self.memory.close()

# ---------------------------------------------------------------- handler


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'kube-sim'
    sys_version = ''
    timeout = 300

    def setup(self):
        self.request.settimeout(30)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.tls_failed = True
        else:
            self.tls_failed = False
        self.request.settimeout(self.timeout)
        super().setup()

    def handle(self):
        if not self.tls_failed:
            try:
                super().handle()
            except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
                pass

    def log_message(self, fmt, *a):
        if self.server.sim.args.verbose:
            sys.stderr.write('kube-sim: %s\n' % (fmt % a))

    def do_GET(self):
        self.dispatch('GET')

    def do_POST(self):
        self.dispatch('POST')

    def do_PUT(self):
        self.dispatch('PUT')

    def do_PATCH(self):
        self.dispatch('PATCH')

    def do_DELETE(self):
        self.dispatch('DELETE')

    def read_body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            data = b''
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    # ---- responses
    def send_bytes(self, code, data, ctype='application/json', headers=None):
        if getattr(self, 'delay_after', 0):
            time.sleep(self.delay_after)
        if getattr(self, 'drop_after', False):
            self.drop()
            return
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Cache-Control', 'no-cache, private')
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def send_json(self, code, obj, headers=None):
        self.send_bytes(code, json.dumps(obj).encode(), headers=headers)

    def send_error_status(self, e):
        h = dict(e.headers)
        self.send_json(e.code, e.status(), h)

    def drop(self):
        self.close_connection = True
        try:
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- authentication
    def authenticate(self):
        """The user, or None with the reason in self.auth_error (which a
        real server logs and never tells the client)."""
        sim = self.server.sim
        auth = self.headers.get('Authorization', '')
        self.auth_error = None
        if auth.startswith('Bearer '):
            token = auth[7:].strip()
            for good in list(sim.tokens):
                if hmac.compare_digest(token.encode(), good.encode()):
                    exp = sim.token_expiry.get(good)
                    if exp is not None and time.time() >= exp:
                        self.auth_error = 'invalid bearer token, token is expired'
                        return None
                    return 'token'
            self.auth_error = 'invalid bearer token'
            return None
        if auth:
            self.auth_error = 'unsupported authorization scheme'
            return None
        cert = self.request.getpeercert()
        if cert:
            if cert.get('issuer') == sim.untrusted_issuer:
                self.auth_error = ('verifying certificate: x509: certificate '
                                   'signed by unknown authority')
                return None
            for rdn in cert.get('subject', ()):
                for k, v in rdn:
                    if k == 'commonName':
                        return 'cert:' + v
        return None

    def dispatch(self, method):
        sim = self.server.sim
        u = urllib.parse.urlsplit(self.path)
        path = u.path.rstrip('/') or '/'
        try:
            params = {}
            for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True):
                params[k] = v
        except ValueError:
            params = {}
        body = self.read_body()
        is_watch = params.get('watch') in ('1', 'true') or '/watch/' in path
        fault = sim.faults.take(method, path, is_watch)
        user = self.authenticate()
        entry = {'time': round(time.time(), 3), 'method': method,
                 'path': path, 'query': params, 'watch': is_watch,
                 'user': user, 'agent': self.headers.get('User-Agent')}
        if body:
            try:
                entry['body'] = json.loads(body)
            except ValueError:
                entry['body'] = body.decode('utf-8', 'replace')
        if fault:
            entry['fault'] = fault['kind']
        if self.auth_error:
            entry['auth_error'] = self.auth_error
        sim.log_request(entry)
        self.delay_after = 0
        self.drop_after = False
        if fault:
            kind = fault['kind']
            if kind == '500':
                return self.send_error_status(ApiError(
                    500, 'InternalError', 'Internal error occurred: '
                    'injected fault', {'causes': [{'message': 'injected fault'}]}))
            if kind == '429':
                ra = fault['retry_after']
                return self.send_error_status(ApiError(
                    429, 'TooManyRequests', 'Too many requests, please try '
                    'again later.', {'retryAfterSeconds': ra},
                    {'Retry-After': str(ra)}))
            if kind == 'drop':
                return self.drop()
            if kind == 'delay':
                time.sleep(fault['seconds'])
            if kind == 'delay_after':
                self.delay_after = fault['seconds']
            if kind == 'drop_after':
                self.drop_after = True
        if user is None:
            return self.send_error_status(ApiError(401, 'Unauthorized',
                                                   'Unauthorized'))
        try:
            API(sim, self).route(method, path, params, body)
        except ApiError as e:
            self.send_error_status(e)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as e:
            traceback.print_exc()
            self.send_error_status(ApiError(500, 'InternalError',
                                            'Internal error occurred: %s' % e))


ROUTES = [
    (re.compile(r'^/api/v1/namespaces/([^/]+)/pods/([^/]+)/log$'), 'log'),
    (re.compile(r'^/api/v1/namespaces/([^/]+)/(pods|persistentvolumeclaims)(?:/([^/]+))?$'), 'core_ns'),
    (re.compile(r'^/api/v1/(namespaces|nodes|persistentvolumes|pods|persistentvolumeclaims)(?:/([^/]+))?$'), 'core'),
    (re.compile(r'^/apis/batch/v1/namespaces/([^/]+)/(jobs)(?:/([^/]+))?(/status)?$'), 'batch_ns'),
    (re.compile(r'^/apis/batch/v1/(jobs)$'), 'batch'),
]


class API:
    def __init__(self, sim, h):
        self.sim, self.h, self.store = sim, h, sim.store

    def route(self, method, path, params, body):
        h = self.h
        if path in DISCOVERY_PATHS:
            if method != 'GET':
                raise ApiError(405, 'MethodNotAllowed', 'the server does not '
                               'allow this method on the requested resource')
            return h.send_json(200, DISCOVERY_PATHS[path](self.sim))
        if path in ('/healthz', '/livez', '/readyz'):
            return h.send_bytes(200, b'ok', 'text/plain; charset=utf-8')
        if path.startswith('/openapi/'):
            return openapi(self, path)
        for rx, kind in ROUTES:
            m = rx.match(path)
            if not m:
                continue
            g = m.groups()
            if kind == 'log':
                if method != 'GET':
                    raise self.not_allowed()
                return self.pod_log(g[0], g[1], params)
            if kind == 'core_ns':
                return self.resource(method, g[1], g[0], g[2], params, body)
            if kind == 'core':
                res, name = g
                if RESOURCES[res].namespaced:
                    if name:
                        break
                    return self.resource(method, res, None, None, params, body)
                return self.resource(method, res, None, name, params, body)
            if kind == 'batch_ns':
                if g[3]:
                    if method != 'GET':
                        raise self.not_allowed()
                return self.resource(method, 'jobs', g[0], g[2], params, body)
            if kind == 'batch':
                return self.resource(method, 'jobs', None, None, params, body)
        raise ApiError(404, 'NotFound', 'the server could not find the '
                       'requested resource', {})

    def not_allowed(self):
        return ApiError(405, 'MethodNotAllowed', 'the server does not allow '
                        'this method on the requested resource')

    def resource(self, method, res, ns, name, params, body):
        r = RESOURCES[res]
        if method == 'GET' and name:
            return self.get(r, ns, name)
        if method == 'GET':
            if params.get('watch') in ('1', 'true'):
                return self.watch(r, ns, params)
            return self.list(r, ns, params)
        if method == 'POST' and not name and 'create' in r.verbs and \
                (ns is not None or not r.namespaced):
            return self.create(r, ns, params, body)
        if method == 'DELETE' and name and 'delete' in r.verbs:
            return self.delete(r, ns, name, params, body)
        if method == 'PATCH' and name and 'patch' in r.verbs:
            return self.patch(r, ns, name, params, body)
        raise self.not_allowed()

    def check_ns(self, ns):
        if ns is not None and not self.store.get('namespaces', '', ns):
            raise not_found('namespaces', ns)

    # ---- read
    def get(self, r, ns, name):
        obj = self.store.get(r.name, ns, name)
        if obj is None:
            raise not_found(r.name, name)
        self.reply_object(200, r, obj)

    def reply_object(self, code, r, obj):
        if wants_table(self.h):
            return self.h.send_json(code, table(r, [obj], obj['metadata'].get(
                'resourceVersion', '')))
        self.h.send_json(code, obj)

    def list(self, r, ns, params):
        sel = Selector(params.get('labelSelector'))
        fsel = FieldSelector(r.name, params.get('fieldSelector'))
        with self.store.lock:
            items, rv = self.store.list(r.name, ns)
            floor = self.store.floor
        items = [o for o in items if sel.matches(o['metadata'].get('labels'))
                 and fsel.matches(o)]
        limit = int_param(params, 'limit', 0)
        cont = params.get('continue')
        if cont:
            try:
                tok = json.loads(base64.b64decode(cont))
                list_rv, start = int(tok['rv']), tok['start']
            except (ValueError, KeyError, TypeError):
                raise bad_request('continue key is not valid: illegal base64 '
                                  'data at input byte 0')
            if list_rv < floor:
                raise ApiError(410, 'Expired', 'The provided continue '
                               'parameter is too old to display a consistent '
                               'list result. You can start a new list without '
                               'the continue parameter.', {})
            rv = list_rv
            items = [o for o in items if key_of(o) > start]
        meta = {'resourceVersion': str(rv)}
        if limit and len(items) > limit:
            rest = len(items) - limit
            items = items[:limit]
            meta['continue'] = base64.b64encode(json.dumps(
                {'rv': rv, 'start': key_of(items[-1])}).encode()).decode()
            meta['remainingItemCount'] = rest
        if wants_table(self.h):
            t = table(r, items, str(rv))
            t['metadata'].update(meta)
            return self.h.send_json(200, t)
        for o in items:
            o.pop('kind', None)
            o.pop('apiVersion', None)
        self.h.send_json(200, {'kind': LIST_KIND[r.name],
                               'apiVersion': r.api_version,
                               'metadata': meta, 'items': items})

    # ---- watch
    def watch(self, r, ns, params):
        sim, h, store = self.sim, self.h, self.store
        sel = Selector(params.get('labelSelector'))
        fsel = FieldSelector(r.name, params.get('fieldSelector'))
        rv_param = params.get('resourceVersion', '')
        timeout = int_param(params, 'timeoutSeconds', sim.args.watch_timeout)
        if timeout <= 0:
            timeout = sim.args.watch_timeout
        bookmarks = params.get('allowWatchBookmarks') in ('1', 'true')
        if rv_param not in ('', '0'):
            try:
                start_rv = int(rv_param)
                if start_rv < 0:
                    raise ValueError
            except ValueError:
                raise ApiError(400, 'BadRequest', 'invalid resource version: '
                               'strconv.ParseUint: parsing %s: invalid syntax'
                               % json.dumps(rv_param))
        as_table = wants_table(h)
        w = Watcher()
        initial = []
        expired = None
        with store.lock:
            if rv_param in ('', '0'):
                objs, w.pos = store.list(r.name, ns)
                initial = [('ADDED', o) for o in objs
                           if sel.matches(o['metadata'].get('labels')) and fsel.matches(o)]
            elif start_rv < store.floor:
                expired = start_rv
            else:
                w.pos = start_rv
            store.watchers.add(w)
        h.send_response(200)
        h.send_header('Content-Type', 'application/json')
        h.send_header('Transfer-Encoding', 'chunked')
        h.send_header('Cache-Control', 'no-cache, private')
        h.end_headers()

        def chunk(obj):
            data = json.dumps(obj).encode() + b'\n'
            h.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
            h.wfile.flush()

        def encode(typ, o):
            if as_table and typ != 'ERROR':
                o = table(r, [o], o['metadata'].get('resourceVersion'), True)
            return {'type': typ, 'object': o}
        end = time.monotonic() + timeout
        next_bookmark = time.monotonic() + sim.args.bookmark_interval
        clean = True
        try:
            if expired is not None:
                chunk({'type': 'ERROR', 'object': ApiError(
                    410, 'Expired', 'too old resource version: %d (%d)' % (
                        expired, store.floor)).status()})
                return
            for typ, o in initial:
                chunk(encode(typ, o))
            while True:
                out = []
                with store.lock:
                    while True:
                        if w.cut:
                            break
                        if w.pos < store.floor:
                            break
                        if store.rv > w.pos:
                            break
                        now = time.monotonic()
                        wait = min(end, next_bookmark if bookmarks else end) - now
                        if wait <= 0:
                            break
                        store.cond.wait(wait)
                    if w.cut:
                        clean = w.cut == 'clean'
                        return
                    if w.pos < store.floor:
                        out.append({'type': 'ERROR', 'object': ApiError(
                            410, 'Expired', 'too old resource version: %d (%d)'
                            % (w.pos, store.floor)).status()})
                    else:
                        # the history is in resourceVersion order: take the
                        # events after pos from its newest end
                        fresh = []
                        for ev in reversed(store.history):
                            if ev.rv <= w.pos:
                                break
                            fresh.append(ev)
                        for ev in reversed(fresh):
                            typ = self.filter_event(ev, r, ns, sel, fsel)
                            if typ:
                                out.append(encode(typ, copy.deepcopy(ev.obj)))
                        w.pos = store.rv
                    pos = w.pos
                for o in out:
                    chunk(o)
                if out and out[-1]['type'] == 'ERROR':
                    return
                now = time.monotonic()
                if now >= end:
                    return
                if bookmarks and now >= next_bookmark:
                    chunk({'type': 'BOOKMARK', 'object': {
                        'kind': r.kind, 'apiVersion': r.api_version,
                        'metadata': {'resourceVersion': str(pos),
                                     'creationTimestamp': None}}})
                    next_bookmark = now + sim.args.bookmark_interval
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
            clean = False
        finally:
            with store.lock:
                store.watchers.discard(w)
            if clean:
                try:
                    h.wfile.write(b'0\r\n\r\n')
                    h.wfile.flush()
                except (ConnectionError, ssl.SSLError, OSError):
                    h.close_connection = True
            else:
                h.drop()

    @staticmethod
    def filter_event(ev, r, ns, sel, fsel):
        if ev.res != r.name or (ns is not None and ev.ns != ns):
            return None

        def match(o):
            return o is not None and sel.matches(
                o['metadata'].get('labels')) and fsel.matches(o)
        cur = match(ev.obj)
        if ev.type == 'ADDED':
            return 'ADDED' if cur else None
        if ev.type == 'DELETED':
            return 'DELETED' if cur else None
        was = match(ev.prev)
        if was and cur:
            return 'MODIFIED'
        if cur:
            return 'ADDED'
        if was:
            return 'DELETED'
        return None

    # ---- create
    def decode_body(self, r, ns, params, body):
        ctype = self.h.headers.get('Content-Type', '').split(';')[0].strip()
        if ctype != 'application/json':
            raise ApiError(415, 'UnsupportedMediaType', 'the body of the '
                           'request was in an unknown format - accepted '
                           'media types include: application/json, '
                           'application/yaml, '
                           'application/vnd.kubernetes.protobuf', {})
        fv = params.get('fieldValidation', 'Strict')
        if fv not in ('Strict', 'Warn', 'Ignore'):
            raise bad_request('fieldValidation parameter unsupported: %s. '
                              'must be one of Ignore, Warn or Strict' % fv)
        dups = []

        def pairs(kv):
            seen = {}
            for k, v in kv:
                if k in seen:
                    dups.append(k)
                seen[k] = v
            return seen
        try:
            obj = json.loads(body, object_pairs_hook=pairs)
        except ValueError as e:
            raise bad_request('the object provided is unrecognized (must be '
                              'of type %s): couldn\'t get version/kind; json '
                              'parse error: %s' % (r.kind, e))
        if not isinstance(obj, dict):
            raise bad_request('the object provided is unrecognized (must be '
                              'of type %s): couldn\'t get version/kind; json '
                              'parse error: json: cannot unmarshal %s into Go '
                              'value of type struct' % (r.kind, json_type(obj)))
        av, kind = obj.get('apiVersion'), obj.get('kind')
        if av is not None and av != r.api_version:
            raise bad_request('the API version in the data (%s) does not '
                              'match the expected API version (%s)' % (
                                  av, r.api_version))
        if kind is not None and kind != r.kind:
            raise bad_request('the kind in the data (%s) does not match the '
                              'expected kind (%s)' % (kind, r.kind))
        unknown = []
        try:
            missing = self.sim.schema.decode(obj, r.model, r.kind, unknown,
                                             skip_required_under=('status',))
        except DecodeError as e:
            raise bad_request(str(e))
        warn = ['unknown field "%s"' % u for u in unknown] + \
               ['json: duplicate field "%s"' % d for d in dups]
        if warn and fv == 'Strict':
            raise bad_request('%s in version "v1" cannot be handled as a %s: '
                              'strict decoding error: %s' % (
                                  r.kind, r.kind, ', '.join(warn)))
        if warn and fv == 'Warn':
            self.warnings = warn
        for u in unknown:
            drop_path(obj, u)
        obj['apiVersion'], obj['kind'] = r.api_version, r.kind
        obj.setdefault('metadata', {})
        md = obj['metadata'] or {}
        obj['metadata'] = md
        if ns is not None:
            if md.get('namespace') not in (None, '', ns):
                raise bad_request('the namespace of the provided object does '
                                  'not match the namespace sent on the request')
            md['namespace'] = ns
        elif md.get('namespace'):
            md.pop('namespace')
        return obj, missing

    def create(self, r, ns, params, body):
        self.warnings = []
        obj, missing = self.decode_body(r, ns, params, body)
        md = obj['metadata']
        if not md.get('name') and md.get('generateName'):
            md['name'] = md['generateName'] + pod_suffix()
        name = md.get('name') or ''
        errs = FieldErrors()
        for m in missing:
            errs.required(m)
        if not name:
            errs.required('metadata.name', 'name or generateName is required')
        elif r.name_rule == 'label':
            check_label_name(errs, 'metadata.name', name)
        else:
            check_subdomain(errs, 'metadata.name', name)
        check_labels(errs, 'metadata.labels', md.get('labels'))
        for k in (md.get('annotations') or {}):
            if not qualified_name_ok(k):
                errs.invalid('metadata.annotations', k, 'name part must '
                             'consist of alphanumeric characters, \'-\', '
                             '\'_\' or \'.\'')
        if md.get('resourceVersion'):
            raise ApiError(500, 'InternalError', 'Internal error occurred: '
                           'resourceVersion should not be set on objects to '
                           'be created', {'causes': [{'message': 'resource'
                                          'Version should not be set on '
                                          'objects to be created'}]})
        uid = str(uuid4())
        md['uid'] = uid
        md['creationTimestamp'] = now_iso()
        for k in ('selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'):
            md.pop(k, None)
        VALIDATE[r.name](self, obj, errs, uid)
        errs.raise_if_any(r.kind_group, name, r.group, r.name)
        dry = params.get('dryRun')
        if dry not in (None, '', 'All'):
            raise bad_request('Invalid dryRun value: %s' % dry)
        with self.store.lock:
            self.check_ns(ns)
            if self.store.get(r.name, ns, name):
                raise ApiError(409, 'AlreadyExists', '%s "%s" already exists'
                               % (r.qualified, name),
                               {'name': name, 'group': r.group, 'kind': r.name})
            if dry == 'All':
                out = obj
            else:
                out = self.store.put(r.name, obj, 'ADDED')
                after = AFTER_CREATE.get(r.name)
                if after:
                    after(self, out)
        hdr = {'Warning': ', '.join('299 - "%s"' % w.replace('"', '\\"')
                                    for w in self.warnings)} if self.warnings else None
        self.h.send_json(201, out, hdr)

    # ---- patch (Jobs: a JSON merge patch, RFC 7386)
    def patch(self, r, ns, name, params, body):
        """A merge patch of a Job, checked as the API server's update
        validation checks it: its spec's template, selector and
        completions are immutable, spec.suspend a boolean, metadata's
        name, namespace and uid its own; status is not written through
        the main resource.  Suspending a running Job ends its pods and
        keeps it (condition Suspended); the simulator does not resume
        one (the pilot never does), and says so."""
        ctype = self.h.headers.get('Content-Type', '').split(';')[0].strip()
        if ctype != 'application/merge-patch+json':
            raise ApiError(415, 'UnsupportedMediaType', 'the body of the '
                           'request was in an unknown format - accepted '
                           'media types include: application/json-patch+json, '
                           'application/merge-patch+json, '
                           'application/apply-patch+yaml', {})
        try:
            patch = json.loads(body)
        except ValueError as e:
            raise bad_request('error decoding patch: %s' % e)
        if not isinstance(patch, dict):
            raise bad_request('json: cannot unmarshal %s into Go value of '
                              'type map[string]interface {}' % json_type(patch))

        def merge(target, p):
            if not isinstance(p, dict):
                return copy.deepcopy(p)
            out = dict(target) if isinstance(target, dict) else {}
            for k, v in p.items():
                if v is None:
                    out.pop(k, None)
                else:
                    out[k] = merge(out.get(k), v)
            return out
        with self.store.lock:
            old = self.store.get(r.name, ns, name)
            if old is None:
                raise not_found(r.name, name)
            new = merge(copy.deepcopy(old), patch)
            new['status'] = copy.deepcopy(old.get('status') or {})
            errs = FieldErrors()
            for k in ('name', 'namespace', 'uid'):
                if new['metadata'].get(k) != old['metadata'].get(k):
                    errs.invalid('metadata.' + k, new['metadata'].get(k),
                                 'field is immutable')
            rv = (patch.get('metadata') or {}).get('resourceVersion')
            if rv is not None and rv != old['metadata'].get('resourceVersion'):
                raise ApiError(409, 'Conflict', 'Operation cannot be '
                               'fulfilled on %s "%s": the object has been '
                               'modified; please apply your changes to the '
                               'latest version and try again'
                               % (r.qualified, name),
                               {'name': name, 'group': r.group,
                                'kind': r.name})
            ospec, nspec = old.get('spec') or {}, new.get('spec') or {}
            for k in ('template', 'selector', 'completions', 'manualSelector',
                      'completionMode'):
                if nspec.get(k) != ospec.get(k):
                    errs.invalid('spec.' + k, nspec.get(k),
                                 'field is immutable')
            if not isinstance(nspec.get('suspend', False), bool):
                errs.invalid('spec.suspend', nspec.get('suspend'),
                             'must be a boolean')
            check_labels(errs, 'metadata.labels',
                         new['metadata'].get('labels'))
            errs.raise_if_any(r.kind_group, name, r.group, r.name)
            if ospec.get('suspend') and not nspec.get('suspend'):
                raise ApiError(422, 'Invalid', 'Job.batch "%s" is invalid: '
                               'spec.suspend: the simulator does not resume '
                               'a suspended Job' % name,
                               {'name': name, 'group': r.group,
                                'kind': r.kind})
            new['metadata'].pop('resourceVersion', None)
            out = self.store.put(r.name, new, 'MODIFIED')
            suspend = nspec.get('suspend') and not ospec.get('suspend')
        if suspend:
            self.sim.suspend_job(ns, name, new['metadata']['uid'])
            out = self.store.get(r.name, ns, name) or out
        self.reply_object(200, r, out)

    # ---- delete
    def delete(self, r, ns, name, params, body):
        opts = {}
        for k in ('propagationPolicy', 'gracePeriodSeconds', 'orphanDependents', 'dryRun'):
            if k in params:
                opts[k] = params[k]
        if 'gracePeriodSeconds' in opts:
            try:
                opts['gracePeriodSeconds'] = int(opts['gracePeriodSeconds'])
            except ValueError:
                raise bad_request('gracePeriodSeconds: invalid integer')
        if body.strip():
            ctype = self.h.headers.get('Content-Type', '').split(';')[0].strip()
            if ctype != 'application/json':
                raise ApiError(415, 'UnsupportedMediaType', 'the body of the '
                               'request was in an unknown format', {})
            try:
                b = json.loads(body)
            except ValueError as e:
                raise bad_request('json parse error: %s' % e)
            if not isinstance(b, dict):
                raise bad_request('json: cannot unmarshal %s into Go value of '
                                  'type v1.DeleteOptions' % json_type(b))
            if b.get('kind') not in (None, 'DeleteOptions'):
                raise bad_request('the kind in the data (%s) does not match '
                                  'the expected kind (DeleteOptions)' % b['kind'])
            if b.get('apiVersion') not in (None, 'v1', 'meta.k8s.io/v1',
                                           r.api_version):
                raise bad_request('the API version in the data (%s) does not '
                                  'match the expected API version (v1)'
                                  % b['apiVersion'])
            unknown = []
            try:
                self.sim.schema.decode(b, 'V1DeleteOptions', 'DeleteOptions',
                                       unknown)
            except DecodeError as e:
                raise bad_request(str(e))
            if unknown:
                raise bad_request('strict decoding error: %s' % ', '.join(
                    'unknown field "%s"' % u for u in unknown))
            opts.update({k: v for k, v in b.items()
                         if k not in ('kind', 'apiVersion') and v is not None})
        errs = FieldErrors()
        policy = opts.get('propagationPolicy')
        if policy is not None and policy not in ('Foreground', 'Background', 'Orphan'):
            errs.not_supported('propagationPolicy', policy,
                               ['Foreground', 'Background', 'Orphan'])
        if 'orphanDependents' in opts and policy is not None:
            errs.invalid('propagationPolicy', policy, 'orphanDependents and '
                         'deletionPropagation cannot be both set')
        g = opts.get('gracePeriodSeconds')
        if g is not None and g < 0:
            errs.invalid('gracePeriodSeconds', g, 'must be greater than or '
                         'equal to 0')
        errs.raise_if_any('DeleteOptions', '', '', '')
        if policy is None:
            if opts.get('orphanDependents') in (True, 'true'):
                policy = 'Orphan'
            elif opts.get('orphanDependents') in (False, 'false'):
                policy = 'Background'
            else:
                # batch/v1 Jobs default to orphaning their pods when deleted
                # through the API (kubectl asks for Background itself).
                policy = 'Orphan' if r.name == 'jobs' else 'Background'
        obj = self.store.get(r.name, ns, name)
        if obj is None:
            raise not_found(r.name, name)
        pre = opts.get('preconditions') or {}
        if pre.get('uid') and pre['uid'] != obj['metadata']['uid']:
            raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled on '
                           '%s "%s": Precondition failed: UID in precondition:'
                           ' %s, UID in object meta: %s' % (
                               r.qualified, name, pre['uid'],
                               obj['metadata']['uid']),
                           {'name': name, 'group': r.group, 'kind': r.name})
        if opts.get('dryRun'):
            return self.h.send_json(200, obj)
        if r.name == 'jobs':
            out = self.sim.delete_job(ns, name, policy)
            if out is None:
                raise not_found(r.name, name)
            if policy == 'Foreground':
                return self.h.send_json(200, out)
            return self.h.send_json(200, {
                'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                'status': 'Success', 'details': {
                    'name': name, 'group': 'batch', 'kind': 'jobs',
                    'uid': obj['metadata']['uid']}})
        if r.name == 'pods':
            g = opts.get('gracePeriodSeconds')
            obj['metadata']['deletionTimestamp'] = now_iso()
            threading.Thread(target=self.sim.delete_pod, args=(ns, name, g),
                             daemon=True).start()
            return self.h.send_json(200, obj)
        out = self.store.remove(r.name, ns, name)
        return self.h.send_json(200, out)

    # ---- pod logs
    def pod_log(self, ns, name, params):
        pod = self.store.get('pods', ns, name)
        if pod is None:
            raise not_found('pods', name)
        names = [c['name'] for c in pod['spec']['containers']]
        cname = params.get('container')
        if not cname:
            if len(names) != 1:
                raise bad_request('a container name must be specified for pod '
                                  '%s, choose one of: [%s]' % (name, ' '.join(names)))
            cname = names[0]
        if cname not in names:
            raise bad_request('container %s is not valid for pod %s' % (cname, name))
        if params.get('previous') in ('1', 'true'):
            raise bad_request('previous terminated container "%s" in pod "%s" '
                              'not found' % (cname, name))
        path = self.sim.log_path(ns, name, cname)
        if not os.path.exists(path):
            reason = 'ContainerCreating'
            for cs in pod.get('status', {}).get('containerStatuses') or []:
                if cs['name'] == cname and 'waiting' in cs.get('state', {}):
                    reason = cs['state']['waiting']['reason']
            if reason in ('ErrImagePull', 'ImagePullBackOff'):
                raise bad_request('container "%s" in pod "%s" is waiting to '
                                  'start: trying and failing to pull image'
                                  % (cname, name))
            raise bad_request('container "%s" in pod "%s" is waiting to start: '
                              '%s' % (cname, name, reason))
        with open(path, 'rb') as f:
            data = f.read()
        tail = params.get('tailLines')
        if tail is not None:
            try:
                n = int(tail)
            except ValueError:
                raise bad_request('tailLines: invalid integer')
            if n < 0:
                raise ApiError(422, 'Invalid', 'PodLogOptions "%s" is invalid: '
                               'tailLines: Invalid value: %d: must be greater '
                               'than or equal to 0' % (name, n), {})
            lines = data.splitlines(keepends=True)
            data = b''.join(lines[-n:]) if n else b''
        limit = params.get('limitBytes')
        if limit is not None:
            try:
                n = int(limit)
            except ValueError:
                raise bad_request('limitBytes: invalid integer')
            if n < 1:
                raise ApiError(422, 'Invalid', 'PodLogOptions "%s" is invalid: '
                               'limitBytes: Invalid value: %d: must be greater '
                               'than 0' % (name, n), {})
            data = data[:n]
        self.h.send_bytes(200, data, 'text/plain')


def key_of(o):
    return '%s/%s' % (o['metadata'].get('namespace', ''), o['metadata']['name'])


def int_param(params, k, default):
    v = params.get(k)
    if v is None or v == '':
        return default
    try:
        return int(v)
    except ValueError:
        raise bad_request('%s: invalid integer %s' % (k, json.dumps(v)))


def drop_path(obj, path):
    parts = re.findall(r'[^.\[\]]+|\[\d+\]', path)
    cur = obj
    for p in parts[:-1]:
        cur = cur[int(p[1:-1])] if p.startswith('[') else cur.get(p)
        if cur is None:
            return
    last = parts[-1]
    if isinstance(cur, dict):
        cur.pop(last, None)

# ---------------------------------------------------------------- validation


STANDARD_RESOURCES = {'cpu', 'memory', 'ephemeral-storage', 'storage', 'pods'}


def validate_resources(errs, path, res):
    res = res or {}
    limits, requests = res.get('limits') or {}, res.get('requests') or {}
    for kind, d in (('limits', limits), ('requests', requests)):
        for k, v in d.items():
            f = '%s.%s[%s]' % (path, kind, k)
            q = parse_quantity(v)
            std = k in STANDARD_RESOURCES or k.startswith('hugepages-')
            if not std and ('/' not in k or not qualified_name_ok(k)):
                errs.invalid(f, k, 'must be a standard resource type or fully '
                             'qualified')
                continue
            if q is not None and q < 0:
                errs.invalid(f, v, 'must be greater than or equal to 0')
            if not std and not k.startswith('requests.') and q is not None \
                    and q.denominator != 1:
                errs.invalid(f, v, 'must be an integer')
    for k, v in requests.items():
        std = k in STANDARD_RESOURCES or k.startswith('hugepages-')
        if not std and '/' in k:
            if k not in limits:
                errs.required('%s.limits' % path, 'Limit must be set for non '
                              'overcommitable resources')
            elif parse_quantity(v) != parse_quantity(limits[k]):
                errs.invalid('%s.requests[%s]' % (path, k), v,
                             'must be equal to %s limit of %s' % (k, limits[k]))
        elif k in limits and parse_quantity(v) is not None and \
                parse_quantity(limits[k]) is not None and \
                parse_quantity(v) > parse_quantity(limits[k]):
            errs.invalid('%s.requests' % path, v, 'must be less than or equal '
                         'to %s limit of %s' % (k, limits[k]))


CONFIG_KEY = re.compile(r'^[-._a-zA-Z0-9]+$')
CONFIG_KEY_MSG = ("a valid config key must consist of alphanumeric "
                  "characters, '-', '_' or '.' (e.g. 'key.name',  or "
                  "'KEY_NAME',  or 'key-name', regex used for validation is "
                  "'[-._a-zA-Z0-9]+')")


def validate_env_source(errs, path, src):
    if src is None:
        return
    set_ = [k for k, v in src.items() if v is not None]
    if len(set_) > 1:
        errs.invalid(path, '', 'may not have more than one field specified '
                     'at a time')
    for k in ('secretKeyRef', 'configMapKeyRef'):
        ref = src.get(k)
        if ref is None:
            continue
        if not ref.get('name'):
            errs.required('%s.%s.name' % (path, k))
        else:
            check_subdomain(errs, '%s.%s.name' % (path, k), ref['name'])
        key = ref.get('key') or ''
        if key and not CONFIG_KEY.match(key):
            errs.invalid('%s.%s.key' % (path, k), key, CONFIG_KEY_MSG)


ID_MAX = 2147483647      # the largest uid or gid the API server takes
ID_MSG = 'must be between 0 and %d, inclusive' % ID_MAX


def check_id(errs, field, v):
    """validation.IsValidUserID / IsValidGroupID."""
    if v is not None and not 0 <= v <= ID_MAX:
        errs.invalid(field, v, ID_MSG)


def validate_security_context(errs, path, sc, container):
    """ValidatePodSecurityContext, or ValidateSecurityContext of a
    container: the ids in range, and no allowPrivilegeEscalation false
    with what needs it."""
    if sc is None:
        return
    check_id(errs, path + '.runAsUser', sc.get('runAsUser'))
    check_id(errs, path + '.runAsGroup', sc.get('runAsGroup'))
    if not container:
        check_id(errs, path + '.fsGroup', sc.get('fsGroup'))
        for i, g in enumerate(sc.get('supplementalGroups') or []):
            check_id(errs, '%s.supplementalGroups[%d]' % (path, i), g)
        return
    if sc.get('allowPrivilegeEscalation') is False:
        if sc.get('privileged'):
            errs.invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to '
                         'false and `privileged` to true')
        for cap in (sc.get('capabilities') or {}).get('add') or []:
            if cap == 'CAP_SYS_ADMIN':
                errs.invalid(path, sc, 'cannot set `allowPrivilegeEscalation`'
                             ' to false and `capabilities.Add` CAP_SYS_ADMIN')


def validate_pod_spec(errs, path, spec):
    validate_security_context(errs, path + '.securityContext',
                              spec.get('securityContext'), False)
    vols = {}
    for i, v in enumerate(spec.get('volumes') or []):
        f = '%s.volumes[%d]' % (path, i)
        n = v.get('name') or ''
        if n:
            check_label_name(errs, f + '.name', n)
            if n in vols:
                errs.duplicate(f + '.name', n)
            vols[n] = v
        sources = [k for k, x in v.items() if k != 'name' and x is not None]
        if not sources:
            errs.required(f, 'must specify a volume type')
        elif len(sources) > 1:
            errs.invalid(f, sources[1], 'may not specify more than 1 volume type')
        hp = v.get('hostPath')
        if hp is not None:
            if not hp.get('path'):
                errs.required(f + '.hostPath.path')
            typ = hp.get('type')
            if typ and typ not in HOST_PATH_TYPES:
                errs.not_supported(f + '.hostPath.type', typ,
                                   [''] + sorted(HOST_PATH_TYPES))
    containers = spec.get('containers') or []
    names = set()
    for group in ('initContainers', 'containers'):
        for i, c in enumerate(spec.get(group) or []):
            f = '%s.%s[%d]' % (path, group, i)
            n = c.get('name') or ''
            if n:
                check_label_name(errs, f + '.name', n)
                if n in names:
                    errs.duplicate(f + '.name', n)
                names.add(n)
            if not c.get('image'):
                errs.required(f + '.image')
            ipp = c.get('imagePullPolicy')
            if ipp is not None and ipp not in ('Always', 'IfNotPresent', 'Never'):
                errs.not_supported(f + '.imagePullPolicy', ipp,
                                   ['Always', 'IfNotPresent', 'Never'])
            for j, e in enumerate(c.get('env') or []):
                ef = '%s.env[%d]' % (f, j)
                en = e.get('name') or ''
                if en and not ENV_NAME.match(en):
                    errs.invalid(ef + '.name', en, "a valid environment "
                                 "variable name must consist of alphabetic "
                                 "characters, digits, '_', '-', or '.', and "
                                 "must not start with a digit")
                if e.get('value') and e.get('valueFrom'):
                    errs.invalid(ef + '.valueFrom', '', 'may not be specified '
                                 'when `value` is not empty')
                validate_env_source(errs, ef + '.valueFrom', e.get('valueFrom'))
            validate_resources(errs, f + '.resources', c.get('resources'))
            validate_security_context(errs, f + '.securityContext',
                                      c.get('securityContext'), True)
            paths = set()
            for j, vm in enumerate(c.get('volumeMounts') or []):
                vf = '%s.volumeMounts[%d]' % (f, j)
                if vm.get('name') and vm['name'] not in vols:
                    errs.not_found(vf + '.name', vm['name'])
                mp = vm.get('mountPath')
                if not mp:
                    errs.required(vf + '.mountPath')
                elif mp in paths:
                    errs.invalid(vf + '.mountPath', mp, 'must be unique')
                paths.add(mp)
                sub = vm.get('subPath') or ''
                if sub and vm.get('subPathExpr'):
                    errs.invalid(vf + '.subPathExpr', vm['subPathExpr'],
                                 'subPathExpr and subPath are mutually '
                                 'exclusive')
                if sub.startswith('/'):
                    errs.invalid(vf + '.subPath', sub,
                                 'must be a relative path')
                if '..' in sub.split('/'):
                    errs.invalid(vf + '.subPath', sub,
                                 "must not contain '..'")
    if not containers:
        errs.required(path + '.containers')
    nn = spec.get('nodeName')
    if nn:
        check_subdomain(errs, path + '.nodeName', nn)
    for k in ('activeDeadlineSeconds',):
        v = spec.get(k)
        if v is not None and v <= 0:
            errs.invalid('%s.%s' % (path, k), v, 'must be between 1 and '
                         '2147483647, inclusive')
    g = spec.get('terminationGracePeriodSeconds')
    if g is not None and g < 0:
        errs.invalid(path + '.terminationGracePeriodSeconds', g,
                     'must be greater than or equal to 0')
    for k, allowed in (('dnsPolicy', ['ClusterFirstWithHostNet', 'ClusterFirst',
                                      'Default', 'None']),):
        v = spec.get(k)
        if v is not None and v not in allowed:
            errs.not_supported('%s.%s' % (path, k), v, allowed)


def default_pod_spec(spec):
    spec.setdefault('restartPolicy', 'Always')
    spec.setdefault('dnsPolicy', 'ClusterFirst')
    spec.setdefault('schedulerName', 'default-scheduler')
    spec.setdefault('terminationGracePeriodSeconds', 30)
    spec.setdefault('securityContext', {})
    for c in spec.get('containers') or []:
        c.setdefault('terminationMessagePath', '/dev/termination-log')
        c.setdefault('terminationMessagePolicy', 'File')
        c.setdefault('resources', {})
        img = c.get('image') or ''
        tag = img.rsplit('/', 1)[-1]
        latest = ':' not in tag or tag.endswith(':latest')
        c.setdefault('imagePullPolicy', 'Always' if latest else 'IfNotPresent')


def validate_job(api, job, errs, uid):
    spec = job.get('spec')
    name = job['metadata'].get('name') or ''
    if spec is None:
        errs.required('spec')
        return
    for k in ('parallelism', 'completions', 'backoffLimit',
              'activeDeadlineSeconds', 'ttlSecondsAfterFinished'):
        v = spec.get(k)
        if v is not None and v < 0:
            errs.invalid('spec.' + k, v, 'must be greater than or equal to 0')
    spec.setdefault('parallelism', 1)
    spec.setdefault('completions', 1)
    spec.setdefault('backoffLimit', 6)
    spec.setdefault('completionMode', 'NonIndexed')
    spec.setdefault('suspend', False)
    cm = spec['completionMode']
    if cm not in ('NonIndexed', 'Indexed'):
        errs.not_supported('spec.completionMode', cm, ['NonIndexed', 'Indexed'])
    tmpl = spec.get('template')
    if not isinstance(tmpl, dict):
        return
    tmeta = tmpl.setdefault('metadata', {}) or {}
    tmpl['metadata'] = tmeta
    check_labels(errs, 'spec.template.metadata.labels', tmeta.get('labels'))
    if spec.get('selector') is not None and not spec.get('manualSelector'):
        errs.invalid('spec.selector', spec['selector'], '`selector` will be '
                     'auto-generated')
    if not spec.get('manualSelector'):
        labels = tmeta.setdefault('labels', {}) or {}
        tmeta['labels'] = labels
        for k in ('batch.kubernetes.io/controller-uid', 'controller-uid'):
            labels[k] = uid
        for k in ('batch.kubernetes.io/job-name', 'job-name'):
            labels[k] = name
        spec['selector'] = {'matchLabels': {
            'batch.kubernetes.io/controller-uid': uid}}
        if len(name) > 63:
            errs.invalid('spec.template.labels', name,
                         'must be no more than 63 characters')
    if not job['metadata'].get('labels'):
        job['metadata']['labels'] = {
            k: v for k, v in (tmeta.get('labels') or {}).items()}
    pspec = tmpl.get('spec')
    if not isinstance(pspec, dict):
        errs.required('spec.template.spec')
        return
    default_pod_spec(pspec)
    rp = pspec['restartPolicy']
    if rp not in ('Never', 'OnFailure'):
        errs.not_supported('spec.template.spec.restartPolicy', rp,
                           ['OnFailure', 'Never'])
    validate_pod_spec(errs, 'spec.template.spec', pspec)
    job['status'] = {}
    job['metadata']['generation'] = 1


def validate_namespace(api, obj, errs, uid):
    obj['spec'] = {'finalizers': ['kubernetes']}
    obj['status'] = {'phase': 'Active'}
    labels = obj['metadata'].setdefault('labels', {}) or {}
    obj['metadata']['labels'] = labels
    labels['kubernetes.io/metadata.name'] = obj['metadata'].get('name', '')


ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod']


def validate_pv(api, obj, errs, uid):
    spec = obj.get('spec') or {}
    obj['spec'] = spec
    modes = spec.get('accessModes') or []
    if not modes:
        errs.required('spec.accessModes')
    for m in modes:
        if m not in ACCESS_MODES:
            errs.not_supported('spec.accessModes', m, ACCESS_MODES)
    cap = spec.get('capacity') or {}
    if 'storage' not in cap:
        errs.required('spec.capacity')
    for k in cap:
        if k != 'storage':
            errs.not_supported('spec.capacity', k, ['storage'])
    non_source = {'accessModes', 'capacity', 'claimRef', 'mountOptions',
                  'nodeAffinity', 'persistentVolumeReclaimPolicy',
                  'storageClassName', 'volumeMode', 'volumeAttributesClassName'}
    sources = [k for k, v in spec.items() if k not in non_source and v is not None]
    if not sources:
        errs.required('spec', 'must specify a volume type')
    elif len(sources) > 1:
        errs.invalid('spec.' + sources[1], '', 'may not specify more than 1 '
                     'volume type')
    nfs = spec.get('nfs')
    if nfs and nfs.get('path') and not nfs['path'].startswith('/'):
        errs.invalid('spec.nfs.path', nfs['path'], 'must be an absolute path')
    spec.setdefault('persistentVolumeReclaimPolicy', 'Retain')
    spec.setdefault('volumeMode', 'Filesystem')
    rp = spec['persistentVolumeReclaimPolicy']
    if rp not in ('Delete', 'Recycle', 'Retain'):
        errs.not_supported('spec.persistentVolumeReclaimPolicy', rp,
                           ['Delete', 'Recycle', 'Retain'])
    obj['status'] = {'phase': 'Available'}


def validate_pvc(api, obj, errs, uid):
    spec = obj.get('spec')
    if spec is None:
        errs.required('spec')
        return
    modes = spec.get('accessModes') or []
    if not modes:
        errs.required('spec.accessModes', 'at least 1 access mode is required')
    for m in modes:
        if m not in ACCESS_MODES:
            errs.not_supported('spec.accessModes', m, ACCESS_MODES)
    req = ((spec.get('resources') or {}).get('requests') or {})
    if 'storage' not in req:
        errs.required('spec.resources[storage]')
    spec.setdefault('volumeMode', 'Filesystem')
    obj['status'] = {'phase': 'Pending'}


VALIDATE = {'jobs': validate_job, 'namespaces': validate_namespace,
            'persistentvolumes': validate_pv,
            'persistentvolumeclaims': validate_pvc}


def after_job(api, job):
    md = job['metadata']
    runner = JobRunner(api.sim, md['namespace'], md['name'], md['uid'])
    api.sim.runners[(md['namespace'], md['name'])] = runner
    runner.start()


def bind_claims(api, _obj):
    """The persistent volume controller: bind a claim to the volume that
    names it in claimRef, or that it names in volumeName."""
    store = api.store
    pvs, _ = store.list('persistentvolumes')
    pvcs, _ = store.list('persistentvolumeclaims')
    for pvc in pvcs:
        if pvc['status'].get('phase') == 'Bound':
            continue
        for pv in pvs:
            if pv['status'].get('phase') != 'Available':
                continue
            ref = pv['spec'].get('claimRef') or {}
            by_ref = (ref.get('name') == pvc['metadata']['name'] and
                      ref.get('namespace') == pvc['metadata']['namespace'])
            if by_ref or pvc['spec'].get('volumeName') == pv['metadata']['name']:
                pv['status']['phase'] = 'Bound'
                pv['spec']['claimRef'] = {
                    'kind': 'PersistentVolumeClaim', 'apiVersion': 'v1',
                    'namespace': pvc['metadata']['namespace'],
                    'name': pvc['metadata']['name'],
                    'uid': pvc['metadata']['uid']}
                store.put('persistentvolumes', pv, 'MODIFIED')
                pvc['spec']['volumeName'] = pv['metadata']['name']
                pvc['status'] = {'phase': 'Bound',
                                 'accessModes': pv['spec']['accessModes'],
                                 'capacity': pv['spec']['capacity']}
                store.put('persistentvolumeclaims', pvc, 'MODIFIED')
                break


AFTER_CREATE = {'jobs': after_job, 'persistentvolumes': bind_claims,
                'persistentvolumeclaims': bind_claims}

# ---------------------------------------------------------------- manifests
# The kinds of deploy/, which the server does not serve: checked as the
# real validation checks them on create (--check-manifests).


def check_path_segment(errs, field, v):
    """ValidatePathSegmentName: the names of RBAC objects."""
    if v in ('.', '..'):
        errs.invalid(field, v, 'may not be \'%s\'' % v)
    for c in ('/', '%'):
        if c in v:
            errs.invalid(field, v, 'may not contain \'%s\'' % c)


def validate_secret(api, obj, errs, uid):
    size = 0
    for field in ('data', 'stringData'):
        for k, v in (obj.get(field) or {}).items():
            if not CONFIG_KEY.match(k) or len(k) > 253:
                errs.invalid('%s[%s]' % (field, k), k, CONFIG_KEY_MSG)
            if field == 'data':
                try:
                    v = base64.b64decode(v, validate=True)
                except ValueError:
                    raise DecodeError('Secret in version "v1" cannot be '
                                      'handled as a Secret: illegal base64 '
                                      'data in data[%s]' % k)
            size += len(v)
    if size > 1 << 20:
        errs.invalid('data', '', 'Too long: must have at most 1048576 bytes')


def validate_cluster_role(api, obj, errs, uid):
    for i, r in enumerate(obj.get('rules') or []):
        f = 'rules[%d]' % i
        if r.get('nonResourceURLs'):
            if r.get('apiGroups') or r.get('resources'):
                errs.invalid(f + '.nonResourceURLs', r['nonResourceURLs'],
                             'rules cannot apply to both regular resources '
                             'and non-resource URLs')
            continue
        if not r.get('apiGroups'):
            errs.required(f + '.apiGroups', 'resource rules must supply at '
                          'least one api group')
        if not r.get('resources'):
            errs.required(f + '.resources', 'resource rules must supply at '
                          'least one resource')


RBAC_GROUP = 'rbac.authorization.k8s.io'


def validate_cluster_role_binding(api, obj, errs, uid):
    ref = obj.get('roleRef') or {}
    if ref.get('apiGroup') and ref['apiGroup'] != RBAC_GROUP:
        errs.not_supported('roleRef.apiGroup', ref['apiGroup'], [RBAC_GROUP])
    if ref.get('kind') and ref['kind'] != 'ClusterRole':
        errs.not_supported('roleRef.kind', ref['kind'], ['ClusterRole'])
    if ref.get('name'):
        check_path_segment(errs, 'roleRef.name', ref['name'])
    for i, sj in enumerate(obj.get('subjects') or []):
        f = 'subjects[%d]' % i
        kind = sj.get('kind')
        if kind == 'ServiceAccount':
            if sj.get('apiGroup'):
                errs.not_supported(f + '.apiGroup', sj['apiGroup'], [''])
            if sj.get('name'):
                check_subdomain(errs, f + '.name', sj['name'])
            if not sj.get('namespace'):
                errs.required(f + '.namespace')
        elif kind in ('User', 'Group'):
            if sj.get('apiGroup') != RBAC_GROUP:
                errs.not_supported(f + '.apiGroup', sj.get('apiGroup') or '',
                                   [RBAC_GROUP])
        elif kind is not None:
            errs.not_supported(f + '.kind', kind,
                               ['ServiceAccount', 'User', 'Group'])


def selector_matches(sel, labels):
    for k, v in (sel.get('matchLabels') or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get('matchExpressions') or []:
        k, op, vals = e.get('key'), e.get('operator'), e.get('values') or []
        if op == 'In' and labels.get(k) not in vals or \
                op == 'NotIn' and labels.get(k) in vals or \
                op == 'Exists' and k not in labels or \
                op == 'DoesNotExist' and k in labels:
            return False
    return True


def validate_deployment(api, obj, errs, uid):
    spec = obj.get('spec')
    if spec is None:
        errs.required('spec')
        return
    for k in ('replicas', 'minReadySeconds', 'revisionHistoryLimit',
              'progressDeadlineSeconds'):
        v = spec.get(k)
        if v is not None and v < 0:
            errs.invalid('spec.' + k, v, 'must be greater than or equal to 0')
    pds, mrs = spec.get('progressDeadlineSeconds'), spec.get('minReadySeconds')
    if pds is not None and mrs is not None and pds <= mrs:
        errs.invalid('spec.progressDeadlineSeconds', pds, 'must be greater '
                     'than minReadySeconds')
    tmpl = spec.get('template') or {}
    labels = (tmpl.get('metadata') or {}).get('labels') or {}
    check_labels(errs, 'spec.template.metadata.labels', labels)
    sel = spec.get('selector')
    if sel is not None:
        for i, e in enumerate(sel.get('matchExpressions') or []):
            op = e.get('operator')
            if op not in ('In', 'NotIn', 'Exists', 'DoesNotExist'):
                errs.not_supported('spec.selector.matchExpressions[%d].'
                                   'operator' % i, op,
                                   ['In', 'NotIn', 'Exists', 'DoesNotExist'])
        if not sel.get('matchLabels') and not sel.get('matchExpressions'):
            errs.invalid('spec.selector', sel, 'empty selector is invalid '
                         'for deployment')
        elif not selector_matches(sel, labels):
            errs.invalid('spec.template.metadata.labels', labels,
                         '`selector` does not match template `labels`')
    st = spec.get('strategy') or {}
    typ = st.get('type') or 'RollingUpdate'
    if typ not in ('Recreate', 'RollingUpdate'):
        errs.not_supported('spec.strategy.type', typ,
                           ['Recreate', 'RollingUpdate'])
    if typ == 'Recreate' and st.get('rollingUpdate') is not None:
        errs.forbidden('spec.strategy.rollingUpdate', 'may not be specified '
                       'when strategy `type` is \'Recreate\'')
    pspec = tmpl.get('spec')
    if not isinstance(pspec, dict):
        return
    default_pod_spec(pspec)
    if pspec['restartPolicy'] != 'Always':
        errs.not_supported('spec.template.spec.restartPolicy',
                           pspec['restartPolicy'], ['Always'])
    san = pspec.get('serviceAccountName')
    if san:
        check_subdomain(errs, 'spec.template.spec.serviceAccountName', san)
    validate_pod_spec(errs, 'spec.template.spec', pspec)


# (apiVersion, kind) -> (model, group, namespaced, name rule, validation)
MANIFEST_KINDS = {
    ('v1', 'ServiceAccount'): ('V1ServiceAccount', '', True, 'subdomain',
                               None),
    ('v1', 'Secret'): ('V1Secret', '', True, 'subdomain', validate_secret),
    ('rbac.authorization.k8s.io/v1', 'ClusterRole'): (
        'V1ClusterRole', RBAC_GROUP, False, 'segment', validate_cluster_role),
    ('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'): (
        'V1ClusterRoleBinding', RBAC_GROUP, False, 'segment',
        validate_cluster_role_binding),
    ('apps/v1', 'Deployment'): ('V1Deployment', 'apps', True, 'subdomain',
                                validate_deployment),
}
for _r in RESOURCES.values():
    MANIFEST_KINDS[(_r.api_version, _r.kind)] = (
        _r.model, _r.group, _r.namespaced, _r.name_rule, VALIDATE.get(_r.name))


def check_manifest(schema, obj):
    """The problems a server with strict field validation finds in obj on
    create, as the messages of its Status ([] when there are none)."""
    if not isinstance(obj, dict):
        return ['the object provided is unrecognized: not a JSON object']
    av, kind = obj.get('apiVersion'), obj.get('kind')
    known = MANIFEST_KINDS.get((av, kind))
    if known is None:
        return ['no matches for kind "%s" in version "%s"' % (kind, av)]
    model, group, namespaced, rule, validate = known
    version = av.split('/')[-1]
    obj = copy.deepcopy(obj)    # the validation sets defaults
    unknown = []
    try:
        missing = schema.decode(obj, model, kind, unknown,
                                skip_required_under=('status',))
    except DecodeError as e:
        return [str(e)]
    if unknown:
        return ['%s in version "%s" cannot be handled as a %s: strict '
                'decoding error: %s' % (kind, version, kind, ', '.join(
                    'unknown field "%s"' % u for u in unknown))]
    md = obj.get('metadata') or {}
    obj['metadata'] = md
    name = md.get('name') or ''
    errs = FieldErrors()
    for m in missing:
        errs.required(m)
    if not name:
        errs.required('metadata.name', 'name or generateName is required')
    elif rule == 'label':
        check_label_name(errs, 'metadata.name', name)
    elif rule == 'segment':
        check_path_segment(errs, 'metadata.name', name)
    else:
        check_subdomain(errs, 'metadata.name', name)
    if namespaced and md.get('namespace'):
        check_label_name(errs, 'metadata.namespace', md['namespace'])
    check_labels(errs, 'metadata.labels', md.get('labels'))
    for k in (md.get('annotations') or {}):
        if not qualified_name_ok(k):
            errs.invalid('metadata.annotations', k, 'name part must '
                         'consist of alphanumeric characters, \'-\', '
                         '\'_\' or \'.\'')
    try:
        if validate:
            validate(None, obj, errs, 'check')
        errs.raise_if_any(kind + ('.' + group if group else ''), name, group,
                          kind)
    except DecodeError as e:
        return [str(e)]
    except ApiError as e:
        return [e.message]
    return []


def check_manifest_files(paths):
    """--check-manifests: every document of each file; 0 or 1."""
    yaml = import_yaml()
    schema, bad = Schema(), 0
    for path in paths:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for i, doc in enumerate(docs):
            what = '%s: document %d' % (path, i + 1)
            if isinstance(doc, dict):
                what += ' (%s %s)' % (doc.get('kind'), (
                    doc.get('metadata') or {}).get('name'))
            for msg in check_manifest(schema, doc):
                print('%s: %s' % (what, msg))
                bad = 1
    return bad

# ---------------------------------------------------------------- tables


def wants_table(h):
    return 'as=Table' in (h.headers.get('Accept') or '')


def age(ts):
    t = parse_time(ts or '')
    if not t:
        return '<unknown>'
    s = int((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    return '%ds' % s if s < 120 else '%dm' % (s // 60)


def table_row(r, o):
    md, st = o['metadata'], o.get('status') or {}
    if r.name == 'nodes':
        return [md['name'], 'Ready' if node_ready(o) else 'NotReady',
                '<none>', age(md.get('creationTimestamp')),
                SERVER_VERSION['gitVersion']]
    if r.name == 'jobs':
        types = [c['type'] for c in st.get('conditions') or []
                 if c.get('status') == 'True']
        status = 'Complete' if 'Complete' in types else 'Failed' \
            if 'Failed' in types else 'Running'
        return [md['name'], status, '%d/%d' % (st.get('succeeded', 0),
                                               o['spec'].get('completions', 1)),
                '', age(md.get('creationTimestamp'))]
    if r.name == 'pods':
        cs = st.get('containerStatuses') or []
        ready = sum(1 for c in cs if c.get('ready'))
        status = st.get('phase', 'Pending')
        for c in cs:
            for k in ('waiting', 'terminated'):
                w = c.get('state', {}).get(k)
                if w and w.get('reason'):
                    status = w['reason']
        return [md['name'], '%d/%d' % (ready, len(o['spec']['containers'])),
                status, sum(c.get('restartCount', 0) for c in cs),
                age(md.get('creationTimestamp'))]
    return [md['name'], st.get('phase', ''), age(md.get('creationTimestamp'))]


TABLE_COLUMNS = {
    'nodes': ['Name', 'Status', 'Roles', 'Age', 'Version'],
    'jobs': ['Name', 'Status', 'Completions', 'Duration', 'Age'],
    'pods': ['Name', 'Ready', 'Status', 'Restarts', 'Age'],
}


def table(r, items, rv, single=False):
    cols = TABLE_COLUMNS.get(r.name, ['Name', 'Status', 'Age'])
    rows = []
    for o in items:
        rows.append({'cells': table_row(r, o), 'object': {
            'kind': 'PartialObjectMetadata', 'apiVersion': 'meta.k8s.io/v1',
            'metadata': o['metadata']}})
    return {'kind': 'Table', 'apiVersion': 'meta.k8s.io/v1',
            'metadata': {'resourceVersion': rv or ''},
            'columnDefinitions': [] if single else [
                {'name': c, 'type': 'integer' if c == 'Restarts' else 'string',
                 'format': 'name' if c == 'Name' else '', 'description': c,
                 'priority': 0} for c in cols],
            'rows': rows}

# ---------------------------------------------------------------- discovery


def api_resource(r, sub=None, verbs=None):
    d = {'name': r.name + ('/' + sub if sub else ''),
         'singularName': '' if sub else r.singular,
         'namespaced': r.namespaced, 'kind': r.kind,
         'verbs': verbs if verbs is not None else r.verbs}
    if not sub:
        if r.short:
            d['shortNames'] = r.short
        if r.name in ('jobs', 'pods', 'persistentvolumeclaims'):
            d['categories'] = ['all']
    if sub == 'log':
        d['kind'] = 'Pod'
    return d


def core_resources(sim):
    out = []
    for n in ('namespaces', 'nodes', 'persistentvolumeclaims',
              'persistentvolumes', 'pods'):
        out.append(api_resource(RESOURCES[n]))
        if n == 'pods':
            out.append(api_resource(RESOURCES[n], 'log', ['get']))
    return {'kind': 'APIResourceList', 'groupVersion': 'v1', 'resources': out}


def batch_group():
    return {'name': 'batch', 'versions': [
        {'groupVersion': 'batch/v1', 'version': 'v1'}],
        'preferredVersion': {'groupVersion': 'batch/v1', 'version': 'v1'}}


DISCOVERY_PATHS = {
    '/version': lambda sim: SERVER_VERSION,
    '/api': lambda sim: {
        'kind': 'APIVersions', 'versions': ['v1'],
        'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0',
                                        'serverAddress': '127.0.0.1:%d' % sim.port}]},
    '/api/v1': core_resources,
    '/apis': lambda sim: {'kind': 'APIGroupList', 'apiVersion': 'v1',
                          'groups': [batch_group()]},
    '/apis/batch': lambda sim: dict(batch_group(), kind='APIGroup',
                                    apiVersion='v1'),
    '/apis/batch/v1': lambda sim: {
        'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': 'batch/v1',
        'resources': [api_resource(RESOURCES['jobs']),
                      api_resource(RESOURCES['jobs'], 'status', ['get'])]},
}


def openapi(api, path):
    """Just enough OpenAPI v3 for kubectl to learn that the server does
    field validation (it then sends fieldValidation=Strict)."""
    h = api.h
    if path == '/openapi/v3':
        return h.send_json(200, {'paths': {
            'api/v1': {'serverRelativeURL': '/openapi/v3/api/v1?hash=sim'},
            'apis/batch/v1': {'serverRelativeURL': '/openapi/v3/apis/batch/v1?hash=sim'}}})
    gv = {'/openapi/v3/api/v1': ('', 'v1'),
          '/openapi/v3/apis/batch/v1': ('batch', 'v1')}.get(path)
    if gv is None:
        raise ApiError(404, 'NotFound', 'the server could not find the '
                       'requested resource', {})
    paths = {}
    for r in RESOURCES.values():
        if r.group != gv[0]:
            continue
        base = ('/apis/%s/v1' % r.group) if r.group else '/api/v1'
        coll = base + ('/namespaces/{namespace}/' if r.namespaced else '/') + r.name
        gvk = {'group': r.group, 'version': 'v1', 'kind': r.kind}
        fv = {'name': 'fieldValidation', 'in': 'query',
              'schema': {'type': 'string', 'uniqueItems': True}}
        paths[coll] = {'post': {'x-kubernetes-action': 'post',
                                'x-kubernetes-group-version-kind': gvk,
                                'parameters': [fv]},
                       'get': {'x-kubernetes-action': 'list',
                               'x-kubernetes-group-version-kind': gvk}}
        paths[coll + '/{name}'] = {
            'patch': {'x-kubernetes-action': 'patch',
                      'x-kubernetes-group-version-kind': gvk,
                      'parameters': [fv]},
            'put': {'x-kubernetes-action': 'put',
                    'x-kubernetes-group-version-kind': gvk,
                    'parameters': [fv]}}
    return h.send_json(200, {'openapi': '3.0.0', 'info': {
        'title': 'Kubernetes', 'version': SERVER_VERSION['gitVersion']},
        'paths': paths, 'components': {'schemas': {}}})

# ---------------------------------------------------------------- admin


class AdminHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *a):
        pass

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(n) if n else b''
        return json.loads(raw) if raw.strip() else {}

    def do_GET(self):
        sim = self.server.sim
        if self.path == '/nodes':
            return self.reply(200, [node_spec_of(n) for n in sim.store.list('nodes')[0]])
        if self.path == '/state':
            with sim.store.lock:
                st = {'resourceVersion': sim.store.rv, 'floor': sim.store.floor,
                      'watches': len(sim.store.watchers),
                      'history': len(sim.store.history),
                      'requests': sim.counts['requests'],
                      'processes': len(sim.pods),
                      'objects': collections.Counter(
                          k[0] for k in sim.store.objects),
                      'faults': sim.faults.describe(),
                      'created': dict(sim.store.created),
                      'held_checks': dict(sim.held_checks),
                      'memory_limits': sim.memory.describe()}
            return self.reply(200, st)
        self.reply(404, {'error': 'no such path'})

    def do_PUT(self):
        try:
            if self.path == '/nodes':
                self.server.sim.set_nodes(self.body())
                return self.reply(200, {'ok': True})
        except (ValueError, TypeError) as e:
            return self.reply(400, {'error': str(e)})
        self.reply(404, {'error': 'no such path'})

    def do_DELETE(self):
        if self.path == '/faults':
            self.server.sim.faults.clear()
            return self.reply(200, {'ok': True})
        self.reply(404, {'error': 'no such path'})

    def do_POST(self):
        sim = self.server.sim
        try:
            b = self.body()
            if self.path == '/faults':
                for spec in (b if isinstance(b, list) else [b]):
                    sim.faults.add(spec)
                return self.reply(200, {'ok': True})
            if self.path == '/compact':
                return self.reply(200, {'floor': sim.store.compact()})
            if self.path == '/tokens':
                token = secrets.token_urlsafe(32)
                expires = time.time() + float(b.get('ttl', 3600))
                sim.token_expiry[token] = expires
                sim.tokens.append(token)
                return self.reply(200, {'token': token, 'expires': (
                    datetime.datetime.fromtimestamp(
                        expires, datetime.timezone.utc).strftime(
                        '%Y-%m-%dT%H:%M:%S.%fZ'))})
            if self.path == '/cut-watches':
                return self.reply(200, {'cut': sim.store.cut_watches(
                    bool(b.get('clean', False)))})
            if self.path == '/chaos':
                sim.chaos.update({k: float(v) for k, v in b.items()
                                  if k in ('cut_watches_every', 'compact_every')})
                return self.reply(200, sim.chaos)
            m = re.match(r'^/nodes/([^/]+)$', self.path)
            if m:
                sim.patch_node(m.group(1), b)
                return self.reply(200, {'ok': True})
        except (ValueError, TypeError, re.error) as e:
            return self.reply(400, {'error': str(e)})
        self.reply(404, {'error': 'no such path'})


def chaos_loop(sim):
    last = collections.defaultdict(time.monotonic)
    while True:
        time.sleep(0.1)
        now = time.monotonic()
        for k, fn in (('cut_watches_every', lambda: sim.store.cut_watches(False)),
                      ('compact_every', sim.store.compact)):
            every = sim.chaos.get(k, 0)
            if every and now - last[k] >= every:
                last[k] = now
                fn()

# ---------------------------------------------------------------- TLS


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


UNTRUSTED_CA_CN = 'kube-sim-untrusted-ca'


def make_pki(d, ca_cert=None, ca_key=None):
    """A CA (unless given), a server certificate for 127.0.0.1 and
    localhost, and a client certificate, with the openssl command; and a
    CA the server does not trust with a client certificate of its own.
    Returns the paths of the two CAs."""
    ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
    if not ca_cert:
        ca_cert, ca_key = os.path.join(d, 'ca.crt'), os.path.join(d, 'ca.key')
        run(['openssl', 'req', '-x509', *ec, '-keyout', ca_key, '-out', ca_cert,
             '-days', '30', '-subj', '/CN=kube-sim-ca'])
    bad_cert = os.path.join(d, 'untrusted-ca.crt')
    bad_key = os.path.join(d, 'untrusted-ca.key')
    run(['openssl', 'req', '-x509', *ec, '-keyout', bad_key, '-out', bad_cert,
         '-days', '30', '-subj', '/CN=' + UNTRUSTED_CA_CN])
    ext = os.path.join(d, 'ext.cnf')
    with open(ext, 'w') as f:
        f.write('[srv]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n'
                'extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n'
                '[cli]\nextendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n')
    for who, subj, sect, ca, cakey in (
            ('server', '/CN=kube-apiserver', 'srv', ca_cert, ca_key),
            ('client', '/O=system:masters/CN=kube-sim-admin', 'cli', ca_cert,
             ca_key),
            ('untrusted-client', '/O=system:masters/CN=kube-sim-admin', 'cli',
             bad_cert, bad_key)):
        key, csr, crt = (os.path.join(d, who + x) for x in ('.key', '.csr', '.crt'))
        run(['openssl', 'req', '-new', *ec, '-keyout', key, '-out', csr,
             '-subj', subj])
        run(['openssl', 'x509', '-req', '-in', csr, '-CA', ca, '-CAkey',
             cakey, '-CAcreateserial', '-out', crt, '-days', '30',
             '-extfile', ext, '-extensions', sect])
    return ca_cert, bad_cert


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def get_request(self):
        sock, addr = self.socket.accept()
        # as Go's net/http: no Nagle delay between headers and body
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        if self.sim.args.verbose:
            traceback.print_exc()


class AdminServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def b64file(path):
    with open(path, 'rb') as f:
        return base64.b64encode(f.read()).decode()


def write_atomic(path, text, mode=0o644):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def kubeconfig(port, ca, token, pki):
    return '\n'.join([
        'apiVersion: v1', 'kind: Config', 'preferences: {}',
        'clusters:', '- name: kube-sim', '  cluster:',
        '    server: https://127.0.0.1:%d' % port,
        '    certificate-authority-data: %s' % b64file(ca),
        'contexts:', '- name: kube-sim', '  context:',
        '    cluster: kube-sim', '    user: kube-sim-token',
        '    namespace: default',
        '- name: kube-sim-cert', '  context:', '    cluster: kube-sim',
        '    user: kube-sim-cert',
        'current-context: kube-sim',
        'users:', '- name: kube-sim-token', '  user:',
        '    token: %s' % token,
        '- name: kube-sim-cert', '  user:',
        '    client-certificate-data: %s' % b64file(os.path.join(pki, 'client.crt')),
        '    client-key-data: %s' % b64file(os.path.join(pki, 'client.key')),
        ''])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--state-dir', help='work directory (default: a new '
                    'temporary one)')
    ap.add_argument('--port', type=int, default=0, help='0: a free port')
    ap.add_argument('--port-file')
    ap.add_argument('--admin-port', type=int, default=0)
    ap.add_argument('--admin-port-file')
    ap.add_argument('--kubeconfig-out')
    ap.add_argument('--token-file', help='bearer token(s), one a line; '
                    'written with a new token if missing')
    ap.add_argument('--ca-cert', help='sign with this CA instead of a new one')
    ap.add_argument('--ca-key')
    ap.add_argument('--nodes-file', help='JSON list of nodes: name, ready, '
                    'memoryPressure, diskPressure, capacity, labels')
    ap.add_argument('--log', help='request log, one JSON line a request')
    ap.add_argument('--history', type=int, default=10000,
                    help='events kept for watches')
    ap.add_argument('--bookmark-interval', type=float, default=2.0)
    ap.add_argument('--watch-timeout', type=int, default=1800,
                    help='watch length when the client gives none')
    ap.add_argument('--max-grace', type=float, default=2.0,
                    help='cap on a pod\'s termination grace period')
    ap.add_argument('--pod-backoff', type=float, default=1.0,
                    help='seconds before a failed pod is replaced')
    ap.add_argument('--condition-gap', type=float, default=0.05,
                    help='seconds between SuccessCriteriaMet/FailureTarget '
                    'and Complete/Failed')
    ap.add_argument('--verbose', action='store_true')
    ap.add_argument('--check-manifests', nargs='+', metavar='FILE',
                    help='check the documents of FILE... and exit')
    ap.add_argument('--check-pods', action='store_true',
                    help='exit 0 if pods can run here (root, mount '
                    'namespaces), else 1 with the reason on stderr')
    args = ap.parse_args()
    if args.check_manifests:
        sys.exit(check_manifest_files(args.check_manifests))
    if args.check_pods:
        d = tempfile.mkdtemp(prefix='kube-sim-check-')
        why = check_pod_roots(d)
        os.rmdir(d)
        if why:
            sys.stderr.write('%s\n' % why)
        sys.exit(1 if why else 0)
    if not args.state_dir:
        args.state_dir = tempfile.mkdtemp(prefix='kube-sim-')
    os.makedirs(args.state_dir, exist_ok=True)
    rootfs = os.path.join(args.state_dir, 'rootfs')
    os.makedirs(rootfs, exist_ok=True)
    why = check_pod_roots(rootfs)
    if why:
        # Never pods on the host's file system instead.
        sys.stderr.write('kube-sim: cannot give pods a root of their own '
                         '(%s): it needs root, for mount namespaces\n' % why)
        sys.exit(EXIT_NO_PODS)
    pki = os.path.join(args.state_dir, 'pki')
    os.makedirs(pki, exist_ok=True)
    ca, untrusted_ca = make_pki(pki, args.ca_cert, args.ca_key)
    token_file = args.token_file or os.path.join(args.state_dir, 'token')
    if not os.path.exists(token_file):
        write_atomic(token_file, secrets.token_urlsafe(32) + '\n', 0o600)
    with open(token_file) as f:
        tokens = [t.strip() for t in f if t.strip()]

    sim = Sim(args)
    sim.tokens = tokens
    sim.token_expiry = {}       # token -> time.time() it expires at
    sim.untrusted_issuer = ((('commonName', UNTRUSTED_CA_CN),),)
    sim.chaos = {}
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(pki, 'server.crt'),
                        os.path.join(pki, 'server.key'))
    ctx.load_verify_locations(ca)
    ctx.load_verify_locations(untrusted_ca)     # see the docstring
    ctx.verify_mode = ssl.CERT_OPTIONAL
    srv = TLSServer(('127.0.0.1', args.port), Handler)
    srv.ctx, srv.sim = ctx, sim
    sim.port = srv.server_address[1]
    admin = AdminServer(('127.0.0.1', args.admin_port), AdminHandler)
    admin.sim = sim
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    threading.Thread(target=chaos_loop, args=(sim,), daemon=True).start()

    def stop(*_):
        sim.shutdown()
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.kubeconfig_out:
        write_atomic(args.kubeconfig_out, kubeconfig(sim.port, ca, tokens[0], pki),
                     0o600)
    if args.admin_port_file:
        write_atomic(args.admin_port_file, '%d\n' % admin.server_address[1])
    if args.port_file:
        write_atomic(args.port_file, '%d\n' % sim.port)
    sys.stderr.write('kube-sim: https://127.0.0.1:%d admin http://127.0.0.1:%d '
                     'state %s\n' % (sim.port, admin.server_address[1],
                                     args.state_dir))
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        sim.shutdown()


if __name__ == '__main__':
    main()
