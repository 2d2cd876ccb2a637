#!/usr/bin/env python3
"""End-to-end tests of `exhunt check`'s correlation work (branch correlate):
the log files read once (by the log hunt, not again by the file scan) while
whatever else the log folders hold is still scanned; incidents split by what
joins them; indicator paths matched on decoded Velociraptor names; sightings
recorded in the indicator store. Evidence is generated here, in a temporary
folder, and checked unchanged after every run.

usage: e2e_check_correlate.py EXHUNT SOURCE_ROOT
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

EXHUNT = ''
SRC = ''
NOATIME = getattr(os, 'O_NOATIME', 0)
# A one-line shell the bundled YARA rules know (China Chopper, as MSTIC showed it).
CHOPPER = '<%@ Page Language="Jscript"%><%eval(Request.Item["k"],"unsafe");%>\r\n'


def run(*args, env_extra=None, cmd='check'):
    e = dict(os.environ)
    e.pop('NO_COLOR', None)
    e['XDG_DATA_HOME'] = '/nonexistent-exhunt-test'  # no indicator store unless --db
    e.update(env_extra or {})
    p = subprocess.run([EXHUNT, cmd, *args], capture_output=True, env=e, timeout=300)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def snapshot(root):
    snap = {}
    for d, dirs, files in os.walk(root):
        for n in sorted(files) + sorted(dirs):
            p = os.path.join(d, n)
            st = os.lstat(p)
            h = ''
            if os.path.isfile(p) and not os.path.islink(p):
                fd = os.open(p, os.O_RDONLY | NOATIME)
                with os.fdopen(fd, 'rb') as f:
                    h = hashlib.sha256(f.read()).hexdigest()
            snap[os.path.relpath(p, root)] = (h, st.st_size, st.st_mtime_ns)
    return snap


def jsonl(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def summary(recs, host):
    return [r for r in recs if r.get('event', {}).get('dataset') == 'exhunt.check'
            and r['host']['name'] == host][0]['exhunt']


def write(path, text, mode='w'):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode, **({} if 'b' in mode else {'newline': ''})) as f:
        f.write(text)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='exhunt-correlate-')
        self.addCleanup(shutil.rmtree, self.tmp)

    def make_examples(self):
        out = os.path.join(self.tmp, 'servers')
        subprocess.run([sys.executable, os.path.join(SRC, 'tools', 'make-check-examples.py'), out],
                       check=True, capture_output=True)
        return out

    def check(self, root, *args, **kw):
        before = snapshot(root)
        res = run(*args, **kw)
        self.assertEqual(before, snapshot(root), 'the evidence changed')
        return res


class LogsReadOnce(Base):
    """The file scan leaves the log files to the log hunt, nothing else."""

    def test_logs_left_other_files_scanned(self):
        out = self.make_examples()
        server = os.path.join(out, 'mail13')
        v15 = os.path.join(server, 'C/Program Files/Microsoft/Exchange Server/V15')
        owa_logs = os.path.join(v15, 'Logging/HttpProxy/Owa')
        # A shell and a dump dropped among the logs, and a log file whose
        # bytes a YARA rule would match if the file scan read it.
        write(os.path.join(owa_logs, 'errorFF.aspx'), CHOPPER)
        write(os.path.join(v15, 'Logging/ECP/Server/notes.txt'), CHOPPER)
        write(os.path.join(owa_logs, 'HttpProxy_2021030308-1.LOG'),
              '#Software: Microsoft Exchange Server\r\n' + CHOPPER)
        rc, o, err = self.check(server, '--format', 'jsonl', server)
        self.assertEqual(rc, 1, err)
        recs = jsonl(o)
        files = sorted((r['rule']['id'], os.path.basename(r['file']['path'])) for r in recs
                       if r.get('rule', {}).get('id', '').startswith('exh.files.'))
        names = {n for _, n in files}
        self.assertIn('errorFF.aspx', names)
        self.assertIn('notes.txt', names)
        self.assertNotIn('HttpProxy_2021030308-1.LOG', names)
        self.assertIn(('exh.files.webshell.china_chopper', 'errorFF.aspx'), files)
        # The log hunt still read every log: the ProxyLogon chain is there.
        rules = {r['rule']['id'] for r in recs if 'rule' in r}
        self.assertIn('exh.logs.proxylogon.cve_2021_26855', rules)
        x = summary(recs, 'mail13')
        self.assertEqual(x['verdict']['compromise'], 'compromised')
        rc, txt, err = self.check(server, '--color', 'never', server)
        # HttpProxy (2), IIS, ECP: four log files read by the log rules only.
        self.assertIn('in 4 log files read by the log rules only', txt)


def main():
    global EXHUNT, SRC
    EXHUNT, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], '-v'])


if __name__ == '__main__':
    main()
