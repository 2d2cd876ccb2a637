#!/usr/bin/env python3
"""End-to-end tests of `exhunt logs` with the indicator store: logs and an
indicator CSV written here, imported with `exhunt ioc import` into a
temporary store, then hunted. Positives (client address in both IP
families, user agent as IIS writes it, web shell by published path and by
name, host name and URL from HttpProxy, URL with its query from HttpProxy
and from IIS with cs-host) and the near misses that must not
match (an address differing in the last octet, the same file name in
another folder than the published path, a longer user agent); sightings,
--no-sightings, --no-iocs, --iocs, absent / corrupt / newer stores.

usage: e2e_logs_ioc.py EXHUNT
"""
import csv
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

INDICATORS = '''type,value,source,actor,report
ipv4,203.0.113.20,Test feed,UNC-TEST,Report A
ipv6,2001:db8::66,Test feed,UNC-TEST,Report A
ipv4,192.0.2.44,Test feed,,Report A
user-agent,Mozilla/5.0 (evil scanner),Test feed,,Report A
filepath,C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\shell01.aspx,Test feed,HAFNIUM,Report B
filename,supp0rt.aspx,Other feed,,Report C
filepath,\\owa\\auth\\short.aspx,Other feed,,Report C
domain,evil.example,Test feed,,Report A
url,https://mail.contoso.example/ecp/y.js,Test feed,,Report A
url,https://mail.contoso.example/ecp/q.aspx?id=7&op=run,Test feed,,Report A
'''

IIS = '''#Software: Microsoft Internet Information Services 10.0
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken
2021-03-03 07:01:00 10.0.0.5 GET /owa/auth/logon.aspx - 443 - 203.0.113.20 Mozilla/5.0 - 200 0 0 31
2021-03-03 07:01:30 10.0.0.5 GET /owa/auth/logon.aspx - 443 - 203.0.113.20 Mozilla/5.0 - 200 0 0 31
2021-03-03 07:01:05 10.0.0.5 GET /owa/auth/logon.aspx - 443 - 203.0.113.21 Mozilla/5.0 - 200 0 0 31
2021-03-03 07:02:00 10.0.0.5 GET /owa/auth/shell01.aspx - 443 - 198.51.100.7 Mozilla/5.0+(evil+scanner) - 200 0 0 4
2021-03-03 07:02:10 10.0.0.5 GET /owa/auth/x.js - 443 - 198.51.100.9 Mozilla/5.0+(evil+scanner)+v2 - 200 0 0 4
2021-03-03 07:02:30 10.0.0.5 GET /ecp/auth/shell01.aspx - 443 - 198.51.100.8 Mozilla/5.0 - 404 0 0 4
2021-03-03 07:03:00 10.0.0.5 POST /aspnet_client/supp0rt.aspx - 443 - 2001:DB8:0:0::66 Mozilla/5.0 - 200 0 0 4
2021-03-03 07:04:00 10.0.0.5 GET /owa/ - 443 - ::ffff:192.0.2.44 Mozilla/5.0 - 200 0 0 4
2021-03-03 07:05:00 10.0.0.5 GET /exchange/owa/auth/short.aspx - 443 - 198.51.100.10 Mozilla/5.0 - 200 0 0 4
2021-03-03 07:05:30 10.0.0.5 GET /exchange/xowa/auth/short.aspx - 443 - 198.51.100.11 Mozilla/5.0 - 200 0 0 4
'''

HP_FIELDS = ('DateTime,RequestId,Protocol,UrlHost,UrlStem,AuthenticatedUser,AnchorMailbox,UserAgent,'
             'ClientIpAddress,ServerHostName,HttpStatus,Method,TargetServer,RoutingHint,UrlQuery')


def hp_row(t, host, stem, ua, ip, status, query=''):
    return f'{t},00000000-0000-4000-8000-000000000001,Ecp,{host},{stem},,,"{ua}",{ip},EXCH01,{status},GET,,,{query}\n'


HTTPPROXY = ('#Software: Microsoft Exchange Server\n#Version: 15.01.2176.002\n#Log-type: HttpProxy Logs\n'
             '#Date: 2021-03-03T06:00:00.011Z\n#Fields: ' + HP_FIELDS + '\n' +
             hp_row('2021-03-03T06:10:00.000Z', 'evil.example', '/ecp/default.aspx', 'Mozilla/5.0', '10.0.4.21', 200) +
             hp_row('2021-03-03T06:11:00.000Z', 'mail.contoso.example', '/ecp/y.js', 'Mozilla/5.0', '10.0.4.22', 200) +
             hp_row('2021-03-03T06:12:00.000Z', 'not-evil.example', '/ecp/z.js', 'Mozilla/5.0', '10.0.4.23', 200) +
             hp_row('2021-03-03T06:13:00.000Z', 'mail.contoso.example:443', '/owa/auth/shell01.aspx',
                    'Mozilla/5.0 (evil scanner)', '203.0.113.20', 404) +
             # a URL published with its query: that query only (Exchange writes its '?')
             hp_row('2021-03-03T06:14:00.000Z', 'mail.contoso.example', '/ecp/q.aspx', 'Mozilla/5.0',
                    '10.0.4.24', 200, '?id=7&op=run') +
             hp_row('2021-03-03T06:15:00.000Z', 'mail.contoso.example', '/ecp/q.aspx', 'Mozilla/5.0',
                    '10.0.4.25', 200, '?id=7&op=stop') +
             hp_row('2021-03-03T06:16:00.000Z', 'mail.contoso.example', '/ecp/q.aspx', 'Mozilla/5.0',
                    '10.0.4.26', 200))

# IIS with the host logged (cs-host, after the user agent): the query has no '?'.
IIS_HOST = '''#Software: Microsoft Internet Information Services 10.0
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs-host sc-status
2021-03-03 08:00:00 10.0.0.5 GET /ecp/q.aspx id=7&op=run 443 - 10.0.5.1 Mozilla/5.0+(Windows) mail.contoso.example 200
2021-03-03 08:00:01 10.0.0.5 GET /ecp/q.aspx id=7&op=run 443 - 10.0.5.2 Mozilla/5.0+(Windows) other.example 200
2021-03-03 08:00:02 10.0.0.5 GET /ecp/q.aspx - 443 - 10.0.5.3 Mozilla/5.0+(Windows) mail.contoso.example 200
2021-03-03 08:00:03 10.0.0.5 GET /ecp/y.js - 443 - 10.0.5.4 Mozilla/5.0+(Windows) mail.contoso.example 200
'''


def run(args, env_home, check_rc=None):
    e = dict(os.environ, XDG_DATA_HOME=env_home)
    p = subprocess.run([EXHUNT, *args], capture_output=True, env=e, timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def alerts(out):
    recs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [r for r in recs if r.get('event', {}).get('kind') == 'alert']


def ioc_hits(recs, rule):
    return [r for r in recs if r['rule']['id'] == rule]


class Store(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='exhunt-logs-ioc-')
        self.home = os.path.join(self.tmp, 'xdg')
        self.logs = os.path.join(self.tmp, 'logs')
        os.makedirs(os.path.join(self.logs, 'W3SVC1'))
        os.makedirs(os.path.join(self.logs, 'HttpProxy', 'Ecp'))
        with open(os.path.join(self.logs, 'W3SVC1', 'u_ex210303.log'), 'w') as f:
            f.write(IIS)
        with open(os.path.join(self.logs, 'HttpProxy', 'Ecp', 'HttpProxy_2021030306-1.LOG'), 'w') as f:
            f.write(HTTPPROXY)
        os.makedirs(os.path.join(self.logs, 'W3SVC2'))
        with open(os.path.join(self.logs, 'W3SVC2', 'u_ex210303.log'), 'w') as f:
            f.write(IIS_HOST)
        self.csv = os.path.join(self.tmp, 'iocs.csv')
        with open(self.csv, 'w') as f:
            f.write(INDICATORS)
        self.db = os.path.join(self.tmp, 'store.sqlite')
        rc, out, err = run(['ioc', '--db', self.db, 'import', self.csv], self.home)
        self.assertEqual(rc, 0, err)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def hunt(self, *args):
        rc, out, err = run(['logs', '--format', 'jsonl', *args, self.logs], self.home)
        return rc, alerts(out), err

    def export(self):
        rc, out, err = run(['ioc', '--db', self.db, 'export', '--format', 'csv'], self.home)
        self.assertEqual(rc, 0, err)
        return list(csv.DictReader(io.StringIO(out)))

    def test_client_address_hits_and_near_miss(self):
        rc, recs, err = self.hunt('--db', self.db)
        self.assertEqual(rc, 1, err)
        ip = ioc_hits(recs, 'exh.logs.ioc.source_ip')
        got = sorted((r['source']['ip'], r['threat']['indicator']['name']) for r in ip)
        # 203.0.113.20 twice in IIS and once in HttpProxy: one finding, as
        # for the rules; the IPv6 client written in a long form; an IPv4
        # client on an IPv6 socket.
        self.assertEqual(got, [('2001:DB8:0:0::66', '2001:db8::66'), ('203.0.113.20', '203.0.113.20'),
                               ('::ffff:192.0.2.44', '192.0.2.44')])
        self.assertNotIn('203.0.113.21', [r['source']['ip'] for r in ip])
        iis = [r for r in ip if r['source']['ip'] == '203.0.113.20']
        self.assertEqual(iis[0]['exhunt']['count'], '3')
        self.assertEqual(iis[0]['exhunt']['first_seen'], '2021-03-03T06:13:00.000Z')
        self.assertEqual(iis[0]['exhunt']['last_seen'], '2021-03-03T07:01:30.000Z')
        self.assertEqual(iis[0]['threat']['indicator']['provider'], 'Test feed')
        self.assertEqual(iis[0]['threat']['group']['name'], 'UNC-TEST')
        self.assertEqual(iis[0]['threat']['indicator']['type'], 'ipv4')
        self.assertEqual(iis[0]['exhunt']['indicator']['report'], 'Report A')

    def test_user_agent_as_iis_writes_it(self):
        rc, recs, err = self.hunt('--db', self.db)
        ua = ioc_hits(recs, 'exh.logs.ioc.user_agent')
        # IIS's '+' for spaces and HttpProxy's spaces; not the longer agent.
        self.assertEqual(sorted(r['source']['ip'] for r in ua), ['198.51.100.7', '203.0.113.20'])
        self.assertTrue(all(r['threat']['indicator']['provider'] == 'Test feed' for r in ua))

    def test_web_shell_by_path_and_name(self):
        rc, recs, err = self.hunt('--db', self.db)
        ws = ioc_hits(recs, 'exh.logs.ioc.webshell_path')
        got = sorted((r['url']['path'], r['exhunt']['outcome'], r['threat']['indicator']['provider'])
                     for r in ws)
        # /ecp/auth/shell01.aspx has the published name in another folder: not
        # it; a short published path matches under a longer URL only at a
        # folder boundary (/exchange/owa/auth/, not /exchange/xowa/auth/).
        self.assertEqual(got, [('/aspnet_client/supp0rt.aspx', 'exploited', 'Other feed'),
                               ('/exchange/owa/auth/short.aspx', 'exploited', 'Other feed'),
                               ('/owa/auth/shell01.aspx', 'attempted', 'Test feed'),
                               ('/owa/auth/shell01.aspx', 'exploited', 'Test feed')])
        hafnium = [r for r in ws if r['url']['path'] == '/owa/auth/shell01.aspx']
        self.assertTrue(all(r['threat']['group']['name'] == 'HAFNIUM' for r in hafnium))
        self.assertIn('frontend/httpproxy/owa/auth/shell01.aspx',
                      hafnium[0]['threat']['indicator']['name'])
        self.assertEqual(hafnium[0]['rule']['name'],
                         'Request for a file named in a threat report (web shell)')

    def test_host_and_url(self):
        rc, recs, err = self.hunt('--db', self.db)
        dom = ioc_hits(recs, 'exh.logs.ioc.domain')
        self.assertEqual([r['source']['ip'] for r in dom], ['10.0.4.21'])  # not not-evil.example
        url = ioc_hits(recs, 'exh.logs.ioc.url')
        # Host and path; with the query when the URL has one (Exchange's
        # UrlQuery keeps its '?', IIS's cs-uri-query does not); another
        # query, none, another host: not it.
        self.assertEqual(sorted(r['source']['ip'] for r in url),
                         ['10.0.4.22', '10.0.4.24', '10.0.5.1', '10.0.5.4'])

    def test_sightings_recorded_once_per_finding(self):
        rc, recs, err = self.hunt('--db', self.db, '--host', 'EX01')
        n = len([r for r in recs if r['rule']['id'].startswith('exh.logs.ioc.')])
        rows = self.export()
        self.assertEqual(len(rows), n)
        self.assertTrue(all(r['detector'] == 'logs' and r['host'] == 'EX01' for r in rows))
        ua = [r for r in rows if r['type'] == 'user-agent' and 'u_ex210303.log' in r['location']]
        self.assertEqual(len(ua), 1)
        self.assertTrue(ua[0]['location'].endswith('u_ex210303.log:6'), ua[0]['location'])
        self.assertEqual(ua[0]['seen_at'], '2021-03-03T07:02:00.000Z')
        # The same hunt again records the same sightings: nothing new.
        self.hunt('--db', self.db, '--host', 'EX01')
        self.assertEqual(len(self.export()), n)

    def test_sightings_name_files_absolutely(self):
        """Logs given by a relative path: the sightings name them from the
        folder exhunt ran in, as exhunt files and check record them."""
        e = dict(os.environ, XDG_DATA_HOME=self.home)
        parent = os.path.dirname(self.logs)
        p = subprocess.run([EXHUNT, 'logs', '-q', '--db', self.db, os.path.basename(self.logs)],
                           env=e, cwd=parent, timeout=120)
        self.assertEqual(p.returncode, 1)
        locs = [r['location'] for r in self.export()]
        self.assertTrue(locs)
        for loc in locs:
            self.assertTrue(loc.startswith(self.logs + '/'), loc)

    def test_no_sightings_leaves_the_store_alone(self):
        before = os.stat(self.db).st_mtime_ns
        rc, recs, err = self.hunt('--db', self.db, '--no-sightings')
        self.assertEqual(rc, 1, err)
        self.assertTrue(ioc_hits(recs, 'exh.logs.ioc.source_ip'))
        self.assertEqual(self.export(), [])
        self.assertEqual(os.stat(self.db).st_mtime_ns, before)

    def test_store_inside_the_evidence(self):
        """Sightings would write into the logs folder being read: refused,
        unless --no-sightings (then the store is only read)."""
        inside = os.path.join(self.logs, 'iocs.sqlite')
        shutil.copy(self.db, inside)
        before = os.stat(inside).st_mtime_ns
        rc, recs, err = self.hunt('--db', inside)
        self.assertEqual(rc, 2)
        self.assertIn('would write into the evidence', err)
        self.assertEqual(os.stat(inside).st_mtime_ns, before)
        rc, recs, err = self.hunt('--db', inside, '--no-sightings')
        self.assertEqual(rc, 1, err)
        self.assertTrue(ioc_hits(recs, 'exh.logs.ioc.source_ip'))
        self.assertEqual(os.stat(inside).st_mtime_ns, before)

    def test_no_hits_no_write(self):
        os.remove(os.path.join(self.logs, 'W3SVC1', 'u_ex210303.log'))
        os.remove(os.path.join(self.logs, 'W3SVC2', 'u_ex210303.log'))
        with open(os.path.join(self.logs, 'HttpProxy', 'Ecp', 'HttpProxy_2021030306-1.LOG'), 'w') as f:
            f.write(HTTPPROXY.split(hp_row('2021-03-03T06:10:00.000Z', 'evil.example', '/ecp/default.aspx',
                                           'Mozilla/5.0', '10.0.4.21', 200))[0])
        os.chmod(self.db, 0o444)  # a write would fail loudly (unless root)
        before = os.stat(self.db).st_mtime_ns
        rc, recs, err = self.hunt('--db', self.db)
        self.assertEqual(rc, 0, err)
        self.assertEqual(os.stat(self.db).st_mtime_ns, before)
        self.assertFalse(os.path.exists(self.db + '-journal'))

    def test_default_store_and_no_iocs(self):
        default = os.path.join(self.home, 'exhunt', 'iocs.sqlite')
        os.makedirs(os.path.dirname(default))
        shutil.copy(self.db, default)
        rc, recs, err = self.hunt()
        self.assertTrue(ioc_hits(recs, 'exh.logs.ioc.source_ip'), err)
        rc, recs, err = self.hunt('--no-iocs')
        self.assertFalse([r for r in recs if r['rule']['id'].startswith('exh.logs.ioc.')])

    def test_absent_default_store_is_no_error(self):
        rc, recs, err = self.hunt()
        self.assertEqual(rc, 1, err)  # the built-in web shell rule still fires
        self.assertEqual(err, '')
        self.assertFalse([r for r in recs if r['rule']['id'].startswith('exh.logs.ioc.')])
        self.assertFalse(os.path.exists(os.path.join(self.home, 'exhunt')))

    def test_absent_named_store_is_an_error(self):
        rc, recs, err = self.hunt('--db', os.path.join(self.tmp, 'nope.sqlite'))
        self.assertEqual(rc, 2)
        self.assertIn('nope.sqlite', err)

    def test_corrupt_store_is_an_error(self):
        bad = os.path.join(self.tmp, 'bad.sqlite')
        with open(bad, 'wb') as f:
            f.write(b'this is not a database' * 100)
        rc, recs, err = self.hunt('--db', bad)
        self.assertEqual(rc, 2)
        self.assertIn('bad.sqlite', err)
        self.assertIn('--no-iocs', err)

    def test_newer_store_is_an_error(self):
        c = sqlite3.connect(self.db)
        c.execute('PRAGMA user_version = 999')
        c.commit()
        c.close()
        rc, recs, err = self.hunt('--db', self.db)
        self.assertEqual(rc, 2)
        self.assertIn('newer', err)

    def test_iocs_file_without_store(self):
        rc, recs, err = self.hunt('--no-iocs', '--iocs', self.csv)
        ip = ioc_hits(recs, 'exh.logs.ioc.source_ip')
        self.assertIn('203.0.113.20', [r['source']['ip'] for r in ip])
        self.assertEqual(ip[0]['threat']['indicator']['provider'], 'Test feed')
        # Indicators from a file are not the store's: nothing recorded.
        self.assertEqual(self.export(), [])

    def test_iocs_file_that_is_not_indicators(self):
        p = os.path.join(self.tmp, 'junk.csv')
        with open(p, 'w') as f:
            f.write('a,b\n1,2\n')
        rc, recs, err = self.hunt('--no-iocs', '--iocs', p)
        self.assertEqual(rc, 2)
        self.assertIn('junk.csv', err)


if __name__ == '__main__':
    EXHUNT = sys.argv.pop(1)
    unittest.main(verbosity=1)
