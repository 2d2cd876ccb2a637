#!/usr/bin/env python3
"""End-to-end tests of how `exhunt files`, `logs` and `check` find their
indicator store (one library call, exh_ioc_set_open): no store at the default
place is a normal run without indicators; a store that is there but cannot
be read (damaged pages, not SQLite, another program's SQLite, no permission)
stops the run with an error naming it, at the default place as with --db; a
good store gives its indicator findings. Evidence and feed written here.

usage: e2e_iocstore.py EXHUNT
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

SHELL = b'<%@ Page Language="C#" %>\n<% Response.Write(Request["c"]); %>\n'
IIS = '''#Software: Microsoft Internet Information Services 10.0
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken
2021-03-03 07:01:00 10.0.0.5 GET /owa/auth/logon.aspx - 443 - 203.0.113.20 Mozilla/5.0 - 200 0 0 31
2021-03-03 07:01:05 10.0.0.5 GET /owa/auth/logon.aspx - 443 - 203.0.113.21 Mozilla/5.0 - 200 0 0 31
'''


class IocStore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='exhunt-e2e-iocstore.')
        cls.srv = os.path.join(cls.tmp, 'srv')
        shell = os.path.join(cls.srv, 'inetpub', 'wwwroot', 'aspnet_client', 'tool.aspx')
        logs = os.path.join(cls.srv, 'inetpub', 'logs', 'LogFiles', 'W3SVC1')
        os.makedirs(os.path.dirname(shell))
        os.makedirs(logs)
        with open(shell, 'wb') as f:
            f.write(SHELL)
        with open(os.path.join(logs, 'u_ex210303.log'), 'w') as f:
            f.write(IIS)
        feed = os.path.join(cls.tmp, 'feed.csv')
        with open(feed, 'w') as f:
            f.write('type,value,source\nsha256,%s,test-feed\nipv4,203.0.113.20,test-feed\n'
                    % hashlib.sha256(SHELL).hexdigest())
        cls.good = os.path.join(cls.tmp, 'good.sqlite')
        p = subprocess.run([EXHUNT, 'ioc', '--db', cls.good, 'import', feed], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        # Each command, and the indicator finding a good store gives it.
        cls.cmds = {
            'files': (['files', '--format', 'jsonl', '--no-sightings', cls.srv], 'exh.files.ioc.hash'),
            'logs': (['logs', '--format', 'jsonl', '--no-sightings', os.path.join(cls.srv, 'inetpub', 'logs')],
                     'exh.logs.ioc.source_ip'),
            'check': (['check', '--format', 'jsonl', cls.srv], 'exh.files.ioc.hash'),
        }

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix='data.', dir=self.tmp)
        self.store = os.path.join(self.data, 'exhunt', 'iocs.sqlite')  # the default store

    def put_store(self, src=None, data=None):
        os.makedirs(os.path.dirname(self.store), exist_ok=True)
        if src:
            shutil.copy(src, self.store)
        else:
            with open(self.store, 'wb') as f:
                f.write(data)

    def run_cmd(self, name, *extra):
        args, _ = self.cmds[name]
        env = dict(os.environ, XDG_DATA_HOME=self.data, XDG_CACHE_HOME=os.path.join(self.tmp, 'cache'))
        p = subprocess.run([EXHUNT, *args[:1], *extra, *args[1:]], capture_output=True, env=env, timeout=120)
        rules = set()
        for line in p.stdout.decode('utf-8', 'replace').splitlines():
            if line.strip():
                rules.add(json.loads(line).get('rule', {}).get('id'))
        return p.returncode, rules, p.stderr.decode('utf-8', 'replace')

    def test_missing_default_store_runs_without_indicators(self):
        for name, (_, hit) in self.cmds.items():
            with self.subTest(cmd=name):
                rc, rules, err = self.run_cmd(name)
                self.assertIn(rc, (0, 1), err)
                self.assertNotIn(hit, rules)
                self.assertNotIn('indicator store:', err)  # no error, only the summary

    def test_good_default_store_gives_indicator_findings(self):
        self.put_store(src=self.good)
        for name, (_, hit) in self.cmds.items():
            with self.subTest(cmd=name):
                rc, rules, err = self.run_cmd(name)
                self.assertEqual(rc, 1, err)
                self.assertIn(hit, rules)

    def test_good_store_named_with_db(self):
        for name, (_, hit) in self.cmds.items():
            with self.subTest(cmd=name):
                rc, rules, err = self.run_cmd(name, '--db', self.good)
                self.assertEqual(rc, 1, err)
                self.assertIn(hit, rules)

    def test_empty_store_file_is_no_indicators(self):
        self.put_store(data=b'')
        for name, (_, hit) in self.cmds.items():
            with self.subTest(cmd=name):
                rc, rules, err = self.run_cmd(name)
                self.assertIn(rc, (0, 1), err)
                self.assertNotIn(hit, rules)

    def test_missing_named_store_is_an_error(self):
        typo = os.path.join(self.data, 'typo.sqlite')
        for name, _ in self.cmds.items():
            with self.subTest(cmd=name):
                rc, rules, err = self.run_cmd(name, '--db', typo)
                self.assertEqual(rc, 2, err)
                self.assertIn(typo + ': No such file or directory', err)
                self.assertEqual(rules, set())

    def test_damaged_default_store_is_an_error_not_no_store(self):
        # The tables' pages overwritten; the SQLite header still reads.
        with open(self.good, 'rb') as f:
            data = bytearray(f.read())
        self.assertGreater(len(data), 8192)
        for i in range(4096, len(data)):
            data[i] = 0xa5 ^ (i & 0xff)
        self.put_store(data=bytes(data))
        for name, (_, hit) in self.cmds.items():
            with self.subTest(cmd=name):
                rc, rules, err = self.run_cmd(name)
                self.assertEqual(rc, 2, err)
                self.assertIn(self.store, err)
                self.assertIn('--no-iocs', err)
                self.assertEqual(rules, set())
                rc, rules, err = self.run_cmd(name, '--no-iocs')  # the way out it names
                self.assertIn(rc, (0, 1), err)
                self.assertNotIn(hit, rules)

    def test_not_sqlite_is_an_error(self):
        self.put_store(data=b'not a database, just text\n' * 200)
        for name, _ in self.cmds.items():
            with self.subTest(cmd=name):
                rc, _, err = self.run_cmd(name)
                self.assertEqual(rc, 2, err)
                self.assertIn(self.store, err)
                self.assertIn('not an exhunt indicator store', err)

    def test_other_programs_sqlite_is_an_error(self):
        os.makedirs(os.path.dirname(self.store))
        con = sqlite3.connect(self.store)
        con.execute('CREATE TABLE cookies(name TEXT, value TEXT)')
        con.execute("INSERT INTO cookies VALUES('a', 'b')")
        con.commit()
        con.close()
        for name, _ in self.cmds.items():
            with self.subTest(cmd=name):
                rc, _, err = self.run_cmd(name)
                self.assertEqual(rc, 2, err)
                self.assertIn('not an exhunt indicator store', err)

    def test_unreadable_store_is_an_error(self):
        if os.geteuid() == 0:
            self.skipTest('root reads a file whatever its mode')
        self.put_store(src=self.good)
        os.chmod(self.store, 0)
        try:
            for name, _ in self.cmds.items():
                with self.subTest(cmd=name):
                    rc, _, err = self.run_cmd(name)
                    self.assertEqual(rc, 2, err)
                    self.assertIn(self.store + ': Permission denied', err)
        finally:
            os.chmod(self.store, 0o600)


if __name__ == '__main__':
    EXHUNT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
