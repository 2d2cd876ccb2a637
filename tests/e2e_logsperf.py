#!/usr/bin/env python3
"""End-to-end tests of the fast paths of `exhunt logs`: a log larger than
one mapped window (a line across the window end, a #Fields change after it,
a last line without its end) gives the same findings mapped, buffered
(EXHUNT_NO_MMAP=1) and gzip-compressed; the compiled-rule cache gives the
same findings as compiling, and a damaged cache is ignored.

usage: e2e_logsperf.py EXHUNT FIXTURES
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

EXHUNT = ''
LOGS = ''
WINDOW = (8 << 20) + (1 << 20)  # EXHI_LOG_BLOCK + EXHI_LOG_LINE_MAX (src/readers/logs.h)


def run(*args, env=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([EXHUNT, 'logs', '--format', 'jsonl', *args], capture_output=True, env=e,
                       timeout=120)
    recs = []
    for line in p.stdout.decode('utf-8', 'replace').splitlines():
        r = json.loads(line)
        r.get('event', {}).pop('created', None)  # the time of the run
        recs.append(r)
    return p.returncode, recs, p.stderr.decode('utf-8', 'replace')


def alerts(recs, rule):
    return [r for r in recs if r['rule']['id'] == rule]


FIELDS1 = ('#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username '
           'c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n')
FIELDS2 = ('#Fields: c-ip date time cs-method cs-uri-stem cs-uri-query sc-status cs-username '
           'cs(User-Agent)\n')


def row1(i, stem, ip='10.1.2.3', status=200):
    return ('2021-03-03 01:%02d:%02d 10.0.0.5 GET %s - 443 - %s '
            'Mozilla/5.0+(Windows+NT+10.0) - %d 0 0 %d\n' % (i // 60 % 60, i % 60, stem, ip, status, i % 900))


def row2(i, stem, ip='10.1.2.3', status=200):
    return '%s 2021-03-04 02:%02d:%02d GET %s - %d - Mozilla/5.0\n' % (
        ip, i // 60 % 60, i % 60, stem, status)


def big_iis():
    """About 2.5 windows of IIS rows; returns (text, {ip: line number})."""
    out = ['#Software: Microsoft Internet Information Services 10.0\n', FIELDS1]
    size = sum(map(len, out))
    lines = {}
    i = 0
    benign = ('/owa/auth/logon.aspx', '/ecp/auth/TimeoutLogoff.aspx', '/owa/service.svc',
              '/owa/auth/15.1.2507/themes/resources/logon.css')

    def add(s, ip=None):
        nonlocal size
        out.append(s)
        size += len(s)
        if ip:
            lines[ip] = len(out)

    # Up to the first window end, then a shell access across it.
    while True:
        r = row1(i, benign[i % 4])
        if size + len(r) > WINDOW - 40:
            break
        add(r)
        i += 1
    r = row1(i, '/aspnet_client/system_web/across.aspx', '198.51.100.1')
    assert size < WINDOW < size + len(r)
    add(r, '198.51.100.1')
    # A new layout in the second window: columns in another order.
    while size < WINDOW + (1 << 20):
        add(row1(i, benign[i % 4]))
        i += 1
    add('#Software: Microsoft Internet Information Services 10.0\n')
    add(FIELDS2)
    add(row2(i, '/aspnet_client/after_fields.aspx', '198.51.100.2'), '198.51.100.2')
    # The old layout's path column now holds a client address: no hit.
    while size < 2 * WINDOW + (WINDOW // 2):
        add(row2(i, benign[i % 4]))
        i += 1
    # The last line has no line end.
    add(row2(i, '/owa/auth/last.aspx', '198.51.100.3').rstrip('\n'), '198.51.100.3')
    return ''.join(out), lines


class BigLog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='exhunt-logsperf-')
        text, cls.lines = big_iis()
        cls.nlines = text.count('\n')  # line ends, as exhunt counts them
        os.makedirs(os.path.join(cls.tmp, 'plain'))
        os.makedirs(os.path.join(cls.tmp, 'gz'))
        with open(os.path.join(cls.tmp, 'plain', 'u_ex210303.log'), 'w') as f:
            f.write(text)
        with gzip.open(os.path.join(cls.tmp, 'gz', 'u_ex210303.log.gz'), 'wt') as f:
            f.write(text)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def check(self, rc, recs, err):
        self.assertEqual(rc, 1, err)
        shells = {r['source']['ip']: r for r in alerts(recs, 'exh.logs.webshell.iis_access')}
        self.assertEqual(sorted(shells), ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
        for ip, line in self.lines.items():
            self.assertEqual(shells[ip]['exhunt']['line'], line, ip)
        self.assertEqual(shells['198.51.100.1']['url']['path'], '/aspnet_client/system_web/across.aspx')
        self.assertEqual(shells['198.51.100.2']['url']['path'], '/aspnet_client/after_fields.aspx')
        self.assertEqual(shells['198.51.100.2']['@timestamp'], '2021-03-04T02:%s.000Z'
                         % shells['198.51.100.2']['@timestamp'][14:19])
        # Near misses on every side of the window ends: nothing else.
        self.assertEqual(len([r for r in recs if r['event'].get('kind') == 'alert'
                              and r['rule']['id'] != 'exh.logs.coverage']), 3)
        cov = alerts(recs, 'exh.logs.coverage')
        self.assertEqual(cov[0]['exhunt']['lines'], str(self.nlines))

    def test_mapped(self):
        self.check(*run(os.path.join(self.tmp, 'plain')))

    def test_mapped_one_thread(self):
        self.check(*run('-j', '1', os.path.join(self.tmp, 'plain')))

    def test_buffered_and_gzip_agree(self):
        rc, mapped, _ = run(os.path.join(self.tmp, 'plain'))
        rc2, buffered, err = run(os.path.join(self.tmp, 'plain'), env={'EXHUNT_NO_MMAP': '1'})
        self.check(rc2, buffered, err)
        self.assertEqual(mapped, buffered)
        rc3, gz, err = run(os.path.join(self.tmp, 'gz'))
        self.check(rc3, gz, err)


class Cache(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='exhunt-cache-')
        self.env = {'XDG_CACHE_HOME': self.tmp, 'EXHUNT_NO_CACHE': ''}
        self.dir = os.path.join(self.tmp, 'exhunt', 'hs')

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_cache_is_filled_then_used_with_the_same_findings(self):
        rc, first, err = run(LOGS, env=self.env)
        self.assertEqual(rc, 1, err)
        files = sorted(os.listdir(self.dir))
        self.assertTrue(files and all(f.endswith('.db') for f in files), files)
        self.assertEqual(oct(os.stat(self.dir).st_mode & 0o777), '0o700')
        rc, second, err = run(LOGS, env=self.env)
        self.assertEqual((rc, second), (1, first), err)
        self.assertEqual(sorted(os.listdir(self.dir)), files)  # nothing compiled anew
        rc, off, err = run(LOGS, env={'EXHUNT_NO_CACHE': '1'})
        self.assertEqual((rc, off), (1, first), err)

    def test_damaged_cache_is_ignored(self):
        rc, first, err = run(LOGS, env=self.env)
        files = sorted(os.listdir(self.dir))
        for n, name in enumerate(files):
            p = os.path.join(self.dir, name)
            data = open(p, 'rb').read()
            with open(p, 'wb') as f:
                if n % 3 == 0:
                    f.write(data[:len(data) // 2])  # cut short
                elif n % 3 == 1:
                    f.write(data[:64] + bytes(b ^ 0x5a for b in data[64:]))  # key and data garbled
                else:
                    f.write(b'\0' * len(data))
        rc2, again, err = run(LOGS, env=self.env)
        self.assertEqual((rc2, again), (rc, first), err)

    def test_cache_others_may_write_is_not_read(self):
        # A database is code for vectorscan's engine: a file that another
        # user could have planted (group or world writable) is compiled
        # anew, which replaces it with a private one.
        rc, first, err = run(LOGS, env=self.env)
        files = sorted(os.listdir(self.dir))
        for name in files:
            os.chmod(os.path.join(self.dir, name), 0o666)
        inodes = {n: os.stat(os.path.join(self.dir, n)).st_ino for n in files}
        rc2, again, err = run(LOGS, env=self.env)
        self.assertEqual((rc2, again), (rc, first), err)
        for name in files:
            st = os.stat(os.path.join(self.dir, name))
            self.assertEqual(oct(st.st_mode & 0o777), '0o600', name)
            self.assertNotEqual(st.st_ino, inodes[name], name)
        # and a private one is read, not compiled again
        inodes = {n: os.stat(os.path.join(self.dir, n)).st_ino for n in files}
        run(LOGS, env=self.env)
        self.assertEqual({n: os.stat(os.path.join(self.dir, n)).st_ino for n in files}, inodes)

    def test_no_cache_writes_nothing(self):
        rc, _, err = run(LOGS, env={'XDG_CACHE_HOME': self.tmp, 'EXHUNT_NO_CACHE': '1'})
        self.assertEqual(rc, 1, err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, 'exhunt')))

    def test_unwritable_cache_still_hunts(self):
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o500)
        try:
            rc, recs, err = run(LOGS, env=self.env)
        finally:
            os.chmod(self.dir, 0o700)
        self.assertEqual(rc, 1, err)
        self.assertTrue(alerts(recs, 'exh.logs.proxylogon.cve_2021_26855'))


class TwoFactorPrefilter(unittest.TestCase):
    """Lines must hold every required piece of a rule's regex (and every
    pattern of a selection that needs them all) to be evaluated: the
    near misses that drop out must be exactly those no rule can match, and
    a known-good path written in the query string hides nothing."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='exhunt-twofactor-')
        rows = [
            row1(1, '/owa/auth/15.1.2507/themes/resources/logon.css', '10.9.0.1'),  # no .aspx
            row1(2, '/owa/auth/logon.aspx', '10.9.0.2'),                           # legitimate
            row1(3, '/ecp/auth/TimeoutLogoff.aspx', '10.9.0.3'),                   # legitimate
            row1(4, '/autodiscover/autodiscover.json', '10.9.0.4'),                # no powershell
            row1(5, '/owa/auth/theme.css', '10.9.0.5').replace(' - 443 ', ' x=.aspx 443 '),
        ]
        # Evasion: the shell's own path, with the legitimate page in the query.
        rows.append(row1(6, '/owa/auth/x7.aspx', '198.51.100.6').replace(
            ' - 443 ', ' u=/owa/auth/logon.aspx 443 '))
        rows.append(row1(7, '/aspnet_client/system_web/y.ashx', '198.51.100.7').replace(
            ' - 443 ', ' r=/ecp/auth/TimeoutLogoff.aspx 443 '))
        # ProxyNotShell: powershell, autodiscover.json and an @ in one line.
        rows.append(row1(8, '/autodiscover/autodiscover.json', '198.51.100.8').replace(
            ' - 443 - ', ' @evil.com/Powershell/&Email=autodiscover/autodiscover.json%3f@evil.com 443 CORP\\u1 '))
        with open(os.path.join(cls.tmp, 'u_ex210303.log'), 'w') as f:
            f.write('#Software: Microsoft Internet Information Services 10.0\n' + FIELDS1 + ''.join(rows))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_findings(self):
        rc, recs, err = run('--no-iocs', self.tmp)
        self.assertEqual(rc, 1, err)
        got = sorted((r['rule']['id'], r['source']['ip']) for r in recs if 'source' in r)
        self.assertEqual(got, [
            ('exh.logs.proxynotshell.cve_2022_41040_iis', '198.51.100.8'),
            ('exh.logs.webshell.iis_access', '198.51.100.6'),
            ('exh.logs.webshell.iis_access', '198.51.100.7'),
        ])


class KindChangeAtEnd(unittest.TestCase):
    """A preamble that changes the log kind as the file's last line, without
    a line end, used to make the reader prefilter from past the block (a
    crash on attacker-written evidence)."""

    def hunt(self, tail):
        tmp = tempfile.mkdtemp(prefix='exhunt-kindend-')
        try:
            with open(os.path.join(tmp, 'u_ex210303.log'), 'w') as f:
                f.write('#Software: Microsoft Internet Information Services 10.0\n' + FIELDS1 +
                        row1(1, '/owa/auth/x.aspx', '198.51.100.9') +
                        '#Software: Microsoft Exchange Server\n' + tail)
            return run('--no-iocs', tmp)
        finally:
            shutil.rmtree(tmp)

    def check(self, rc, recs, err):
        self.assertEqual(rc, 1, err)
        self.assertEqual([r['source']['ip'] for r in alerts(recs, 'exh.logs.webshell.iis_access')],
                         ['198.51.100.9'])

    def test_without_line_end(self):
        self.check(*self.hunt('#Log-type: HttpProxy Logs'))

    def test_with_line_end(self):
        self.check(*self.hunt('#Log-type: HttpProxy Logs\n'))


class ColumnsChangeMidBlock(unittest.TestCase):
    """IIS writes its preamble again when it restarts, with the fields of
    that moment: after a #Fields line that moves the path column (here a
    cs-host added before it), a shell request in the same read block is
    found, as in a file that starts with that layout; the same preamble
    written again changes nothing."""

    FIELDS3 = ('#Fields: date time s-ip cs-method cs-host cs-uri-query cs-uri-stem s-port '
               'cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus '
               'sc-win32-status time-taken\n')

    @staticmethod
    def row3(i, stem, ip):
        return ('2021-03-03 07:%02d:%02d 10.0.0.5 POST mail.contoso.example - %s 443 - %s '
                'Mozilla/5.0 - 200 0 0 5\n' % (i // 60 % 60, i % 60, stem, ip))

    def test_shells_on_both_sides(self):
        pre = '#Software: Microsoft Internet Information Services 10.0\n'
        text = (pre + FIELDS1 + row1(1, '/owa/auth/logon.aspx') +
                row1(2, '/owa/auth/one.aspx', '198.51.100.11') +
                pre + FIELDS1 + row1(3, '/owa/auth/two.aspx', '198.51.100.12') +
                pre + self.FIELDS3 + self.row3(4, '/owa/auth/logon.aspx', '198.51.100.99') +
                self.row3(5, '/owa/auth/three.aspx', '198.51.100.13') +
                # the old path column (4) now holds the host: no request there
                self.row3(6, '/owa/', '198.51.100.98').replace('mail.contoso.example',
                                                           '/aspnet_client/no.aspx'))
        tmp = tempfile.mkdtemp(prefix='exhunt-fieldsmid-')
        try:
            with open(os.path.join(tmp, 'u_ex210303.log'), 'w') as f:
                f.write(text)
            rc, recs, err = run('--no-iocs', tmp)
        finally:
            shutil.rmtree(tmp)
        self.assertEqual(rc, 1, err)
        self.assertEqual(sorted(r['source']['ip'] for r in alerts(recs, 'exh.logs.webshell.iis_access')),
                         ['198.51.100.11', '198.51.100.12', '198.51.100.13'])


if __name__ == '__main__':
    EXHUNT = os.path.abspath(sys.argv[1])
    LOGS = os.path.join(os.path.abspath(sys.argv[2]), 'logs')
    unittest.main(argv=[sys.argv[0]], verbosity=1)
