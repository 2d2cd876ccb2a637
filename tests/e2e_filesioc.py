#!/usr/bin/env python3
"""End-to-end tests of `exhunt files` with the indicator store: indicators
imported from a CSV written here (plain layout with source, actor, report)
flag a file by its SHA-256, a web shell by its published path and a file by
its MD5; near misses (the same name in another folder, a name that only
starts like the published one, a file one byte different) are not flagged;
every indicator finding names source, actor and report; the hits become
sightings that `exhunt ioc export` lists; --no-sightings and a scan without
hits leave the store's bytes as they were; the default store is found
through XDG_DATA_HOME; a missing, corrupt or newer store and a store inside
the evidence are clear errors; the evidence is never changed.

usage: e2e_filesioc.py EXHUNT
"""
import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

EXHUNT = ''

# A web shell path Microsoft published for the March 2021 attacks (MSTIC
# Exchange IOC feed, filepath rows).
SHELL_WIN = r'C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\OutlookZH.aspx'
SHELL_REL = 'Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/OutlookZH.aspx'
# Bytes of our own: a stand-in for a tool the attackers staged. Its hash is
# the indicator; a copy one byte different must not match.
TOOL = b'MZ exhunt e2e stand-in for a staged tool; not a real binary\n' * 8
TOOL_NEAR = TOOL[:-2] + b'!\n'
DUMPER = b'exhunt e2e: a file known by its MD5 only\n'


def run(*args, env=None):
    e = dict(os.environ)
    e.pop('NO_COLOR', None)
    e.update(env or {})
    p = subprocess.run([EXHUNT, *args], capture_output=True, env=e, timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def records(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def snapshot(root):
    """Every file's bytes, size and mtime (links not followed)."""
    snap = {}
    for d, dirs, files in os.walk(root):
        for n in sorted(dirs + files):
            p = os.path.join(d, n)
            st = os.lstat(p)
            h = ''
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, 'rb') as f:
                    h = hashlib.sha256(f.read()).hexdigest()
            snap[os.path.relpath(p, root)] = (h, st.st_size, st.st_mtime_ns)
    return snap


def file_state(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest(), os.stat(path).st_mtime_ns


class FilesIoc(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='exhunt-e2e-filesioc.')
        self.vol = os.path.join(self.tmp, 'C')
        self.plant(SHELL_REL, b'<%@ Page Language="C#" %>\n')
        # Near misses of the path indicator: the same name in another
        # folder, and a name that only begins like the published one.
        self.plant('Users/admin/Desktop/OutlookZH.aspx', b'<html>notes</html>\n')
        self.plant('Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/'
                   'OutlookZH.aspx.txt', b'notes\n')
        self.plant('ProgramData/tool.bin', TOOL)
        self.plant('ProgramData/tool_near.bin', TOOL_NEAR)
        self.plant('Windows/Temp/d.bin', DUMPER)
        self.plant('Windows/Temp/clean.txt', b'nothing to see\n')
        self.tool_sha = hashlib.sha256(TOOL).hexdigest()
        self.iocs = os.path.join(self.tmp, 'iocs.csv')
        with open(self.iocs, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow(['type', 'value', 'source', 'actor', 'report'])
            w.writerow(['sha256', self.tool_sha.upper(), 'example-isac', 'HAFNIUM', 'ISAC flash 2021-07'])
            w.writerow(['filepath', SHELL_WIN, 'example-isac', 'HAFNIUM',
                        'https://example.org/reports/exchange-2021'])
            w.writerow(['md5', hashlib.md5(DUMPER).hexdigest(), 'lab-notes', '', 'case 42'])
            # Indicators that match nothing here.
            w.writerow(['sha256', hashlib.sha256(TOOL + b'x').hexdigest(), 'example-isac', 'HAFNIUM', ''])
            w.writerow(['ipv4', '203.0.113.9', 'example-isac', 'HAFNIUM', ''])
        self.db = os.path.join(self.tmp, 'store', 'iocs.sqlite')
        rc, out, err = run('ioc', '--db', self.db, 'import', self.iocs)
        self.assertEqual(rc, 0, err)
        self.assertIn('5 indicators', out)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def plant(self, rel, data):
        p = os.path.join(self.vol, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'wb') as f:
            f.write(data)
        # Old, as the files of a server are: the path rules' "recently
        # written among old files" must not depend on the test's speed.
        os.utime(p, (1600000000, 1600000000))

    def ioc_hits(self, out):
        hits = {}
        for r in records(out):
            if r['rule']['id'].startswith('exh.files.ioc.'):
                rel = os.path.relpath(r['file']['path'], self.vol)
                hits[rel] = r
        return hits

    def test_indicator_findings(self):
        before = snapshot(self.vol)
        rc, out, err = run('files', '--db', self.db, '--host', 'EXCH01', '-f', 'jsonl', self.vol)
        self.assertEqual(rc, 1, err)
        hits = self.ioc_hits(out)
        self.assertEqual(sorted(hits), sorted([SHELL_REL, 'ProgramData/tool.bin', 'Windows/Temp/d.bin']))
        shell = hits[SHELL_REL]
        self.assertEqual(shell['rule']['id'], 'exh.files.ioc.name')
        self.assertEqual(shell['threat']['indicator']['type'], 'filepath')
        self.assertEqual(shell['threat']['indicator']['provider'], 'example-isac')
        self.assertEqual(shell['threat']['indicator']['name'],
                         '/program files/microsoft/exchange server/v15/frontend/httpproxy/owa/auth/outlookzh.aspx')
        self.assertEqual(shell['threat']['indicator']['reference'], 'https://example.org/reports/exchange-2021')
        self.assertEqual(shell['threat']['group']['name'], 'HAFNIUM')
        self.assertEqual(shell['host']['name'], 'EXCH01')
        tool = hits['ProgramData/tool.bin']
        self.assertEqual(tool['rule']['id'], 'exh.files.ioc.hash')
        self.assertEqual(tool['exhunt']['severity'], 'critical')
        self.assertEqual(tool['threat']['indicator']['name'], self.tool_sha)
        self.assertEqual(tool['threat']['feed']['name'], 'ISAC flash 2021-07')
        self.assertIn('source: example-isac; actor: HAFNIUM; report: ISAC flash 2021-07', tool['message'])
        md5 = hits['Windows/Temp/d.bin']
        self.assertEqual(md5['threat']['indicator']['type'], 'md5')
        self.assertEqual(md5['threat']['indicator']['provider'], 'lab-notes')
        self.assertNotIn('group', md5['threat'])  # no actor given: none invented
        self.assertEqual(md5['file']['hash']['md5'], hashlib.md5(DUMPER).hexdigest())
        self.assertNotIn('sha1', tool['file']['hash'])  # no SHA-1 indicators: not computed
        self.assertIn('5 indicators from', err)
        self.assertIn('3 sightings recorded', err)
        self.assertEqual(snapshot(self.vol), before, 'the evidence changed')

        # The sightings, as `exhunt ioc export` lists them.
        rc, out, err = run('ioc', '--db', self.db, 'export')
        self.assertEqual(rc, 0, err)
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(rows), 3, out)
        by_loc = {r['location']: r for r in rows}
        tool_path = os.path.join(self.vol, 'ProgramData/tool.bin')
        self.assertIn(tool_path, by_loc)
        row = by_loc[tool_path]
        self.assertEqual((row['type'], row['value'], row['source'], row['actor'], row['host'], row['detector'],
                          row['detail']),
                         ('sha256', self.tool_sha, 'example-isac', 'HAFNIUM', 'EXCH01', 'files', 'file.hash.sha256'))
        self.assertTrue(row['seen_at'].startswith('2020-09-13T12:26:40'), row['seen_at'])  # the file's mtime
        rc, out, err = run('ioc', '--db', self.db, 'export', '--format', 'stix')
        self.assertEqual(rc, 0, err)
        self.assertEqual(sum(o['type'] == 'sighting' for o in json.loads(out)['objects']), 3)

        # Scanning again records the same sightings once.
        rc, out, err = run('files', '--db', self.db, '--host', 'EXCH01', '-q', self.vol)
        self.assertEqual(rc, 1, err)
        rc, out, err = run('ioc', '--db', self.db, 'export')
        self.assertEqual(len(list(csv.DictReader(io.StringIO(out)))), 3)

    def test_text_output_names_the_source(self):
        rc, out, err = run('files', '--db', self.db, '--no-sightings', '--color', 'never', self.vol)
        self.assertEqual(rc, 1, err)
        self.assertIn('(source: example-isac; actor: HAFNIUM; report: '
                      'https://example.org/reports/exchange-2021)', out)

    def test_no_sightings_and_no_hits_leave_the_store_alone(self):
        before = file_state(self.db)
        rc, out, err = run('files', '--db', self.db, '--no-sightings', '-q', self.vol)
        self.assertEqual(rc, 1, err)
        self.assertEqual(file_state(self.db), before)
        clean = os.path.join(self.vol, 'Windows/Temp/clean.txt')
        rc, out, err = run('files', '--db', self.db, clean)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, '')
        self.assertEqual(file_state(self.db), before)
        self.assertFalse(os.path.exists(self.db + '-journal'))
        rc, out, err = run('ioc', '--db', self.db, 'export')
        self.assertEqual(len(list(csv.DictReader(io.StringIO(out)))), 0)

    def test_no_iocs(self):
        rc, out, err = run('files', '--db', self.db, '--no-iocs', '-f', 'jsonl', self.vol)
        self.assertEqual(self.ioc_hits(out), {})
        self.assertIn('indicators not used (--no-iocs)', err)

    def test_default_store(self):
        xdg = os.path.join(self.tmp, 'xdg')
        os.makedirs(os.path.join(xdg, 'exhunt'))
        env = {'XDG_DATA_HOME': xdg}
        # Absent: not an error; the path rules still run.
        rc, out, err = run('files', '-f', 'jsonl', self.vol, env=env)
        self.assertEqual(rc, 1, err)
        self.assertEqual(self.ioc_hits(out), {})
        self.assertIn('no indicator store', err)
        self.assertFalse(os.path.exists(os.path.join(xdg, 'exhunt', 'iocs.sqlite')))
        # Present: used, and the sightings go there.
        shutil.copy(self.db, os.path.join(xdg, 'exhunt', 'iocs.sqlite'))
        rc, out, err = run('files', '-f', 'jsonl', self.vol, env=env)
        self.assertEqual(rc, 1, err)
        self.assertEqual(len(self.ioc_hits(out)), 3)
        rc, out, err = run('ioc', 'export', env=env)
        self.assertEqual(len(list(csv.DictReader(io.StringIO(out)))), 3)

    def test_store_errors(self):
        rc, out, err = run('files', '--db', os.path.join(self.tmp, 'nope.sqlite'), self.vol)
        self.assertEqual(rc, 2)
        self.assertIn("nope.sqlite: No such file or directory (create it with 'exhunt ioc import FILE')", err)
        self.assertEqual(out, '')  # nothing scanned
        rc, out, err = run('files', '--db', self.tmp, self.vol)
        self.assertEqual(rc, 2)
        self.assertIn('not a file', err)
        bad = os.path.join(self.tmp, 'bad.sqlite')
        with open(bad, 'wb') as f:
            f.write(b'not a database, just bytes\n' * 200)
        rc, out, err = run('files', '--db', bad, self.vol)
        self.assertEqual(rc, 2)
        self.assertIn('not an exhunt indicator store', err)
        self.assertIn('--no-iocs', err)
        newer = os.path.join(self.tmp, 'newer.sqlite')
        shutil.copy(self.db, newer)
        con = sqlite3.connect(newer)
        con.execute('PRAGMA user_version = 99')
        con.commit()
        con.close()
        rc, out, err = run('files', '--db', newer, self.vol)
        self.assertEqual(rc, 2)
        self.assertIn('newer than this exhunt', err)
        rc, out, err = run('files', '--db', bad, '--no-iocs', '-q', self.vol)
        self.assertEqual(rc, 1, err)  # --no-iocs: the store is not even opened

    def test_store_inside_the_evidence(self):
        inside = os.path.join(self.vol, 'Users', 'iocs.sqlite')
        shutil.copy(self.db, inside)
        before = snapshot(self.vol)
        rc, out, err = run('files', '--db', inside, self.vol)
        self.assertEqual(rc, 2)
        self.assertIn('would write into the evidence', err)
        rc, out, err = run('files', '--db', inside, '--no-sightings', '-q', self.vol)
        self.assertEqual(rc, 1, err)
        self.assertEqual(snapshot(self.vol), before)

    def test_feed_text_is_escaped(self):
        # A feed is input too: its source and actor reach the terminal escaped.
        evil = os.path.join(self.tmp, 'evil.csv')
        with open(evil, 'w', newline='') as f:
            csv.writer(f).writerows([['type', 'value', 'source', 'actor'],
                                     ['filename', 'clean.txt', 'fe\x1b[31med', 'act\x1b[2Jor']])
        db = os.path.join(self.tmp, 'evil.sqlite')
        rc, out, err = run('ioc', '--db', db, 'import', evil)
        self.assertEqual(rc, 0, err)
        rc, out, err = run('files', '--db', db, '--no-sightings', '--color', 'always', self.vol)
        self.assertEqual(rc, 1, err)
        self.assertIn('clean.txt is a published indicator', out)
        self.assertNotIn('\x1b[31med', out)
        self.assertNotIn('\x1b[2J', out)

    def test_same_hits_any_thread_count(self):
        outs = []
        for j in ('1', '4'):
            rc, out, err = run('files', '--db', self.db, '--no-sightings', '-j', j, '-f', 'jsonl', self.vol)
            self.assertEqual(rc, 1, err)
            outs.append(sorted((k, v['threat']['indicator']['name']) for k, v in self.ioc_hits(out).items()))
        self.assertEqual(outs[0], outs[1])
        self.assertEqual(len(outs[0]), 3)

    def test_host_is_checked(self):
        rc, out, err = run('files', '--db', self.db, '--host', 'bad host\x1b[2J', self.vol)
        self.assertEqual(rc, 2)
        self.assertIn('--host takes a host name', err)

    def test_help(self):
        rc, out, err = run('files', '--help')
        self.assertEqual(rc, 0)
        for opt in ('--db FILE', '--no-iocs', '--no-sightings', '--host NAME', 'exhunt ioc export'):
            self.assertIn(opt, out)


if __name__ == '__main__':
    EXHUNT = sys.argv.pop(1)
    unittest.main(verbosity=1)
