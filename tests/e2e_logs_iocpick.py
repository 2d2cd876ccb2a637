#!/usr/bin/env python3
"""End-to-end tests of how `exhunt logs` picks the web-log lines it looks up
in the indicators (the literal prefilter of src/detectors/logioc.c): an
indicator in each kind of column is found, in IIS and HttpProxy logs, at
the right line; the near misses (an address that has the indicator as a
prefix or a suffix, a value in the wrong column, another case where the
lookup keeps case, a host or file name inside a longer one) are not; the
results are the same with the compiled prefilter cached, loaded from the
cache and not cached, and with every line looked up (an indicator with no
literal forces that); a rule set that reads every line still has its
indicators looked up; and a store of 100 000 values finds exactly the
planted ones.

usage: e2e_logs_iocpick.py EXHUNT
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

EXHUNT = ''

INDICATORS = '''type,value,source
ipv4,10.0.0.1,pick
ipv6,2001:db8:aa::7,pick
user-agent,Evil Agent/1.0 (pick test),pick
domain,bad.example,pick
url,http://c2.example/gate.php,pick
url,https://mail.contoso.example/owa/auth/out.aspx,pick
filename,pickme.aspx,pick
filepath,C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\deep.aspx,pick
sha256,e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,pick
'''

IIS_HEAD = ('#Software: Microsoft Internet Information Services 10.0\n'
            '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip '
            'cs(User-Agent) cs(Referer) cs-host sc-status sc-substatus sc-win32-status time-taken\n')


def iis(sec, stem, query, ip, ua, ref, host, status=200):
    return (f'2021-03-03 07:00:{sec:02d} 10.0.0.5 GET {stem} {query} 443 - {ip} {ua} {ref} {host} '
            f'{status} 0 0 5\n')


# (line, expected (rule, client) or None for a near miss)
IIS_ROWS = [
    # positives: one per kind of column
    (iis(1, '/owa/', '-', '10.0.0.1', 'Mozilla/5.0', '-', 'mail.contoso.example'),
     ('exh.logs.ioc.source_ip', '10.0.0.1')),
    (iis(2, '/owa/', '-', '2001:DB8:AA:0::7', 'Mozilla/5.0', '-', 'mail.contoso.example'),
     ('exh.logs.ioc.source_ip', '2001:DB8:AA:0::7')),
    (iis(3, '/owa/', '-', '198.51.100.3', 'Evil+Agent/1.0+(pick+test)', '-', 'mail.contoso.example'),
     ('exh.logs.ioc.user_agent', '198.51.100.3')),
    (iis(4, '/owa/', '-', '198.51.100.4', 'Mozilla/5.0', '-', 'BAD.example'),
     ('exh.logs.ioc.domain', '198.51.100.4')),
    (iis(5, '/gate.php', '-', '198.51.100.5', 'Mozilla/5.0', '-', 'c2.example:8080'),
     ('exh.logs.ioc.url', '198.51.100.5')),
    (iis(6, '/aspnet_client/PickMe.aspx', '-', '198.51.100.6', 'Mozilla/5.0', '-', 'mail.contoso.example'),
     ('exh.logs.ioc.webshell_path', '198.51.100.6')),
    (iis(7, '/aspnet_client/system_web/deep.aspx', '-', '198.51.100.7', 'Mozilla/5.0', '-',
         'mail.contoso.example'),
     ('exh.logs.ioc.webshell_path', '198.51.100.7')),
    # near misses
    (iis(11, '/owa/', '-', '10.0.0.12', 'Mozilla/5.0', '-', 'mail.contoso.example'), None),
    (iis(12, '/owa/', '-', '110.0.0.1', 'Mozilla/5.0', '-', 'mail.contoso.example'), None),
    (iis(13, '/owa/', 'x=10.0.0.1', '198.51.100.13', 'Mozilla/5.0', '-', 'mail.contoso.example'), None),
    (iis(14, '/owa/', '-', '198.51.100.14', 'Mozilla/5.0', 'Evil+Agent/1.0+(pick+test)',
         'mail.contoso.example'), None),
    (iis(15, '/owa/', '-', '198.51.100.15', 'evil+agent/1.0+(pick+test)', '-', 'mail.contoso.example'),
     None),
    (iis(16, '/owa/', '-', '198.51.100.16', 'Mozilla/5.0', '-', 'notbad.example'), None),
    (iis(17, '/gate.php', '-', '198.51.100.17', 'Mozilla/5.0', '-', 'other.example'), None),
    (iis(18, '/aspnet_client/pickme.aspx.bak', '-', '198.51.100.18', 'Mozilla/5.0', '-',
         'mail.contoso.example', 404), None),
    (iis(19, '/owa/', 'f=pickme.aspx', '198.51.100.19', 'Mozilla/5.0', '-', 'mail.contoso.example'), None),
    (iis(20, '/owa/auth/deep.aspx', '-', '198.51.100.20', 'Mozilla/5.0', '-', 'mail.contoso.example', 404),
     None),
    (iis(21, '/ecp/', '-', '2001:db8:aa::77', 'Mozilla/5.0', '-', 'mail.contoso.example'), None),
]

HP_HEAD = ('#Software: Microsoft Exchange Server\n#Version: 15.01.2176.002\n#Log-type: HttpProxy Logs\n'
           '#Fields: DateTime,RequestId,Protocol,UrlHost,UrlStem,AuthenticatedUser,AnchorMailbox,UserAgent,'
           'ClientIpAddress,ServerHostName,HttpStatus,Method,TargetServer,RoutingHint,UrlQuery\n')


def hp(sec, host, stem, ua, ip, query=''):
    return (f'2021-03-03T06:00:{sec:02d}.000Z,00000000-0000-4000-8000-0000000000{sec:02d},Owa,{host},{stem},,,'
            f'"{ua}",{ip},EXCH01,200,GET,,,{query}\n')


HP_ROWS = [
    (hp(1, 'mail.contoso.example', '/owa/', 'Evil Agent/1.0 (pick test)', '198.51.100.31'),
     ('exh.logs.ioc.user_agent', '198.51.100.31')),
    (hp(2, 'mail.contoso.example', '/owa/auth/out.aspx', 'Mozilla/5.0', '198.51.100.32'),
     ('exh.logs.ioc.url', '198.51.100.32')),
    (hp(3, 'mail.contoso.example', '/owa/', 'Mozilla/5.0', '10.0.0.1'),
     ('exh.logs.ioc.source_ip', '10.0.0.1')),
    (hp(11, 'other.contoso.example', '/owa/auth/out.aspx', 'Mozilla/5.0', '198.51.100.41'), None),
    (hp(12, 'mail.contoso.example', '/owa/', 'Mozilla/5.0 (Evil Agent/1.0 (pick test))', '198.51.100.42'),
     None),
    (hp(13, 'mail.contoso.example', '/owa/', 'Mozilla/5.0', '198.51.100.43', 'ip=10.0.0.1'), None),
]

# Unremarkable traffic around them: lines the prefilter must skip.
FILLER = [iis(30 + i % 20, '/owa/service.svc', 'action=GetItem', '192.0.2.%d' % (i % 250 + 1),
              'Mozilla/5.0+(Windows+NT+10.0)', '-', 'mail.contoso.example') for i in range(200)]


def iis_log():
    return IIS_HEAD + ''.join(FILLER[:100]) + ''.join(r for r, _ in IIS_ROWS) + ''.join(FILLER[100:])


def iis_line_of(row):
    return 2 + 100 + [r for r, _ in IIS_ROWS].index(row) + 1


def ioc_findings(out):
    got = {}
    for line in out.splitlines():
        r = json.loads(line)
        rid = r.get('rule', {}).get('id', '')
        if rid.startswith('exh.logs.ioc.'):
            got[(rid, r['source']['ip'])] = r
    return got


class Pick(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='exhunt-iocpick-')
        self.logs = os.path.join(self.tmp, 'logs')
        os.makedirs(os.path.join(self.logs, 'W3SVC1'))
        os.makedirs(os.path.join(self.logs, 'HttpProxy', 'Owa'))
        with open(os.path.join(self.logs, 'W3SVC1', 'u_ex210303.log'), 'w') as f:
            f.write(iis_log())
        with open(os.path.join(self.logs, 'HttpProxy', 'Owa', 'HttpProxy_2021030306-1.LOG'), 'w') as f:
            f.write(HP_HEAD + ''.join(r for r, _ in HP_ROWS))
        self.iocs = os.path.join(self.tmp, 'iocs.csv')
        with open(self.iocs, 'w') as f:
            f.write(INDICATORS)
        self.cache = os.path.join(self.tmp, 'cache')

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def hunt(self, *args, iocs=None, nocache=False):
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(self.tmp, 'data'), XDG_CACHE_HOME=self.cache)
        env.pop('EXHUNT_NO_CACHE', None)
        if nocache:
            env['EXHUNT_NO_CACHE'] = '1'
        p = subprocess.run([EXHUNT, 'logs', '--format', 'jsonl', '--iocs', iocs or self.iocs, *args,
                            self.logs], capture_output=True, env=env, timeout=300)
        self.assertIn(p.returncode, (0, 1), p.stderr.decode())
        return ioc_findings(p.stdout.decode())

    def expected(self):
        return sorted({e for _, e in IIS_ROWS + HP_ROWS if e})

    def test_each_column_found_and_near_misses_not(self):
        got = self.hunt(nocache=True)
        self.assertEqual(sorted(got), self.expected())
        # 10.0.0.1 in IIS and HttpProxy: one finding, two hits.
        self.assertEqual(got[('exh.logs.ioc.source_ip', '10.0.0.1')]['exhunt']['count'], '2')

    def test_lines_are_the_right_ones(self):
        got = self.hunt(nocache=True)
        for row, e in IIS_ROWS:
            if e and e != ('exh.logs.ioc.source_ip', '10.0.0.1'):
                self.assertEqual(got[e]['exhunt']['line'], iis_line_of(row), e)
        self.assertEqual(got[('exh.logs.ioc.url', '198.51.100.32')]['exhunt']['line'], 6)

    def test_cached_and_uncached_prefilter_agree(self):
        first = self.hunt()
        files = os.listdir(os.path.join(self.cache, 'exhunt', 'hs'))
        self.assertTrue(files, 'the prefilter was not cached')
        second = self.hunt()  # from the cache
        self.assertEqual(sorted(first), self.expected())
        self.assertEqual(sorted(second), sorted(first))
        self.assertEqual(sorted(os.listdir(os.path.join(self.cache, 'exhunt', 'hs'))), sorted(files))

    def test_every_line_fallback_agrees(self):
        # ::1 has no text every spelling of it holds (0:0:0:0:0:0:0:1): a set
        # with it is looked up line by line; the findings are the same.
        every = os.path.join(self.tmp, 'every.csv')
        with open(every, 'w') as f:
            f.write(INDICATORS + 'ipv6,::1,pick\n')
        with open(os.path.join(self.logs, 'W3SVC1', 'u_ex210304.log'), 'w') as f:
            f.write(IIS_HEAD + iis(1, '/owa/', '-', '0:0:0:0:0:0:0:1', 'Mozilla/5.0', '-', 'localhost'))
        got = self.hunt(iocs=every, nocache=True)
        self.assertEqual(sorted(got), sorted(self.expected() + [('exh.logs.ioc.source_ip', '0:0:0:0:0:0:0:1')]))
        picked = self.hunt(nocache=True)
        self.assertEqual(sorted(picked), self.expected())

    def test_rules_reading_every_line_keep_the_indicators(self):
        # A rule with no literal (only `not`) makes its log kind read line
        # by line; the indicators are still looked up there.
        rules = os.path.join(self.tmp, 'rules')
        os.makedirs(rules)
        with open(os.path.join(rules, 'not_get.yml'), 'w') as f:
            f.write('id: test.not_get\ntitle: Not a GET\nseverity: low\nlogsource:\n  category: webserver\n'
                    'detection:\n  get:\n    cs-method: GET\n  condition: not get\n')
        got = self.hunt('--rules', rules, nocache=True)
        self.assertEqual(sorted(got), self.expected())

    def test_hash_only_set_looks_nothing_up(self):
        only = os.path.join(self.tmp, 'hashes.csv')
        with open(only, 'w') as f:
            f.write('type,value,source\nsha256,' + 'ab' * 32 + ',pick\n')
        self.assertEqual(self.hunt(iocs=only, nocache=True), {})


class LargeStore(unittest.TestCase):
    """100 000 indicators: the planted ones are found, nothing else."""

    def test_hundred_thousand_values(self):
        tmp = tempfile.mkdtemp(prefix='exhunt-iocpick-big-')
        try:
            rnd = random.Random(3)
            planted_ip = ['203.0.113.%d' % i for i in (9, 99, 199)]
            planted_ua = None
            planted_file = None
            rows = ['type,value,source']
            for i in range(100000):
                k = i % 10
                if k < 4:  # never a log's address: 100.64.0.0/10 vs 198.18/15 below
                    rows.append('ipv4,100.%d.%d.%d,big' % (rnd.randrange(64, 128), rnd.randrange(256),
                                                           rnd.randrange(1, 255)))
                elif k < 7:
                    # no space: one literal each (the compile grows faster
                    # than the count; 100 000 literals take seconds)
                    v = 'BigTool/%d.%d(noise;x%d)' % (i, rnd.randrange(100), i)
                    rows.append('user-agent,"%s",big' % v)
                    planted_ua = planted_ua or v
                else:
                    rows.append('filepath,C:\\inetpub\\wwwroot\\aspnet_client\\big%d.aspx,big' % i)
                    planted_file = planted_file or ('big%d.aspx' % i)
            rows += ['ipv4,%s,planted' % ip for ip in planted_ip]
            iocs = os.path.join(tmp, 'big.csv')
            with open(iocs, 'w') as f:
                f.write('\n'.join(rows) + '\n')
            logs = os.path.join(tmp, 'logs', 'W3SVC1')
            os.makedirs(logs)
            lines = [IIS_HEAD]
            for i in range(3000):
                lines.append(iis(i % 60, '/owa/service.svc', '-', '198.18.%d.%d' % (i // 250, i % 250 + 1),
                                 'Mozilla/5.0+(Windows+NT+10.0)', '-', 'mail.contoso.example'))
            lines.insert(500, iis(1, '/owa/', '-', planted_ip[0], 'Mozilla/5.0', '-', 'x'))
            lines.insert(1500, iis(2, '/owa/', '-', planted_ip[1], 'Mozilla/5.0', '-', 'x'))
            lines.insert(2500, iis(3, '/owa/', '-', planted_ip[2], 'Mozilla/5.0', '-', 'x'))
            lines.insert(2600, iis(4, '/owa/', '-', '198.19.0.1', planted_ua, '-', 'x'))
            lines.insert(2700, iis(5, '/aspnet_client/' + planted_file, '-', '198.19.0.2', 'Mozilla/5.0', '-',
                                   'x'))
            # near misses: a planted address with one more digit, in the query
            lines.insert(2800, iis(6, '/owa/', '-', planted_ip[0] + '0', 'Mozilla/5.0', '-', 'x'))
            lines.insert(2900, iis(7, '/owa/', 'ip=' + planted_ip[1], '198.19.0.3', 'Mozilla/5.0', '-', 'x'))
            with open(os.path.join(logs, 'u_ex210303.log'), 'w') as f:
                f.write(''.join(lines))
            env = dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, 'data'), XDG_CACHE_HOME=os.path.join(tmp, 'c'))
            env.pop('EXHUNT_NO_CACHE', None)
            p = subprocess.run([EXHUNT, 'logs', '--format', 'jsonl', '--iocs', iocs, os.path.dirname(logs)],
                               capture_output=True, env=env, timeout=600)
            self.assertEqual(p.returncode, 1, p.stderr.decode())
            got = sorted(ioc_findings(p.stdout.decode()))
            self.assertEqual(got, sorted([('exh.logs.ioc.source_ip', ip) for ip in planted_ip] +
                                         [('exh.logs.ioc.user_agent', '198.19.0.1'),
                                          ('exh.logs.ioc.webshell_path', '198.19.0.2')]))
        finally:
            shutil.rmtree(tmp)


if __name__ == '__main__':
    EXHUNT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
