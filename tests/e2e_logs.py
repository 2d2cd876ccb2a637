#!/usr/bin/env python3
"""End-to-end tests of `exhunt logs` on example logs written for these tests
(tests/fixtures/logs: one compromised 2016 server, one 2013 server whose
HttpProxy rows have no #Fields line), with positives and the near misses
that must not match.

usage: e2e_logs.py EXHUNT FIXTURES
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


def run(*args, env=None):
    e = dict(os.environ)
    # No indicator store but the one a test names: the user's is not ours.
    e['XDG_DATA_HOME'] = os.path.join(tempfile.gettempdir(), 'exhunt-e2e-logs-no-store')
    if env:
        e.update(env)
    p = subprocess.run([EXHUNT, 'logs', *args], capture_output=True, env=e, timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def findings(*args):
    rc, out, err = run('--format', 'jsonl', *args)
    recs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return rc, [r for r in recs if r.get('event', {}).get('kind') == 'alert'], err


def hits(recs, rule):
    return [r for r in recs if r['rule']['id'] == rule]


def by_ip(recs, rule):
    return {(r.get('source') or {}).get('ip'): r for r in hits(recs, rule)}


class Fixture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rc, cls.recs, cls.err = findings(LOGS)

    def test_exit_status_is_findings(self):
        self.assertEqual(self.rc, 1, self.err)

    def test_cve_2021_26855_grouped_and_exploited(self):
        f = by_ip(self.recs, 'exh.logs.proxylogon.cve_2021_26855')
        g = f['203.0.113.10']
        self.assertEqual(g['exhunt']['count'], '3')
        self.assertEqual(g['exhunt']['outcome'], 'exploited')
        self.assertEqual(g['exhunt']['first_seen'], '2021-03-03T06:21:03.001Z')
        self.assertEqual(g['exhunt']['last_seen'], '2021-03-03T06:22:41.900Z')
        self.assertEqual(g['exhunt']['anchor_mailbox'],
                         'ServerInfo~a]@exch01.contoso.example:444/ecp/proxyLogon.ecp?#')
        self.assertEqual(g['exhunt']['routing_hint'], 'X-BEResource-Cookie')
        self.assertEqual(g['url']['path'], '/ecp/y.js')
        self.assertEqual(g['vulnerability']['id'], ['CVE-2021-26855'])
        self.assertTrue(g['file']['path'].endswith('HttpProxy_2021030306-1.LOG'))
        self.assertEqual(g['exhunt']['line'], 7)
        self.assertEqual(g['@timestamp'], '2021-03-03T06:21:03.001Z')

    def test_cve_2021_26855_failed_probe_then_chain_success_is_exploited(self):
        # 203.0.113.11's SSRF failed (500), but the chain went on: a virtual
        # directory reset through the SSRF answered 200 later in the same logs.
        g = by_ip(self.recs, 'exh.logs.proxylogon.cve_2021_26855')['203.0.113.11']
        self.assertEqual(g['exhunt']['outcome'], 'exploited')
        self.assertEqual(g['http']['response']['status_code'], '500')
        self.assertEqual(g['exhunt']['severity'], 'critical')
        self.assertEqual(g['exhunt']['failed'], '1')
        self.assertEqual(g['exhunt']['succeeded'], '0')
        self.assertEqual(g['exhunt']['followup']['rule'], 'exh.logs.proxylogon.cve_2021_27065_ssrf')
        self.assertEqual(g['exhunt']['followup']['line'], '22')
        self.assertEqual(g['exhunt']['first_success'], '2021-03-03T06:44:20.000Z')

    def test_cve_2021_26855_near_misses(self):
        ips = set(by_ip(self.recs, 'exh.logs.proxylogon.cve_2021_26855'))
        # ServerInfo~localhost/..., ServerInfo~LOCALHOST:444/..., ServerInfo~host/autodiscover...,
        # ServerInfo~host without a path
        for ip in ('127.0.0.1', '10.0.4.5', '10.0.4.6', '10.0.4.7'):
            self.assertNotIn(ip, ips)
        self.assertEqual(ips, {'203.0.113.10', '203.0.113.11', '203.0.113.12', '203.0.113.13',
                               '203.0.113.14', '198.51.100.7'})

    def test_forged_backend_cookie(self):
        # 15.01.2176.000 is a real build (every other SSRF row); 41.42.31996.000 is not
        f = by_ip(self.recs, 'exh.logs.proxylogon.forged_backend_cookie')
        self.assertEqual(set(f), {'203.0.113.14'})
        self.assertEqual(f['203.0.113.14']['exhunt']['target_server_version'], '41.42.31996.000')

    def test_columns_bound_from_the_repeated_preamble(self):
        # after the second #Fields line, AnchorMailbox and UserAgent trade places
        f = by_ip(self.recs, 'exh.logs.proxylogon.cve_2021_26855')
        self.assertEqual(f['203.0.113.12']['user_agent']['original'], 'python-requests/2.25.1')
        self.assertEqual(f['203.0.113.12']['exhunt']['line'], 20)

    def test_2013_rows_without_fields_line(self):
        f = by_ip(self.recs, 'exh.logs.proxylogon.cve_2021_26855')
        g = f['198.51.100.7']
        self.assertEqual(g['url']['path'], '/ecp/lkO.js')
        self.assertEqual(g['exhunt']['line'], 1)

    def test_cve_2021_27065_via_ssrf(self):
        f = by_ip(self.recs, 'exh.logs.proxylogon.cve_2021_27065_ssrf')
        # Test-ProxyLogon's pattern ends with 'VirtualDirectory#': the row whose
        # cookie goes on past it (203.0.113.12) is not this check's.
        self.assertEqual(set(f), {'203.0.113.13'})
        self.assertEqual(f['203.0.113.13']['exhunt']['outcome'], 'exploited')

    def test_cve_2021_27065_ecp_server(self):
        h = hits(self.recs, 'exh.logs.proxylogon.cve_2021_27065')
        self.assertEqual(len(h), 1)  # the benign Set-OabVirtualDirectory with a plain URL is not
        # event.original is the raw line: CSV quoting kept
        self.assertIn('<script language=""JScript""', h[0]['event']['original'])
        self.assertEqual(h[0]['@timestamp'], '2021-03-03T06:45:30.120Z')

    def test_cve_2021_26858_oab(self):
        h = hits(self.recs, 'exh.logs.proxylogon.cve_2021_26858')
        self.assertEqual(len(h), 1)  # the temp file under ClientAccess\\OAB is not
        self.assertIn('supp0rt.aspx', h[0]['event']['original'])

    def test_webshell_access(self):
        f = by_ip(self.recs, 'exh.logs.webshell.iis_access')
        self.assertEqual(set(f), {'203.0.113.20', '203.0.113.21'})
        self.assertEqual(f['203.0.113.20']['exhunt']['outcome'], 'exploited')
        self.assertEqual(f['203.0.113.21']['exhunt']['outcome'], 'attempted')  # 404
        self.assertEqual(f['203.0.113.20']['@timestamp'], '2021-03-03T07:01:00.000Z')

    def test_proxyshell_and_proxynotshell(self):
        ps = by_ip(self.recs, 'exh.logs.proxyshell.autodiscover_ssrf_iis')
        self.assertEqual(ps['203.0.113.30']['exhunt']['outcome'], 'exploited')
        self.assertEqual(ps['203.0.113.31']['exhunt']['outcome'], 'attempted')
        # the authenticated one is ProxyNotShell's; Outlook's own request is nobody's
        self.assertEqual(set(ps), {'203.0.113.30', '203.0.113.31'})
        pns = by_ip(self.recs, 'exh.logs.proxynotshell.cve_2022_41040_iis')
        # the front end's request, and the back end's (stem /powershell, the SSRF in the query)
        self.assertEqual(set(pns), {'203.0.113.32', '203.0.113.33'})
        hp = by_ip(self.recs, 'exh.logs.proxyshell.autodiscover_ssrf_httpproxy')
        self.assertEqual(set(hp), {'203.0.113.41'})

    def test_owassrf(self):
        f = by_ip(self.recs, 'exh.logs.owassrf.cve_2022_41080')
        self.assertEqual(set(f), {'203.0.113.40'})  # WinRM client rows are not

    def test_mailbox_export(self):
        self.assertEqual(len(hits(self.recs, 'exh.logs.mailbox_export.rps_cmdlet')), 1)
        self.assertEqual(len(hits(self.recs, 'exh.logs.mailbox_export.aspx_file')), 1)
        self.assertEqual(len(hits(self.recs, 'exh.logs.mailbox_export.role_assignment')), 1)

    def test_coverage_per_folder(self):
        rc, out, err = run('--format', 'jsonl', LOGS)
        cov = [json.loads(l) for l in out.splitlines() if '"exh.logs.coverage"' in l]
        ecp = [c for c in cov if c['file']['path'].endswith('HttpProxy/Ecp') and 'exch01' in c['file']['path']]
        self.assertEqual(len(ecp), 1)
        self.assertEqual(ecp[0]['exhunt']['first_seen'], '2021-03-03T06:12:01.100Z')
        self.assertEqual(ecp[0]['exhunt']['log_kind'], 'httpproxy')


    def test_web_pages_under_frontend_httpproxy_are_no_logs(self):
        # FrontEnd/HttpProxy holds OWA's pages, Logging/HttpProxy the logs:
        # a page must not count as an HttpProxy log in the coverage.
        tmp = tempfile.mkdtemp(prefix='exhunt-e2e-logs-')
        self.addCleanup(shutil.rmtree, tmp)
        auth = os.path.join(tmp, 'V15', 'FrontEnd', 'HttpProxy', 'owa', 'auth')
        os.makedirs(auth)
        with open(os.path.join(auth, 'logon.aspx'), 'w') as f:
            f.write('<%@ Page Language="C#" %>\r\n<html><body>Outlook</body></html>\r\n')
        rc, out, err = run('--format', 'jsonl', tmp)
        self.assertEqual(rc, 0, err)
        self.assertNotIn('"exh.logs.coverage"', out)

class Options(unittest.TestCase):
    def test_timeline_sorts_every_hit_by_time(self):
        rc, recs, err = findings('--timeline', LOGS)
        times = [r['@timestamp'] for r in recs if r['rule']['id'] != 'exh.logs.coverage']
        self.assertEqual(times, sorted(times))
        # no grouping: the three hits of 203.0.113.10 are three findings
        self.assertEqual(len(by_ip_all(recs, 'exh.logs.proxylogon.cve_2021_26855', '203.0.113.10')), 3)

    def test_since_until(self):
        rc, recs, err = findings('--since', '2021-03-03T06:22:00', '--until', '2021-03-03', LOGS)
        f = by_ip(recs, 'exh.logs.proxylogon.cve_2021_26855')
        self.assertEqual(f['203.0.113.10']['exhunt']['count'], '1')
        self.assertNotIn('198.51.100.7', f)  # 2021-03-02
        self.assertFalse(hits(recs, 'exh.logs.owassrf.cve_2022_41080'))  # 2022

    def test_clean_input_exits_0(self):
        rc, out, err = run(os.path.join(LOGS, 'exch01', 'README.txt'))
        self.assertEqual(rc, 0, out + err)

    def test_missing_path_exits_2(self):
        rc, out, err = run('/nonexistent/logs')
        self.assertEqual(rc, 2)
        self.assertIn('/nonexistent/logs', err)

    def test_text_output_names_file_and_line(self):
        rc, out, err = run(os.path.join(LOGS, 'exch01', 'inetpub'))
        self.assertIn('Web shell access in IIS logs: exploited', out)
        self.assertIn('u_ex210303.log:5', out)

    def test_help(self):
        rc, out, err = run('--help')
        self.assertEqual(rc, 0)
        self.assertIn('--timeline', out)


def by_ip_all(recs, rule, ip):
    return [r for r in hits(recs, rule) if (r.get('source') or {}).get('ip') == ip]


class Inputs(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_gzip_and_content_not_name(self):
        src = os.path.join(LOGS, 'exch01', 'inetpub', 'logs', 'LogFiles', 'W3SVC1', 'u_ex210303.log')
        with open(src, 'rb') as f, gzip.open(os.path.join(self.tmp, 'collected.dat'), 'wb') as g:
            g.write(f.read())
        rc, recs, err = findings(self.tmp)
        self.assertEqual(set(by_ip(recs, 'exh.logs.webshell.iis_access')), {'203.0.113.20', '203.0.113.21'})

    def test_deep_folders(self):
        """A log 60 folders down (the files scan walks 128, and exhunt check
        leaves it to the log hunt): read."""
        src = os.path.join(LOGS, 'exch01', 'inetpub', 'logs', 'LogFiles', 'W3SVC1', 'u_ex210303.log')
        deep = os.path.join(self.tmp, *['d%02d' % i for i in range(60)])
        os.makedirs(deep)
        shutil.copy(src, deep)
        rc, recs, err = findings(self.tmp)
        self.assertEqual(set(by_ip(recs, 'exh.logs.webshell.iis_access')), {'203.0.113.20', '203.0.113.21'})

    def test_symlinks_are_not_followed(self):
        os.symlink(os.path.join(LOGS, 'exch01'), os.path.join(self.tmp, 'link'))
        rc, recs, err = findings(self.tmp)
        self.assertEqual([r for r in recs if r['rule']['id'] != 'exh.logs.coverage'], [])
        self.assertEqual(rc, 0)

    def test_fifo_does_not_hang(self):
        fifo = os.path.join(self.tmp, 'u_ex210305.log')
        os.mkfifo(fifo)
        rc, out, err = run(fifo)  # named: an error
        self.assertEqual(rc, 2)
        self.assertIn('not a regular file', err)
        rc, out, err = run(self.tmp)  # in a folder: not read
        self.assertEqual(rc, 0, err)

    def test_user_sigma_rule(self):
        with open(os.path.join(self.tmp, 'antsword.yml'), 'w') as f:
            f.write("title: AntSword client\nid: 6b7c0e4e-0000-4000-8000-000000000001\n"
                    "status: experimental\nlogsource:\n  category: webserver\n"
                    "detection:\n  selection:\n    c-useragent|startswith: 'antSword/'\n"
                    "  condition: selection\nlevel: high\ntags:\n  - attack.t1505.003\n")
        rc, recs, err = findings('--no-builtin', '--rules', self.tmp, LOGS)
        self.assertEqual([r['source']['ip'] for r in recs if r['rule']['id'].startswith('6b7c')],
                         ['203.0.113.20'])
        self.assertEqual(recs[0]['threat']['technique']['id'], ['T1505.003'])

    def test_unsupported_construct_names_file_line(self):
        with open(os.path.join(self.tmp, 'bad.yml'), 'w') as f:
            f.write("title: x\nid: x1\nlogsource:\n  category: webserver\ndetection:\n"
                    "  sel:\n    c-ip|cidr: '10.0.0.0/8'\n  condition: sel\n")
        rc, out, err = run('--rules', self.tmp, LOGS)
        self.assertEqual(rc, 2)
        self.assertIn('bad.yml: line 7:', err)
        self.assertIn("'|cidr'", err)

    def test_aggregation_is_refused(self):
        with open(os.path.join(self.tmp, 'agg.yml'), 'w') as f:
            f.write("title: x\nid: x2\nlogsource:\n  category: webserver\ndetection:\n"
                    "  sel:\n    cs-method: POST\n  condition: sel | count() > 10\n")
        rc, out, err = run('--rules', self.tmp, LOGS)
        self.assertEqual(rc, 2)
        self.assertIn('agg.yml: line 8:', err)
        self.assertIn('aggregation', err)

    def test_iocs(self):
        p = os.path.join(self.tmp, 'iocs.csv')
        with open(p, 'w') as f:
            f.write('type,value,source,actor\nip,203.0.113.30,Test feed,UNC-TEST\n'
                    'ip,203.0.113.3,Test feed,\n'  # prefix of .30: must not match it alone
                    'user_agent,antSword/v2.1,Volexity,\nsha256,' + 'a' * 64 + ',MSTIC,\n')
        rc, recs, err = findings('--iocs', p, LOGS)
        ip = hits(recs, 'exh.logs.ioc.source_ip')
        self.assertEqual([r['source']['ip'] for r in ip], ['203.0.113.30'])
        self.assertEqual(ip[0]['threat']['indicator']['provider'], 'Test feed')
        self.assertEqual(ip[0]['threat']['group']['name'], 'UNC-TEST')
        ua = hits(recs, 'exh.logs.ioc.user_agent')
        self.assertEqual([r['source']['ip'] for r in ua], ['203.0.113.20'])

    def test_long_line_is_cut_not_fatal(self):
        p = os.path.join(self.tmp, 'u_ex210304.log')
        with open(p, 'w') as f:
            f.write('#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username '
                    'c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n')
            f.write('2021-03-04 01:00:00 10.0.0.5 GET /owa/ ' + 'a' * (3 << 20) + ' 443 - 1.1.1.1 x - 200 0 0 1\n')
            f.write('2021-03-04 01:00:01 10.0.0.5 GET /aspnet_client/s.aspx - 443 - 203.0.113.99 x - 200 0 0 1\n')
        rc, recs, err = findings(self.tmp)
        f = by_ip(recs, 'exh.logs.webshell.iis_access')
        self.assertEqual(set(f), {'203.0.113.99'})
        self.assertEqual(f['203.0.113.99']['exhunt']['line'], 3)


if __name__ == '__main__':
    EXHUNT, fixtures = sys.argv[1], sys.argv[2]
    LOGS = os.path.join(fixtures, 'logs')
    unittest.main(argv=[sys.argv[0], '-v'])
