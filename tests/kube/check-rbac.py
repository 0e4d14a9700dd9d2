#!/usr/bin/env python3
"""check-rbac.py - does deploy/'s ClusterRole grant exactly what Orchestra
asks of the API server?

    check-rbac.py REQUESTS_LOG MANIFEST [-v]

REQUESTS_LOG is kube-sim.py's request log of a real run (the one of
tests/cli/t0201-kube-pilot.sh, which does everything Orchestra does
without faults: user add --kubernetes, node sync, the pilot's jobs, kills
and logs).  Each of Orchestra's requests (no User-Agent, as libcurl sends
none unless told, or one starting with "orchestra"; the test's own
requests with Python's urllib are not Orchestra's) is mapped to the
(apiGroup, resource, verb) the API server authorizes, as its RequestInfo
does: GET of a collection is list (watch with ?watch=1), of a name get,
POST create, PUT update, PATCH patch, DELETE of a name delete, of a
collection deletecollection; a subresource is "resource/sub".  MANIFEST's
ClusterRole (the only one in it) is expanded the same way.

Fails, naming them, when a request was made that no rule grants, or a rule
grants what no request used, except the grants of OPTIONAL, used only on
paths a run without faults does not take (each says why).
"""

import json
import sys

try:
    import yaml
except ImportError:
    # An interpreter other than Debian's: python3-yaml's directory.
    sys.path.append('/usr/lib/python3/dist-packages')
    import yaml

# Granted, and not necessarily used in a run without faults.
OPTIONAL = {
    ('batch', 'jobs', 'get'):
        'a Job is read by name only after its create timed out, so that it '
        'is not made twice',
    ('', 'namespaces', 'get'): 'the same, for user add --kubernetes',
    ('', 'persistentvolumes', 'get'): 'the same',
    ('', 'persistentvolumeclaims', 'get'): 'the same',
    ('batch', 'jobs', 'patch'):
        'a Job killed within the create hold is suspended before its '
        'delete; the tests run with no hold but t0212',
}

# Allowed to every authenticated user by the default ClusterRoles
# system:discovery and system:public-info-viewer: no rule needed.
PUBLIC = {'version', 'healthz', 'livez', 'readyz', 'openapi'}


def is_public(parts):
    """Discovery (/api, /api/v1, /apis, /apis/G, /apis/G/V) and the like."""
    return parts[0] in PUBLIC or parts[0] == 'api' and len(parts) <= 2 or \
        parts[0] == 'apis' and len(parts) <= 3


# The namespace's own subresources (/api/v1/namespaces/NAME/status).
NAMESPACE_SUBRESOURCES = {'status', 'finalize'}


def request_info(method, path, query):
    """(group, resource, verb) of a resource request, None for a public
    non-resource path; ValueError for anything else."""
    parts = path.strip('/').split('/')
    if is_public(parts):
        return None
    if parts[0] == 'api' and len(parts) >= 3:
        group, parts = '', parts[2:]
    elif parts[0] == 'apis' and len(parts) >= 4:
        group, parts = parts[1], parts[3:]
    else:
        raise ValueError('not a resource path: %s' % path)
    watch = query.get('watch') in ('1', 'true')
    if parts[0] == 'watch':     # the old form, /api/v1/watch/pods
        parts, watch = parts[1:], True
    if parts[0] == 'namespaces' and len(parts) > 2 and \
            parts[2] not in NAMESPACE_SUBRESOURCES:
        parts = parts[2:]
    resource = parts[0]
    name = parts[1] if len(parts) > 1 else None
    if len(parts) > 2:
        resource += '/' + parts[2]
    verb = {
        'GET': 'watch' if watch else ('get' if name else 'list'),
        'POST': 'create', 'PUT': 'update', 'PATCH': 'patch',
        'DELETE': 'delete' if name else 'deletecollection',
    }.get(method)
    if verb is None:
        raise ValueError('no verb for %s %s' % (method, path))
    return group, resource, verb


def is_orchestra(entry):
    agent = entry.get('agent') or ''
    return agent == '' or agent.lower().startswith('orchestra')


def used(log_path):
    out = {}
    with open(log_path) as f:
        for line in f:
            e = json.loads(line)
            if not is_orchestra(e):
                continue
            info = request_info(e['method'], e['path'], e.get('query') or {})
            if info is not None:
                out.setdefault(info, '%s %s' % (e['method'], e['path']))
    return out


def granted(manifest_path):
    with open(manifest_path) as f:
        roles = [d for d in yaml.safe_load_all(f)
                 if isinstance(d, dict) and d.get('kind') == 'ClusterRole']
    if len(roles) != 1:
        raise ValueError('%s: %d ClusterRoles, expected one' % (
            manifest_path, len(roles)))
    out = set()
    for rule in roles[0].get('rules') or []:
        if rule.get('nonResourceURLs') or rule.get('resourceNames'):
            raise ValueError('a rule with nonResourceURLs or resourceNames: '
                             'Orchestra needs neither')
        for g in rule['apiGroups']:
            for r in rule['resources']:
                for v in rule['verbs']:
                    if '*' in (g, r, v):
                        raise ValueError('a wildcard in %s' % rule)
                    out.add((g, r, v))
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    use, grant = used(sys.argv[1]), granted(sys.argv[2])
    if '-v' in sys.argv[3:]:
        for k in sorted(use):
            print('# used: %s (%s)' % (k, use[k]))
    bad = False
    for k in sorted(set(use) - grant):
        print('# not granted: %s, used by %s' % (k, use[k]))
        bad = True
    for k in sorted(grant - set(use)):
        if k in OPTIONAL:
            print('# granted, not used in this run: %s: %s' % (k, OPTIONAL[k]))
            continue
        print('# granted, never used: %s' % (k,))
        bad = True
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
