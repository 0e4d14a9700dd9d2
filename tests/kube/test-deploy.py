#!/usr/bin/env python3
"""test-deploy.py - the manifests of deploy/, checked against the official
schemas by the simulator's validation (kube-sim.py's check_manifest: the
models of python3-kubernetes and the rules of the real validation), and
against each other.

    python3 tests/kube/test-deploy.py [-v]

The simulator's validation is itself checked here on the kinds it does not
serve (unknown fields, wrong types, missing required fields and the
semantic rules are refused).  Whether the ClusterRole grants exactly what
Orchestra uses is tests/kube/check-rbac.py's, run by
tests/cli/t0201-kube-pilot.sh on a real run's requests.
"""

import copy
import glob
import importlib.util
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.join(HERE, '..', '..', 'deploy')


def load_sim():
    spec = importlib.util.spec_from_file_location(
        'kube_sim', os.path.join(HERE, 'kube-sim.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SIM = load_sim()
yaml = SIM.import_yaml()


def validate_service(api, obj, errs, uid):
    """What the API server's Service validation finds in deploy/'s kind of
    Service (ClusterIP, ports by name or number)."""
    spec = obj.get('spec') or {}
    ports = spec.get('ports') or []
    if not ports and spec.get('type') != 'ExternalName':
        errs.required('spec.ports')
    names = set()
    for i, p in enumerate(ports):
        f = 'spec.ports[%d]' % i
        if len(ports) > 1 and not p.get('name'):
            errs.required(f + '.name')
        if p.get('name') in names:
            errs.duplicate(f + '.name', p['name'])
        names.add(p.get('name'))
        if not 1 <= (p.get('port') or 0) <= 65535:
            errs.invalid(f + '.port', p.get('port'),
                         'must be between 1 and 65535, inclusive')
        tp = p.get('targetPort')
        if isinstance(tp, str) and not re.match(r'^[a-z0-9-]{1,15}$', tp):
            errs.invalid(f + '.targetPort', tp, 'must be an IANA_SVC_NAME')
    SIM.check_labels(errs, 'spec.selector', spec.get('selector'))


# A kind deploy/ has that the simulator does not serve, checked by the
# same decoding against the official model (a Service's name is a
# DNS-1035 label; 'label' is the closest rule the simulator has).
SIM.MANIFEST_KINDS.setdefault(('v1', 'Service'), (
    'V1Service', '', True, 'label', validate_service))
# deploy/'s one image: the one deploy/Containerfile builds, named after
# the project's version.
with open(os.path.join(HERE, '..', '..', 'CMakeLists.txt')) as _f:
    VERSION = re.search(r'project\(orchestra VERSION (\S+)',
                            _f.read()).group(1)
IMAGE = 'orchestra:' + VERSION


def documents():
    """(file name, document) of every deploy/*.yaml."""
    out = []
    for path in sorted(glob.glob(os.path.join(DEPLOY, '*.yaml'))):
        with open(path) as f:
            for d in yaml.safe_load_all(f):
                if d is not None:
                    out.append((os.path.basename(path), d))
    return out


class TestDeploy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = SIM
        try:
            cls.schema = cls.sim.Schema()
        except ImportError as e:
            raise unittest.SkipTest('python3-kubernetes is not installed: %s'
                                    % e)
        cls.docs = documents()

    def check(self, obj):
        return self.sim.check_manifest(self.schema, obj)

    def one(self, kind, component=None):
        found = [d for _, d in self.docs if d.get('kind') == kind and (
            component is None or d['metadata']['labels'].get(
                'app.kubernetes.io/component') == component)]
        self.assertEqual(len(found), 1, 'one %s %s in deploy/' % (
            kind, component or ''))
        return copy.deepcopy(found[0])

    def pilot(self):
        return self.one('Deployment', 'pilot')

    def serve(self):
        return self.one('Deployment', 'serve')

    def refused(self, obj, needle):
        msgs = self.check(obj)
        self.assertTrue(any(needle in m for m in msgs),
                        '%r not in %r' % (needle, msgs))

    # ---- deploy/ as it is
    def test_every_document_passes(self):
        kinds = set()
        for name, d in self.docs:
            self.assertEqual(self.check(d), [], '%s: %s %s' % (
                name, d.get('kind'), d.get('metadata', {}).get('name')))
            kinds.add(d['kind'])
        self.assertLessEqual({'Namespace', 'ServiceAccount', 'ClusterRole',
                              'ClusterRoleBinding', 'Deployment', 'Secret',
                              'Job', 'Service', 'PersistentVolume',
                              'PersistentVolumeClaim'}, kinds)

    def test_documents_agree(self):
        ns = self.one('Namespace')['metadata']['name']
        sa = self.one('ServiceAccount')
        role = self.one('ClusterRole')
        binding = self.one('ClusterRoleBinding')
        dep = self.pilot()
        secret = self.one('Secret')
        for d in (sa, dep, secret):
            self.assertEqual(d['metadata'].get('namespace'), ns, d['kind'])
        self.assertEqual(binding['roleRef'], {
            'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole',
            'name': role['metadata']['name']})
        self.assertEqual(binding['subjects'], [{
            'kind': 'ServiceAccount', 'name': sa['metadata']['name'],
            'namespace': ns}])
        spec = dep['spec']
        pod = spec['template']['spec']
        self.assertEqual(spec['replicas'], 1)
        self.assertEqual(spec['strategy'], {'type': 'Recreate'})
        self.assertEqual(pod['serviceAccountName'], sa['metadata']['name'])
        self.assertNotEqual(pod.get('automountServiceAccountToken'), False)
        (c,) = pod['containers']
        self.assertEqual(c['command'][-1:], ['pilot'])
        env = {e['name']: e for e in c['env']}
        self.assertEqual(env['ORCHESTRA_BACKEND']['value'], 'kubernetes')
        ref = env['ORCHESTRA_DB']['valueFrom']['secretKeyRef']
        self.assertEqual(ref['name'], secret['metadata']['name'])
        self.assertIn(ref['key'], secret.get('stringData') or
                      secret.get('data'))
        # No kubeconfig in the pod: the in-cluster service account.
        self.assertNotIn('KUBECONFIG', env)

    def test_serve_agrees(self):
        ns = self.one('Namespace')['metadata']['name']
        sa = self.one('ServiceAccount')['metadata']['name']
        secret = self.one('Secret')
        dep = self.serve()
        svc = self.one('Service')
        self.assertEqual(dep['metadata']['namespace'], ns)
        self.assertEqual(svc['metadata']['namespace'], ns)
        pod = dep['spec']['template']['spec']
        self.assertEqual(pod['serviceAccountName'], sa)
        (c,) = pod['containers']
        self.assertEqual(c['command'][:2], ['orchestra', 'serve'])
        env = {e['name']: e for e in c['env']}
        self.assertEqual(env['ORCHESTRA_BACKEND']['value'], 'kubernetes')
        self.assertEqual(env['ORCHESTRA_DB']['valueFrom']['secretKeyRef'],
                         {'name': secret['metadata']['name'], 'key': 'url'})
        self.assertNotIn('KUBECONFIG', env)
        # The Service selects serve's pods, and its port is serve's.
        labels = dep['spec']['template']['metadata']['labels']
        self.assertEqual(svc['spec']['selector'],
                         dep['spec']['selector']['matchLabels'])
        for k, v in svc['spec']['selector'].items():
            self.assertEqual(labels[k], v)
        ports = {p['name']: p['containerPort'] for p in c['ports']}
        (sp,) = svc['spec']['ports']
        self.assertIn(sp['targetPort'], ports)
        listen = c['command'][c['command'].index('--listen') + 1]
        self.assertEqual(listen, '0.0.0.0:%d' % ports[sp['targetPort']])
        for probe in ('readinessProbe', 'livenessProbe'):
            self.assertIn(c[probe]['httpGet']['port'], ports)

    def test_path_contract(self):
        """The pilot and serve mount the volume root, the claim of the
        whole export, at the same ORCHESTRA_VOLUME (docs/kubernetes.md),
        and run the image deploy/Containerfile builds."""
        pv = self.one('PersistentVolume')
        pvc = self.one('PersistentVolumeClaim')
        self.assertEqual(pvc['metadata']['namespace'],
                         self.one('Namespace')['metadata']['name'])
        self.assertEqual(pvc['spec']['volumeName'], pv['metadata']['name'])
        self.assertEqual(pv['spec']['claimRef'], {
            'namespace': pvc['metadata']['namespace'],
            'name': pvc['metadata']['name']})
        self.assertIn('ReadWriteMany', pv['spec']['accessModes'])
        self.assertIn('ReadWriteMany', pvc['spec']['accessModes'])
        self.assertTrue(pv['spec']['nfs']['path'].startswith('/'))
        self.assertEqual(pv['spec']['persistentVolumeReclaimPolicy'],
                         'Retain')
        roots = set()
        for dep in (self.pilot(), self.serve()):
            pod = dep['spec']['template']['spec']
            (c,) = pod['containers']
            self.assertEqual(c['image'], IMAGE, dep['metadata']['name'])
            env = {e['name']: e.get('value') for e in c['env']}
            root = env['ORCHESTRA_VOLUME']
            self.assertTrue(root.startswith('/') and '..' not in root)
            claims = {v['name'] for v in pod['volumes']
                      if (v.get('persistentVolumeClaim') or {}).get(
                          'claimName') == pvc['metadata']['name']}
            mounted = [m for m in c['volumeMounts'] if m['name'] in claims]
            self.assertEqual([m['mountPath'] for m in mounted], [root],
                             dep['metadata']['name'])
            self.assertFalse(any(m.get('readOnly') or m.get('subPath')
                                 for m in mounted))
            roots.add(root)
        self.assertEqual(len(roots), 1, 'pilot and serve: one volume root')
        self.assertTrue(os.path.exists(os.path.join(DEPLOY, 'Containerfile')))
        # The job template leaves the claim's mount to Orchestra, which
        # puts it at ORCHESTRA_VOLUME/<user>.
        job = self.one('Job')
        pod = job['spec']['template']['spec']
        self.assertEqual([v['persistentVolumeClaim']['claimName']
                          for v in pod['volumes']], ['volume'])
        self.assertFalse(any(m['name'] == 'volume' for c in pod['containers']
                             for m in c.get('volumeMounts') or []))
        # The template built into orchestra is this one (kube.c).
        with open(os.path.join(HERE, '..', '..', 'src', 'backend',
                               'kube.c')) as f:
            src = f.read()
        body = src[src.index('kube_default_template[] ='):]
        body = body[:body.index(';')]
        text = ''.join(bytes(m, 'ascii').decode('unicode_escape')
                       for m in re.findall(r'"((?:[^"\\]|\\.)*)"', body))
        self.assertEqual(yaml.safe_load(text), job)
        # No placeholder registry anywhere.
        for name, d in self.docs:
            self.assertNotIn('example.org/', yaml.safe_dump(d), name)

    # ---- the validation refuses what a real server refuses
    def test_unknown_fields(self):
        d = self.pilot()
        d['spec']['template']['spec']['containers'][0]['commands'] = ['x']
        self.refused(d, 'strict decoding error: unknown field '
                     '"spec.template.spec.containers[0].commands"')
        r = self.one('ClusterRole')
        r['rules'][0]['verb'] = ['get']
        self.refused(r, 'unknown field "rules[0].verb"')
        s = self.one('Secret')
        s['stringdata'] = {}
        self.refused(s, 'unknown field "stringdata"')

    def test_wrong_types(self):
        d = self.pilot()
        d['spec']['replicas'] = '1'
        self.refused(d, 'cannot unmarshal string into Go struct field '
                     'DeploymentSpec.spec.replicas of type int32')
        sa = self.one('ServiceAccount')
        sa['automountServiceAccountToken'] = 'yes'
        self.refused(sa, 'cannot unmarshal string')
        r = self.one('ClusterRole')
        r['rules'][0]['verbs'] = 'get'
        self.refused(r, 'cannot unmarshal string')

    def test_missing_required(self):
        d = self.pilot()
        del d['spec']['selector']
        self.refused(d, 'spec.selector: Required value')
        d = self.pilot()
        del d['spec']['template']['spec']['containers'][0]['name']
        self.refused(d, 'spec.template.spec.containers[0].name: Required '
                     'value')
        d = self.pilot()
        env = d['spec']['template']['spec']['containers'][0]['env']
        ref = [e for e in env if 'valueFrom' in e][0]
        del ref['valueFrom']['secretKeyRef']['key']
        self.refused(d, 'secretKeyRef.key: Required value')
        r = self.one('ClusterRole')
        del r['rules'][0]['verbs']
        self.refused(r, 'rules[0].verbs: Required value')
        b = self.one('ClusterRoleBinding')
        del b['roleRef']['kind']
        self.refused(b, 'roleRef.kind: Required value')
        b = self.one('ClusterRoleBinding')
        del b['subjects'][0]['namespace']
        self.refused(b, 'subjects[0].namespace: Required value')
        sa = self.one('ServiceAccount')
        del sa['metadata']['name']
        self.refused(sa, 'metadata.name: Required value')

    def test_semantic_rules(self):
        d = self.pilot()
        d['spec']['selector']['matchLabels']['x'] = 'y'
        self.refused(d, '`selector` does not match template `labels`')
        d = self.pilot()
        d['spec']['strategy']['rollingUpdate'] = {'maxSurge': 1}
        self.refused(d, 'spec.strategy.rollingUpdate: Forbidden')
        d = self.pilot()
        d['spec']['template']['spec']['restartPolicy'] = 'Never'
        self.refused(d, 'spec.template.spec.restartPolicy: Unsupported value')
        r = self.one('ClusterRole')
        r['rules'][0]['resources'] = []
        self.refused(r, 'resource rules must supply at least one resource')
        b = self.one('ClusterRoleBinding')
        b['roleRef']['kind'] = 'Role'
        self.refused(b, 'roleRef.kind: Unsupported value: "Role"')
        s = self.one('Secret')
        s['data'] = {'url': 'not base64!'}
        self.refused(s, 'illegal base64 data')
        s = self.one('Secret')
        s['stringData'] = {'a/b': 'x'}
        self.refused(s, 'a valid config key must consist of')
        sa = self.one('ServiceAccount')
        sa['metadata']['name'] = 'Orchestra'
        self.refused(sa, 'a lowercase RFC 1123 subdomain')
        ns = self.one('Namespace')
        ns['metadata']['name'] = 'a.b'
        self.refused(ns, 'a lowercase RFC 1123 label')
        v = self.one('Service')
        v['spec']['ports'][0]['targetPort'] = 'Not_A_Name'
        self.refused(v, 'must be an IANA_SVC_NAME')
        v = self.one('Service')
        v['spec']['ports'][0]['prot'] = 80
        self.refused(v, 'unknown field "spec.ports[0].prot"')
        v = self.one('PersistentVolume')
        v['spec']['nfs']['path'] = 'export'
        self.refused(v, 'must be an absolute path')
        self.refused({'apiVersion': 'apps/v1', 'kind': 'StatefulSet'},
                     'no matches for kind "StatefulSet" in version "apps/v1"')


if __name__ == '__main__':
    # ctest's SKIP_RETURN_CODE: 77 when a test was skipped and none failed,
    # so the run counts this one as skipped, not passed.
    result = unittest.main(exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    for case, why in result.skipped:
        print('# skip: %s: %s' % (case.id(), why))
    sys.exit(77 if result.skipped else 0)
