#!/usr/bin/env python3
"""End-to-end tests of `exhunt check`'s correlation work (branch correlate):
the log files read once (by the log hunt, not again by the file scan) while
whatever else the log folders hold is still scanned; incidents split by what
joins them; indicator paths matched on decoded Velociraptor names; sightings
recorded in the indicator store. Evidence is generated here, in a temporary
folder, and checked unchanged after every run.

usage: e2e_check_correlate.py EXHUNT SOURCE_ROOT
"""
import calendar
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
import time
import unittest
import urllib.parse
import zipfile

from evidence import jsonl, snapshot  # tests/evidence.py

EXHUNT = ''
SRC = ''
# A one-line shell the bundled YARA rules know (China Chopper, as MSTIC showed it).
CHOPPER = '<%@ Page Language="Jscript"%><%eval(Request.Item["k"],"unsafe");%>\r\n'


def run(*args, env_extra=None, cmd='check', cwd=None):
    e = dict(os.environ)
    e.pop('NO_COLOR', None)
    e['XDG_DATA_HOME'] = '/nonexistent-exhunt-test'  # no indicator store unless --db
    e.update(env_extra or {})
    p = subprocess.run([EXHUNT, cmd, *args], capture_output=True, env=e, timeout=300, cwd=cwd)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def summary(recs, host):
    return [r for r in recs if r.get('event', {}).get('dataset') == 'exhunt.check'
            and r['host']['name'] == host][0]['exhunt']


def zip_folder(arch, root):
    """A zip of every file below root, named from root."""
    with zipfile.ZipFile(arch, 'w') as z:
        for d, _, files in os.walk(root):
            for f in files:
                p = os.path.join(d, f)
                z.write(p, os.path.relpath(p, root))


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


IIS_HEAD = ('#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n'
            '#Date: %s 00:00:00\r\n'
            '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip '
            'cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n')


def iis_line(day, t, method, stem, query, ip, agent, status):
    return '%s %s 10.0.0.5 %s %s %s 443 - %s %s - %d 0 0 15\r\n' % (
        day, t, method, stem, query or '-', ip, agent.replace(' ', '+'), status)


def set_time(path, iso):
    t = calendar.timegm(time.strptime(iso, '%Y-%m-%dT%H:%M:%SZ'))
    os.utime(path, (t, t))


PROXYSHELL_QUERY = '@evil.example/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.example'


class Incidents(Base):
    """Incidents split by what joins them: address, shell, the gap of
    EXHI_INCIDENT_GAP_DAYS (30) days."""

    def march(self):
        """mail13 as generated (ProxyLogon, March 2021) with the attack's file times."""
        out = self.make_examples()
        server = os.path.join(out, 'mail13')
        vol = os.path.join(server, 'C')
        set_time(os.path.join(vol, 'inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'), '2021-03-03T07:24:22Z')
        set_time(os.path.join(vol, 'Windows/Temp/lsass.dmp'), '2021-03-03T07:25:22Z')
        return server, vol

    def august(self, vol, day, lines, shell=None):
        """Another IIS log file of the server, and a shell written that day."""
        log = os.path.join(vol, 'inetpub/logs/LogFiles/W3SVC1/u_ex%s.log' % day.replace('-', '')[2:])
        write(log, IIS_HEAD % day + ''.join(lines))
        set_time(log, day + 'T23:59:00Z')
        if shell:
            path = os.path.join(vol, 'inetpub/wwwroot/aspnet_client', shell[0])
            write(path, CHOPPER)
            set_time(path, shell[1])

    def run_all(self, server):
        html = os.path.join(self.tmp, 'report.html')
        rc, o, err = self.check(server, '--format', 'jsonl', '--html', html, server)
        self.assertEqual(rc, 1, err)
        rc, txt, err = self.check(server, '--color', 'never', server)
        self.assertEqual(rc, 1, err)
        with open(html, encoding='utf-8') as f:
            page = f.read()
        return summary(jsonl(o), 'mail13'), txt, page

    def test_two_campaigns_two_incidents(self):
        server, vol = self.march()
        day = '2021-08-12'
        self.august(vol, day, [
            iis_line(day, '09:00:00', 'GET', '/autodiscover/autodiscover.json', PROXYSHELL_QUERY,
                     '198.51.100.200', 'python-requests/2.26.0', 200),
            iis_line(day, '09:10:00', 'POST', '/aspnet_client/qwx4tz9m.aspx', '', '198.51.100.201',
                     'Mozilla/5.0 (Windows NT 10.0)', 200),
            iis_line(day, '09:11:00', 'POST', '/aspnet_client/qwx4tz9m.aspx', '', '198.51.100.201',
                     'Mozilla/5.0 (Windows NT 10.0)', 200)],
            shell=('qwx4tz9m.aspx', day + 'T09:05:00Z'))
        x, txt, page = self.run_all(server)
        self.assertEqual(x['verdict']['compromise'], 'compromised')
        incs = x['incidents']
        self.assertEqual(len(incs), 2, json.dumps(incs, indent=1))
        a, b = incs
        self.assertEqual(a['first_seen'], '2021-03-03T06:21:03.000Z')
        self.assertTrue(a['last_seen'].startswith('2021-03-03'), a['last_seen'])
        self.assertEqual(a['source_ips'], ['203.0.113.77', '192.0.2.55'])
        self.assertTrue(all(st['@timestamp'].startswith('2021-03') for st in a['steps']))
        self.assertIn('exh.logs.proxylogon.cve_2021_26855', [st['rule_id'] for st in a['steps']])
        self.assertEqual(b['first_seen'], '2021-08-12T09:00:00.000Z')
        self.assertEqual(b['last_seen'], '2021-08-12T09:11:00.000Z')
        self.assertEqual(b['source_ips'], ['198.51.100.200', '198.51.100.201'])
        rules_b = [st['rule_id'] for st in b['steps']]
        self.assertEqual(rules_b[0], 'exh.logs.proxyshell.autodiscover_ssrf_iis')
        self.assertIn('exh.files.webshell.china_chopper', rules_b)
        self.assertEqual(rules_b[-1], 'exh.logs.webshell.iis_access')
        self.assertTrue(all(st['@timestamp'].startswith('2021-08-12') for st in b['steps']))
        self.assertIn('the same shell', b['joined_by'])
        # The union stays for older readers; the restore point is the first event of all.
        self.assertEqual(x['incident']['first_seen'], '2021-03-03T06:21:03.000Z')
        self.assertEqual(x['incident']['last_seen'], '2021-08-12T09:11:00.000Z')
        restore = [act for act in x['actions'] if act['id'] == 'restore'][0]
        self.assertIn('2021-03-03T06:21:03.000Z', restore['text'])
        # Text: two incidents, each with its own addresses and steps.
        i1, i2 = txt.index('Incident 1 of 2: 2021-03-03T06:21:03.000Z'), txt.index('Incident 2 of 2: 2021-08-12')
        self.assertLess(i1, i2)
        first, second = txt[i1:i2], txt[i2:txt.index('Evidence read:')]
        self.assertIn('from 203.0.113.77, 192.0.2.55', first)
        self.assertNotIn('198.51.100.20', first)
        self.assertIn('from 198.51.100.200, 198.51.100.201', second)
        self.assertIn('qwx4tz9m.aspx', second)
        self.assertNotIn('xpy07b5a.aspx', second)
        # HTML: the same two sections.
        h1, h2 = page.index('<h3>Incident 1 of 2</h3>'), page.index('<h3>Incident 2 of 2</h3>')
        self.assertIn('<code>203.0.113.77</code>', page[h1:h2])
        self.assertNotIn('198.51.100.200', page[h1:h2])
        self.assertIn('<code>198.51.100.200</code>', page[h2:page.index('<h3>Evidence read</h3>')])
        # As a browser renders it (the DOM headless Chromium builds).
        chromium = shutil.which('chromium') or shutil.which('chromium-browser')
        if chromium:
            html = os.path.join(self.tmp, 'report.html')
            p = subprocess.run([chromium, '--headless', '--no-sandbox', '--disable-gpu',
                                '--user-data-dir=' + os.path.join(self.tmp, 'chromium'),
                                '--dump-dom', 'file://' + html], capture_output=True, timeout=120)
            dom = p.stdout.decode('utf-8', 'replace')
            d1, d2 = dom.index('Incident 1 of 2'), dom.index('Incident 2 of 2')
            self.assertIn('203.0.113.77', dom[d1:d2])
            self.assertIn('198.51.100.201', dom[d2:])

    def test_shells_on_disk_stay_in_the_story_of_a_mass_exploitation(self):
        """More exploited requests than the story keeps steps (a scan from
        hundreds of addresses): the shells on disk are still in it."""
        server, vol = self.march()
        day = '2021-08-12'
        lines = [iis_line(day, '09:%02d:%02d' % (i // 60, i % 60), 'GET', '/autodiscover/autodiscover.json',
                          PROXYSHELL_QUERY, '198.51.%d.%d' % (100 + i // 200, 1 + i % 200),
                          'python-requests/2.26.0', 200) for i in range(260)]
        self.august(vol, day, lines, shell=('qwx4tz9m.aspx', day + 'T09:05:00Z'))
        x, _, _ = self.run_all(server)
        paths = [st['path'] for inc in x['incidents'] for st in inc['steps'] if st['path']]
        names = {os.path.basename(p) for p in paths}
        self.assertIn('qwx4tz9m.aspx', names)
        self.assertIn('xpy07b5a.aspx', names)

    def test_attacker_back_after_months_is_one_incident(self):
        server, vol = self.march()
        day = '2021-08-12'
        self.august(vol, day, [iis_line(day, '09:00:00', 'GET', '/autodiscover/autodiscover.json',
                                        PROXYSHELL_QUERY, '203.0.113.77', 'python-requests/2.26.0', 200)])
        x, txt, page = self.run_all(server)
        incs = x['incidents']
        self.assertEqual(len(incs), 1, json.dumps(incs, indent=1))
        self.assertIn('the same attacker address', incs[0]['joined_by'])
        self.assertEqual(incs[0]['last_seen'], '2021-08-12T09:00:00.000Z')
        self.assertIn('\nIncident: 2021-03-03T06:21:03.000Z to 2021-08-12T09:00:00.000Z', txt)
        self.assertNotIn('Incident 1 of', page)

    def test_old_shell_used_months_later_is_one_incident(self):
        server, vol = self.march()
        day = '2021-08-12'
        self.august(vol, day, [iis_line(day, '10:00:00', 'POST', '/aspnet_client/system_web/xpy07b5a.aspx', '',
                                        '198.51.100.250', 'Mozilla/5.0', 200)])
        x, _, _ = self.run_all(server)
        incs = x['incidents']
        self.assertEqual(len(incs), 1, json.dumps(incs, indent=1))
        self.assertIn('198.51.100.250', incs[0]['source_ips'])
        self.assertIn('the same shell', incs[0]['joined_by'])

    def test_gap_within_the_limit_is_one_incident(self):
        """Near miss of the gap rule: a new address 20 days later joins by time;
        the same 40 days later starts a new incident."""
        for days, expect in ((20, 1), (40, 2)):
            with self.subTest(days=days):
                server, vol = self.march()
                t = calendar.timegm(time.strptime('2021-03-03T07:31:40Z', '%Y-%m-%dT%H:%M:%SZ')) + days * 86400
                day = time.strftime('%Y-%m-%d', time.gmtime(t))
                self.august(vol, day, [iis_line(day, '07:31:40', 'GET', '/autodiscover/autodiscover.json',
                                                PROXYSHELL_QUERY, '198.51.100.77', 'python-requests/2.26.0', 200)])
                x, _, _ = self.run_all(server)
                self.assertEqual(len(x['incidents']), expect, json.dumps(x['incidents'], indent=1))
                if expect == 1:
                    self.assertIn('events within 30 days', x['incidents'][0]['joined_by'])
                shutil.rmtree(os.path.join(self.tmp, 'servers'))


OWA_AUTH = r'C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth'
ECP_AUTH = r'C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\ecp\auth'


def make_store(tmp, rows):
    """An indicator store from a plain CSV feed: rows of (type, value, actor)."""
    feed = os.path.join(tmp, 'feed.csv')
    with open(feed, 'w', newline='') as f:
        f.write('type,value,source,actor,report\r\n')
        for t, v, actor in rows:
            f.write('%s,"%s",test-cert,%s,test report\r\n' % (t, v.replace('"', '""'), actor))
    db = os.path.join(tmp, 'iocs.sqlite')
    p = subprocess.run([EXHUNT, 'ioc', '--db', db, 'import', feed], capture_output=True)
    if p.returncode != 0:
        raise AssertionError(p.stderr.decode())
    return db


def velociraptor_copy(src_volume, dest_collection, accessor='auto/C%3A'):
    """src_volume (a drive's tree) as an extracted Velociraptor collection:
    uploads/auto/C%3A/ (or the ntfs accessor's uploads/ntfs/%5C%5C.%5CC%3A/)
    with every name URL-encoded."""
    velo = os.path.join(dest_collection, 'uploads', accessor)
    for d, dirs, files in os.walk(src_volume):
        rel = os.path.relpath(d, src_volume)
        enc = '' if rel == '.' else '/'.join(urllib.parse.quote(c, safe='') for c in rel.split('/'))
        os.makedirs(os.path.join(velo, enc), exist_ok=True)
        for f in files:
            shutil.copy2(os.path.join(d, f), os.path.join(velo, enc, urllib.parse.quote(f, safe='')))
    return velo


class VelociraptorNames(Base):
    """Path indicators and path rules see the decoded Windows path of a
    Velociraptor collection, as they see a plain copy's or KAPE's."""

    def test_path_indicators_on_decoded_names(self):
        out = self.make_examples()
        vol = os.path.join(out, 'mail13', 'C')
        page = os.path.join(vol, 'Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/help desk.aspx')
        write(page, '<%@ Page Language="C#" %><html><body>help</body></html>\r\n')
        cases = os.path.join(self.tmp, 'cases')
        velociraptor_copy(vol, os.path.join(cases, 'VELO13'))
        velociraptor_copy(vol, os.path.join(cases, 'NTFS13'), 'ntfs/%5C%5C.%5CC%3A')
        shutil.copytree(os.path.join(out, 'mail13'), os.path.join(cases, 'KAPE13'))
        # Near miss: names that only look encoded, in a tree without an encoded
        # drive, are names as they are.
        lookalike = os.path.join(cases, 'KAPE13/C/Program%20Files/Microsoft/Exchange%20Server/V15/FrontEnd/'
                                        'HttpProxy/owa/auth/help%20desk.aspx')
        write(lookalike, 'x\r\n')
        db = make_store(self.tmp, [('filepath', OWA_AUTH + '\\help desk.aspx', 'HAFNIUM'),
                                   ('filepath', ECP_AUTH + '\\xpy07b5a.aspx', 'OTHER')])
        rc, o, err = self.check(cases, '--format', 'jsonl', '--db', db, '--no-sightings', cases)
        self.assertEqual(rc, 1, err)
        recs = jsonl(o)

        def ioc_hits(host):
            return sorted((os.path.basename(r['file']['path']), r['threat']['indicator']['name'])
                          for r in recs if r.get('host', {}).get('name') == host
                          and r.get('rule', {}).get('id', '').startswith('exh.files.ioc.'))

        want = '/program files/microsoft/exchange server/v15/frontend/httpproxy/owa/auth/help desk.aspx'
        self.assertEqual(ioc_hits('KAPE13'), [('help desk.aspx', want)])
        self.assertEqual(ioc_hits('VELO13'), [('help%20desk.aspx', want)])
        self.assertEqual(ioc_hits('NTFS13'), [('help%20desk.aspx', want)])
        # The incident names the indicator's source and actor on each.
        for host in ('KAPE13', 'VELO13', 'NTFS13'):
            self.assertIn('HAFNIUM', summary(recs, host)['incident']['indicators'])
            self.assertNotIn('OTHER', summary(recs, host)['incident']['indicators'])

        def path_rules(host):  # (rule, decoded file name), the look-alike left out
            return sorted((r['rule']['id'], urllib.parse.unquote(os.path.basename(r['file']['path'])))
                          for r in recs if r.get('host', {}).get('name') == host
                          and r.get('rule', {}).get('id', '').startswith('exh.files.path.')
                          and not r['file']['path'].startswith(os.path.join(cases, 'KAPE13/C/Program%20Files')))

        self.assertEqual(path_rules('KAPE13'), path_rules('VELO13'))
        self.assertEqual(path_rules('KAPE13'), path_rules('NTFS13'))
        self.assertIn(('exh.files.path.owa_auth_script', 'help desk.aspx'), path_rules('VELO13'))
        # The finding keeps the path as found on disk (to find the file again).
        velo_paths = [r['file']['path'] for r in recs if r.get('host', {}).get('name') == 'VELO13'
                      and r.get('rule', {}).get('id', '').startswith('exh.files.ioc.')]
        self.assertTrue(all('/uploads/auto/C%3A/Program%20Files/' in p for p in velo_paths), velo_paths)


def export(db):
    p = subprocess.run([EXHUNT, 'ioc', '--db', db, 'export', '--format', 'csv'], capture_output=True)
    if p.returncode != 0:
        raise AssertionError(p.stderr.decode())
    return list(csv.DictReader(io.StringIO(p.stdout.decode())))


class Sightings(Base):
    """check records what it saw of the store (host = the server), unless
    --no-sightings; log indicators join incidents by address."""

    def store(self, shell):
        with open(shell, 'rb') as f:
            h = hashlib.sha256(f.read()).hexdigest()
        return make_store(self.tmp, [('sha256', h, 'HAFNIUM'), ('ipv4', '203.0.113.77', 'HAFNIUM'),
                                     ('ipv4', '192.0.2.201', 'NOT-SEEN')])

    def test_sightings_recorded_once_per_thing_seen(self):
        out = self.make_examples()
        server = os.path.join(out, 'mail13')
        shell = os.path.join(server, 'C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx')
        db = self.store(shell)
        rc, o, err = self.check(server, '--format', 'jsonl', '--db', db, server)
        self.assertEqual(rc, 1, err)
        self.assertIn('2 sightings recorded in', err)
        rows = export(db)
        got = sorted((r['type'], r['value'], r['host'], r['detector'], r['location'].replace(server, 'SRV'))
                     for r in rows)
        hp = 'SRV/C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2021030307-1.LOG'
        self.assertEqual(len(got), 2, got)
        self.assertEqual(got[0][:4], ('ipv4', '203.0.113.77', 'mail13', 'check'))
        self.assertTrue(got[0][4].startswith(hp + ':'), got[0])
        self.assertEqual(got[1][2:], ('mail13', 'check', 'SRV/C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'))
        self.assertFalse(any(r['value'] == '192.0.2.201' for r in rows))
        # The address indicator: a finding, in the incident with its actor; the verdict unchanged.
        recs = jsonl(o)
        self.assertIn('exh.logs.ioc.source_ip', {r['rule']['id'] for r in recs if 'rule' in r})
        x = summary(recs, 'mail13')
        self.assertEqual(x['verdict']['compromise'], 'compromised')
        self.assertIn('exh.logs.ioc.source_ip', [st['rule_id'] for st in x['incidents'][0]['steps']])
        self.assertIn('HAFNIUM', x['incidents'][0]['indicators'])
        self.assertIn('an indicator of its address', x['incidents'][0]['joined_by'])
        # Checking again keeps one row per (indicator, host, place, time).
        rc, _, err = self.check(server, '--db', db, '-q', server)
        self.assertEqual(len(export(db)), 2)
        # --no-sightings: the store is only read.
        db2 = os.path.join(self.tmp, 'second.sqlite')
        shutil.copy(db, db2)
        before = os.stat(db2).st_mtime_ns
        rc, _, err = self.check(server, '--db', db2, '--no-sightings', '-q', server)
        self.assertEqual(rc, 1, err)
        self.assertEqual(os.stat(db2).st_mtime_ns, before)

    def test_store_inside_the_evidence_is_refused(self):
        out = self.make_examples()
        server = os.path.join(out, 'mail13')
        db = self.store(os.path.join(server, 'C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'))
        inside = os.path.join(server, 'iocs.sqlite')
        shutil.copy(db, inside)
        rc, _, err = run('--db', inside, server)
        self.assertEqual(rc, 2)
        self.assertIn('would write into the evidence', err)
        rc, _, err = self.check(server, '--db', inside, '--no-sightings', '-q', server)
        self.assertEqual(rc, 1, err)

    def test_archive_sightings_name_the_archive(self):
        out = self.make_examples()
        server = os.path.join(out, 'mail13')
        db = self.store(os.path.join(server, 'C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'))
        arch = os.path.join(self.tmp, 'EXCH13.zip')
        zip_folder(arch, server)
        rc, _, err = run('--db', db, '-q', arch)
        self.assertEqual(rc, 1, err)
        locs = sorted(r['location'] for r in export(db) if r['host'] == 'EXCH13')
        self.assertEqual(len(locs), 2, locs)
        self.assertTrue(all(loc.startswith(arch + '!/C/') for loc in locs), locs)
        self.assertFalse([loc for loc in locs if 'exhunt-check-' in loc], locs)

    def test_relative_paths_recorded_absolute(self):
        """Evidence given by a relative path (a folder, an archive): the
        sightings say where it was, absolute, as exhunt files records them;
        the report keeps the path as given."""
        out = self.make_examples()
        server = os.path.join(out, 'mail13')
        db = self.store(os.path.join(server, 'C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'))
        rel = os.path.relpath(server, self.tmp)
        self.assertFalse(rel.startswith('/'))
        rc, o, err = run('--db', db, '--format', 'jsonl', rel, cwd=self.tmp)
        self.assertEqual(rc, 1, err)
        paths = [r['file']['path'] for r in jsonl(o) if r.get('rule', {}).get('id') == 'exh.files.ioc.hash']
        self.assertEqual(paths, [rel + '/C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'])
        locs = sorted(r['location'] for r in export(db))
        self.assertEqual(len(locs), 2, locs)
        # The working folder as the kernel names it (links in TMPDIR resolved).
        server = os.path.join(os.path.realpath(self.tmp), rel)
        hp = server + '/C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2021030307-1.LOG:'
        self.assertTrue(locs[0].startswith(hp), locs)
        self.assertEqual(locs[1], server + '/C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx')
        # An archive given relative: ABSOLUTE.zip!/member.
        arch = os.path.join(self.tmp, 'EXCH13.zip')
        zip_folder(arch, server)
        rc, _, err = run('--db', db, '-q', 'EXCH13.zip', cwd=self.tmp)
        self.assertEqual(rc, 1, err)
        locs = sorted(r['location'] for r in export(db) if r['host'] == 'EXCH13')
        self.assertEqual(len(locs), 2, locs)
        arch = os.path.join(os.path.realpath(self.tmp), 'EXCH13.zip')
        self.assertTrue(all(loc.startswith(arch + '!/C/') for loc in locs), locs)

    def test_address_indicator_alone_is_attempted(self):
        """Near miss of the verdict: a listed address in the requests of a clean
        server says who came, not that anything succeeded."""
        out = self.make_examples()
        server = os.path.join(out, 'mail10')
        db = make_store(self.tmp, [('ipv4', '10.0.4.21', 'SOMEONE')])
        rc, o, err = self.check(server, '--format', 'jsonl', '--db', db, '--no-sightings', server)
        self.assertEqual(rc, 1, err)
        x = summary(jsonl(o), 'mail10')
        self.assertEqual(x['verdict']['compromise'], 'attempted')
        self.assertNotIn('incident', x)

    def test_indicators_per_incident(self):
        """Two campaigns, each attacker listed by a different source: each
        incident names its own."""
        inc = Incidents('test_two_campaigns_two_incidents')
        inc.tmp = self.tmp
        server, vol = inc.march()
        day = '2021-08-12'
        inc.august(vol, day, [iis_line(day, '09:00:00', 'GET', '/autodiscover/autodiscover.json',
                                       PROXYSHELL_QUERY, '198.51.100.200', 'python-requests/2.26.0', 200)])
        db = make_store(self.tmp, [('ipv4', '203.0.113.77', 'HAFNIUM'), ('ipv4', '198.51.100.200', 'ACTOR-B')])
        rc, o, err = self.check(server, '--format', 'jsonl', '--db', db, '--no-sightings', server)
        incs = summary(jsonl(o), 'mail13')['incidents']
        self.assertEqual(len(incs), 2)
        self.assertIn('HAFNIUM', incs[0]['indicators'])
        self.assertNotIn('ACTOR-B', incs[0]['indicators'])
        self.assertIn('ACTOR-B', incs[1]['indicators'])
        self.assertNotIn('HAFNIUM', incs[1]['indicators'])


class IndicatorSources(Base):
    """The sources that listed what an incident holds are each named once,
    compared whole (case-insensitively, spaces around trimmed): a source
    whose name is part of another's is still its own."""

    def sources(self, shell_source, ip_source, extra=()):
        out = self.make_examples()
        server = os.path.join(out, 'mail13')
        with open(os.path.join(server, 'C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'), 'rb') as f:
            h = hashlib.sha256(f.read()).hexdigest()
        feed = os.path.join(self.tmp, 'feed.csv')
        with open(feed, 'w', newline='') as f:
            f.write('type,value,source\r\n')
            for t, v, src in [('sha256', h, shell_source), ('ipv4', '203.0.113.77', ip_source), *extra]:
                f.write('%s,%s,"%s"\r\n' % (t, v, src))
        db = os.path.join(self.tmp, 'iocs-%d.sqlite' % len(os.listdir(self.tmp)))
        p = subprocess.run([EXHUNT, 'ioc', '--db', db, 'import', feed], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        rc, o, err = self.check(server, '--format', 'jsonl', '--db', db, '--no-sightings', server)
        self.assertEqual(rc, 1, err)
        x = summary(jsonl(o), 'mail13')
        self.assertEqual(len(x['incidents']), 1, x['incidents'])
        rc, text, err = self.check(server, '--db', db, '--no-sightings', '--color', 'never', server)
        self.assertEqual(rc, 1, err)
        lines = [l for l in text.splitlines() if '; indicators: ' in l]
        self.assertEqual(len(lines), 1, text)
        shown = lines[0].split('; indicators: ', 1)[1]
        return x['incident']['indicators'], x['incidents'][0]['indicators'], shown

    def test_a_name_inside_another_is_kept(self):
        for a, b in (('CISA', 'CISA AA21-062A'), ('CISA AA21-062A', 'CISA')):
            for listed in self.sources(a, b):
                self.assertEqual(sorted(listed.split('; ')), ['CISA', 'CISA AA21-062A'], listed)

    def test_the_same_name_once(self):
        """Near miss: the same source in another case (the store keeps
        sources as written) is named once."""
        for listed in self.sources('CISA', 'cisa', [('ipv4', '203.0.113.77', 'CISA')]):
            self.assertEqual(listed.lower(), 'cisa', listed)


def main():
    global EXHUNT, SRC
    EXHUNT, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], '-v'])


if __name__ == '__main__':
    main()
