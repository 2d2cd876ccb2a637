#!/usr/bin/env python3
"""End-to-end tests of `exhunt assess`: the binary as a user runs it.

usage: e2e_assess.py EXHUNT FIXTURES
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

EXHUNT = ''
FIXTURES = ''
AS_OF = '2026-11-23'


def run(*args, stdin=None, env=None):
    e = dict(os.environ)
    e.pop('NO_COLOR', None)
    if env:
        e.update(env)
    p = subprocess.run([EXHUNT, *args], input=stdin, capture_output=True, env=e, timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def assess(*args, **kw):
    return run('assess', '--as-of', AS_OF, *args, **kw)


def flat(text):
    """The text with line wrapping undone, for phrases that may wrap."""
    return ' '.join(text.split())


def jsonl(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


class DoneWhen(unittest.TestCase):
    """The issue's own acceptance checks."""

    def test_2016_cu19_names_proxylogon_fix_and_target(self):
        rc, out, err = assess('15.1.2176.2')
        self.assertEqual(rc, 1, err)
        self.assertIn('CVE-2021-26855', out)
        self.assertIn('Exchange Server 2016 CU19 Mar21SU (KB5000871, 15.1.2176.9', out)
        self.assertIn('ProxyLogon', out)
        self.assertIn('ProxyShell', out)
        self.assertIn('ProxyNotShell', out)
        self.assertIn('Exchange Server SE RTM May26HU', out)
        self.assertIn('out of support since 2025-10-14', flat(out))

    def test_2019_cu15_feb26su_no_open_cve_but_out_of_support(self):
        rc, out, _ = assess('15.2.1748.43')
        self.assertEqual(rc, 1)
        self.assertIn('Exchange Server 2019 CU15 Feb26SU', out)
        self.assertIn('no open CVE', out)
        self.assertIn('ended 2025-10-14', out)
        self.assertNotIn('UNPATCHED', out)

    def test_exsetup_of_current_se_build(self):
        rc, out, err = assess(os.path.join(FIXTURES, 'pe', 'exsetup-se-rtm-feb26su-x64.exe'))
        self.assertEqual(rc, 0, out + err)
        self.assertIn('15.2.2562.37 (exact)', out)
        self.assertIn('Exchange Server SE RTM Feb26SU (KB5074992', out)
        self.assertIn('supported', out)
        self.assertIn('no open CVE', out)

    def test_bad_inputs_exit_2_with_a_reason(self):
        cases = [
            ('garbage', 'garbage: no build number'),
            ('15.1', 'only major.minor'),
            ('15.1.2176.2.9', '3 or 4 parts'),
            ('/nonexistent/ExSetup.exe', '/nonexistent/ExSetup.exe: cannot open'),
            (os.path.join(FIXTURES, 'pe', 'no-version-resource-x64.exe'), 'no resources'),
            (os.path.join(FIXTURES, 'owa', 'not-owa.html'), 'neither a PE file'),
        ]
        for arg, msg in cases:
            with self.subTest(arg=arg):
                rc, out, err = assess(arg)
                self.assertEqual(rc, 2)
                self.assertIn(msg, err)
                self.assertNotIn('Traceback', err)


class Inputs(unittest.TestCase):
    def test_every_pasted_form(self):
        for form in ['15.1.2176.2', '15.01.2176.002', 'Exchange Server 2016 CU19 (15.1.2176.2)',
                     'Exchange/15.01.2176.002']:
            with self.subTest(form=form):
                rc, out, _ = assess('-f', 'jsonl', form)
                s = [j for j in jsonl(out) if j['event']['kind'] == 'state'][0]
                self.assertEqual(s['exhunt']['build'], '15.1.2176.2')
                self.assertEqual(s['exhunt']['build_precision'], 'exact')
                self.assertEqual(s['exhunt']['update_level'], 'unpatched')

    def test_admin_display_version_gives_cu_only(self):
        rc, out, _ = assess('Version 15.1 (Build 2176.2)')
        self.assertEqual(rc, 1)
        self.assertIn('UPDATE LEVEL UNKNOWN', out)
        self.assertNotIn('patched', out.replace('UNPATCHED', '').lower().replace('unpatched', ''))
        self.assertIn('ExSetup.exe', out)

    def test_owa_page_gives_cu_only(self):
        rc, out, _ = assess(os.path.join(FIXTURES, 'owa', 'owa-2016-cu19.html'))
        self.assertEqual(rc, 1)
        self.assertIn('15.1.2176 (CU level only)', out)
        self.assertIn('UPDATE LEVEL UNKNOWN', out)

    def test_install_folder_and_volume(self):
        with tempfile.TemporaryDirectory() as d:
            binp = os.path.join(d, 'Program Files', 'Microsoft', 'Exchange Server', 'V15', 'Bin')
            os.makedirs(binp)
            shutil.copy(os.path.join(FIXTURES, 'pe', 'exsetup-2016-cu19-mar21su-x64.exe'),
                        os.path.join(binp, 'ExSetup.exe'))
            before = os.stat(os.path.join(binp, 'ExSetup.exe'))
            for arg in [d, os.path.join(d, 'Program Files', 'Microsoft', 'Exchange Server', 'V15')]:
                rc, out, err = assess('-f', 'jsonl', arg)
                s = [j for j in jsonl(out) if j['event']['kind'] == 'state'][0]
                self.assertEqual(s['exhunt']['build'], '15.1.2176.9')
                self.assertEqual(s['exhunt']['source']['kind'], 'folder')
                self.assertTrue(s['file']['path'].endswith('ExSetup.exe'))
            after = os.stat(os.path.join(binp, 'ExSetup.exe'))
            self.assertEqual(before.st_mtime_ns, after.st_mtime_ns)
            self.assertEqual(sorted(os.listdir(binp)), ['ExSetup.exe'])  # nothing written
            rc, _, err = assess(os.path.join(d, 'Program Files'))
            self.assertEqual(rc, 0 if False else 1)

    def test_folder_without_exchange(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, 'Windows', 'System32'))
            rc, _, err = assess(d)
            self.assertEqual(rc, 2)
            self.assertIn('no Bin/ExSetup.exe', err)

    def test_truncated_pe(self):
        with open(os.path.join(FIXTURES, 'pe', 'exsetup-2016-cu19-x86.exe'), 'rb') as f:
            data = f.read()
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, 'ExSetup.exe')
            with open(p, 'wb') as f:
                f.write(data[:300])
            rc, _, err = assess(p)
            self.assertEqual(rc, 2)
            self.assertIn('ExSetup.exe', err)

    def test_unknown_and_future_builds(self):
        rc, out, _ = assess('15.1.2176.5')
        self.assertEqual(rc, 1)
        self.assertIn("not in exhunt's tables", out)
        self.assertIn('nearest below: Exchange Server 2016 CU19 Feb21SU', out)
        self.assertIn('nearest above: Exchange Server 2016 CU19 Mar21SU', out)
        rc, out, _ = assess('15.2.2562.99')
        self.assertEqual(rc, 1)
        self.assertIn('newer than every known build', out)
        rc, out, _ = assess('16.0.100.1')
        self.assertEqual(rc, 1)
        self.assertIn('not a known Exchange Server version', out)
        rc, out, _ = assess('8.3.83.6')
        self.assertIn('Exchange Server 2007', out)
        self.assertIn('out of support since 2017-04-11', flat(out))
        self.assertIn('move to Exchange Server SE', flat(out))


class Pipelines(unittest.TestCase):
    def test_stdin_lines(self):
        lines = b'# CMDB export\n\nmail01;15.1.2176.2\nmail02;15.2.2562.37\nnot a build\n15.2.1748.43\r\n'
        rc, out, err = assess('-', stdin=lines)
        self.assertEqual(rc, 2)  # one line could not be read; the others were assessed
        rows = out.splitlines()
        self.assertEqual(len(rows), 4)
        self.assertTrue(rows[0].startswith('mail01;15.1.2176.2  15.1.2176.2  Exchange Server 2016 CU19  UNPATCHED'))
        self.assertIn('install Exchange Server 2016 CU19 May21SU KB5003435', rows[0])
        self.assertIn('Exchange Server SE RTM Feb26SU  no open CVE', rows[1])
        self.assertIn('error', rows[2])
        self.assertIn('not a build', err)

    def test_repeated_builds_keep_their_precision(self):
        # '-' assesses each distinct build once and reuses it: the same
        # numbers read as AdminDisplayVersion (CU only) or as a 3-part build
        # must not reuse the exact build's verdict, and vice versa.
        forms = [b'15.1.2176.2', b'Version 15.1 (Build 2176.2)', b'15.1.2176', b'15.2.2562.37']
        lines = b'\n'.join(forms * 50) + b'\n'
        rc, out, _ = assess('-', stdin=lines)
        self.assertEqual(rc, 1)
        rows = out.splitlines()
        self.assertEqual(len(rows), 200)
        for i in range(0, 200, 4):
            self.assertIn('Exchange Server 2016 CU19  UNPATCHED', rows[i])
            self.assertIn('(CU only)  update level unknown', rows[i + 1])
            self.assertIn('(CU only)  update level unknown', rows[i + 2])
            self.assertIn('Exchange Server SE RTM Feb26SU  no open CVE', rows[i + 3])
        self.assertEqual(len(set(rows[0::4])), 1)
        rc, out, _ = assess('-f', 'jsonl', '-', stdin=lines)
        states = [json.loads(l) for l in out.splitlines() if json.loads(l)['event']['kind'] == 'state']
        self.assertEqual(len(states), 200)

    def test_jsonl_is_ecs(self):
        rc, out, _ = assess('-f', 'jsonl', '-', stdin=b'15.1.2176.2\n15.2.2562.37\ngarbage\n')
        recs = jsonl(out)
        states = [r for r in recs if r['event']['kind'] == 'state']
        alerts = [r for r in recs if r['event']['kind'] == 'alert']
        errors = [r for r in recs if r['event'].get('outcome') == 'failure']
        self.assertEqual(len(states), 2)
        self.assertEqual(len(errors), 1)
        self.assertTrue(alerts)
        for r in recs:
            self.assertIn('@timestamp', r)
            self.assertEqual(r['event']['module'], 'exhunt')
        for a in alerts:
            self.assertTrue(a['rule']['id'].startswith('exh.assess.'))
            self.assertIn(a['exhunt']['severity'], ['low', 'medium', 'high', 'critical'])
        pl = [a for a in alerts if 'CVE-2021-26855' in a.get('vulnerability', {}).get('id', [])]
        self.assertEqual(len(pl), 1)
        self.assertEqual(pl[0]['exhunt']['fix']['kb'], 'KB5000871')
        self.assertEqual(pl[0]['vulnerability']['severity'], 'Critical')
        se = [s for s in states if s['exhunt']['build'] == '15.2.2562.37'][0]
        self.assertEqual(se['exhunt']['update_level'], 'none_open')
        self.assertEqual(se['exhunt']['support']['status'], 'supported')

    def test_output_file_quiet_and_write_errors(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, 'out.jsonl')
            rc, out, _ = assess('-f', 'jsonl', '-o', p, '15.1.2176.2')
            self.assertEqual(rc, 1)
            self.assertEqual(out, '')
            with open(p) as f:
                self.assertTrue(jsonl(f.read()))
        rc, out, err = assess('-q', '15.1.2176.2')
        self.assertEqual((rc, out, err), (1, '', ''))
        rc, out, err = assess('-q', '15.2.2562.41')
        self.assertEqual((rc, out), (0, ''))
        if os.path.exists('/dev/full'):
            rc, _, err = assess('-o', '/dev/full', '15.1.2176.2')
            self.assertEqual(rc, 2)
            self.assertIn('write failed', err)

    def test_colour(self):
        _, out, _ = assess('--color', 'always', '15.1.2176.2')
        self.assertIn('\x1b[', out)
        _, out, _ = assess('15.1.2176.2')  # not a terminal
        self.assertNotIn('\x1b[', out)
        rc, _, err = assess('--color', 'sometimes', '15.1.2176.2')
        self.assertEqual(rc, 2)


class Cli(unittest.TestCase):
    def test_help_and_unknown_command(self):
        rc, out, _ = run('--help')
        self.assertEqual(rc, 0)
        self.assertIn('assess', out)
        rc, out, _ = run('assess', '--help')
        self.assertEqual(rc, 0)
        self.assertIn('INPUT is any of', out)
        rc, _, err = run('logz')
        self.assertEqual(rc, 2)
        self.assertIn("unknown command 'logz'", err)
        self.assertIn('assess', err)
        rc, _, err = run('assess')
        self.assertEqual(rc, 2)
        self.assertIn('no input', err)
        rc, _, err = run('assess', '--frobnicate', 'x')
        self.assertEqual(rc, 2)
        rc, _, err = run('assess', '-f', 'xml', '15.1.2176.2')
        self.assertEqual(rc, 2)
        rc, out, _ = run('--version')
        self.assertEqual(rc, 0)
        self.assertIn('releases', out)

    def test_data_dir_overrides_tables(self):
        builtin = os.path.join(os.path.dirname(FIXTURES), '..', 'data', 'builds.csv')
        with tempfile.TemporaryDirectory() as d:
            with open(builtin) as f:
                text = f.read()
            text += ('Exchange Server SE,RTM,Jan27SU,Exchange Server SE RTM Jan27SU,2027-01-12,'
                     '15.2.2562.60,KB9999999,test row\n')
            with open(os.path.join(d, 'builds.csv'), 'w') as f:
                f.write(text)
            rc, out, err = assess('--data', d, '15.2.2562.60')
            self.assertEqual(rc, 0, err)
            self.assertIn('Exchange Server SE RTM Jan27SU', out)
            with open(os.path.join(d, 'cves.csv'), 'w') as f:
                f.write('cve,product,cu,fixed_build,source\nCVE-2027-1,Exchange Server SE,RTM,15.2.2562.77,x\n')
            rc, _, err = assess('--data', d, '15.2.2562.60')
            self.assertEqual(rc, 2)
            self.assertIn('cves.csv: line 2:', err)
        rc, _, err = assess('--data', '/nonexistent', '15.1.2176.2')
        self.assertEqual(rc, 2)
        self.assertIn('--data', err)


def main():
    global EXHUNT, FIXTURES
    EXHUNT, FIXTURES = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    failed = len(result.failures) + len(result.errors)
    print(f'e2e_assess: {result.testsRun - failed} passed, {failed} failed')
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
