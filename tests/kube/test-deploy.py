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

    def one(self, kind):
        found = [d for _, d in self.docs if d.get('kind') == kind]
        self.assertEqual(len(found), 1, 'one %s in deploy/' % kind)
        return copy.deepcopy(found[0])

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
                              'Job'}, kinds)

    def test_documents_agree(self):
        ns = self.one('Namespace')['metadata']['name']
        sa = self.one('ServiceAccount')
        role = self.one('ClusterRole')
        binding = self.one('ClusterRoleBinding')
        dep = self.one('Deployment')
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

    # ---- the validation refuses what a real server refuses
    def test_unknown_fields(self):
        d = self.one('Deployment')
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
        d = self.one('Deployment')
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
        d = self.one('Deployment')
        del d['spec']['selector']
        self.refused(d, 'spec.selector: Required value')
        d = self.one('Deployment')
        del d['spec']['template']['spec']['containers'][0]['name']
        self.refused(d, 'spec.template.spec.containers[0].name: Required '
                     'value')
        d = self.one('Deployment')
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
        d = self.one('Deployment')
        d['spec']['selector']['matchLabels']['x'] = 'y'
        self.refused(d, '`selector` does not match template `labels`')
        d = self.one('Deployment')
        d['spec']['strategy']['rollingUpdate'] = {'maxSurge': 1}
        self.refused(d, 'spec.strategy.rollingUpdate: Forbidden')
        d = self.one('Deployment')
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
