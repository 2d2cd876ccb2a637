#!/usr/bin/env python3
"""End-to-end tests of how `exhunt logs` groups hits: one finding per rule
and client, judged as a chain (exploited when any step succeeded, attempted
only when every hit failed), with counts and the first success. The logs are
written here, in the public HttpProxy and IIS formats.

usage: e2e_logsgroup.py EXHUNT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

EXHUNT = ''
SSRF = 'exh.logs.proxylogon.cve_2021_26855'
RESET = 'exh.logs.proxylogon.cve_2021_27065_ssrf'
SHELL = 'exh.logs.webshell.iis_access'

# Exchange 2016 CU23 HttpProxy columns (74), as its #Fields line writes them.
HP_FIELDS = (
    'DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,'
    'Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,'
    'Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,'
    'ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,'
    'BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,'
    'TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,'
    'CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,'
    'TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,'
    'SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,'
    'ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,'
    'BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,'
    'BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,'
    'HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,'
    'CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,'
    'BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,'
    'PartitionEndpointLookupLatency,RoutingStatus').split(',')
HP_HEADER = ('#Software: Microsoft Exchange Server\n#Version: 15.01.2507.006\n'
             '#Log-type: HttpProxy Logs\n#Date: 2021-03-03T06:00:00.000Z\n'
             '#Fields: ' + ','.join(HP_FIELDS) + '\n')  # data starts on line 6
ANCHOR = 'ServerInfo~a]@exch01.contoso.example:444/ecp/proxyLogon.ecp?#'
RESET_ANCHOR = ('ServerInfo~a]@exch01.contoso.example:444/ecp/DDI/DDIService.svc/SetObject'
                '?schema=ResetOABVirtualDirectory#')

IIS_HEADER = ('#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n'
              '#Date: 2021-03-03 00:00:00\n'
              '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username '
              'c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n')


def hp_row(t, n, ip, stem, status, anchor=ANCHOR, server='EXCH01'):
    v = dict.fromkeys(HP_FIELDS, '')
    v.update(DateTime=t, RequestId='6b0c1e2a-0000-4000-8000-%012d' % n, MajorVersion='15',
             MinorVersion='1', BuildVersion='2507', RevisionVersion='6', Protocol='Ecp',
             UrlHost='mail.contoso.example', UrlStem=stem, IsAuthenticated='false',
             AnchorMailbox=anchor, UserAgent='python-requests/2.25.1', ClientIpAddress=ip,
             ServerHostName=server, HttpStatus=str(status), BackEndStatus=str(status),
             Method='POST', ProxyAction='Proxy', TargetServer='exch01.contoso.example',
             TargetServerVersion='15.01.2507.000', RoutingType='ServerInfo',
             RoutingHint='X-BEResource-Cookie')
    return ','.join(v[f] for f in HP_FIELDS) + '\n'


def ts(minute, second, ms=0):
    return '2021-03-03T06:%02d:%02d.%03dZ' % (minute, second, ms)


def iis_row(hms, ip, stem, status):
    return '2021-03-03 %s 10.0.0.5 POST %s - 443 - %s antSword/v2.1 - %d 0 0 31\n' % (
        hms, stem, ip, status)


def run(*args):
    e = dict(os.environ)
    e['XDG_DATA_HOME'] = os.path.join(tempfile.gettempdir(), 'exhunt-e2e-logsgroup-no-store')
    e['EXHUNT_NO_CACHE'] = '1'
    p = subprocess.run([EXHUNT, 'logs', *args], capture_output=True, env=e, timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def alerts(*args):
    rc, out, err = run('--format', 'jsonl', *args)
    recs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return rc, [r for r in recs if r.get('event', {}).get('kind') == 'alert'], err


def of_rule(recs, rule):
    return [r for r in recs if r['rule']['id'] == rule]


class Grouping(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='exhunt-logsgroup-')
        self.hp = os.path.join(self.dir, 'Logging', 'HttpProxy', 'Ecp')
        os.makedirs(self.hp)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, text, folder=None):
        with open(os.path.join(folder or self.hp, name), 'w') as f:
            f.write(text)

    def scanner(self, name='HttpProxy_2021030306-1.LOG', n=500):
        """A scanner's n failed probes (500s and 404s) from one address."""
        rows = [hp_row(ts(i // 60 % 60, i % 60, i % 1000), i, '198.51.100.50', '/ecp/x.js',
                       500 if i % 3 else 404) for i in range(n)]
        self.write(name, HP_HEADER + ''.join(rows))

    def iis(self, rows):
        d = os.path.join(self.dir, 'inetpub', 'logs', 'LogFiles', 'W3SVC1')
        os.makedirs(d, exist_ok=True)
        self.write('u_ex210303.log', IIS_HEADER + ''.join(rows), d)

    def test_scanner_500_failed_probes_is_one_attempted_finding(self):
        self.scanner()
        rc, recs, err = alerts(self.dir)
        self.assertEqual(rc, 1, err)
        f = of_rule(recs, SSRF)
        self.assertEqual(len(f), 1, f)
        x = f[0]['exhunt']
        self.assertEqual(x['outcome'], 'attempted')
        self.assertEqual((x['count'], x['failed'], x['succeeded']), ('500', '500', '0'))
        self.assertNotIn('first_success', x)
        self.assertNotIn('followup', x)
        self.assertEqual(x['severity'], 'high')  # one step below critical
        self.assertEqual(x['first_seen'], '2021-03-03T06:00:00.000Z')
        self.assertEqual(x['line'], 6)  # the first probe: evidence of an attempt

    def test_failures_then_241_is_one_exploited_finding(self):
        rows = [hp_row(ts(10, i), i, '203.0.113.10', '/ecp/y.js', 500) for i in range(30)]
        rows.append(hp_row(ts(11, 5, 250), 99, '203.0.113.10', '/ecp/y.js', 241))
        self.write('HttpProxy_2021030306-1.LOG', HP_HEADER + ''.join(rows))
        rc, recs, err = alerts(self.dir)
        self.assertEqual(rc, 1, err)
        f = of_rule(recs, SSRF)
        self.assertEqual(len(f), 1, f)
        g = f[0]
        x = g['exhunt']
        self.assertEqual(x['outcome'], 'exploited')
        self.assertEqual(x['severity'], 'critical')
        self.assertEqual((x['count'], x['failed'], x['succeeded']), ('31', '30', '1'))
        self.assertEqual(x['first_seen'], '2021-03-03T06:10:00.000Z')
        self.assertEqual(x['last_seen'], '2021-03-03T06:11:05.250Z')
        self.assertEqual(x['first_success'], '2021-03-03T06:11:05.250Z')
        # The evidence is the success: its line (header 5 + 30 failures + 1), status, URL.
        self.assertEqual(x['line'], 36)
        self.assertEqual(g['http']['response']['status_code'], '241')
        self.assertEqual(g['url']['path'], '/ecp/y.js')
        self.assertTrue(g['file']['path'].endswith('HttpProxy_2021030306-1.LOG'))
        self.assertEqual(g['exhunt']['request_id'], '6b0c1e2a-0000-4000-8000-000000000099')

    def test_text_says_counts_and_first_success(self):
        rows = [hp_row(ts(10, i), i, '203.0.113.10', '/ecp/y.js', 500) for i in range(30)]
        rows.append(hp_row(ts(11, 5, 250), 99, '203.0.113.10', '/ecp/y.js', 241))
        self.write('HttpProxy_2021030306-1.LOG', HP_HEADER + ''.join(rows))
        rc, out, err = run(self.dir)
        self.assertEqual(rc, 1, err)
        self.assertIn('exploited: 31 times, 2021-03-03T06:10:00.000Z to 2021-03-03T06:11:05.250Z '
                      '(30 failed, 1 succeeded); first success 2021-03-03T06:11:05.250Z, line 36',
                      out)
        self.assertIn('HttpProxy_2021030306-1.LOG:36', out)

    def test_success_in_a_later_file_merges_into_one_finding(self):
        self.write('HttpProxy_2021030306-1.LOG', HP_HEADER + ''.join(
            hp_row(ts(10, i), i, '203.0.113.10', '/ecp/y.js', 503) for i in range(5)))
        self.write('HttpProxy_2021030307-1.LOG', HP_HEADER +
                   hp_row('2021-03-03T07:00:01.000Z', 50, '203.0.113.10', '/ecp/y.js', 404) +
                   hp_row('2021-03-03T07:00:02.000Z', 51, '203.0.113.10', '/ecp/y.js', 200))
        rc, recs, err = alerts('-j', '2', self.dir)
        f = of_rule(recs, SSRF)
        self.assertEqual(len(f), 1, f)
        x = f[0]['exhunt']
        self.assertEqual((x['outcome'], x['count'], x['failed'], x['succeeded']),
                         ('exploited', '7', '6', '1'))
        self.assertEqual(x['line'], 7)
        self.assertTrue(f[0]['file']['path'].endswith('HttpProxy_2021030307-1.LOG'))
        self.assertEqual(x['first_seen'], '2021-03-03T06:10:00.000Z')
        self.assertEqual(x['first_success'], '2021-03-03T07:00:02.000Z')

    def test_two_clients_are_judged_apart(self):
        # Another client's success on the same step says nothing of the scanner.
        self.scanner(n=40)
        self.write('HttpProxy_2021030307-1.LOG', HP_HEADER + ''.join(
            hp_row('2021-03-03T07:00:%02d.000Z' % i, 600 + i, '203.0.113.10', '/ecp/y.js',
                   241 if i == 3 else 500) for i in range(5)))
        rc, recs, err = alerts(self.dir)
        by = {r['source']['ip']: r['exhunt'] for r in of_rule(recs, SSRF)}
        self.assertEqual(set(by), {'198.51.100.50', '203.0.113.10'})
        self.assertEqual((by['198.51.100.50']['outcome'], by['198.51.100.50']['count']),
                         ('attempted', '40'))
        self.assertEqual((by['203.0.113.10']['outcome'], by['203.0.113.10']['failed'],
                          by['203.0.113.10']['succeeded']), ('exploited', '4', '1'))
        # Most severe first: the exploited one comes before the attempt.
        ips = [r['source']['ip'] for r in of_rule(recs, SSRF)]
        self.assertEqual(ips, ['203.0.113.10', '198.51.100.50'])

    def test_web_shell_reached_after_the_ssrf_makes_the_chain_exploited(self):
        self.scanner(n=20)
        self.iis([iis_row('06:40:00', '192.0.2.77', '/aspnet_client/system_web/s1.aspx', 200)])
        rc, recs, err = alerts(self.dir)
        g = of_rule(recs, SSRF)[0]
        x = g['exhunt']
        self.assertEqual((x['outcome'], x['failed'], x['succeeded']), ('exploited', '20', '0'))
        self.assertEqual(x['severity'], 'critical')
        self.assertEqual(x['first_success'], '2021-03-03T06:40:00.000Z')
        self.assertEqual(x['followup']['rule'], SHELL)
        self.assertEqual(x['followup']['line'], '5')
        self.assertEqual(x['followup']['status'], '200')
        self.assertEqual(x['followup']['source_ip'], '192.0.2.77')
        self.assertTrue(x['followup']['path'].endswith('u_ex210303.log'))
        # The SSRF's own evidence is kept: its first failed probe.
        self.assertEqual(g['http']['response']['status_code'], '404')
        self.assertEqual(g['source']['ip'], '198.51.100.50')
        # The web shell access is still its own finding.
        self.assertEqual(len(of_rule(recs, SHELL)), 1)

    def test_reset_through_ssrf_makes_the_chain_exploited(self):
        rows = [hp_row(ts(1, i), i, '198.51.100.50', '/ecp/x.js', 500) for i in range(3)]
        rows.append(hp_row(ts(5, 0), 9, '198.51.100.51', '/ecp/w.js', 200, RESET_ANCHOR))
        self.write('HttpProxy_2021030306-1.LOG', HP_HEADER + ''.join(rows))
        rc, recs, err = alerts(self.dir)
        x = {r['source']['ip']: r['exhunt'] for r in of_rule(recs, SSRF)}['198.51.100.50']
        self.assertEqual(x['outcome'], 'exploited')
        self.assertEqual(x['followup']['rule'], RESET)
        self.assertEqual(x['followup']['line'], '9')

    def test_each_server_is_judged_on_its_own(self):
        # One collection, two servers: the same scanner probed both (two
        # findings), and only EXCH02 saw a virtual directory reset.
        self.scanner(n=10)
        d2 = os.path.join(self.dir, 'exch02', 'Logging', 'HttpProxy', 'Ecp')
        os.makedirs(d2)
        rows = [hp_row(ts(0, i), 100 + i, '198.51.100.50', '/ecp/x.js', 500, server='EXCH02')
                for i in range(4)]
        rows.append(hp_row(ts(30, 0), 200, '198.51.100.60', '/ecp/w.js', 200, RESET_ANCHOR,
                           server='exch02.contoso.example'))
        self.write('HttpProxy_2021030306-1.LOG', HP_HEADER + ''.join(rows), d2)
        rc, recs, err = alerts(self.dir)
        by = {r['host']['name']: r['exhunt'] for r in of_rule(recs, SSRF)
              if r['source']['ip'] == '198.51.100.50'}
        self.assertEqual(set(by), {'EXCH01', 'EXCH02'})
        self.assertEqual((by['EXCH01']['outcome'], by['EXCH01']['count']), ('attempted', '10'))
        self.assertNotIn('followup', by['EXCH01'])
        # exch02.contoso.example is EXCH02: its reset makes that chain exploited.
        self.assertEqual((by['EXCH02']['outcome'], by['EXCH02']['count']), ('exploited', '4'))
        self.assertEqual(by['EXCH02']['followup']['rule'], RESET)
        self.assertEqual(by['EXCH02']['followup']['line'], '10')

    def test_near_misses_do_not_make_the_chain_exploited(self):
        self.scanner(n=20)  # 06:00:00 to 06:00:19
        self.iis([
            # a web shell path that is not there (404): probing, not a success
            iis_row('06:40:00', '192.0.2.77', '/aspnet_client/system_web/s1.aspx', 404),
            # a web shell reached before the SSRF began: not its follow-up
            iis_row('05:59:00', '192.0.2.78', '/owa/auth/x.aspx', 200),
            # a legitimate page under owa/auth
            iis_row('06:41:00', '192.0.2.79', '/owa/auth/logon.aspx', 200),
        ])
        rc, recs, err = alerts(self.dir)
        x = of_rule(recs, SSRF)[0]['exhunt']
        self.assertEqual(x['outcome'], 'attempted')
        self.assertNotIn('followup', x)
        self.assertNotIn('first_success', x)

    def test_timeline_lists_every_hit_unchanged(self):
        rows = [hp_row(ts(10, i), i, '203.0.113.10', '/ecp/y.js', 500) for i in range(30)]
        rows.append(hp_row(ts(11, 5, 250), 99, '203.0.113.10', '/ecp/y.js', 241))
        self.write('HttpProxy_2021030306-1.LOG', HP_HEADER + ''.join(rows))
        rc, recs, err = alerts('--timeline', self.dir)
        f = of_rule(recs, SSRF)
        self.assertEqual(len(f), 31)
        self.assertEqual([r['exhunt']['line'] for r in f], list(range(6, 37)))
        self.assertEqual([r['exhunt']['outcome'] for r in f], ['attempted'] * 30 + ['exploited'])
        for r in f:
            self.assertEqual(r['exhunt']['count'], '1')
            self.assertNotIn('failed', r['exhunt'])
            self.assertNotIn('first_success', r['exhunt'])

    def test_output_is_stable_across_thread_counts(self):
        self.scanner(n=50)
        for h in range(7, 10):
            self.write('HttpProxy_20210303%02d-1.LOG' % h, HP_HEADER + ''.join(
                hp_row('2021-03-03T%02d:00:%02d.000Z' % (h, i), h * 100 + i,
                       '203.0.113.%d' % (i % 4), '/ecp/y.js', 241 if i == h else 500)
                for i in range(12)))
        outs = []
        for j in ('1', '2', '4'):
            rc, recs, err = alerts('-j', j, self.dir)
            # @timestamp and event.created are the run's clock; compare the rest.
            outs.append([{k: v for k, v in r.items() if k not in ('@timestamp', 'event')}
                         for r in recs])
        self.assertEqual(len(of_rule(recs, SSRF)), 5)
        self.assertEqual(outs[0], outs[1])
        self.assertEqual(outs[0], outs[2])

    def test_unknown_exploited_by_rule_is_an_error(self):
        rules = os.path.join(self.dir, 'rules')
        os.makedirs(rules)
        with open(os.path.join(rules, 'mine.yml'), 'w') as f:
            f.write('id: my.rule\ntitle: mine\nlogsource:\n  category: webserver\n'
                    'detection:\n  sel:\n    url.path|contains: /x/\n  condition: sel\n'
                    'outcome:\n  exploited_status: ["200"]\n'
                    '  exploited_by: [exh.logs.no_such_rule]\n')
        self.scanner(n=2)
        rc, out, err = run('--rules', rules, self.dir)
        self.assertEqual(rc, 2, out)
        self.assertIn('mine.yml: line 11', err)
        self.assertIn('exh.logs.no_such_rule', err)


if __name__ == '__main__':
    EXHUNT = sys.argv.pop(1)
    unittest.main(verbosity=2)
