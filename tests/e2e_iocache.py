#!/usr/bin/env python3
"""End-to-end tests of the indicators' prefilter built ahead of the hunts:
`exhunt ioc import` and `exhunt ioc pull` compile (and cache) the literal
prefilter when the store changed, and the next `exhunt logs` loads that very
file instead of compiling (EXHUNT_CACHE_TRACE=1 says which); an import or a
pull that changes nothing compiles nothing; a hunt (exhunt logs, exhunt
check) that must compile a large prefilter says so on a terminal, and not with
-q, nor when standard error is not a terminal, nor for a small set.

usage: e2e_iocache.py EXHUNT
"""
import http.server
import json
import os
import pty
import re
import select
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

EXHUNT = ''

IIS_HEAD = ('#Software: Microsoft Internet Information Services 10.0\n'
            '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip '
            'cs(User-Agent) cs(Referer) cs-host sc-status sc-substatus sc-win32-status time-taken\n')


def iis(sec, stem, ip, ua='Mozilla/5.0'):
    return (f'2021-03-03 07:00:{sec:02d} 10.0.0.5 GET {stem} - 443 - {ip} {ua} - '
            f'mail.contoso.example 200 0 0 5\n')


FIRST = 'type,value,source\nipv4,10.0.0.1,cache-test\nfilename,cachetest.aspx,cache-test\n'
SECOND = 'type,value,source\nipv4,10.0.0.3,cache-test-2\n'
NOTICE = "compiling the indicators' prefilter"
# Literals from which a compile is announced (PICK_NOTICE_LITERALS in
# src/detectors/logioc.c), and a set just above it.
NOTICE_MIN = 25000


def lit_lines(err):
    """The cache trace lines about literal (prefilter) databases."""
    return [l for l in err.splitlines() if l.startswith('exhunt: cache:') and 'literals' in l]


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='exhunt-iocache-')
        self.env = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.tmp, 'cache'),
                        XDG_DATA_HOME=os.path.join(self.tmp, 'data'), EXHUNT_CACHE_TRACE='1')
        self.env.pop('EXHUNT_NO_CACHE', None)
        self.db = os.path.join(self.tmp, 'store.sqlite')
        self.logs = os.path.join(self.tmp, 'logs')
        os.makedirs(self.logs)
        with open(os.path.join(self.logs, 'u_ex210303.log'), 'w') as f:
            f.write(IIS_HEAD)
            f.write(iis(1, '/owa/', '10.0.0.1'))       # in FIRST
            f.write(iis(2, '/owa/', '10.0.0.12'))      # holds 10.0.0.1: a near miss
            f.write(iis(3, '/owa/', '10.0.0.3'))       # in SECOND
            f.write(iis(4, '/aspnet_client/cachetest.aspx', '198.51.100.4'))  # in FIRST

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_exhunt(self, *args, env=None):
        p = subprocess.run([EXHUNT] + list(args), capture_output=True, text=True,
                           env=env or self.env, timeout=300)
        return p.returncode, p.stdout, p.stderr

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def hunt(self, env=None):
        rc, out, err = self.run_exhunt('logs', '--db', self.db, '--no-sightings', '--format',
                                       'jsonl', self.logs, env=env)
        self.assertIn(rc, (0, 1), err)
        return out, err

    def hunt_ips(self, out):
        """The client addresses of the indicator hits on an address."""
        ips = set()
        for line in out.splitlines():
            o = json.loads(line)
            if o.get('rule', {}).get('id') == 'exh.logs.ioc.source_ip':
                ips.add(o['source']['ip'])
        return sorted(ips)


class ImportWarms(Base):
    def test_hunt_loads_what_import_built(self):
        rc, out, err = self.run_exhunt('ioc', '--db', self.db, 'import', self.write('a.csv', FIRST))
        self.assertEqual(rc, 0, err)
        lines = lit_lines(err)
        self.assertTrue(any('compiling' in l for l in lines), err)
        stored = re.findall(r'stored ([0-9a-f]{16}\.db)', err)
        self.assertEqual(len(stored), 1, err)
        out, err = self.hunt()
        lines = lit_lines(err)
        self.assertEqual(len(lines), 1, err)  # the prefilter: loaded, not compiled
        self.assertTrue(lines[0].startswith(f'exhunt: cache: loaded {stored[0]} ('), err)
        self.assertEqual(self.hunt_ips(out), ['10.0.0.1'])  # not 10.0.0.12, the near miss
        self.assertIn('cachetest.aspx', out)

        # The same file again changes nothing: nothing built.
        rc, out, err = self.run_exhunt('ioc', '--db', self.db, 'import', os.path.join(self.tmp, 'a.csv'))
        self.assertEqual(rc, 0, err)
        self.assertIn('(0 new, 0 updated, 2 unchanged)', out)
        self.assertEqual(lit_lines(err), [], err)

        # A new value: a new set, built by the import, loaded by the hunt.
        rc, out, err = self.run_exhunt('ioc', '--db', self.db, 'import', self.write('b.csv', SECOND))
        self.assertEqual(rc, 0, err)
        self.assertTrue(any('compiling' in l for l in lit_lines(err)), err)
        out, err = self.hunt()
        self.assertTrue(lit_lines(err) and all('loaded' in l for l in lit_lines(err)), err)
        self.assertEqual(self.hunt_ips(out), ['10.0.0.1', '10.0.0.3'])

    def test_without_the_import_the_hunt_compiles(self):
        # The near miss of the test above: a store built without a cache
        # (EXHUNT_NO_CACHE) leaves the compile to the hunt, so the trace
        # does tell the two apart.
        env = dict(self.env, EXHUNT_NO_CACHE='1')
        rc, out, err = self.run_exhunt('ioc', '--db', self.db, 'import', self.write('a.csv', FIRST),
                                       env=env)
        self.assertEqual(rc, 0, err)
        self.assertNotIn('exhunt: cache:', err)  # no cache: the import builds nothing
        out, err = self.hunt()
        self.assertTrue(any('compiling' in l for l in lit_lines(err)), err)

    def test_hashes_only_build_nothing(self):
        csv = ('type,value,source\nsha256,'
               '2e1eb00575e1a8f6c95a23c87b05e23eb4718557f787aa905bb000e98b31c5f0,cache-test\n')
        rc, out, err = self.run_exhunt('ioc', '--db', self.db, 'import', self.write('h.csv', csv))
        self.assertEqual(rc, 0, err)
        self.assertEqual(lit_lines(err), [], err)


class Feed(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.headers.get('If-None-Match') == '"f1"':
            self.send_response(304)
            self.send_header('ETag', '"f1"')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        body = FIRST.encode()
        self.send_response(200)
        self.send_header('ETag', '"f1"')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class PullWarms(Base):
    def test_pull(self):
        if not shutil.which('openssl'):
            self.skipTest('openssl missing')
        key, cert = os.path.join(self.tmp, 'key.pem'), os.path.join(self.tmp, 'cert.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                        'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
                        '-days', '1', '-subj', '/CN=127.0.0.1', '-addext',
                        'subjectAltName=IP:127.0.0.1'], check=True, capture_output=True)
        srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Feed)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        url = f'https://127.0.0.1:{srv.server_address[1]}/feed.csv'
        try:
            rc, out, err = self.run_exhunt('ioc', '--db', self.db, 'pull', '--cacert', cert, url)
            self.assertEqual(rc, 0, err)
            self.assertTrue(any('compiling' in l for l in lit_lines(err)), err)
            out, err = self.hunt()
            self.assertTrue(lit_lines(err) and all('loaded' in l for l in lit_lines(err)), err)
            self.assertEqual(self.hunt_ips(out), ['10.0.0.1'])
            rc, out, err = self.run_exhunt('ioc', '--db', self.db, 'pull', '--cacert', cert, url)
            self.assertEqual(rc, 0, err)
            self.assertIn('HTTP 304', out)
            self.assertEqual(lit_lines(err), [], err)
        finally:
            srv.shutdown()
            srv.server_close()


def run_on_pty(cmd, env):
    """Runs cmd with standard error on a terminal; returns (rc, what it wrote there)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
                         env=env)
    os.close(slave)
    chunks = []
    while True:
        r, _, _ = select.select([master], [], [], 300)
        if not r:
            break
        try:
            b = os.read(master, 4096)
        except OSError:  # EIO: the child closed its side
            break
        if not b:
            break
        chunks.append(b)
    rc = p.wait(timeout=300)
    os.close(master)
    return rc, b''.join(chunks).decode('utf-8', 'replace')


class Notice(Base):
    def setUp(self):
        super().setUp()
        self.env.pop('EXHUNT_CACHE_TRACE')
        rows = ['type,value,source']
        for i in range(NOTICE_MIN + 500):
            rows.append(f'ipv4,100.{64 + i // 65025 % 64}.{i // 255 % 255}.{i % 255 + 1},notice')
        rows.append('ipv4,10.0.0.1,notice')
        self.big = self.write('big.csv', '\n'.join(rows) + '\n')

    def test_import_and_hunt_on_a_terminal(self):
        rc, text = run_on_pty([EXHUNT, 'ioc', '--db', self.db, 'import', self.big], self.env)
        self.assertEqual(rc, 0, text)
        self.assertIn(NOTICE, text)
        self.assertEqual(text.count(NOTICE), 1, text)
        nocache = dict(self.env, EXHUNT_NO_CACHE='1')
        hunt = [EXHUNT, 'logs', '--db', self.db, '--no-sightings', self.logs]
        rc, text = run_on_pty(hunt, nocache)
        self.assertEqual(rc, 1, text)
        self.assertIn(NOTICE, text)
        # Quiet, or standard error not a terminal: nothing said.
        rc, text = run_on_pty(hunt + ['-q'], nocache)
        self.assertEqual(rc, 1, text)
        self.assertNotIn(NOTICE, text)
        p = subprocess.run(hunt, capture_output=True, text=True, env=nocache, timeout=300)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn(NOTICE, p.stderr)
        # Loaded from the cache the import filled: nothing to say.
        rc, text = run_on_pty(hunt, self.env)
        self.assertEqual(rc, 1, text)
        self.assertNotIn(NOTICE, text)

    def test_check_on_a_terminal(self):
        """exhunt check's log hunt compiles the same prefilter: it says so on a
        terminal (with JSON lines too, as exhunt logs: it goes to standard
        error), and not with -q, nor off a terminal."""
        nocache = dict(self.env, EXHUNT_NO_CACHE='1')
        rc, text = run_on_pty([EXHUNT, 'ioc', '--db', self.db, 'import', self.big], nocache)
        self.assertEqual(rc, 0, text)
        server = os.path.join(self.tmp, 'EXCH01')
        iis_dir = os.path.join(server, 'inetpub', 'logs', 'LogFiles', 'W3SVC1')
        os.makedirs(iis_dir)
        shutil.copy(os.path.join(self.logs, 'u_ex210303.log'), iis_dir)
        check = [EXHUNT, 'check', '--db', self.db, '--no-sightings', server]
        rc, text = run_on_pty(check, nocache)
        self.assertEqual(rc, 1, text)
        self.assertEqual(text.count(NOTICE), 1, text)
        rc, text = run_on_pty(check[:2] + ['--format', 'jsonl'] + check[2:], nocache)
        self.assertEqual(rc, 1, text)
        self.assertEqual(text.count(NOTICE), 1, text)
        rc, text = run_on_pty(check[:2] + ['-q'] + check[2:], nocache)
        self.assertEqual(rc, 1, text)
        self.assertNotIn(NOTICE, text)
        p = subprocess.run(check, capture_output=True, text=True, env=nocache, timeout=300)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn(NOTICE, p.stderr)
        # The hunt did look the store up: 10.0.0.1 (in the big set) was seen.
        self.assertIn('10.0.0.1', p.stdout)

    def test_small_set_says_nothing(self):
        rc, text = run_on_pty([EXHUNT, 'ioc', '--db', self.db, 'import',
                               self.write('a.csv', FIRST)], self.env)
        self.assertEqual(rc, 0, text)
        rc, text = run_on_pty([EXHUNT, 'logs', '--db', self.db, '--no-sightings', self.logs],
                              dict(self.env, EXHUNT_NO_CACHE='1'))
        self.assertEqual(rc, 1, text)
        self.assertNotIn(NOTICE, text)


if __name__ == '__main__':
    EXHUNT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
