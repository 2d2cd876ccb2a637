#!/usr/bin/env python3
"""End-to-end tests of `exhunt files` on a generated Exchange-like system
volume (tests/files_samples.py): exactly the planted findings, nothing on the
near misses, and the evidence byte-for-byte, mtime- and atime-unchanged.

usage: e2e_files.py EXHUNT
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import files_samples  # noqa: E402

EXHUNT = ''


def run(*args):
    e = dict(os.environ)
    e.pop('NO_COLOR', None)
    p = subprocess.run([EXHUNT, 'files', '--no-iocs', *args], capture_output=True, env=e, timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def records(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


NOATIME = getattr(os, 'O_NOATIME', 0)


def snapshot(root, snap=None):
    """Every entry's bytes hash, size, mtime and atime (links not followed).
    Folders and files are read with O_NOATIME: the snapshot itself must not
    move the atimes it records."""
    import stat
    if snap is None:
        snap = {}
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | NOATIME)
    try:
        names = sorted(os.listdir(fd))
    finally:
        os.close(fd)
    for name in names:
        p = os.path.join(root, name)
        st = os.lstat(p)
        digest = None
        if stat.S_ISREG(st.st_mode):
            fd = os.open(p, os.O_RDONLY | NOATIME)
            with os.fdopen(fd, 'rb') as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        snap[p] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_atime_ns, digest)
        if stat.S_ISDIR(st.st_mode):
            snapshot(p, snap)
    return snap


class Tree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='exhunt-e2e-files.')
        cls.root = os.path.join(cls.tmp, 'C')
        os.makedirs(cls.root)
        cls.expected = files_samples.plant(cls.root)
        cls.before = snapshot(cls.tmp)
        cls.rc, cls.out, cls.err = run('--format', 'jsonl', cls.root)
        cls.recs = records(cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def rel(self, p):
        return os.path.relpath(p, self.root)

    def test_exact_findings(self):
        got = {(self.rel(r['file']['path']), r['rule']['id']) for r in self.recs}
        missing = sorted(self.expected - got)
        extra = sorted(got - self.expected)
        self.assertEqual(missing, [], 'planted but not found')
        self.assertEqual(extra, [], 'found but not planted (near misses must not match)')
        self.assertEqual(self.rc, 1, self.err)

    def test_evidence_unchanged(self):
        after = snapshot(self.tmp)
        self.assertEqual(sorted(after), sorted(self.before))
        for p, v in self.before.items():
            self.assertEqual(after[p], v, f'{p} changed (mode, size, mtime, atime, sha256)')

    def test_links_and_fifo_skipped(self):
        paths = {self.rel(r['file']['path']) for r in self.recs}
        self.assertFalse(any('linked.aspx' in p or 'pipe.aspx' in p for p in paths))
        self.assertIn('2 links and 1 special files skipped', self.err)

    def test_finding_fields(self):
        by = {(self.rel(r['file']['path']), r['rule']['id']): r for r in self.recs}
        r = by[(files_samples.OWA_AUTH + '/supp0rt.aspx', 'exh.files.webshell.oab_config')]
        with open(os.path.join(self.root, files_samples.OWA_AUTH, 'supp0rt.aspx'), 'rb') as f:
            self.assertEqual(r['file']['hash']['sha256'], hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(r['exhunt']['severity'], 'critical')
        self.assertEqual(r['event']['dataset'], 'exhunt.files')
        self.assertIn('T1505.003', r['threat']['technique']['id'])
        self.assertIn('CISA AR21-084A', r['rule']['reference'])
        self.assertEqual(r['exhunt']['yara']['rule'], 'Exh_Webshell_OAB_Config_Script_In_Url')
        self.assertTrue(r['exhunt']['action'])
        # The event time is the file's mtime (when it was written), not the scan's.
        self.assertTrue(r['@timestamp'].startswith('2021-03-03'), r['@timestamp'])
        # The DearCry marker is at offset 0.
        d = by[('Users/Public/Documents/budget.xlsx.CRYPT', 'exh.files.ransom.dearcry_encrypted')]
        self.assertEqual(d['exhunt']['offset'], 0)
        p = by[('Windows/Temp/lsass.dmp', 'exh.files.path.lsass_dump')]
        self.assertEqual(p['rule']['name'], 'LSASS dump in C:\\root or Windows\\Temp')

    def test_stable_order_any_thread_count(self):
        rc1, out1, _ = run('--format', 'jsonl', '--threads', '1', self.root)
        rc2, out2, _ = run('--format', 'jsonl', '--threads', '2', self.root)

        def strip(out):
            recs = records(out)
            for r in recs:
                r['event'].pop('created', None)
            return recs
        self.assertEqual(strip(out1), strip(out2))
        self.assertEqual(strip(out1), strip(self.out))
        self.assertEqual((rc1, rc2), (1, 1))

    def test_text_output(self):
        rc, out, err = run('--color', 'never', self.root)
        self.assertEqual(rc, 1)
        self.assertIn('critical China Chopper style one-line eval web shell', out)
        self.assertIn('at ' + os.path.join(self.root, files_samples.ASPNET, 'system_web', 'zxvt0lpt.aspx'), out)
        self.assertIn('do: ', out)


class Cases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='exhunt-e2e-files.')

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, rel, data, mode=None):
        p = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'wb') as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def test_clean_tree_exits_0(self):
        self.write('inetpub/wwwroot/iisstart.htm', '<html></html>')
        self.write(files_samples.OWA_AUTH + '/logon.aspx', files_samples.BENIGN_LOGON)
        rc, out, err = run(self.tmp)
        self.assertEqual((rc, out), (0, ''), err)
        self.assertIn('2 files', err)

    def test_single_file(self):
        p = self.write('x/readme.txt', files_samples.DEARCRY_NOTE)
        rc, out, _ = run('-f', 'jsonl', p)
        self.assertEqual(rc, 1)
        self.assertEqual([r['rule']['id'] for r in records(out)], ['exh.files.ransom.dearcry_note'])

    def test_link_named_as_root_is_followed(self):
        p = self.write('x/readme.txt', files_samples.DEARCRY_NOTE)
        link = os.path.join(self.tmp, 'note-link')
        os.symlink(p, link)
        rc, out, err = run('-f', 'jsonl', link)
        self.assertEqual(rc, 1, err)
        self.assertEqual([r['rule']['id'] for r in records(out)], ['exh.files.ransom.dearcry_note'])

    def test_missing_path_exits_2_and_goes_on(self):
        p = self.write('readme.txt', files_samples.DEARCRY_NOTE)
        rc, out, err = run('-f', 'jsonl', os.path.join(self.tmp, 'nope'), p)
        self.assertEqual(rc, 2)
        self.assertIn('nope: cannot open', err)
        recs = records(out)
        self.assertEqual(recs[0]['event']['outcome'], 'failure')
        self.assertEqual(recs[1]['rule']['id'], 'exh.files.ransom.dearcry_note')

    def test_unreadable_file_reported(self):
        # Root reads every file: then run the scan as nobody (setpriv).
        prefix = []
        if os.geteuid() == 0:
            setpriv = shutil.which('setpriv')
            if not setpriv:
                self.skipTest('running as root without setpriv')
            prefix = [setpriv, '--reuid=65534', '--regid=65534', '--clear-groups']
            os.chmod(self.tmp, 0o755)
        p = self.write('Windows/Temp/locked.bin', 'x')
        self.write('Windows/Temp/lsass.dmp', 'not really')
        for d in ('Windows', 'Windows/Temp'):
            os.chmod(os.path.join(self.tmp, d), 0o755)
        os.chmod(p, 0)
        os.chmod(os.path.join(self.tmp, 'Windows/Temp/lsass.dmp'), 0o644)
        e = dict(os.environ)
        proc = subprocess.run([*prefix, EXHUNT, 'files', '--no-iocs', '-f', 'jsonl', self.tmp],
                              capture_output=True, env=e, timeout=120)
        err = proc.stderr.decode('utf-8', 'replace')
        self.assertEqual(proc.returncode, 2, err)
        self.assertIn('locked.bin: cannot open: Permission denied', err)
        self.assertIn('1 unreadable', err)
        recs = records(proc.stdout.decode())
        # The readable file beside it is still scanned and reported.
        self.assertEqual([r['rule']['id'] for r in recs if 'rule' in r],
                         ['exh.files.path.lsass_dump'])
        self.assertEqual([r['event']['outcome'] for r in recs if 'rule' not in r], ['failure'])

    def test_terminal_escapes_in_names(self):
        self.write('inetpub/wwwroot/aspnet_client/x\x1b]0;pwn\x07.aspx', files_samples.CHOPPER)
        rc, out, _ = run('--color', 'never', self.tmp)
        self.assertEqual(rc, 1)
        self.assertNotIn('\x1b', out)
        self.assertNotIn('\x07', out)
        self.assertIn('\\x1b', out)

    def test_user_yara_source_and_compiled(self):
        rules = self.write('rules/mine.yar',
                           'rule Mine_Marker { meta: description = "my marker" severity = "low" '
                           'strings: $a = "EXHUNT-TEST-MARKER" condition: $a }\n')
        target = self.write('data/f.txt', 'xx EXHUNT-TEST-MARKER xx')
        self.write('data/g.txt', 'EXHUNT-TEST-MARKE')  # near miss
        rc, out, err = run('-f', 'jsonl', '--yara', rules, os.path.join(self.tmp, 'data'))
        self.assertEqual(rc, 1, err)
        recs = records(out)
        self.assertEqual([(r['rule']['id'], r['file']['path']) for r in recs],
                         [('exh.files.yara.Mine_Marker', target)])
        self.assertEqual(recs[0]['rule']['name'], 'my marker')
        self.assertEqual(recs[0]['exhunt']['severity'], 'low')
        self.assertEqual(recs[0]['exhunt']['offset'], 3)
        yarac = shutil.which('yarac')
        if yarac:
            compiled = os.path.join(self.tmp, 'rules', 'mine.yarc')
            subprocess.run([yarac, rules, compiled], check=True)
            os.unlink(rules)
            # A folder with the compiled file alone, bundled rules off.
            rc, out, err = run('-f', 'jsonl', '--no-builtin', '--yara',
                               os.path.join(self.tmp, 'rules'), os.path.join(self.tmp, 'data'))
            self.assertEqual(rc, 1, err)
            self.assertEqual([r['rule']['id'] for r in records(out)], ['exh.files.yara.Mine_Marker'])

    def test_bad_user_rule_is_an_error(self):
        rules = self.write('bad.yar', 'rule x { condition: nosuchthing }\n')
        rc, out, err = run('--yara', rules, self.tmp)
        self.assertEqual((rc, out), (2, ''))
        self.assertIn('bad.yar: line 1:', err)

    def test_usage_errors(self):
        for args in ([], ['--format', 'xml', '.'], ['--threads', '0', '.'],
                     ['--max-size', 'lots', '.'], ['--no-builtin', '.'], ['--bogus', '.']):
            rc, out, err = run(*args)
            self.assertEqual(rc, 2, args)
            self.assertTrue(err.startswith('exhunt files:'), (args, err))

    def test_help(self):
        rc, out, _ = run('--help')
        self.assertEqual(rc, 0)
        for word in ('--yara', '--format', '--threads', '--max-size', 'Exit status'):
            self.assertIn(word, out)

    def test_list_rules(self):
        rc, out, _ = run('--list-rules')
        self.assertEqual(rc, 0)
        rows = [line.split('\t') for line in out.splitlines()]
        ids = [r[0] for r in rows]
        self.assertIn('exh.files.webshell.china_chopper', ids)
        self.assertIn('exh.files.path.lsass_dump', ids)
        self.assertTrue(all(len(r) == 5 and r[4] for r in rows), 'every rule names a source')
        self.assertEqual(len(ids), len(set(ids)))

    def test_max_size_hashes_only(self):
        self.write('Users/Public/a.CRYPT', b'DEARCRY!' + bytes(4096))
        rc, out, err = run('-f', 'jsonl', '--max-size', '1K', self.tmp)
        self.assertEqual((rc, out), (0, ''))
        self.assertIn('1 above --max-size hashed only', err)


if __name__ == '__main__':
    EXHUNT = sys.argv.pop(1)
    unittest.main(verbosity=1)
