#!/usr/bin/env python3
"""End-to-end tests of `exhunt check`: the bundled example servers
(examples/check) and the same servers generated afresh with the attack's
file times, in every layout check must recognise; the verdicts, every
planted finding and no other, the incident, the actions, the reports, exit
codes, and the evidence unchanged (bytes and times) after every run.

usage: e2e_check.py EXHUNT SOURCE_ROOT
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tarfile
import unittest
import zipfile
import urllib.parse

from evidence import jsonl, snapshot, summaries  # tests/evidence.py

EXHUNT = ''
SRC = ''


def run(*args, env_extra=None):
    e = dict(os.environ)
    e.pop('NO_COLOR', None)
    e['XDG_DATA_HOME'] = '/nonexistent-exhunt-test'  # no indicator store
    e.update(env_extra or {})
    p = subprocess.run([EXHUNT, 'check', *args], capture_output=True, env=e, timeout=300)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def alerts(recs, host):
    return sorted(r['rule']['id'] for r in recs
                  if r.get('event', {}).get('kind') == 'alert' and r.get('host', {}).get('name') == host
                  and r['rule']['id'] != 'exh.logs.coverage')


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='exhunt-check-')
        self.addCleanup(shutil.rmtree, self.tmp)

    def check_unchanged(self, root, *args):
        before = snapshot(root)
        res = run(*args)
        self.assertEqual(before, snapshot(root), 'the evidence changed')
        return res


class Examples(Base):
    """The committed example servers: what the README's first command shows."""

    def test_verdicts_and_table(self):
        root = os.path.join(SRC, 'examples', 'check')
        rc, out, err = self.check_unchanged(root, '--color', 'never', root)
        self.assertEqual(rc, 1, err)
        table = out[out.index('server  '):].splitlines()
        rows = {l.split()[0]: l for l in table[1:]}
        self.assertEqual(sorted(rows), ['mail10', 'mail11', 'mail12', 'mail13'])
        self.assertRegex(rows['mail10'], r'patched\s+no evidence found\s+0')
        self.assertRegex(rows['mail11'], r'unpatched\s+no evidence found\s+0')
        self.assertRegex(rows['mail12'], r'patched\s+attempted\s+3')
        self.assertRegex(rows['mail13'], r'unpatched\s+compromised\s+11')

    def test_jsonl(self):
        root = os.path.join(SRC, 'examples', 'check')
        rc, out, err = run('--format', 'jsonl', root)
        self.assertEqual(rc, 1, err)
        recs = jsonl(out)
        s = summaries(recs)
        self.assertEqual(s['mail10']['exhunt']['verdict'], {
            'compromise': 'no evidence found', 'update': 'patched', 'reason': '', 'missing': ''})
        self.assertEqual(alerts(recs, 'mail10'), [])
        self.assertEqual(alerts(recs, 'mail11'), [])
        self.assertEqual(alerts(recs, 'mail12'), [
            'exh.logs.proxylogon.cve_2021_26855', 'exh.logs.proxyshell.autodiscover_ssrf_iis',
            'exh.logs.webshell.iis_access'])
        self.assertEqual(s['mail11']['exhunt']['fix']['kb'], 'KB5003435')
        self.assertIn('CVE-2021-26855', s['mail11']['vulnerability']['id'])
        self.assertEqual([a['id'] for a in s['mail11']['exhunt']['actions']],
                         ['update', 'update_cu', 'unsupported', 'mitigate'])
        # The update names only what it closes: ProxyNotShell has no update on CU19.
        acts = {a['id']: a['text'] for a in s['mail11']['exhunt']['actions']}
        self.assertIn('(ProxyLogon, ProxyShell, ProxyOracle)', acts['update'])
        self.assertNotIn('ProxyNotShell', acts['update'])
        self.assertIn('ProxyNotShell', acts['update_cu'])
        self.assertEqual([a['id'] for a in s['mail10']['exhunt']['actions']], ['keep_current'])
        self.assertEqual([a['id'] for a in s['mail12']['exhunt']['actions']], ['watch'])
        for name, sm in s.items():
            for a in sm['exhunt']['actions']:
                self.assertTrue(a['source'], a)
                self.assertNotRegex(a['text'], r'\{[a-z_]+\}', 'a placeholder left unfilled')
        src = {x['id']: x for x in s['mail10']['exhunt']['sources']}
        self.assertTrue(src['httpproxy']['found'])
        self.assertEqual(src['httpproxy']['lines'], 9)  # 5 header lines, 4 requests
        self.assertEqual(src['iis']['first_seen'][:10], '2026-11-10')
        self.assertFalse(src['evtx']['found'])


class Generated(Base):
    """The servers generated again, with the attack's times on the files."""

    def make(self, out):
        subprocess.run([sys.executable, os.path.join(SRC, 'tools', 'make-check-examples.py'), out],
                       check=True)
        return out

    def test_compromised_chain(self):
        out = self.make(os.path.join(self.tmp, 'servers'))
        shell = os.path.join(out, 'mail13/C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx')
        t = 1614756262  # 2021-03-03T07:24:22Z, after the ECP line, before the requests to it
        os.utime(shell, (t, t))
        os.utime(os.path.join(out, 'mail13/C/Windows/Temp/lsass.dmp'), (t + 60, t + 60))
        server = os.path.join(out, 'mail13')
        rc, txt, err = self.check_unchanged(server, '--color', 'never', server)
        self.assertEqual(rc, 1, err)
        rc, o, err = self.check_unchanged(server, '--format', 'jsonl', server)
        self.assertEqual(rc, 1, err)
        recs = jsonl(o)
        s = summaries(recs)['mail13']
        x = s['exhunt']
        self.assertEqual(x['verdict']['compromise'], 'compromised')
        self.assertEqual(x['verdict']['update'], 'unpatched')
        self.assertEqual(alerts(recs, 'mail13'), sorted([
            'exh.logs.proxylogon.cve_2021_26855', 'exh.logs.proxylogon.cve_2021_27065',
            'exh.logs.proxylogon.cve_2021_27065_ssrf', 'exh.logs.webshell.iis_access',
            'exh.files.path.lsass_dump', 'exh.files.path.dump_in_temp', 'exh.files.dump.lsass_minidump',
            'exh.files.path.aspnet_client_script', 'exh.files.path.random_name',
            'exh.files.webshell.china_chopper', 'exh.files.webshell.oab_config']))
        inc = x['incident']
        self.assertEqual(inc['source_ips'], ['203.0.113.77', '192.0.2.55'])
        self.assertEqual(inc['first_seen'], '2021-03-03T06:21:03.000Z')
        steps = [st['rule_id'] for st in inc['steps']]
        # The story in time order: SSRF, reset, the ECP line, the shell on disk, the requests to it.
        self.assertEqual(steps[:3], ['exh.logs.proxylogon.cve_2021_26855',
                                     'exh.logs.proxylogon.cve_2021_27065_ssrf',
                                     'exh.logs.proxylogon.cve_2021_27065'])
        self.assertTrue(all(s.startswith('exh.files.') for s in steps[3:7]), steps)
        self.assertEqual(steps[-1], 'exh.logs.webshell.iis_access')
        acts = [a['id'] for a in x['actions']]
        self.assertEqual(acts, ['isolate', 'preserve', 'remove_files', 'update', 'update_cu', 'unsupported',
                                'mitigate', 'reset_creds_dump', 'lateral', 'restore', 'report'])
        items = x['actions'][2]['items']
        with open(shell, 'rb') as f:
            h = hashlib.sha256(f.read()).hexdigest()
        self.assertIn('%s  sha256 %s' % (shell, h), items)
        self.assertEqual(len(items), 2)  # the shell and the dump, once each
        self.assertIn('2021-03-03T06:21:03.000Z', x['actions'][9]['text'])
        # The text report: verdict and actions first.
        head = txt.splitlines()
        self.assertIn('Compromise  compromised', head[1])
        self.assertIn('Update      unpatched', head[2])
        self.assertEqual(head[4], 'What to do now:')
        self.assertIn('Take mail13 off the network', head[5])

    def test_reason_counts_each_kind_once(self):
        """The verdict names three kinds of evidence and counts the others
        once each, however many findings a kind has."""
        out = self.make(os.path.join(self.tmp, 'gen'))
        server = os.path.join(out, 'mail13')

        def reason():
            rc, o, err = run('--format', 'jsonl', server)
            self.assertEqual(rc, 1, err)
            return summaries(jsonl(o))['mail13']['exhunt']['verdict']['reason']

        before = reason()
        self.assertRegex(before, r'; and \d+ more$')
        folder = os.path.join(server, 'C/inetpub/wwwroot/aspnet_client/system_web')
        for name in ('k3v9q2x1.aspx', 'z7m4w8p0.aspx'):
            shutil.copy(os.path.join(folder, 'xpy07b5a.aspx'), os.path.join(folder, name))
        self.assertEqual(reason(), before)

    def test_layouts(self):
        out = self.make(os.path.join(self.tmp, 'servers'))
        # A KAPE collection given at its drive folder: the parent names the server.
        rc, o, err = run('--format', 'jsonl', os.path.join(out, 'mail13', 'C'))
        self.assertEqual(list(summaries(jsonl(o))), ['mail13'])
        # An Exchange install folder alone: the logs and the build, the IIS
        # side missing but HttpProxy and the front-end folders suffice.
        v15 = os.path.join(out, 'mail10', 'Program Files', 'Microsoft', 'Exchange Server', 'V15')
        rc, o, err = run('--format', 'jsonl', v15)
        s = summaries(jsonl(o))['V15']
        self.assertEqual(s['exhunt']['verdict']['compromise'], 'no evidence found')
        self.assertEqual(rc, 0, err)
        # Upper-case and lower-case folder names are the same to Windows.
        up = os.path.join(self.tmp, 'upper')
        shutil.copytree(os.path.join(out, 'mail10'), up)
        os.rename(os.path.join(up, 'inetpub'), os.path.join(up, 'INETPUB'))
        os.rename(os.path.join(up, 'Program Files/Microsoft/Exchange Server/V15/Logging'),
                  os.path.join(up, 'Program Files/Microsoft/Exchange Server/V15/logging'))
        rc, o, err = run('--format', 'jsonl', up)
        src = {x['id']: x for x in summaries(jsonl(o))['upper']['exhunt']['sources']}
        self.assertTrue(src['iis']['found'] and src['httpproxy']['found'] and src['wwwroot']['found'])
        self.assertEqual(rc, 0, err)

    def test_missing_sources_are_unknown_never_clean(self):
        out = self.make(os.path.join(self.tmp, 'servers'))
        srv = os.path.join(out, 'mail10')
        shutil.rmtree(os.path.join(srv, 'Program Files/Microsoft/Exchange Server/V15/Logging'))
        shutil.rmtree(os.path.join(srv, 'inetpub/logs'))
        rc, o, err = run('--format', 'jsonl', srv)
        x = summaries(jsonl(o))['mail10']['exhunt']
        self.assertEqual(x['verdict']['compromise'], 'unknown')
        self.assertIn('request logs', x['verdict']['missing'])
        self.assertIn('collect_missing', [a['id'] for a in x['actions']])
        self.assertEqual(rc, 1)
        # Without ExSetup.exe the update level is unknown, and says how to read it.
        os.remove(os.path.join(srv, 'Program Files/Microsoft/Exchange Server/V15/Bin/ExSetup.exe'))
        rc, o, err = run('--format', 'jsonl', srv)
        x = summaries(jsonl(o))['mail10']['exhunt']
        self.assertEqual(x['verdict']['update'], 'unknown')
        self.assertIn('collect_build', [a['id'] for a in x['actions']])

    def test_near_misses(self):
        """A clean server with everything that looks close: nothing found."""
        out = self.make(os.path.join(self.tmp, 'servers'))
        srv = os.path.join(out, 'mail10')
        v15 = os.path.join(srv, 'Program Files/Microsoft/Exchange Server/V15')
        # Standard pages and names that only resemble shells.
        with open(os.path.join(v15, 'FrontEnd/HttpProxy/owa/auth/logoff.aspx'), 'w') as f:
            f.write('<%@ Page Language="C#" %>\n')
        os.makedirs(os.path.join(srv, 'inetpub/wwwroot/aspnet_client/system_web/4_0_30319'))
        with open(os.path.join(srv, 'inetpub/wwwroot/aspnet_client/system_web/4_0_30319/readme.txt'), 'w') as f:
            f.write('ASP.NET client files\n')
        # A folder named root deep inside, not at the volume root: not C:\root.
        os.makedirs(os.path.join(v15, 'Scripts/root'))
        with open(os.path.join(v15, 'Scripts/root/lsass.txt'), 'w') as f:
            f.write('notes\n')
        rc, o, err = run('--format', 'jsonl', srv)
        recs = jsonl(o)
        self.assertEqual(alerts(recs, 'mail10'), [])
        x = summaries(recs)['mail10']['exhunt']
        self.assertEqual(x['verdict']['compromise'], 'no evidence found')
        self.assertFalse({s['id']: s for s in x['sources']}['root_dir']['found'])
        self.assertEqual(rc, 0, err)

    def test_hostile_names_are_escaped(self):
        out = self.make(os.path.join(self.tmp, 'servers'))
        srv = os.path.join(out, 'mail13')
        evil = os.path.join(srv, 'C/inetpub/wwwroot/aspnet_client/x\x1b[31mred\x07.aspx')
        shutil.copyfile(os.path.join(srv, 'C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'), evil)
        rc, txt, err = run('--color', 'never', srv)
        self.assertEqual(rc, 1)
        self.assertNotIn('\x1b', txt)
        self.assertNotIn('\x07', txt)
        self.assertIn('x\\x1b[31mred\\x07.aspx', txt)
        rc, o, err = run('--format', 'jsonl', srv)
        self.assertTrue(any(r.get('file', {}).get('path', '').endswith('/x\x1b[31mred\x07.aspx')
                            for r in jsonl(o)))

    def test_symlink_out_of_tree_not_followed(self):
        out = self.make(os.path.join(self.tmp, 'servers'))
        outside = os.path.join(self.tmp, 'outside')
        os.makedirs(os.path.join(outside, 'Logging/HttpProxy/Owa'))
        shutil.copyfile(os.path.join(SRC, 'examples/check/mail13/C/Program Files/Microsoft/Exchange Server/V15/'
                                          'Logging/HttpProxy/Owa/HttpProxy_2021030307-1.LOG'),
                        os.path.join(outside, 'Logging/HttpProxy/Owa/x.LOG'))
        srv = os.path.join(out, 'mail10')
        os.symlink(outside, os.path.join(srv, 'elsewhere'))
        rc, o, err = run('--format', 'jsonl', srv)
        recs = jsonl(o)
        self.assertEqual(alerts(recs, 'mail10'), [])
        self.assertEqual(rc, 0, err)


    def test_indicators_and_parallel_order(self):
        """An indicator store naming the shell's hash: the incident names the
        source and actor. Servers checked one or four at a time: the same report."""
        out = self.make(os.path.join(self.tmp, 'servers'))
        shell = os.path.join(out, 'mail13/C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx')
        with open(shell, 'rb') as f:
            h = hashlib.sha256(f.read()).hexdigest()
        feed = os.path.join(self.tmp, 'feed.csv')
        with open(feed, 'w') as f:
            f.write('type,value,source,actor,report\nsha256,%s,test-cert,HAFNIUM,test report 1\n' % h)
        db = os.path.join(self.tmp, 'iocs.sqlite')
        p = subprocess.run([EXHUNT, 'ioc', '--db', db, 'import', feed], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        before = os.stat(db).st_mtime_ns
        rc, o, err = self.check_unchanged(out, '--format', 'jsonl', '--db', db, '--no-sightings', out)
        self.assertEqual(rc, 1, err)
        recs = jsonl(o)
        self.assertIn('exh.files.ioc.hash', alerts(recs, 'mail13'))
        inc = summaries(recs)['mail13']['exhunt']['incident']
        self.assertIn('HAFNIUM', inc['indicators'])
        self.assertIn('test-cert', inc['indicators'])
        self.assertEqual(os.stat(db).st_mtime_ns, before, 'the store is only read')
        # --no-iocs: the same without the indicator finding.
        rc, o, err = run('--format', 'jsonl', '--db', db, '--no-iocs', os.path.join(out, 'mail13'))
        self.assertNotIn('exh.files.ioc.hash', alerts(jsonl(o), 'mail13'))

        def strip(text):  # the run's own time is the only difference allowed
            return [{k: v for k, v in r.items() if k not in ('@timestamp', 'event')} for r in jsonl(text)]
        rc1, o1, _ = run('--format', 'jsonl', '--jobs', '1', '--threads', '1', out)
        rc4, o4, _ = run('--format', 'jsonl', '--jobs', '4', out)
        self.assertEqual((rc1, strip(o1)), (rc4, strip(o4)))

    def test_incident_joins_by_whole_name(self):
        """A failed request for the shell's own name joins the incident (its
        address too); one for a longer name that ends the same does not."""
        out = self.make(os.path.join(self.tmp, 'servers'))
        log = os.path.join(out, 'mail13/C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log')
        with open(log, 'a', newline='') as f:
            f.write('2021-03-03 07:35:00 10.0.0.5 GET /aspnet_client/system_web/xpy07b5a.aspx - 443 - '
                    '198.51.100.99 curl/7.68.0 - 404 0 2 3\r\n'
                    '2021-03-03 07:36:00 10.0.0.5 GET /aspnet_client/system_web/axpy07b5a.aspx - 443 - '
                    '198.51.100.98 curl/7.68.0 - 404 0 2 3\r\n')
        rc, o, err = run('--format', 'jsonl', os.path.join(out, 'mail13'))
        recs = jsonl(o)
        ips = summaries(recs)['mail13']['exhunt']['incident']['source_ips']
        self.assertIn('198.51.100.99', ips)
        self.assertNotIn('198.51.100.98', ips)
        # Both are findings of their own all the same.
        msgs = [r['message'] for r in recs if r.get('rule', {}).get('id') == 'exh.logs.webshell.iis_access']
        self.assertTrue(any('198.51.100.98' in m for m in msgs), msgs)

    def test_velociraptor_layout(self):
        """A Velociraptor collection as extracted: uploads/auto/C%3A/... with
        URL-encoded names, beside a KAPE one in a folder of collections."""
        out = self.make(os.path.join(self.tmp, 'servers'))
        cases = os.path.join(self.tmp, 'cases')
        velo = os.path.join(cases, 'Collection-EXCH13', 'uploads', 'auto', 'C%3A')
        src = os.path.join(out, 'mail13', 'C')
        for d, dirs, files in os.walk(src):
            rel = os.path.relpath(d, src)
            enc = '' if rel == '.' else '/'.join(urllib.parse.quote(c, safe='') for c in rel.split('/'))
            os.makedirs(os.path.join(velo, enc), exist_ok=True)
            for f in files:
                shutil.copy2(os.path.join(d, f), os.path.join(velo, enc, urllib.parse.quote(f, safe='')))
        self.assertTrue(os.path.isdir(os.path.join(velo, 'Program%20Files', 'Microsoft', 'Exchange%20Server')))
        shutil.copytree(os.path.join(out, 'mail10'), os.path.join(cases, 'EXCH10'))
        rc, o, err = self.check_unchanged(cases, '--format', 'jsonl', cases)
        self.assertEqual(rc, 1, err)
        recs = jsonl(o)
        s = summaries(recs)
        self.assertEqual(sorted(s), ['Collection-EXCH13', 'EXCH10'])
        x = s['Collection-EXCH13']['exhunt']
        self.assertEqual((x['verdict']['compromise'], x['verdict']['update']), ('compromised', 'unpatched'))
        found = {src['id'] for src in x['sources'] if src['found']}
        self.assertTrue({'exsetup', 'httpproxy', 'ecp', 'iis', 'wwwroot', 'windows_temp', 'frontend'} <= found,
                        found)
        self.assertIn('exh.files.webshell.china_chopper', alerts(recs, 'Collection-EXCH13'))
        self.assertEqual(s['EXCH10']['exhunt']['verdict']['compromise'], 'no evidence found')

    def test_html_report(self):
        """--html: one page, verdicts in it, evidence with markup, quotes and
        terminal escapes inert; rendered by headless Chromium when present."""
        out = self.make(os.path.join(self.tmp, 'servers'))
        srv = os.path.join(out, 'mail13')
        web = os.path.join(srv, 'C/inetpub/wwwroot/aspnet_client')
        evil_name = '<img src=x onerror=alert(1)>"q\'\x1b[2J.aspx'
        shutil.copyfile(os.path.join(web, 'system_web/xpy07b5a.aspx'), os.path.join(web, evil_name))
        with open(os.path.join(srv, 'C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log'), 'a', newline='') as f:
            f.write('2021-03-03 07:40:00 10.0.0.5 POST /aspnet_client/<script>alert(3)</script>.aspx - 443 - '
                    '192.0.2.56 <script>alert(2)</script>"\x1b]0;owned\x07 - 200 0 0 9\r\n')
        page = os.path.join(self.tmp, 'report.html')
        rc, txt, err = self.check_unchanged(out, '--color', 'never', '--html', page, out)
        self.assertEqual(rc, 1, err)
        with open(page, 'rb') as f:
            html = f.read().decode('utf-8')
        low = html.lower()
        self.assertNotIn('<script', low)
        self.assertNotIn('<img', low)
        self.assertNotIn('\x1b', html)
        self.assertNotIn('\x07', html)
        self.assertIn('&lt;img src=x onerror=alert(1)&gt;&quot;q&#39;\\x1b[2J.aspx', html)
        self.assertIn('/aspnet_client/&lt;script&gt;alert(3)&lt;/script&gt;.aspx', html)
        self.assertNotRegex(low, r'(src|href)=["\']?(https?:|//)')  # nothing fetched from anywhere
        for name in ('mail10', 'mail11', 'mail12', 'mail13'):
            self.assertIn('>%s</a>' % name, html)
        self.assertIn('class="bad">compromised', html)
        # The terminal report of the same run is inert too.
        self.assertNotIn('\x1b', txt)
        self.assertNotIn('\x07', txt)
        chromium = shutil.which('chromium') or shutil.which('chromium-browser')
        if not chromium:
            self.skipTest('chromium is not installed (scripts/install-deps installs it)')
        args = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                '--user-data-dir=' + os.path.join(self.tmp, 'chromium')]
        p = subprocess.run(args + ['--dump-dom', 'file://' + page], capture_output=True, timeout=120)
        dom = p.stdout.decode('utf-8', 'replace')
        self.assertIn('compromised', dom)
        self.assertIn('Take mail13 off the network', dom)
        self.assertNotIn('<script', dom.lower())
        self.assertNotIn('<img', dom.lower())
        shot = os.path.join(self.tmp, 'report.png')
        subprocess.run(args + ['--window-size=1200,2000', '--screenshot=' + shot, 'file://' + page],
                       capture_output=True, timeout=120)
        with open(shot, 'rb') as f:
            self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')

class Cli(Base):
    def test_errors(self):
        rc, out, err = run(self.tmp)
        self.assertEqual(rc, 2)
        self.assertIn('no Exchange evidence found', err)
        rc, out, err = run(os.path.join(self.tmp, 'nope'))
        self.assertEqual(rc, 2)
        rc, out, err = run('--format', 'xml', self.tmp)
        self.assertEqual(rc, 2)
        rc, out, err = run()
        self.assertEqual(rc, 2)
        rc, out, err = run('--help')
        self.assertEqual(rc, 0)
        self.assertIn('Not yet', out)
        self.assertIn('Exit status', out)


class Archives(Base):
    """Archives are extracted into a private folder below $TMPDIR that is
    removed afterwards; hostile entries never land outside it."""

    def make(self):
        out = os.path.join(self.tmp, 'servers')
        subprocess.run([sys.executable, os.path.join(SRC, 'tools', 'make-check-examples.py'), out], check=True)
        return out

    def run_tmp(self, *args):
        tmpdir = os.path.join(self.tmp, 'T')
        os.makedirs(tmpdir, exist_ok=True)
        res = run(*args, env_extra={'TMPDIR': tmpdir})
        self.assertEqual(os.listdir(tmpdir), [], 'the temporary folder was not removed')
        return res

    def test_zip_and_tar(self):
        out = self.make()
        z = os.path.join(self.tmp, 'EXCH13.zip')
        with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
            for d, _, files in os.walk(os.path.join(out, 'mail13')):
                for f in files:
                    p = os.path.join(d, f)
                    zf.write(p, os.path.relpath(p, os.path.join(out, 'mail13')))
        t = os.path.join(self.tmp, 'mail10.tar.gz')
        with tarfile.open(t, 'w:gz') as tf:
            tf.add(os.path.join(out, 'mail10'), arcname='.')
        before = (snapshot_file(z), snapshot_file(t))
        rc, o, err = self.run_tmp('--format', 'jsonl', z, t)
        self.assertEqual(rc, 1, err)
        self.assertEqual(before, (snapshot_file(z), snapshot_file(t)))
        s = summaries(jsonl(o))
        self.assertEqual(sorted(s), ['EXCH13', 'mail10'])
        self.assertEqual(s['EXCH13']['exhunt']['verdict']['compromise'], 'compromised')
        self.assertEqual(s['mail10']['exhunt']['verdict']['compromise'], 'no evidence found')

    def test_hostile_entries(self):
        out = self.make()
        z = os.path.join(self.tmp, 'hostile.zip')
        with zipfile.ZipFile(z, 'w') as zf:
            for d, _, files in os.walk(os.path.join(out, 'mail10')):
                for f in files:
                    p = os.path.join(d, f)
                    zf.write(p, os.path.relpath(p, os.path.join(out, 'mail10')))
            zf.writestr('../evil-dotdot.txt', 'x')
            zf.writestr('a/../../evil-dotdot2.txt', 'x')
            zf.writestr('/tmp/evil-absolute.txt', 'x')
            zf.writestr('C:\\evil-drive.txt', 'x')
            zf.writestr('/'.join(['d'] * 80) + '/deep.txt', 'x')
            link = zipfile.ZipInfo('inetpub/wwwroot/link-to-etc')
            link.external_attr = (0o120777 << 16)
            zf.writestr(link, '/etc')
            zf.writestr('inetpub/wwwroot/link-to-etc/passwd-copy', 'x')
        rc, o, err = self.run_tmp('--format', 'jsonl', z)
        self.assertEqual(rc, 0, err)  # the rest of the archive is still checked
        self.assertEqual(summaries(jsonl(o))['hostile']['exhunt']['verdict']['compromise'], 'no evidence found')
        # Nothing beside the temporary folders (the parent of the test's own), nor
        # at the absolute path, nor through the link.
        parent = os.path.dirname(self.tmp)
        self.assertFalse([f for f in os.listdir(parent) if f.startswith('evil-')])
        self.assertFalse(os.path.exists('/tmp/evil-absolute.txt'))
        self.assertFalse(os.path.exists('/etc/passwd-copy'))
        for d, _, files in os.walk(self.tmp):
            self.assertFalse([f for f in files if f.startswith('evil-')], d)

    def test_bomb_and_truncation(self):
        z = os.path.join(self.tmp, 'bomb.zip')
        with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
            zf.writestr('inetpub/logs/LogFiles/W3SVC1/u_ex1.log', b'\0' * (64 << 20))
        self.assertLess(os.path.getsize(z), 1 << 20)
        rc, o, err = self.run_tmp('--max-extract', '8M', z)
        self.assertEqual(rc, 2)
        self.assertIn('--max-extract', err)
        out = self.make()
        good = os.path.join(self.tmp, 'good.zip')
        with zipfile.ZipFile(good, 'w', zipfile.ZIP_DEFLATED) as zf:
            for d, _, files in os.walk(os.path.join(out, 'mail13')):
                for f in files:
                    p = os.path.join(d, f)
                    zf.write(p, os.path.relpath(p, os.path.join(out, 'mail13')))
        with open(good, 'rb') as f:
            data = f.read()
        cut = os.path.join(self.tmp, 'cut.zip')
        with open(cut, 'wb') as f:
            f.write(data[:len(data) // 2])
        rc, o, err = self.run_tmp(cut)
        self.assertEqual(rc, 2)
        self.assertIn('cut.zip', err)
        rc, o, err = self.run_tmp(good)  # the same archive whole: checked
        self.assertEqual(rc, 1, err)
        junk = os.path.join(self.tmp, 'junk.bin')
        with open(junk, 'wb') as f:
            f.write(b'\x00not an archive at all\n' * 10)
        rc, o, err = self.run_tmp(junk)
        self.assertEqual(rc, 2)
        self.assertIn('junk.bin', err)


def snapshot_file(p):
    st = os.stat(p)
    with open(p, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest(), st.st_size, st.st_mtime_ns


def main():
    global EXHUNT, SRC
    EXHUNT, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)


if __name__ == '__main__':
    main()
