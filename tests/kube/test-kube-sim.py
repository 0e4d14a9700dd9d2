#!/usr/bin/env python3
"""test-kube-sim.py - the Kubernetes API simulator, checked by itself.

    python3 tests/kube/test-kube-sim.py [-v] [TestSim.test_name ...]

Starts kube-sim.py on loopback with a private state directory and talks to
it over TLS with the standard library: authentication, strict rejection of
bodies, Jobs that run to Complete and Failed, logs, watch semantics, deletion,
fault injection, securityContext (validated, and applied to the pod's
process: its uid, gid, groups, capabilities, no_new_privs, runAsNonRoot),
what a pod sees (its own root: the system read-only and its volumes, no
other host file; claims, hostPath, emptyDir, readOnly, subPath, a
missing export or directory holding the pod, workingDir made); and
kubectl against it when kubectl is installed.  The simulator needs root
(mount namespaces): without, every test is skipped (exit 77).
"""

import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, 'kube-sim.py')
# kube-sim.py's exit status when it cannot give pods roots of their own
# (not root): every test here is skipped
EXIT_NO_PODS = 3

NODES = [
    {'name': 'node-a', 'capacity': {'cpu': '16', 'nvidia.com/gpu': '2'}},
    {'name': 'node-b', 'ready': False},
    {'name': 'node-c', 'memoryPressure': True, 'diskPressure': True},
]


def mount(j, name, path, volume=None, **vm):
    """Mount a volume in the Job's container at `path`: a hostPath
    Directory of `path` itself unless `volume` gives its source."""
    p = j['spec']['template']['spec']
    p.setdefault('volumes', []).append(dict(
        name=name, **(volume or {'hostPath': {'path': path,
                                              'type': 'Directory'}})))
    p['containers'][0].setdefault('volumeMounts', []).append(dict(
        name=name, mountPath=path, **vm))
    return j


def job(name, cmd, **spec):
    pod = {'restartPolicy': 'Never',
           'containers': [{'name': 'main', 'image': 'busybox:1.36',
                           'command': ['/bin/sh', '-c', cmd]}]}
    pod.update(spec.pop('pod', {}))
    s = {'backoffLimit': 0, 'template': {'spec': pod}}
    s.update(spec)
    labels = s.pop('labels', {'app': 'sim-test'})
    return {'apiVersion': 'batch/v1', 'kind': 'Job',
            'metadata': {'name': name, 'labels': labels}, 'spec': s}


class Sim:
    """One simulator process and its files."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='kube-sim-test-')
        with open(os.path.join(self.dir, 'nodes.json'), 'w') as f:
            json.dump(NODES, f)
        self.kubeconfig = os.path.join(self.dir, 'kubeconfig')
        self.log = os.path.join(self.dir, 'requests.log')
        self.stderr = open(os.path.join(self.dir, 'stderr'), 'w')
        self.state = os.path.join(self.dir, 'state')
        # a host directory the tests' pods mount at the same path (mount())
        self.shared = os.path.join(self.dir, 'shared')
        os.mkdir(self.shared)
        self.proc = subprocess.Popen(
            [sys.executable, SIM, '--state-dir', self.state,
             '--port-file', os.path.join(self.dir, 'port'),
             '--admin-port-file', os.path.join(self.dir, 'admin-port'),
             '--kubeconfig-out', self.kubeconfig, '--log', self.log,
             '--nodes-file', os.path.join(self.dir, 'nodes.json'),
             '--bookmark-interval', '0.5'],
            stderr=self.stderr, stdout=subprocess.DEVNULL)
        port_file = os.path.join(self.dir, 'port')
        deadline = time.time() + 60
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                with open(os.path.join(self.dir, 'stderr')) as f:
                    why = f.read()
                shutil.rmtree(self.dir, ignore_errors=True)
                if self.proc.returncode == EXIT_NO_PODS:
                    raise unittest.SkipTest(why.strip())
                raise RuntimeError('kube-sim did not start: ' + why)
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        with open(os.path.join(self.dir, 'admin-port')) as f:
            self.admin_port = int(f.read())
        with open(os.path.join(self.dir, 'state', 'token')) as f:
            self.token = f.read().strip()
        self.pki = os.path.join(self.dir, 'state', 'pki')
        self.ctx = ssl.create_default_context(
            cafile=os.path.join(self.pki, 'ca.crt'))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()

    def conn(self, ctx=None, timeout=30):
        return http.client.HTTPSConnection('127.0.0.1', self.port,
                                           context=ctx or self.ctx,
                                           timeout=timeout)

    def admin(self, method, path, body=None):
        c = http.client.HTTPConnection('127.0.0.1', self.admin_port, timeout=10)
        c.request(method, path, json.dumps(body) if body is not None else None,
                  {'Content-Type': 'application/json'})
        r = c.getresponse()
        data = json.loads(r.read() or b'null')
        c.close()
        if r.status != 200:
            raise AssertionError('admin %s %s: %s' % (method, path, data))
        return data


class TestSim(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Sim()
        cls.c = cls.sim.conn()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.sim.stop()
        shutil.rmtree(cls.sim.dir, ignore_errors=True)

    def setUp(self):
        self.sim.admin('DELETE', '/faults')

    # ---- helpers
    def call(self, method, path, body=None, params=None, token=True,
             conn=None, raw=False, headers=None):
        c = conn or self.c
        if params:
            path += '?' + urllib.parse.urlencode(params)
        h = {'Accept': 'application/json'}
        if token is True:
            h['Authorization'] = 'Bearer ' + self.sim.token
        elif token:
            h['Authorization'] = 'Bearer ' + token
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            h['Content-Type'] = 'application/json'
        h.update(headers or {})
        try:
            c.request(method, path, body, h)
            r = c.getresponse()
            data = r.read()
        except (http.client.HTTPException, OSError):
            c.close()
            raise
        if raw:
            return r.status, data, r
        return r.status, json.loads(data) if data else None

    def create_job(self, body, ns='default', expect=201):
        st, out = self.call('POST', '/apis/batch/v1/namespaces/%s/jobs' % ns, body)
        self.assertEqual(st, expect, out)
        return out

    def get_job(self, name, ns='default'):
        st, out = self.call('GET', '/apis/batch/v1/namespaces/%s/jobs/%s' % (ns, name))
        return out if st == 200 else None

    def wait_job(self, name, cond, timeout=20, ns='default'):
        deadline = time.time() + timeout
        while time.time() < deadline:
            j = self.get_job(name, ns)
            types = [c['type'] for c in (j or {}).get('status', {}).get('conditions', [])]
            if cond in types:
                return j
            time.sleep(0.1)
        self.fail('job %s never got %s: %s' % (name, cond, j))

    def pods_of(self, name, ns='default'):
        st, out = self.call('GET', '/api/v1/namespaces/%s/pods' % ns,
                            params={'labelSelector': 'job-name=' + name})
        self.assertEqual(st, 200, out)
        return out['items']

    def wait_for(self, fn, timeout=15, what='condition'):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.1)
        self.fail('timed out waiting for ' + what)

    def wait_held(self, name, more=3):
        """Wait until the kubelet found the pod of Job `name` held `more`
        times more: it looked at it again, and did not start it."""
        key = 'default/' + self.pods_of(name)[0]['metadata']['name']

        def checks():
            return self.sim.admin('GET', '/state')['held_checks'].get(key, 0)
        seen = checks()
        self.wait_for(lambda: checks() >= seen + more,
                      what=name + ' looked at again')

    def assert_status(self, out, code, reason):
        self.assertEqual(out.get('kind'), 'Status', out)
        self.assertEqual(out.get('code'), code, out)
        self.assertEqual(out.get('reason'), reason, out)

    def delete_job(self, name, policy='Background', ns='default'):
        return self.call('DELETE', '/apis/batch/v1/namespaces/%s/jobs/%s' % (ns, name),
                         {'kind': 'DeleteOptions', 'apiVersion': 'v1',
                          'propagationPolicy': policy})

    # ---- authentication and discovery
    def test_auth(self):
        for token in (None, 'wrong-token'):
            st, out = self.call('GET', '/api/v1/nodes', token=token)
            self.assertEqual(st, 401)
            self.assert_status(out, 401, 'Unauthorized')
        st, out = self.call('GET', '/api/v1/nodes')
        self.assertEqual(st, 200)
        ctx = ssl.create_default_context(cafile=os.path.join(self.sim.pki, 'ca.crt'))
        ctx.load_cert_chain(os.path.join(self.sim.pki, 'client.crt'),
                            os.path.join(self.sim.pki, 'client.key'))
        c = self.sim.conn(ctx)
        st, out = self.call('GET', '/api/v1/nodes', token=None, conn=c)
        c.close()
        self.assertEqual(st, 200, out)

    def last_logged(self, path):
        with open(self.sim.log) as f:
            return [json.loads(line) for line in f
                    if json.loads(line)['path'] == path][-1]

    def test_expiring_tokens(self):
        # Good until it expires, then 401 with a Status like a real
        # server's, which says no more; the reason is in the log.
        tok = self.sim.admin('POST', '/tokens', {'ttl': 600})
        st, out = self.call('GET', '/api/v1/nodes', token=tok['token'])
        self.assertEqual(st, 200, out)
        old = self.sim.admin('POST', '/tokens', {'ttl': -1})
        self.assertLess(old['expires'], tok['expires'])
        st, out = self.call('GET', '/api/v1/namespaces', token=old['token'])
        self.assertEqual(st, 401)
        self.assertEqual(out, {'kind': 'Status', 'apiVersion': 'v1',
                               'metadata': {}, 'status': 'Failure',
                               'message': 'Unauthorized',
                               'reason': 'Unauthorized', 'code': 401})
        e = self.last_logged('/api/v1/namespaces')
        self.assertIsNone(e['user'])
        self.assertIn('token is expired', e['auth_error'])

    def test_untrusted_client_certificate(self):
        # A real server takes any client certificate in the handshake and
        # its authenticator refuses one of a CA it does not trust: 401.
        ctx = ssl.create_default_context(cafile=os.path.join(self.sim.pki, 'ca.crt'))
        ctx.load_cert_chain(os.path.join(self.sim.pki, 'untrusted-client.crt'),
                            os.path.join(self.sim.pki, 'untrusted-client.key'))
        c = self.sim.conn(ctx)
        st, out = self.call('GET', '/api/v1/persistentvolumes', token=None,
                            conn=c)
        c.close()
        self.assertEqual(st, 401, out)
        self.assert_status(out, 401, 'Unauthorized')
        e = self.last_logged('/api/v1/persistentvolumes')
        self.assertIsNone(e['user'])
        self.assertIn('certificate signed by unknown authority',
                      e['auth_error'])

    def test_tls_verifies(self):
        other = ssl.create_default_context()      # system CAs: not ours
        c = self.sim.conn(other)
        with self.assertRaises(ssl.SSLError):
            c.request('GET', '/version')
            c.getresponse()
        c.close()

    def test_kubeconfig(self):
        with open(self.sim.kubeconfig) as f:
            text = f.read()
        self.assertIn('server: https://127.0.0.1:%d' % self.sim.port, text)
        self.assertIn('certificate-authority-data: ', text)
        self.assertIn('token: ' + self.sim.token, text)

    def test_discovery(self):
        st, out = self.call('GET', '/api')
        self.assertEqual(out['versions'], ['v1'])
        st, out = self.call('GET', '/apis')
        self.assertEqual([g['name'] for g in out['groups']], ['batch'])
        st, out = self.call('GET', '/apis/batch/v1')
        jobs = [r for r in out['resources'] if r['name'] == 'jobs'][0]
        self.assertTrue(jobs['namespaced'])
        self.assertIn('watch', jobs['verbs'])
        st, out = self.call('GET', '/api/v1')
        names = {r['name'] for r in out['resources']}
        self.assertLessEqual({'pods', 'pods/log', 'nodes', 'namespaces',
                              'persistentvolumes', 'persistentvolumeclaims'}, names)
        st, out = self.call('GET', '/version')
        self.assertEqual(out['major'], '1')
        st, out = self.call('GET', '/apis/apps/v1/deployments')
        self.assertEqual(st, 404)

    def test_keep_alive(self):
        c = self.sim.conn()
        self.call('GET', '/version', conn=c)
        sock = c.sock
        self.call('GET', '/api/v1/nodes', conn=c)
        self.assertIs(c.sock, sock)
        c.close()

    def test_nodes(self):
        st, out = self.call('GET', '/api/v1/nodes')
        nodes = {n['metadata']['name']: n for n in out['items']}
        self.assertEqual(set(nodes), {'node-a', 'node-b', 'node-c'})
        conds = {c['type']: c['status'] for c in nodes['node-c']['status']['conditions']}
        self.assertEqual(conds['MemoryPressure'], 'True')
        self.assertEqual(conds['DiskPressure'], 'True')
        self.assertEqual(conds['Ready'], 'True')
        conds = {c['type']: c['status'] for c in nodes['node-b']['status']['conditions']}
        self.assertEqual(conds['Ready'], 'False')
        self.assertEqual(nodes['node-a']['status']['capacity']['nvidia.com/gpu'], '2')

    # ---- strictness
    def test_unknown_field(self):
        j = job('unknown-field', 'true')
        j['spec']['template']['spec']['containers'][0]['bogus'] = 1
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
        self.assertEqual(st, 400)
        self.assert_status(out, 400, 'BadRequest')
        self.assertIn('unknown field "spec.template.spec.containers[0].bogus"',
                      out['message'])
        j = job('unknown-top', 'true')
        j['Metadata'] = {}          # field names are case-sensitive
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
        self.assertEqual(st, 400, out)
        self.assertIsNone(self.get_job('unknown-field'))

    def test_duplicate_field(self):
        body = json.dumps(job('dup-field', 'true'))[:-1] + ', "kind": "Job"}'
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', body)
        self.assertEqual(st, 400, out)
        self.assertIn('duplicate field', out['message'])

    def test_wrong_types(self):
        for mutate, word in (
                (lambda j: j['spec'].__setitem__('backoffLimit', '0'), 'string'),
                (lambda j: j['spec'].__setitem__('backoffLimit', 1.5), 'number'),
                (lambda j: j['spec'].__setitem__('suspend', 'false'), 'string'),
                (lambda j: j['metadata'].__setitem__('labels', {'a': 1}), 'number'),
                (lambda j: j['spec']['template']['spec']['containers'][0]
                 .__setitem__('command', '/bin/true'), 'string'),
                (lambda j: j['spec']['template']['spec'].__setitem__(
                    'containers', {}), 'object')):
            j = job('wrong-type', 'true')
            mutate(j)
            st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
            self.assertEqual(st, 400, out)
            self.assert_status(out, 400, 'BadRequest')
            self.assertIn('cannot unmarshal ' + word, out['message'])

    def test_quantities(self):
        j = job('gpu-ok', 'true')
        j['spec']['template']['spec']['containers'][0]['resources'] = {
            'limits': {'nvidia.com/gpu': 1, 'cpu': '500m', 'memory': '1Gi'}}
        self.create_job(j)
        self.delete_job('gpu-ok')
        for res, code in (({'limits': {'cpu': 'lots'}}, 400),
                          ({'limits': {'nvidia.com/gpu': '0.5'}}, 422),
                          ({'requests': {'nvidia.com/gpu': 1}}, 422),
                          ({'limits': {'gpu': 1}}, 422),
                          ({'limits': {'cpu': '1'}, 'requests': {'cpu': '2'}}, 422)):
            j = job('gpu-bad', 'true')
            j['spec']['template']['spec']['containers'][0]['resources'] = res
            st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
            self.assertEqual(st, code, (res, out))

    def test_missing_required(self):
        j = job('no-container-name', 'true')
        del j['spec']['template']['spec']['containers'][0]['name']
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
        self.assertEqual(st, 422, out)
        self.assert_status(out, 422, 'Invalid')
        causes = out['details']['causes']
        self.assertIn({'reason': 'FieldValueRequired', 'message': 'Required value',
                       'field': 'spec.template.spec.containers[0].name'}, causes)
        self.assertEqual(out['details']['kind'], 'jobs')
        self.assertEqual(out['details']['group'], 'batch')
        for mutate, field in (
                (lambda j: j['spec']['template']['spec'].__setitem__('containers', []),
                 'spec.template.spec.containers'),
                (lambda j: j['spec'].pop('template'), 'spec.template'),
                (lambda j: j['spec']['template']['spec']['containers'][0].pop('image'),
                 'spec.template.spec.containers[0].image'),
                (lambda j: j['metadata'].pop('name'), 'metadata.name'),
                (lambda j: j['spec']['template']['spec']['containers'][0]
                 .__setitem__('env', [{'value': 'x'}]),
                 'spec.template.spec.containers[0].env[0].name')):
            j = job('missing', 'true')
            mutate(j)
            st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
            self.assertEqual(st, 422, out)
            self.assertIn(field, [c['field'] for c in out['details']['causes']], out)

    def test_names(self):
        for name in ('Bad_Name', 'UPPER', '-lead', 'trail-', 'a' * 254):
            st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs',
                                job(name, 'true'))
            self.assertEqual(st, 422, (name, out))
            self.assertEqual(out['details']['causes'][0]['field'], 'metadata.name')
        # a Job name becomes the job-name label of its pods: at most 63
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs',
                            job('a' * 64, 'true'))
        self.assertEqual(st, 422, out)
        self.assertIn('must be no more than 63 characters', out['message'])
        self.create_job(job('a' * 63, 'true'))
        self.delete_job('a' * 63)
        st, out = self.call('POST', '/api/v1/namespaces',
                            {'apiVersion': 'v1', 'kind': 'Namespace',
                             'metadata': {'name': 'has.dot'}})
        self.assertEqual(st, 422, out)
        j = job('bad-labels', 'true', labels={'app': 'has space'})
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
        self.assertEqual(st, 422, out)
        j = job('bad-container', 'true')
        j['spec']['template']['spec']['containers'][0]['name'] = 'Main'
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
        self.assertEqual(st, 422, out)

    def test_kind_and_namespace_must_match(self):
        j = job('mismatch', 'true')
        j['apiVersion'] = 'batch/v2'
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
        self.assertEqual(st, 400, out)
        j = job('mismatch', 'true')
        j['kind'] = 'Pod'
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
        self.assertEqual(st, 400, out)
        j = job('mismatch', 'true')
        j['metadata']['namespace'] = 'kube-system'
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
        self.assertEqual(st, 400, out)
        self.assertIn('does not match the namespace', out['message'])
        st, out = self.call('POST', '/apis/batch/v1/namespaces/no-such-ns/jobs',
                            job('nowhere', 'true'))
        self.assertEqual(st, 404, out)
        self.assert_status(out, 404, 'NotFound')
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs',
                            'apiVersion: batch/v1', headers={'Content-Type': 'text/plain'})
        self.assertEqual(st, 415, out)

    def test_job_rules(self):
        for mutate, code, text in (
                (lambda j: j['spec']['template']['spec'].pop('restartPolicy'), 422,
                 'Unsupported value: "Always"'),
                (lambda j: j['spec']['template']['spec'].__setitem__(
                    'restartPolicy', 'Always'), 422, 'supported values'),
                (lambda j: j['spec'].__setitem__('backoffLimit', -1), 422,
                 'must be greater than or equal to 0'),
                (lambda j: j['spec'].__setitem__(
                    'selector', {'matchLabels': {'a': 'b'}}), 422, 'auto-generated'),
                (lambda j: j['spec']['template']['spec']['containers'][0]
                 .__setitem__('volumeMounts', [{'name': 'volume', 'mountPath': '/v'}]),
                 422, 'Not found'),
                (lambda j: mount(j, 'v', '/v', {'emptyDir': {}}, subPath='../up'),
                 422, "must not contain '..'"),
                (lambda j: j['metadata'].__setitem__('resourceVersion', '5'), 500,
                 'resourceVersion should not be set')):
            j = job('rules', 'true')
            mutate(j)
            st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
            self.assertEqual(st, code, out)
            self.assertIn(text, out['message'])

    def test_namespace_pv_pvc(self):
        ns = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'alice'}}
        st, out = self.call('POST', '/api/v1/namespaces', ns)
        self.assertEqual(st, 201, out)
        self.assertEqual(out['status']['phase'], 'Active')
        st, out = self.call('POST', '/api/v1/namespaces', ns)
        self.assertEqual(st, 409, out)
        self.assert_status(out, 409, 'AlreadyExists')
        self.assertEqual(out['details'], {'name': 'alice', 'group': '', 'kind': 'namespaces'})
        st, out = self.call('GET', '/api/v1/namespaces/alice')
        self.assertEqual(st, 200)
        pv = {'apiVersion': 'v1', 'kind': 'PersistentVolume',
              'metadata': {'name': 'alice-volume'},
              'spec': {'capacity': {'storage': '100Gi'},
                       'accessModes': ['ReadWriteMany'],
                       'nfs': {'server': '10.0.0.1', 'path': '/export/alice'},
                       'claimRef': {'namespace': 'alice', 'name': 'volume'}}}
        bad = json.loads(json.dumps(pv))
        del bad['spec']['nfs']['server']
        st, out = self.call('POST', '/api/v1/persistentvolumes', bad)
        self.assertEqual(st, 422, out)
        bad = json.loads(json.dumps(pv))
        del bad['spec']['capacity']
        st, out = self.call('POST', '/api/v1/persistentvolumes', bad)
        self.assertEqual(st, 422, out)
        st, out = self.call('POST', '/api/v1/persistentvolumes', pv)
        self.assertEqual(st, 201, out)
        pvc = {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
               'metadata': {'name': 'volume'},
               'spec': {'accessModes': ['ReadWriteMany'], 'storageClassName': '',
                        'resources': {'requests': {'storage': '100Gi'}}}}
        st, out = self.call('POST', '/api/v1/namespaces/alice/persistentvolumeclaims', pvc)
        self.assertEqual(st, 201, out)
        st, out = self.call('GET', '/api/v1/namespaces/alice/persistentvolumeclaims/volume')
        self.assertEqual(out['status']['phase'], 'Bound')
        st, out = self.call('GET', '/api/v1/persistentvolumes/alice-volume')
        self.assertEqual(out['status']['phase'], 'Bound')
        st, out = self.call('POST', '/api/v1/namespaces/alice/persistentvolumeclaims', pvc)
        self.assertEqual(st, 409, out)

    # ---- jobs
    def test_job_complete(self):
        j = job('completes', 'echo "hello $WHO"; echo line2; echo oops >&2; '
                'echo "$(WHO)" \'$$(WHO)\'',
                pod={'nodeName': 'node-a'})
        j['spec']['template']['spec']['containers'][0]['env'] = [
            {'name': 'WHO', 'value': 'world'}]
        out = self.create_job(j)
        self.assertEqual(out['status'], {})
        self.assertEqual(out['spec']['selector']['matchLabels'],
                         {'batch.kubernetes.io/controller-uid': out['metadata']['uid']})
        self.assertEqual(out['metadata']['labels'], {'app': 'sim-test'})
        done = self.wait_job('completes', 'Complete')
        st = done['status']
        self.assertEqual([c['type'] for c in st['conditions']],
                         ['SuccessCriteriaMet', 'Complete'])
        self.assertEqual(st['succeeded'], 1)
        self.assertEqual(st['active'], 0)
        self.assertIn('startTime', st)
        self.assertIn('completionTime', st)
        pods = self.pods_of('completes')
        self.assertEqual(len(pods), 1)
        pod = pods[0]
        self.assertEqual(pod['status']['phase'], 'Succeeded')
        self.assertEqual(pod['spec']['nodeName'], 'node-a')
        term = pod['status']['containerStatuses'][0]['state']['terminated']
        self.assertEqual((term['exitCode'], term['reason']), (0, 'Completed'))
        name = pod['metadata']['name']
        path = '/api/v1/namespaces/default/pods/%s/log' % name
        st, data, _ = self.call('GET', path, raw=True)
        self.assertEqual(st, 200)
        self.assertEqual(data, b'hello world\nline2\noops\nworld $(WHO)\n')
        st, data, _ = self.call('GET', path, params={'tailLines': 2}, raw=True)
        self.assertEqual(data, b'oops\nworld $(WHO)\n')
        st, data, _ = self.call('GET', path, params={'limitBytes': 5}, raw=True)
        self.assertEqual(data, b'hello')
        st, out = self.call('GET', '/api/v1/namespaces/default/pods/nope/log')
        self.assertEqual(st, 404)
        st, out = self.delete_job('completes')
        self.assertEqual(st, 200, out)
        self.assertEqual(out['status'], 'Success')
        self.wait_for(lambda: not self.pods_of('completes'), what='pods deleted')

    def test_job_failed(self):
        self.create_job(job('fails', 'echo bad; exit 3'))
        done = self.wait_job('fails', 'Failed')
        st = done['status']
        self.assertEqual([c['type'] for c in st['conditions']],
                         ['FailureTarget', 'Failed'])
        self.assertEqual(st['conditions'][1]['reason'], 'BackoffLimitExceeded')
        self.assertEqual(st['failed'], 1)
        self.assertNotIn('completionTime', st)
        pod = self.pods_of('fails')[0]
        self.assertEqual(pod['status']['phase'], 'Failed')
        term = pod['status']['containerStatuses'][0]['state']['terminated']
        self.assertEqual((term['exitCode'], term['reason']), (3, 'Error'))
        self.delete_job('fails')

    def test_memory_limit(self):
        """A container past its memory limit is OOM-killed by the kernel
        and ends OOMKilled, 137; one under it completes; no cgroup is
        left behind."""
        lim = self.sim.admin('GET', '/state')['memory_limits']
        if not lim['enforced']:
            self.skipTest('memory limits are not enforced here: ' + lim['why'])
        alloc = 'exec python3 -c "b = bytearray(%d << 20); print(len(b))"'
        for name, mib in (('mem-over', 200), ('mem-under', 8)):
            j = job(name, alloc % mib)
            j['spec']['template']['spec']['containers'][0]['resources'] = {
                'requests': {'cpu': '1', 'memory': '64Mi'},
                'limits': {'memory': '64Mi'}}
            self.create_job(j)
        over = self.wait_job('mem-over', 'Failed')
        self.assertEqual(over['status']['conditions'][1]['reason'],
                         'BackoffLimitExceeded')
        pod = self.pods_of('mem-over')[0]
        self.assertEqual(pod['status']['phase'], 'Failed')
        term = pod['status']['containerStatuses'][0]['state']['terminated']
        self.assertEqual((term['exitCode'], term['reason']), (137, 'OOMKilled'))
        self.wait_job('mem-under', 'Complete')
        pod = self.pods_of('mem-under')[0]
        term = pod['status']['containerStatuses'][0]['state']['terminated']
        self.assertEqual((term['exitCode'], term['reason']), (0, 'Completed'))
        st, data, _ = self.call('GET', '/api/v1/namespaces/default/pods/%s/log'
                                % pod['metadata']['name'], raw=True)
        self.assertEqual((st, data), (200, b'%d\n' % (8 << 20)))
        self.assertEqual(self.sim.admin('GET', '/state')['memory_limits'][
            'containers'], 0)
        self.assertEqual([d for d in os.listdir(lim['base'])
                          if d.startswith('kube-sim-%d-' % self.sim.proc.pid)],
                         [])
        self.delete_job('mem-over')
        self.delete_job('mem-under')

    def test_deadline(self):
        pidfile = os.path.join(self.sim.shared, 'deadline.pid')
        self.create_job(mount(job('deadline', 'echo $$$$ > %s; exec sleep 60'
                                  % pidfile, activeDeadlineSeconds=1),
                              'shared', self.sim.shared))
        done = self.wait_job('deadline', 'Failed', timeout=15)
        self.assertEqual(done['status']['conditions'][0]['type'], 'FailureTarget')
        self.assertEqual(done['status']['conditions'][1]['reason'], 'DeadlineExceeded')
        with open(pidfile) as f:
            pid = int(f.read())
        self.wait_for(lambda: not alive(pid), what='process killed')
        self.delete_job('deadline')

    def test_delete_background_kills(self):
        pidfile = os.path.join(self.sim.shared, 'bg.pid')
        self.create_job(mount(job('killme', 'echo $$$$ > %s; exec sleep 60'
                                  % pidfile), 'shared', self.sim.shared))
        self.wait_for(lambda: os.path.exists(pidfile) and os.path.getsize(pidfile),
                      what='process started')
        with open(pidfile) as f:
            pid = int(f.read())
        self.assertTrue(alive(pid))
        job_ = self.get_job('killme')
        self.assertEqual(job_['status']['active'], 1)
        st, out = self.call('DELETE', '/apis/batch/v1/namespaces/default/jobs/killme',
                            params={'propagationPolicy': 'Background'})
        self.assertEqual(st, 200, out)
        self.assertIsNone(self.get_job('killme'))
        self.wait_for(lambda: not alive(pid), what='process killed')
        self.wait_for(lambda: not self.pods_of('killme'), what='pod deleted')
        st, out = self.call('DELETE', '/apis/batch/v1/namespaces/default/jobs/killme')
        self.assertEqual(st, 404, out)
        st, out = self.call('DELETE', '/apis/batch/v1/namespaces/default/jobs/x',
                            {'propagationPolicy': 'Sideways'})
        self.assertEqual(st, 422, out)
        st, out = self.call('DELETE', '/apis/batch/v1/namespaces/default/jobs/x',
                            {'propagationPolicy': 'Background', 'bogus': 1})
        self.assertEqual(st, 400, out)

    def test_patch_suspend(self):
        pidfile = os.path.join(self.sim.shared, 'suspend.pid')
        self.create_job(mount(job('suspendme', 'echo $$$$ > %s; exec sleep 60'
                                  % pidfile), 'shared', self.sim.shared))
        self.wait_for(lambda: os.path.exists(pidfile) and os.path.getsize(pidfile),
                      what='process started')
        with open(pidfile) as f:
            pid = int(f.read())
        path = '/apis/batch/v1/namespaces/default/jobs/suspendme'
        merge = {'Content-Type': 'application/merge-patch+json'}
        # Strict: a body of another type, a template change, a suspend that
        # is not a boolean, a name change; each refused, nothing changed.
        st, out = self.call('PATCH', path, {'spec': {'suspend': True}})
        self.assertEqual(st, 415, out)
        st, out = self.call('PATCH', path, {'spec': {'template': {'spec': {
            'restartPolicy': 'OnFailure'}}}}, headers=merge)
        self.assertEqual(st, 422, out)
        self.assertIn('spec.template', out['message'])
        st, out = self.call('PATCH', path, {'spec': {'suspend': 'yes'}},
                            headers=merge)
        self.assertEqual(st, 422, out)
        st, out = self.call('PATCH', path, {'metadata': {'name': 'other'}},
                            headers=merge)
        self.assertEqual(st, 422, out)
        st, out = self.call('PATCH', path, '[1]', headers=merge)
        self.assertEqual(st, 400, out)
        self.assertTrue(alive(pid))
        # Suspended: the pod's process ends, the Job stays, Suspended.
        st, out = self.call('PATCH', path, {'spec': {'suspend': True}},
                            headers=merge)
        self.assertEqual(st, 200, out)
        self.assertIs(out['spec']['suspend'], True)
        self.wait_for(lambda: not alive(pid), what='process killed')
        self.wait_for(lambda: not self.pods_of('suspendme'), what='pod deleted')
        j = self.get_job('suspendme')
        self.assertIsNotNone(j)
        self.assertTrue(any(c['type'] == 'Suspended' and c['status'] == 'True'
                            for c in j['status']['conditions']))
        self.assertEqual(j['status']['active'], 0)
        # The name stays taken: a create of it is refused.
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs',
                            job('suspendme', 'true'))
        self.assertEqual(st, 409, out)
        # Resuming is not simulated (the pilot never resumes): said so.
        st, out = self.call('PATCH', path, {'spec': {'suspend': False}},
                            headers=merge)
        self.assertEqual(st, 422, out)
        self.assertIn('does not resume', out['message'])
        st, out = self.call('PATCH', '/apis/batch/v1/namespaces/default/jobs/'
                            'nosuch', {'spec': {'suspend': True}}, headers=merge)
        self.assertEqual(st, 404, out)
        if shutil.which('kubectl'):
            self.create_job(job('kubectl-suspends', 'exec sleep 60'))
            self.kubectl('patch', 'job', 'kubectl-suspends', '-n', 'default',
                         '--type=merge', '-p', '{"spec":{"suspend":true}}')
            self.wait_for(lambda: any(
                c['type'] == 'Suspended' for c in
                (self.get_job('kubectl-suspends')['status'].get('conditions')
                 or [])), what='kubectl patch suspended the Job')

    def test_delete_default_orphans(self):
        # batch/v1 Jobs deleted without a policy orphan their pods
        pidfile = os.path.join(self.sim.shared, 'orphan.pid')
        self.create_job(mount(job('orphaner', 'echo $$$$ > %s; exec sleep 60'
                                  % pidfile), 'shared', self.sim.shared))
        self.wait_for(lambda: os.path.exists(pidfile) and os.path.getsize(pidfile),
                      what='process started')
        with open(pidfile) as f:
            pid = int(f.read())
        st, out = self.call('DELETE', '/apis/batch/v1/namespaces/default/jobs/orphaner')
        self.assertEqual(st, 200, out)
        # A Job deleted after it, in the background, is carried out (its
        # process dies); the orphan's process lives on.
        other = os.path.join(self.sim.shared, 'orphan-after.pid')
        self.create_job(mount(job('after-orphaner',
                                  'echo $$$$ > %s; exec sleep 60' % other),
                              'shared', self.sim.shared))
        self.wait_for(lambda: os.path.exists(other) and os.path.getsize(other),
                      what='second process started')
        with open(other) as f:
            pid2 = int(f.read())
        self.delete_job('after-orphaner')
        self.wait_for(lambda: not alive(pid2), what='second process killed')
        self.assertTrue(alive(pid))
        pods = self.pods_of('orphaner')
        self.assertEqual(len(pods), 1)
        self.assertEqual(pods[0]['metadata']['ownerReferences'], [])
        st, out = self.call('DELETE', '/api/v1/namespaces/default/pods/%s'
                            % pods[0]['metadata']['name'])
        self.assertEqual(st, 200, out)
        self.wait_for(lambda: not alive(pid), what='orphan killed')

    def test_ttl(self):
        self.create_job(job('short-lived', 'true', ttlSecondsAfterFinished=1))
        self.wait_job('short-lived', 'Complete')
        self.wait_for(lambda: self.get_job('short-lived') is None, timeout=10,
                      what='TTL deletion')
        self.wait_for(lambda: not self.pods_of('short-lived'), what='pods deleted')

    def test_pull_error(self):
        j = job('bad-image', 'true')
        j['spec']['template']['spec']['containers'][0]['image'] = 'nope:pull-error'
        self.create_job(j)

        def reason():
            pods = self.pods_of('bad-image')
            for cs in (pods[0]['status'].get('containerStatuses') or []) if pods else []:
                return cs['state'].get('waiting', {}).get('reason')
        self.assertIn(self.wait_for(reason, what='waiting'),
                      ('ErrImagePull', 'ImagePullBackOff'))
        self.wait_for(lambda: reason() == 'ImagePullBackOff', what='back-off')
        name = self.pods_of('bad-image')[0]['metadata']['name']
        st, out = self.call('GET', '/api/v1/namespaces/default/pods/%s/log' % name)
        self.assertEqual(st, 400, out)
        self.assertIn('waiting to start', out['message'])
        self.assertEqual(self.get_job('bad-image')['status']['active'], 1)
        self.delete_job('bad-image')

    def test_security_context_rules(self):
        # What the API server's validation refuses, 422 with the field.
        def pod_sc(sc):
            return lambda p: p.__setitem__('securityContext', sc)

        def c_sc(sc):
            return lambda p: p['containers'][0].__setitem__('securityContext', sc)
        for mutate, text in (
                (pod_sc({'runAsUser': -1}),
                 'spec.template.spec.securityContext.runAsUser: Invalid value: '
                 '-1: must be between 0 and 2147483647, inclusive'),
                (pod_sc({'runAsGroup': 2147483648}),
                 'spec.template.spec.securityContext.runAsGroup: Invalid value: '
                 '2147483648: must be between 0 and 2147483647, inclusive'),
                (pod_sc({'supplementalGroups': [5, -5]}),
                 'securityContext.supplementalGroups[1]: Invalid value: -5'),
                (pod_sc({'fsGroup': -1}), 'securityContext.fsGroup: Invalid'),
                (c_sc({'runAsUser': -7}),
                 'spec.template.spec.containers[0].securityContext.runAsUser: '
                 'Invalid value: -7: must be between 0 and 2147483647'),
                (c_sc({'runAsGroup': -1}),
                 'containers[0].securityContext.runAsGroup: Invalid value: -1'),
                (c_sc({'allowPrivilegeEscalation': False, 'privileged': True}),
                 'cannot set `allowPrivilegeEscalation` to false and '
                 '`privileged` to true'),
                (c_sc({'allowPrivilegeEscalation': False,
                       'capabilities': {'add': ['CAP_SYS_ADMIN']}}),
                 'cannot set `allowPrivilegeEscalation` to false and '
                 '`capabilities.Add` CAP_SYS_ADMIN')):
            j = job('sc-rules', 'true')
            mutate(j['spec']['template']['spec'])
            st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
            self.assertEqual(st, 422, out)
            self.assert_status(out, 422, 'Invalid')
            self.assertIn(text, out['message'])
            self.assertIsNone(self.get_job('sc-rules'))
        # Wrong types are the schema's: 400.
        j = job('sc-rules', 'true')
        j['spec']['template']['spec']['containers'][0]['securityContext'] = {
            'runAsNonRoot': 'yes'}
        st, out = self.call('POST', '/apis/batch/v1/namespaces/default/jobs', j)
        self.assertEqual(st, 400, out)

    def log_of(self, name):
        pod = self.pods_of(name)[0]['metadata']['name']
        st, data, _ = self.call('GET', '/api/v1/namespaces/default/pods/%s/log'
                                % pod, raw=True)
        self.assertEqual(st, 200, data)
        return data.decode()

    def test_run_as_user(self):
        # The pod's process runs as runAsUser and runAsGroup, with only
        # the pod's groups, no_new_privs and no capabilities.
        show = ('id -u; id -g; id -G; grep -E "^(NoNewPrivs|CapBnd|CapEff):" '
                '/proc/self/status')
        j = job('as-user', show, pod={'securityContext': {
            'runAsUser': 1, 'runAsGroup': 1, 'supplementalGroups': [77],
            'fsGroup': 78, 'runAsNonRoot': True}})
        j['spec']['template']['spec']['containers'][0]['securityContext'] = {
            'runAsUser': 4242, 'runAsGroup': 4343,
            'allowPrivilegeEscalation': False,
            'capabilities': {'drop': ['ALL']}}
        self.create_job(j)
        self.wait_job('as-user', 'Complete')
        self.assertEqual(self.log_of('as-user').split('\n'), [
            '4242', '4343', '4343 77 78', 'CapEff:\t0000000000000000',
            'CapBnd:\t0000000000000000', 'NoNewPrivs:\t1', ''])
        self.delete_job('as-user')
        # No securityContext: the image's user, root, with the runtime's
        # default capabilities only, and escalation allowed.
        self.create_job(job('as-root', show))
        self.wait_job('as-root', 'Complete')
        out = self.log_of('as-root').split('\n')
        self.assertEqual(out[:3], ['0', '0', '0'])
        self.assertEqual(out[5], 'NoNewPrivs:\t0')
        self.assertEqual(out[3], out[4].replace('CapBnd', 'CapEff'))
        bnd = int(out[4].split('\t')[1], 16)
        self.assertEqual(bnd, 0xa80425fb)     # containerd's default set
        self.delete_job('as-root')
        # Root with every capability dropped cannot write what it does
        # not own.
        other = os.path.join(self.sim.shared, 'not-roots')
        os.makedirs(other, exist_ok=True)
        os.chown(other, 4242, 4242)
        os.chmod(other, 0o700)
        j = mount(job('root-no-caps', 'touch %s/x' % other), 'shared',
                  self.sim.shared)
        j['spec']['template']['spec']['containers'][0]['securityContext'] = {
            'capabilities': {'drop': ['ALL']}}
        self.create_job(j)
        self.wait_job('root-no-caps', 'Failed')
        self.assertIn('Permission denied', self.log_of('root-no-caps'))
        self.assertFalse(os.path.exists(os.path.join(other, 'x')))
        self.delete_job('root-no-caps')

    def waiting(self, name):
        pods = self.pods_of(name)
        for cs in (pods[0]['status'].get('containerStatuses') or []) if pods else []:
            w = cs['state'].get('waiting')
            if w:
                return w['reason'], w['message']

    def test_run_as_non_root(self):
        # The kubelet refuses a non-root container that would run as
        # root: the pod waits in CreateContainerConfigError, never runs,
        # and the Job stays active (as on a cluster: nothing ends it).
        marker = os.path.join(self.sim.shared, 'non-root-ran')
        for name, pod_sc, c_sc, text in (
                ('nr-uid0', {}, {'runAsNonRoot': True, 'runAsUser': 0},
                 "container's runAsUser breaks non-root policy (pod: "
                 '"nr-uid0-'),
                ('nr-image', {'runAsNonRoot': True}, {},
                 'container has runAsNonRoot and image will run as root'),
                ('nr-pod-uid0', {'runAsNonRoot': True, 'runAsUser': 0}, {},
                 "container's runAsUser breaks non-root policy")):
            j = mount(job(name, 'touch ' + marker,
                          pod={'securityContext': pod_sc}),
                      'shared', self.sim.shared)
            j['spec']['template']['spec']['containers'][0][
                'securityContext'] = c_sc
            self.create_job(j)
            reason, message = self.wait_for(lambda: self.waiting(name),
                                            what=name + ' waiting')
            self.assertEqual(reason, 'CreateContainerConfigError')
            self.assertIn(text, message)
            self.assertIn('_default(', message)
            self.assertIn('container: main)', message)
            self.wait_held(name)
            self.assertEqual(self.waiting(name)[0], 'CreateContainerConfigError')
            pod = self.pods_of(name)[0]
            self.assertEqual(pod['status']['phase'], 'Pending')
            st = self.get_job(name)['status']
            self.assertEqual(st['active'], 1)
            self.assertNotIn('conditions', st)
            self.assertFalse(os.path.exists(marker))
            self.delete_job(name)
        # The container's runAsUser wins over the pod's root.
        j = job('nr-ok', 'id -u', pod={'securityContext': {
            'runAsNonRoot': True, 'runAsUser': 0}})
        j['spec']['template']['spec']['containers'][0]['securityContext'] = {
            'runAsUser': 1000}
        self.create_job(j)
        self.wait_job('nr-ok', 'Complete')
        self.assertEqual(self.log_of('nr-ok'), '1000\n')
        self.delete_job('nr-ok')

    def test_node_pinning(self):
        self.create_job(job('lost', 'true', pod={'nodeName': 'no-such-node'}))

        def pending_reason():
            pods = self.pods_of('lost')
            for c in (pods[0]['status'].get('conditions') or []) if pods else []:
                if c['type'] == 'PodScheduled' and c['status'] == 'False':
                    return c['reason']
        self.assertEqual(self.wait_for(pending_reason, what='pending'), 'NodeNotFound')
        self.assertEqual(self.pods_of('lost')[0]['status']['phase'], 'Pending')
        self.delete_job('lost')
        # a node that is not ready holds its pods until it recovers
        self.create_job(job('on-b', 'true', pod={'nodeName': 'node-b'}))
        self.wait_for(lambda: self.pods_of('on-b'), what='the pod of on-b')
        self.wait_held('on-b')
        self.assertEqual(self.pods_of('on-b')[0]['status']['phase'], 'Pending')
        self.sim.admin('POST', '/nodes/node-b', {'ready': True})
        self.wait_job('on-b', 'Complete')
        self.sim.admin('POST', '/nodes/node-b', {'ready': False})
        self.delete_job('on-b')

    def test_missing_claim_holds_pod(self):
        j = job('no-claim', 'true')
        p = j['spec']['template']['spec']
        p['volumes'] = [{'name': 'volume',
                         'persistentVolumeClaim': {'claimName': 'volume'}}]
        p['containers'][0]['volumeMounts'] = [{'name': 'volume', 'mountPath': '/volume'}]
        self.create_job(j)

        def creating():
            pods = self.pods_of('no-claim')
            st = pods[0]['status'] if pods else {}
            return any((c.get('state', {}).get('waiting') or {}).get('reason')
                       == 'ContainerCreating'
                       for c in st.get('containerStatuses') or []) and st
        pod_status = self.wait_for(creating, what='no-claim ContainerCreating')
        self.wait_held('no-claim')
        self.assertEqual(self.pods_of('no-claim')[0]['status']['phase'], 'Pending')
        self.assertEqual(pod_status['phase'], 'Pending')
        self.delete_job('no-claim')

    # ---- what a pod sees: its own root, its volumes, nothing of the host
    def nfs_claim(self, claim, path, bind=True):
        """A persistent volume exported by NFS from `path` (the simulator
        serves every export from the host's directory of its path) and
        the claim `claim` in default bound to it (else a claim of no
        volume: the simulator provisions it)."""
        if bind:
            pv = {'apiVersion': 'v1', 'kind': 'PersistentVolume',
                  'metadata': {'name': 'pv-' + claim},
                  'spec': {'capacity': {'storage': '1Gi'},
                           'accessModes': ['ReadWriteMany'],
                           'nfs': {'server': 'sim.invalid', 'path': path},
                           'claimRef': {'namespace': 'default',
                                        'name': claim}}}
            st, out = self.call('POST', '/api/v1/persistentvolumes', pv)
            self.assertEqual(st, 201, out)
        pvc = {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
               'metadata': {'name': claim},
               'spec': {'accessModes': ['ReadWriteMany'],
                        'storageClassName': '',
                        'resources': {'requests': {'storage': '1Gi'}}}}
        st, out = self.call('POST', '/api/v1/namespaces/default/'
                            'persistentvolumeclaims', pvc)
        self.assertEqual(st, 201, out)
        return {'persistentVolumeClaim': {'claimName': claim}}

    def test_pod_sees_no_host_file(self):
        # Its root holds the system's directories, /proc, /dev, /tmp and
        # its volume; nothing else of the host: not the simulator's state
        # (its token), nor /root, /work, /home, /var, /srv, /run, nor a
        # file beside the mounted directory.
        seen = os.path.join(self.sim.dir, 'seen')
        os.mkdir(seen)
        with open(os.path.join(seen, 'visible'), 'w') as f:
            f.write('mounted\n')
        secret = os.path.join(self.sim.dir, 'beside-seen')
        with open(secret, 'w') as f:
            f.write('host only\n')
        token = os.path.join(self.sim.state, 'token')
        self.assertTrue(os.path.exists(token))
        j = mount(job('no-host', 'ls -A /; for p in %s %s /root /work /home '
                      '/var /srv /run; do test -e "$p" && echo "SEES $p"; '
                      'done; ls %s; echo in-pod >/tmp/pod-tmp; ls /dev' % (
                          token, secret, seen)),
                  'seen', seen, readOnly=True)
        self.create_job(j)
        self.wait_job('no-host', 'Complete')
        out = self.log_of('no-host').split('\n')
        self.assertNotIn('SEES', ' '.join(out))
        top = sorted({'proc', 'dev', 'tmp'} | {
            d[1:] for d in ('/usr', '/bin', '/sbin', '/lib', '/lib32',
                            '/lib64', '/etc') if os.path.lexists(d)} | {
            seen.split('/')[1]})
        self.assertEqual(out[:len(top)], top)
        rest = out[len(top):]
        self.assertEqual(rest[0], 'visible')
        self.assertEqual(sorted(rest[1:-1]), sorted(
            ['fd', 'full', 'null', 'random', 'shm', 'stderr', 'stdin',
             'stdout', 'tty', 'urandom', 'zero']))
        self.assertFalse(os.path.exists('/tmp/pod-tmp'))
        self.delete_job('no-host')

    def test_persistent_volume_claims(self):
        # A claim bound to an NFS volume: the pod sees the export's files
        # at the mountPath, and what it writes there is in the export's
        # host directory; read-only, it cannot write; a subPath is a
        # directory of the export (made when missing).
        export = os.path.join(self.sim.dir, 'export-a')
        os.mkdir(export)
        with open(os.path.join(export, 'in.txt'), 'w') as f:
            f.write('from the export\n')
        src = self.nfs_claim('claim-a', export)
        j = mount(job('pvc-rw', 'cat /data/in.txt; cp /data/in.txt '
                      '/data/out.txt; echo sub >/sub/s.txt'),
                  'data', '/data', src)
        vm = j['spec']['template']['spec']['containers'][0]['volumeMounts']
        vm.append({'name': 'data', 'mountPath': '/sub', 'subPath': 'a/b'})
        self.create_job(j)
        self.wait_job('pvc-rw', 'Complete')
        self.assertEqual(self.log_of('pvc-rw'), 'from the export\n')
        with open(os.path.join(export, 'out.txt')) as f:
            self.assertEqual(f.read(), 'from the export\n')
        with open(os.path.join(export, 'a', 'b', 's.txt')) as f:
            self.assertEqual(f.read(), 'sub\n')
        self.delete_job('pvc-rw')
        j = mount(job('pvc-ro', 'cat /data/in.txt; touch /data/ro.txt'),
                  'data', '/data', src, readOnly=True)
        self.create_job(j)
        self.wait_job('pvc-ro', 'Failed')
        self.assertIn('Read-only file system', self.log_of('pvc-ro'))
        self.assertFalse(os.path.exists(os.path.join(export, 'ro.txt')))
        self.delete_job('pvc-ro')
        # A claim bound to no volume: the simulator provisions a directory
        # of its own, kept from one pod to the next.
        src = self.nfs_claim('claim-unbound', None, bind=False)
        self.create_job(mount(job('prov-1', 'echo kept >/p/f'), 'p', '/p',
                              src))
        self.wait_job('prov-1', 'Complete')
        self.delete_job('prov-1')
        self.create_job(mount(job('prov-2', 'cat /p/f'), 'p', '/p', src))
        self.wait_job('prov-2', 'Complete')
        self.assertEqual(self.log_of('prov-2'), 'kept\n')
        self.assertTrue(os.path.exists(os.path.join(
            self.sim.state, 'volumes', 'default', 'claim-unbound', 'f')))
        self.delete_job('prov-2')

    def test_missing_export_holds_pod(self):
        # The directory of the volume's export is missing: the kubelet's
        # mount fails, the pod waits in ContainerCreating and never runs
        # blind; once the export is there it starts.
        export = os.path.join(self.sim.dir, 'export-late')
        src = self.nfs_claim('claim-late', export)
        self.create_job(mount(job('late', 'echo ran >/v/ran'), 'v', '/v',
                              src))
        reason, message = self.wait_for(lambda: self.waiting('late'),
                                        what='late waiting')
        self.assertEqual(reason, 'ContainerCreating')
        self.assertIn('MountVolume.SetUp failed for volume "pv-claim-late" : '
                      'mount failed: exit status 32', message)
        self.assertIn('mount.nfs: mounting sim.invalid:%s failed' % export,
                      message)
        self.wait_held('late')
        self.assertEqual(self.get_job('late')['status']['active'], 1)
        os.mkdir(export)
        self.wait_job('late', 'Complete')
        self.assertTrue(os.path.exists(os.path.join(export, 'ran')))
        self.delete_job('late')

    def test_claim_of_a_missing_volume_holds_pod(self):
        pvc = {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
               'metadata': {'name': 'claim-nowhere'},
               'spec': {'accessModes': ['ReadWriteMany'],
                        'storageClassName': '', 'volumeName': 'no-such-pv',
                        'resources': {'requests': {'storage': '1Gi'}}}}
        st, out = self.call('POST', '/api/v1/namespaces/default/'
                            'persistentvolumeclaims', pvc)
        self.assertEqual(st, 201, out)
        self.create_job(mount(job('nowhere-vol', 'true'), 'v', '/v', {
            'persistentVolumeClaim': {'claimName': 'claim-nowhere'}}))
        reason, message = self.wait_for(lambda: self.waiting('nowhere-vol'),
                                        what='nowhere-vol waiting')
        self.assertIn('unbound immediate PersistentVolumeClaims', message)
        self.wait_held('nowhere-vol')
        self.assertFalse(os.path.exists(os.path.join(
            self.sim.state, 'volumes', 'default', 'claim-nowhere')))
        self.delete_job('nowhere-vol')

    def test_sub_path_may_not_leave_its_volume(self):
        vol = os.path.join(self.sim.dir, 'vol-with-link')
        os.mkdir(vol)
        os.symlink(self.sim.state, os.path.join(vol, 'out'))
        self.create_job(mount(job('sub-out', 'ls /s'), 's', '/s', {
            'hostPath': {'path': vol}}, subPath='out'))
        self.wait_job('sub-out', 'Failed')
        log = self.log_of('sub-out')
        self.assertIn('subPath "out" is outside of volume "s"', log)
        self.assertNotIn('token', log)
        self.delete_job('sub-out')

    def test_host_path_types(self):
        # Directory must exist: a missing one holds the pod with the
        # kubelet's message until it is made; DirectoryOrCreate makes it.
        gone = os.path.join(self.sim.dir, 'not-yet')
        self.create_job(mount(job('hp-dir', 'true'), 'gone', '/gone'
                              , {'hostPath': {'path': gone,
                                              'type': 'Directory'}}))
        reason, message = self.wait_for(lambda: self.waiting('hp-dir'),
                                        what='hp-dir waiting')
        self.assertEqual((reason, message), (
            'ContainerCreating', 'MountVolume.SetUp failed for volume "gone" '
            ': hostPath type check failed: %s is not a directory' % gone))
        self.wait_held('hp-dir')
        os.mkdir(gone)
        self.wait_job('hp-dir', 'Complete')
        self.delete_job('hp-dir')
        made = os.path.join(self.sim.dir, 'made', 'here')
        self.create_job(mount(job('hp-make', 'touch /m/f'), 'm', '/m', {
            'hostPath': {'path': made, 'type': 'DirectoryOrCreate'}}))
        self.wait_job('hp-make', 'Complete')
        self.assertEqual(stat_of(made), (0, 0o755))
        self.assertTrue(os.path.exists(os.path.join(made, 'f')))
        self.delete_job('hp-make')

    def test_empty_dir_is_the_pods(self):
        # An emptyDir is the pod's own: a second pod's is empty, and it is
        # gone from the host when its pod is deleted.
        for name in ('empty-1', 'empty-2'):
            self.create_job(mount(job(name, 'ls -A /scratch; echo %s '
                                      '>/scratch/f' % name), 'scratch',
                                  '/scratch', {'emptyDir': {}}))
            self.wait_job(name, 'Complete')
            self.assertEqual(self.log_of(name), '')
        uid = self.pods_of('empty-1')[0]['metadata']['uid']
        on_host = os.path.join(self.sim.state, 'pods', uid, 'scratch', 'f')
        with open(on_host) as f:
            self.assertEqual(f.read(), 'empty-1\n')
        self.delete_job('empty-1')
        self.wait_for(lambda: not self.pods_of('empty-1'), what='pod deleted')
        self.wait_for(lambda: not os.path.exists(os.path.dirname(on_host)),
                      what='emptyDir removed')
        self.delete_job('empty-2')

    def test_working_dir_made(self):
        # A workingDir missing in the pod's root is made, as runc makes it:
        # owned by root, 0755, whoever the container runs as.
        j = job('wd', 'pwd; stat -c "%u %a" .; touch f 2>/dev/null || '
                'echo cannot write', pod={'securityContext': {
                    'runAsUser': 4242, 'runAsGroup': 4242}})
        j['spec']['template']['spec']['containers'][0]['workingDir'] = \
            '/work/not/there'
        self.create_job(j)
        self.wait_job('wd', 'Complete')
        self.assertEqual(self.log_of('wd'),
                         '/work/not/there\n0 755\ncannot write\n')
        self.assertFalse(os.path.exists('/work/not/there'))
        self.delete_job('wd')

    def test_run_as_user_and_volume_modes(self):
        # The pod runs as its runAsUser: a root-owned volume directory of
        # mode 0755 refuses its writes; one it owns takes them.
        ro_dir = os.path.join(self.sim.dir, 'roots-0755')
        os.mkdir(ro_dir, 0o755)
        own = os.path.join(self.sim.dir, 'owned-4242')
        os.mkdir(own, 0o700)
        os.chown(own, 4242, 4242)
        j = mount(mount(job('as-4242', 'id -u; touch /r/x || echo refused; '
                            'touch /o/y && echo written', pod={
                                'securityContext': {'runAsUser': 4242,
                                                    'runAsGroup': 4242}}),
                        'r', '/r', {'hostPath': {'path': ro_dir}}),
                  'o', '/o', {'hostPath': {'path': own}})
        self.create_job(j)
        self.wait_job('as-4242', 'Complete')
        log = self.log_of('as-4242')
        self.assertIn('4242\n', log)
        self.assertIn('Permission denied', log)
        self.assertIn('refused\nwritten\n', log)
        self.assertFalse(os.path.exists(os.path.join(ro_dir, 'x')))
        self.assertEqual(stat_of(os.path.join(own, 'y'))[0], 4242)
        self.delete_job('as-4242')

    def test_command_looked_up_in_the_pods_root(self):
        # A program of the host outside the pod's volumes cannot be run.
        tool = os.path.join(self.sim.dir, 'host-tool')
        with open(tool, 'w') as f:
            f.write('#!/bin/sh\necho ran\n')
        os.chmod(tool, 0o755)
        j = job('host-tool', 'true')
        j['spec']['template']['spec']['containers'][0]['command'] = [tool]
        self.create_job(j)
        self.wait_job('host-tool', 'Failed')
        self.assertIn('exec: "%s": executable file not found' % tool,
                      self.log_of('host-tool'))
        term = self.pods_of('host-tool')[0]['status']['containerStatuses'][
            0]['state']['terminated']
        self.assertEqual(term['exitCode'], 128)
        self.delete_job('host-tool')

    def test_unsupported_volume_refused(self):
        # A kind of volume the simulator does not mount holds the pod with
        # a message; it never runs with the volume missing.
        self.create_job(mount(job('cm', 'true'), 'cfg', '/cfg', {
            'configMap': {'name': 'settings'}}))
        reason, message = self.wait_for(lambda: self.waiting('cm'),
                                        what='cm waiting')
        self.assertEqual(reason, 'ContainerCreating')
        self.assertIn('MountVolume.SetUp failed for volume "cfg" : the '
                      'simulator does not mount configMap volumes', message)
        self.wait_held('cm')
        self.delete_job('cm')

    def test_refuses_to_start_without_mount_namespaces(self):
        # Not root: no mount namespace, so no pod; the simulator says so
        # and does not start, rather than run pods on the host's files.
        python = '/usr/bin/python3'
        if not os.path.exists(python) or not shutil.which('setpriv'):
            self.skipTest('needs /usr/bin/python3 and setpriv')
        d = tempfile.mkdtemp(prefix='kube-sim-nobody-')
        try:
            os.chmod(d, 0o777)
            p = subprocess.run(
                ['setpriv', '--reuid=65534', '--regid=65534',
                 '--clear-groups', python, SIM, '--state-dir',
                 os.path.join(d, 'state'), '--port-file',
                 os.path.join(d, 'port')],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, EXIT_NO_PODS, p.stderr)
            self.assertIn('kube-sim: cannot give pods a root of their own '
                          '(unshare(CLONE_NEWNS): Operation not permitted)',
                          p.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, 'port')))
        finally:
            shutil.rmtree(d)

    def test_label_selectors(self):
        for name, team in (('sel-a', 'a'), ('sel-b', 'b'), ('sel-c', 'c')):
            self.create_job(job(name, 'true', labels={'team': team, 'sel': 'yes'}))
        self.create_job(job('sel-none', 'true', labels={'sel': 'yes'}))

        def names(selector, path='/apis/batch/v1/namespaces/default/jobs'):
            st, out = self.call('GET', path, params={'labelSelector': selector})
            self.assertEqual(st, 200, out)
            self.assertEqual(out['kind'], 'JobList')
            self.assertTrue(int(out['metadata']['resourceVersion']) > 0)
            return sorted(i['metadata']['name'] for i in out['items'])
        self.assertEqual(names('sel=yes,team=a'), ['sel-a'])
        self.assertEqual(names('sel==yes,team in (a, b)'), ['sel-a', 'sel-b'])
        self.assertEqual(names('sel=yes,team notin (a,b)'), ['sel-c', 'sel-none'])
        self.assertEqual(names('sel=yes,!team'), ['sel-none'])
        self.assertEqual(names('sel=yes,team,team!=c'), ['sel-a', 'sel-b'])
        self.assertEqual(names('sel=yes,team=a', '/apis/batch/v1/jobs'), ['sel-a'])
        for bad in ('team in a', 'team=(', '=x', 'sel=yes,,'):
            st, out = self.call('GET', '/apis/batch/v1/jobs',
                                params={'labelSelector': bad})
            self.assertEqual(st, 400, (bad, out))
        st, out = self.call('GET', '/apis/batch/v1/namespaces/default/jobs',
                            params={'labelSelector': 'sel=yes', 'limit': 2})
        self.assertEqual(len(out['items']), 2)
        self.assertEqual(out['metadata']['remainingItemCount'], 2)
        st, out2 = self.call('GET', '/apis/batch/v1/namespaces/default/jobs',
                             params={'labelSelector': 'sel=yes', 'limit': 2,
                                     'continue': out['metadata']['continue']})
        self.assertEqual(len(out2['items']), 2)
        self.assertNotIn('continue', out2['metadata'])
        for name in ('sel-a', 'sel-b', 'sel-c', 'sel-none'):
            self.delete_job(name)

    # ---- watch
    def watch(self, path, params, timeout=30):
        c = self.sim.conn(timeout=timeout)
        q = dict(params, watch='1')
        c.request('GET', path + '?' + urllib.parse.urlencode(q),
                  headers={'Authorization': 'Bearer ' + self.sim.token})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader('Transfer-Encoding'), 'chunked')
        return c, r

    @staticmethod
    def events(r, until=None):
        out = []
        while True:
            try:
                line = r.readline()
            except (http.client.IncompleteRead, OSError):
                out.append('CUT')
                return out
            if not line:
                # http.client's readline hides a stream cut before the last
                # chunk; it leaves chunk_left at 0 then (None after "0\r\n")
                if r.chunk_left is not None:
                    out.append('CUT')
                return out
            ev = json.loads(line)
            out.append(ev)
            if until and until(ev):
                return out

    def test_watch_from_rv(self):
        st, out = self.call('GET', '/apis/batch/v1/namespaces/default/jobs',
                            params={'labelSelector': 'w=1'})
        rv = out['metadata']['resourceVersion']
        self.create_job(job('watched', 'true', labels={'w': '1'}))
        self.create_job(job('unwatched', 'true', labels={'w': '2'}))
        self.wait_job('watched', 'Complete')
        c, r = self.watch('/apis/batch/v1/namespaces/default/jobs',
                          {'resourceVersion': rv, 'labelSelector': 'w=1',
                           'allowWatchBookmarks': 'true', 'timeoutSeconds': 3})
        evs = self.events(r, until=lambda e: e['type'] == 'BOOKMARK')
        types = [e['type'] for e in evs]
        self.assertEqual(types[0], 'ADDED')
        self.assertEqual(types[-1], 'BOOKMARK')
        self.assertTrue(all(e['object']['metadata']['name'] == 'watched'
                            for e in evs[:-1]))
        conds = [c_['type'] for c_ in evs[-2]['object']['status']['conditions']]
        self.assertEqual(conds, ['SuccessCriteriaMet', 'Complete'])
        rvs = [int(e['object']['metadata']['resourceVersion']) for e in evs]
        self.assertEqual(rvs, sorted(rvs))
        self.assertGreater(rvs[0], int(rv))
        bookmark_rv = evs[-1]['object']['metadata']['resourceVersion']
        # the delete arrives on the same stream; then the stream times out
        self.delete_job('watched')
        evs = self.events(r)
        self.assertIn('DELETED', [e['type'] for e in evs])
        self.assertNotIn('CUT', evs)
        c.close()
        # from the bookmark on, nothing replayed twice
        c, r = self.watch('/apis/batch/v1/namespaces/default/jobs',
                          {'resourceVersion': bookmark_rv, 'labelSelector': 'w=1',
                           'timeoutSeconds': 1})
        evs = self.events(r)
        self.assertEqual([e['type'] for e in evs], ['DELETED'])
        c.close()
        self.delete_job('unwatched')

    def test_watch_label_transitions_and_initial(self):
        self.create_job(job('initial', 'sleep 30', labels={'init': 'x'}))
        c, r = self.watch('/apis/batch/v1/jobs',
                          {'labelSelector': 'init=x', 'timeoutSeconds': 1})
        evs = self.events(r)
        self.assertEqual(evs[0]['type'], 'ADDED')
        self.assertEqual(evs[0]['object']['metadata']['name'], 'initial')
        c.close()
        self.delete_job('initial')
        # Its pod goes in the background: gone before the next test, whose
        # watch must see no change it did not make.
        self.wait_for(lambda: not self.pods_of('initial'),
                      what='the pod of initial gone')

    def test_watch_expired(self):
        st, out = self.call('GET', '/apis/batch/v1/namespaces/default/jobs')
        rv = out['metadata']['resourceVersion']
        self.sim.admin('POST', '/compact')
        c, r = self.watch('/apis/batch/v1/namespaces/default/jobs',
                          {'resourceVersion': rv})
        evs = self.events(r)
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]['type'], 'ERROR')
        self.assert_status(evs[0]['object'], 410, 'Expired')
        self.assertIn('too old resource version', evs[0]['object']['message'])
        c.close()
        # a fresh list gives a usable resourceVersion
        st, out = self.call('GET', '/apis/batch/v1/namespaces/default/jobs')
        c, r = self.watch('/apis/batch/v1/namespaces/default/jobs',
                          {'resourceVersion': out['metadata']['resourceVersion'],
                           'timeoutSeconds': 1})
        self.assertEqual(self.events(r), [])
        c.close()
        st, out = self.call('GET', '/apis/batch/v1/jobs',
                            params={'watch': 'true', 'resourceVersion': 'abc'})
        self.assertEqual(st, 400, out)

    def test_watch_survives_compaction_when_current_and_cut(self):
        st, out = self.call('GET', '/api/v1/nodes')
        c, r = self.watch('/api/v1/nodes', {'resourceVersion':
                                            out['metadata']['resourceVersion'],
                                            'allowWatchBookmarks': 'true',
                                            'timeoutSeconds': 20})
        # The simulator counts a watch before it answers 200.
        self.assertGreaterEqual(self.sim.admin('GET', '/state')['watches'], 1)
        self.sim.admin('POST', '/compact')
        self.sim.admin('POST', '/nodes/node-c', {'memoryPressure': False})
        evs = self.events(r, until=lambda e: e['type'] == 'MODIFIED')
        self.assertEqual(evs[-1]['object']['metadata']['name'], 'node-c')
        self.assertNotIn('ERROR', [e['type'] for e in evs])
        self.sim.admin('POST', '/nodes/node-c', {'memoryPressure': True})
        self.assertEqual(self.sim.admin('POST', '/cut-watches')['cut'], 1)
        evs = self.events(r)
        self.assertEqual(evs[-1], 'CUT')
        c.close()

    # ---- faults and the request log
    def test_faults(self):
        self.sim.admin('POST', '/faults', {'kind': '500', 'count': 2})
        for _ in range(2):
            st, out = self.call('GET', '/api/v1/nodes')
            self.assertEqual(st, 500)
            self.assert_status(out, 500, 'InternalError')
        self.assertEqual(self.call('GET', '/api/v1/nodes')[0], 200)
        self.sim.admin('POST', '/faults', {'kind': '429', 'count': 1, 'retry_after': 3})
        st, data, resp = self.call('GET', '/api/v1/nodes', raw=True)
        self.assertEqual(st, 429)
        self.assertEqual(resp.getheader('Retry-After'), '3')
        self.assertEqual(json.loads(data)['details']['retryAfterSeconds'], 3)
        self.sim.admin('POST', '/faults', {'kind': 'delay', 'count': 1, 'seconds': 3})
        c = self.sim.conn(timeout=1)
        with self.assertRaises(socket.timeout):
            self.call('GET', '/api/v1/nodes', conn=c)
        c.close()
        self.sim.admin('POST', '/faults', {'kind': 'drop', 'count': 1})
        c = self.sim.conn()
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.call('GET', '/api/v1/nodes', conn=c)
        c.close()
        # a create that is applied but never answered
        self.sim.admin('POST', '/faults', {'kind': 'drop_after', 'count': 1,
                                           'method': 'POST', 'path': '/jobs$'})
        c = self.sim.conn()
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.call('POST', '/apis/batch/v1/namespaces/default/jobs',
                      job('applied-unanswered', 'true'), conn=c)
        c.close()
        self.assertIsNotNone(self.get_job('applied-unanswered'))
        self.delete_job('applied-unanswered')
        # a fault on a path other than the one asked leaves it alone
        self.sim.admin('POST', '/faults', {'kind': '500', 'count': 1, 'path': '/pods'})
        self.assertEqual(self.call('GET', '/api/v1/nodes')[0], 200)
        self.sim.admin('DELETE', '/faults')

    def test_probability_faults(self):
        self.sim.admin('POST', '/faults', {'kind': '500', 'probability': 0.5,
                                           'path': '^/version$'})
        codes = [self.call('GET', '/version')[0] for _ in range(60)]
        self.assertTrue(10 < codes.count(500) < 50, codes)
        self.sim.admin('DELETE', '/faults')

    def test_request_log(self):
        self.call('GET', '/api/v1/namespaces/default/pods',
                  params={'labelSelector': 'job-name=log-me'})
        with open(self.sim.log) as f:
            text = f.read()
        self.assertNotIn(self.sim.token, text)
        last = [json.loads(x) for x in text.splitlines()
                if 'log-me' in x][-1]
        self.assertEqual(last['method'], 'GET')
        self.assertEqual(last['path'], '/api/v1/namespaces/default/pods')
        self.assertEqual(last['query'], {'labelSelector': 'job-name=log-me'})
        posts = [json.loads(x) for x in text.splitlines() if '"POST"' in x]
        self.assertTrue(any(isinstance(p.get('body'), dict) for p in posts))

    # ---- a real client
    def kubectl(self, *args, check=True):
        p = subprocess.run(['kubectl', '--kubeconfig', self.sim.kubeconfig,
                            '--request-timeout=20s', *args],
                           capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def test_kubectl(self):
        if not shutil.which('kubectl'):
            self.skipTest('kubectl is not installed (Debian: kubernetes-client)')
        out = self.kubectl('get', 'nodes').stdout
        for n in ('node-a', 'node-b', 'node-c'):
            self.assertIn(n, out)
        self.assertRegex(out, r'node-b\s+NotReady')
        # get -w: a Job made while kubectl watches shows up on its stream
        w = subprocess.Popen(['kubectl', '--kubeconfig', self.sim.kubeconfig,
                              'get', 'jobs', '-n', 'default', '-w',
                              '-o', 'name'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            self.create_job(job('kubectl-sees', 'true'))
            seen, deadline = '', time.time() + 30
            while 'job.batch/kubectl-sees' not in seen:
                left = deadline - time.time()
                self.assertGreater(left, 0, 'kubectl get -w saw: %r' % seen)
                if select.select([w.stdout], [], [], left)[0]:
                    line = w.stdout.readline()
                    if line == '':
                        self.fail('kubectl get -w ended: %s' % w.stderr.read())
                    seen += line
        finally:
            w.kill()
            w.wait()
            w.stdout.close()
            w.stderr.close()
        self.wait_job('kubectl-sees', 'Complete')
        out = self.kubectl('get', 'jobs', '-A').stdout
        self.assertRegex(out, r'default\s+kubectl-sees\s+Complete')
        out = self.kubectl('get', 'pods', '-n', 'default').stdout
        self.assertIn('kubectl-sees-', out)
        manifest = os.path.join(self.sim.dir, 'job.json')
        # kubectl before 1.29 validates on the client with the OpenAPI v2
        # document (protobuf), which the simulator does not serve; newer ones
        # read OpenAPI v3 and ask the server (fieldValidation=Strict).
        # Either way the server refuses an unknown field.
        v = json.loads(self.kubectl('version', '--client', '-o', 'json')
                       .stdout)['clientVersion']
        version = (int(v['major']), int(re.sub(r'\D.*', '', v['minor'])))
        validate = ['--validate=false'] if version < (1, 29) else []
        with open(manifest, 'w') as f:
            json.dump(job('kubectl-made', 'echo made by kubectl'), f)
        self.kubectl('create', *validate, '-f', manifest)
        self.wait_job('kubectl-made', 'Complete')
        self.assertEqual(self.kubectl('logs', 'job/kubectl-made').stdout,
                         'made by kubectl\n')
        self.kubectl('delete', 'job', 'kubectl-made')
        bad = job('kubectl-bad', 'true')
        bad['spec']['bogus'] = True
        with open(manifest, 'w') as f:
            json.dump(bad, f)
        p = self.kubectl('create', *validate, '-f', manifest, check=False)
        if validate and version >= (1, 25):
            # --validate=false is fieldValidation=Ignore there: the server
            # drops the field, as a real one does
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn('bogus', json.dumps(self.get_job('kubectl-bad')))
            self.delete_job('kubectl-bad')
        else:
            self.assertNotEqual(p.returncode, 0)
            self.assertIn('unknown field "spec.bogus"', p.stderr)
        self.delete_job('kubectl-sees')


def stat_of(path):
    st = os.stat(path)
    return st.st_uid, st.st_mode & 0o7777


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


if __name__ == '__main__':
    # ctest's SKIP_RETURN_CODE: 77 when a test was skipped and none failed,
    # so the run counts this one as skipped, not passed.
    result = unittest.main(exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    for case, why in result.skipped:
        print('# skip: %s: %s' % (case.id(), why))
    sys.exit(77 if result.skipped else 0)
