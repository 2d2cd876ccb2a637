#!/usr/bin/env python3
"""End-to-end tests of `exhunt check` on archives: what the reports call the
evidence (the archive as given, "!/", the member: never the temporary folder
it was read from, in text, JSON lines, HTML or error messages), a CyLR
collection zip as CyLR writes it, and the temporary folder removed after a
run, after an error and after an interrupt.

usage: e2e_check_archive.py EXHUNT SOURCE_ROOT MAKE_ARCHIVE
"""
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import urllib.parse
import zipfile

from evidence import jsonl, summaries  # tests/evidence.py

EXHUNT = ''
SRC = ''
MAKE_ARCHIVE = ''
SHELL = 'C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'
DUMP = 'C/Windows/Temp/lsass.dmp'
IIS_LOG = 'C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log'


def alerts(recs):
    return [r for r in recs if r.get('event', {}).get('kind') == 'alert'
            and r['rule']['id'] != 'exh.logs.coverage']


def members(root):
    """(member name with '/', path on disk) of every file below root, sorted."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            out.append((os.path.relpath(p, root), p))
    return out


def write_zip(path, root, name=lambda m: m):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as zf:
        for m, p in members(root):
            info = zipfile.ZipInfo(name(m), time.gmtime(os.stat(p).st_mtime)[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(p, 'rb') as f:
                zf.writestr(info, f.read())


class Base(unittest.TestCase):
    def setUp(self):
        # Not "exhunt-check-": that is the prefix of exhunt's own temporary folders.
        self.tmp = tempfile.mkdtemp(prefix='exh-archive-test-')
        self.addCleanup(shutil.rmtree, self.tmp)
        self.tmpdir = os.path.join(self.tmp, 'T')  # exhunt's TMPDIR: must end up empty
        os.makedirs(self.tmpdir)
        self.work = os.path.join(self.tmp, 'work')  # the responder's folder: archives given relative
        os.makedirs(self.work)
        servers = os.path.join(self.tmp, 'servers')
        subprocess.run([sys.executable, os.path.join(SRC, 'tools', 'make-check-examples.py'), servers],
                       check=True, stdout=subprocess.DEVNULL)
        self.servers = servers
        # The attack's own times on the files, as in e2e_check.py, so the
        # incident is the same whatever the checkout's times.
        t = 1614756262  # 2021-03-03T07:24:22Z
        os.utime(os.path.join(servers, 'mail13', SHELL), (t, t))
        os.utime(os.path.join(servers, 'mail13', DUMP), (t + 60, t + 60))

    def run_check(self, *args):
        env = dict(os.environ)
        env.pop('NO_COLOR', None)
        env['XDG_DATA_HOME'] = '/nonexistent-exhunt-test'  # no indicator store
        env['TMPDIR'] = self.tmpdir
        p = subprocess.run([EXHUNT, 'check', *args], capture_output=True, env=env, cwd=self.work,
                           timeout=300)
        self.assertEqual(os.listdir(self.tmpdir), [], 'the temporary folder was not removed')
        return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')

    def assert_no_temp(self, *texts):
        for t in texts:
            self.assertNotIn(self.tmpdir, t)
            self.assertNotIn('exhunt-check-', t)


class Names(Base):
    """mail13 (compromised) as zip, tar.gz and 7z: every path reads NAME!/member."""

    def archives(self):
        root = os.path.join(self.servers, 'mail13')
        write_zip(os.path.join(self.work, 'mail13.zip'), root)
        with tarfile.open(os.path.join(self.work, 'mail13.tar.gz'), 'w:gz') as tf:
            for m, p in members(root):
                tf.add(p, arcname=m)
        p = subprocess.run([MAKE_ARCHIVE, os.path.join(self.work, 'mail13.7z'), root], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return ['mail13.zip', 'mail13.tar.gz', 'mail13.7z']

    def check_one(self, name):
        html = os.path.join(self.tmp, name + '.html')
        rc, txt, err = self.run_check('--color', 'never', '--html', html, name)
        self.assertEqual(rc, 1, err)
        rc, out, err2 = self.run_check('--format', 'jsonl', name)
        self.assertEqual(rc, 1, err2)
        with open(html, encoding='utf-8') as f:
            page = f.read()
        self.assert_no_temp(txt, err, out, err2, page)
        recs = jsonl(out)
        s = summaries(recs)['mail13']['exhunt']
        self.assertEqual((s['verdict']['compromise'], s['verdict']['update']), ('compromised', 'unpatched'))
        self.assertEqual(s['evidence_path'], name)
        # The files on disk, named inside the archive.
        paths = {a['file']['path'] for a in alerts(recs) if a['rule']['id'].startswith('exh.files.')}
        self.assertEqual(paths, {name + '!/' + SHELL, name + '!/' + DUMP})
        # The log findings name their log file inside the archive too.
        logs = [a for a in alerts(recs) if a['rule']['id'].startswith('exh.logs.')]
        self.assertTrue(logs)
        for a in logs:
            self.assertTrue(a['file']['path'].startswith(name + '!/C/'), a['file']['path'])
        # The path on the server itself, said to be so.
        wins = {a['exhunt']['windows_path'] for a in alerts(recs) if a['rule']['id'].startswith('exh.files.')}
        self.assertEqual(wins, {'C:\\' + SHELL[2:].replace('/', '\\'), 'C:\\' + DUMP[2:].replace('/', '\\')})
        iis = [a for a in logs if a['rule']['id'] == 'exh.logs.webshell.iis_access']
        self.assertEqual(iis[0]['file']['path'], name + '!/' + IIS_LOG)
        # Sources, the files to remove, the incident's steps.
        src = {x['id']: x for x in s['sources']}
        self.assertEqual(src['wwwroot']['paths'], [name + '!/C/inetpub/wwwroot'])
        self.assertEqual(src['exsetup']['paths'],
                         [name + '!/C/Program Files/Microsoft/Exchange Server/V15/Bin/ExSetup.exe'])
        self.assertEqual(src['iis']['log_files'], 1)  # the coverage still joins its source
        items = {a['id']: a for a in s['actions']}['remove_files']['items']
        self.assertEqual(sorted(i.split('  ')[0] for i in items), sorted([name + '!/' + DUMP, name + '!/' + SHELL]))
        self.assertIn(name + '!/' + SHELL, [st['path'] for st in s['incident']['steps']])
        # Text and HTML say the same.
        self.assertIn('== mail13  (%s)' % name, txt)
        self.assertIn(name + '!/' + SHELL + '  sha256 ', txt)
        self.assertIn(name + '!/' + SHELL, page)

    def test_zip_tar_7z(self):
        for name in self.archives():
            with self.subTest(archive=name):
                self.check_one(name)

    def test_absolute_archive_path_and_folder_of_collections(self):
        """An archive named by its absolute path, holding one folder per server."""
        t = os.path.join(self.work, 'cases.tar')
        with tarfile.open(t, 'w') as tf:
            for srv, as_name in (('mail13', 'EXCH13'), ('mail10', 'EXCH10')):
                for m, p in members(os.path.join(self.servers, srv)):
                    tf.add(p, arcname=as_name + '/' + m)
        rc, out, err = self.run_check('--format', 'jsonl', t)
        self.assertEqual(rc, 1, err)
        self.assert_no_temp(out, err)
        recs = jsonl(out)
        s = summaries(recs)
        self.assertEqual(sorted(s), ['EXCH10', 'EXCH13'])
        self.assertEqual(s['EXCH13']['exhunt']['evidence_path'], t + '!/EXCH13')
        self.assertEqual(s['EXCH10']['exhunt']['verdict']['compromise'], 'no evidence found')
        paths = {a['file']['path'] for a in alerts(recs) if a['rule']['id'].startswith('exh.files.')}
        self.assertEqual(paths, {t + '!/EXCH13/' + SHELL, t + '!/EXCH13/' + DUMP})

    def test_errors_name_the_archive(self):
        """An archive with no Exchange evidence, and one that is cut: the
        errors name the archive, not the temporary folder."""
        z = os.path.join(self.work, 'empty.zip')
        with zipfile.ZipFile(z, 'w') as zf:
            zf.writestr('Users/someone/notes.txt', 'nothing here\n')
        rc, out, err = self.run_check(os.path.basename(z))
        self.assertEqual(rc, 2)
        self.assertIn('empty.zip', err)
        self.assertIn('no Exchange evidence found', err)
        self.assert_no_temp(out, err)
        # A log file that cannot be read (a folder where the reader expects a
        # file is not possible in an archive; an unreadable member is a cut one).
        write_zip(os.path.join(self.work, 'whole.zip'), os.path.join(self.servers, 'mail13'))
        with open(os.path.join(self.work, 'whole.zip'), 'rb') as f:
            data = f.read()
        with open(os.path.join(self.work, 'cut.zip'), 'wb') as f:
            f.write(data[:len(data) * 2 // 3])
        rc, out, err = self.run_check('cut.zip')
        self.assertEqual(rc, 2)
        self.assertIn('cut.zip', err)
        self.assert_no_temp(out, err)

    def test_tmpdir_inside_the_evidence_is_refused(self):
        """An archive beside a server folder, TMPDIR inside that folder: the
        extraction would write into the evidence; nothing is written."""
        srv = os.path.join(self.work, 'srv')
        shutil.copytree(os.path.join(self.servers, 'mail10'), srv)
        os.makedirs(os.path.join(srv, 'scratch'))
        write_zip(os.path.join(self.work, 'mail13.zip'), os.path.join(self.servers, 'mail13'))
        before = sorted(os.path.relpath(os.path.join(r, f), srv)
                        for r, ds, fs in os.walk(srv) for f in fs + ds)
        for tmp in (os.path.join(srv, 'scratch'), srv):
            env = dict(os.environ, TMPDIR=tmp, XDG_DATA_HOME='/nonexistent-exhunt-test')
            p = subprocess.run([EXHUNT, 'check', 'srv', 'mail13.zip'], capture_output=True, env=env,
                               cwd=self.work, timeout=300)
            err = p.stderr.decode()
            self.assertEqual(p.returncode, 2, err)
            self.assertIn('TMPDIR', err)
            self.assertIn('inside srv', err)
            after = sorted(os.path.relpath(os.path.join(r, f), srv)
                           for r, ds, fs in os.walk(srv) for f in fs + ds)
            self.assertEqual(after, before)
        # A folder alone extracts nothing: TMPDIR inside it is no matter.
        env = dict(os.environ, TMPDIR=os.path.join(srv, 'scratch'),
                   XDG_DATA_HOME='/nonexistent-exhunt-test')
        p = subprocess.run([EXHUNT, 'check', '-q', 'srv'], env=env, cwd=self.work, timeout=300)
        self.assertIn(p.returncode, (0, 1))

    def test_interrupt_removes_the_temporary_folder(self):
        """Ctrl-C while a large archive is extracted: the copy is removed."""
        big = os.path.join(self.work, 'big.tar')
        filler = os.path.join(self.tmp, 'filler')
        os.makedirs(filler)
        with open(os.path.join(filler, 'f.bin'), 'wb') as f:
            f.write(os.urandom(1 << 20))
        with tarfile.open(big, 'w') as tf:
            for m, p in members(os.path.join(self.servers, 'mail13')):
                tf.add(p, arcname=m)
            for i in range(160):  # 160 MiB: long enough to be interrupted while extracting
                tf.add(os.path.join(filler, 'f.bin'), arcname='C/Users/u/f%03d.bin' % i)
        env = dict(os.environ, TMPDIR=self.tmpdir, XDG_DATA_HOME='/nonexistent-exhunt-test')
        p = subprocess.Popen([EXHUNT, 'check', '-q', big], env=env, cwd=self.work)
        # Wait until the extraction has started writing, then interrupt.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not os.listdir(self.tmpdir) and p.poll() is None:
            time.sleep(0.01)
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=120)
        if rc != -signal.SIGINT:
            self.assertIn(rc, (0, 1))  # it finished first: then removed as usual
        self.assertEqual(os.listdir(self.tmpdir), [], 'an interrupted run left its copy')


class Encrypted(Base):
    """Zips encrypted with a password, as KAPE (--zpw) and CyLR (-zp) write
    them: the password from a file, never an argument."""

    def test_password_file(self):
        pw = os.path.join(self.tmp, 'pw.txt')
        with open(pw, 'w') as f:
            f.write('s3cret pass\r\n')  # a Windows line end is not part of it
        wrong = os.path.join(self.tmp, 'wrong.txt')
        with open(wrong, 'w') as f:
            f.write('s3cret\n')
        for enc in ('zipcrypt', 'aes256'):
            with self.subTest(encryption=enc):
                z = os.path.join(self.work, 'MAIL13-%s.zip' % enc)
                p = subprocess.run([MAKE_ARCHIVE, '--zip', 's3cret pass', enc, z,
                                    os.path.join(self.servers, 'mail13')], capture_output=True)
                self.assertEqual(p.returncode, 0, p.stderr)
                rc, out, err = self.run_check(os.path.basename(z))
                self.assertEqual(rc, 2)
                self.assertIn('is encrypted', err)
                self.assertIn('--password-file', err)
                rc, out, err = self.run_check('--password-file', wrong, os.path.basename(z))
                self.assertEqual(rc, 2)
                # libarchive refuses most wrong passwords; ZipCrypto lets one in
                # 256 per member through to damaged data, which exhunt names.
                self.assertTrue('ncorrect passphrase' in err or 'wrong password' in err, err)
                rc, out, err = self.run_check('--format', 'jsonl', '--password-file', pw, os.path.basename(z))
                self.assertEqual(rc, 1, err)
                s = summaries(jsonl(out))['MAIL13-' + enc]['exhunt']
                self.assertEqual(s['verdict']['compromise'], 'compromised')
        # From standard input, and the errors of a file without a password.
        env = dict(os.environ, TMPDIR=self.tmpdir, XDG_DATA_HOME='/nonexistent-exhunt-test')
        p = subprocess.run([EXHUNT, 'check', '-q', '--password-file', '-', 'MAIL13-aes256.zip'],
                           input=b's3cret pass\n', capture_output=True, env=env, cwd=self.work)
        self.assertEqual(p.returncode, 1, p.stderr)
        empty = os.path.join(self.tmp, 'empty.txt')
        open(empty, 'w').close()
        rc, out, err = self.run_check('--password-file', empty, 'MAIL13-aes256.zip')
        self.assertEqual(rc, 2)
        self.assertIn('no password', err)
        rc, out, err = self.run_check('--password-file', os.path.join(self.tmp, 'nope'), 'MAIL13-aes256.zip')
        self.assertEqual(rc, 2)

    def test_member_names_in_errors_are_escaped(self):
        """A cut archive whose broken member's name holds terminal escapes."""
        z = os.path.join(self.work, 'evil.zip')
        with zipfile.ZipFile(z, 'w', zipfile.ZIP_STORED) as zf:
            zf.writestr('C/inetpub/logs/LogFiles/W3SVC1/u_ex1.log', b'#Fields: date\r\n')
            zf.writestr('C/inetpub/wwwroot/\x1b]0;owned\x07\x1b[2J.aspx', os.urandom(1 << 20))
        with open(z, 'rb') as f:
            data = f.read()
        with open(z, 'wb') as f:
            f.write(data[:len(data) // 2])
        rc, out, err = self.run_check('evil.zip')
        self.assertEqual(rc, 2)
        self.assertNotIn('\x1b', err)
        self.assertNotIn('\x07', err)
        self.assertIn('\\x1b]0;owned\\x07', err)


class DiskImages(Base):
    """Disk images a collector writes instead of an archive (KAPE --vhdx):
    an error that says what the file is and what to do."""

    def test_vhdx_vhd_e01(self):
        images = {
            'EXCH01.vhdx': (b'vhdxfile'.ljust(64 << 10, b'\0') + b'head').ljust(128 << 10, b'\0'),
            'EXCH01.vhd': b'conectix'.ljust(512, b'\0') + b'cxsparse'.ljust(1024, b'\0'),
            'EXCH01.E01': b'EVF\x09\x0d\x0a\xff\x00\x01'.ljust(4096, b'\0'),
        }
        for name, data in images.items():
            with open(os.path.join(self.work, name), 'wb') as f:
                f.write(data)
            rc, out, err = self.run_check(name)
            self.assertEqual(rc, 2, name)
            self.assertIn(name + ': not an archive but ', err)
            self.assertIn('mount', err)
        # A tar whose first member is named like the mark is still a tar.
        t = os.path.join(self.work, 'near.tar')
        with tarfile.open(t, 'w') as tf:
            info = tarfile.TarInfo('vhdxfile')
            info.size = 4
            tf.addfile(info, io.BytesIO(b'head'))
            for m, p in members(os.path.join(self.servers, 'mail10')):
                tf.add(p, arcname=m)
        rc, out, err = self.run_check('--format', 'jsonl', 'near.tar')
        self.assertEqual(rc, 0, err)
        self.assertEqual(summaries(jsonl(out))['near']['exhunt']['verdict']['compromise'], 'no evidence found')


class Velociraptor(Base):
    """A Velociraptor collection zip as it comes: names URL-encoded below
    uploads/auto/C%3A/, shown as stored; the Windows path decoded only in
    the field that says so (exhunt.windows_path)."""

    def test_collection_zip(self):
        z = os.path.join(self.work, 'Collection-EXCH13.zip')
        enc = lambda m: 'uploads/auto/C%3A/' + '/'.join(urllib.parse.quote(c, safe='') for c in m.split('/')[1:])
        write_zip(z, os.path.join(self.servers, 'mail13'), name=enc)
        with zipfile.ZipFile(z, 'a') as zf:
            zf.writestr('results/Windows.KapeFiles.Targets%2FAll File Metadata.json', '{}\n')
            zf.writestr('log.json', '{}\n')
        rc, out, err = self.run_check('--format', 'jsonl', 'Collection-EXCH13.zip')
        self.assertEqual(rc, 1, err)
        self.assert_no_temp(out, err)
        recs = jsonl(out)
        s = summaries(recs)['Collection-EXCH13']['exhunt']
        self.assertEqual((s['verdict']['compromise'], s['verdict']['update']), ('compromised', 'unpatched'))
        src = {x['id']: x for x in s['sources']}
        self.assertEqual(src['frontend']['paths'], ['Collection-EXCH13.zip!/uploads/auto/C%3A/Program%20Files/'
                                                    'Microsoft/Exchange%20Server/V15/FrontEnd/HttpProxy'])
        shell = [a for a in alerts(recs) if a['rule']['id'] == 'exh.files.webshell.china_chopper'][0]
        self.assertEqual(shell['file']['path'], 'Collection-EXCH13.zip!/' + enc(SHELL))
        self.assertEqual(shell['exhunt']['windows_path'], 'C:\\' + SHELL[2:].replace('/', '\\'))
        # The metadata files are not Windows files: no Windows path for them.
        for a in alerts(recs):
            if '/results/' in a.get('file', {}).get('path', ''):
                self.assertNotIn('windows_path', a.get('exhunt', {}))


class CyLR(Base):
    """A CyLR zip as CyLR writes it: named after the host, members named by
    the Windows path without the drive's colon and with backslashes
    (CyLR/src/archive/Archive.cs: entryName.Replace(":", "")), from a
    collection list that adds Exchange's folders (CyLR -c)."""

    def test_cylr_with_exchange_paths(self):
        z = os.path.join(self.work, 'MAIL13.zip')
        write_zip(z, os.path.join(self.servers, 'mail13'), name=lambda m: m.replace('/', '\\'))
        with zipfile.ZipFile(z) as zf:
            self.assertIn('C\\inetpub\\wwwroot\\aspnet_client\\system_web\\xpy07b5a.aspx', zf.namelist())
        rc, out, err = self.run_check('--format', 'jsonl', 'MAIL13.zip')
        self.assertEqual(rc, 1, err)
        self.assert_no_temp(out, err)
        recs = jsonl(out)
        s = summaries(recs)['MAIL13']['exhunt']
        self.assertEqual((s['verdict']['compromise'], s['verdict']['update']), ('compromised', 'unpatched'))
        found = {x['id'] for x in s['sources'] if x['found']}
        self.assertTrue({'exsetup', 'httpproxy', 'ecp', 'iis', 'wwwroot', 'frontend', 'windows_temp'} <= found, found)
        ids = sorted(a['rule']['id'] for a in alerts(recs))
        for rule in ('exh.files.webshell.china_chopper', 'exh.files.dump.lsass_minidump',
                     'exh.logs.proxylogon.cve_2021_26855', 'exh.logs.webshell.iis_access'):
            self.assertIn(rule, ids)
        paths = {a['file']['path'] for a in alerts(recs) if a['rule']['id'].startswith('exh.files.')}
        self.assertEqual(paths, {'MAIL13.zip!/' + SHELL, 'MAIL13.zip!/' + DUMP})

    def test_cylr_with_drive_colon(self):
        """Windows paths stored whole ("C:\\inetpub\\..."): the drive is a folder."""
        z = os.path.join(self.work, 'MAIL13.zip')
        write_zip(z, os.path.join(self.servers, 'mail13'), name=lambda m: 'C:\\' + m[2:].replace('/', '\\'))
        rc, out, err = self.run_check('--format', 'jsonl', 'MAIL13.zip')
        self.assertEqual(rc, 1, err)
        recs = jsonl(out)
        self.assertEqual(list(summaries(recs)), ['MAIL13'])
        s = summaries(recs)['MAIL13']['exhunt']
        self.assertEqual(s['verdict']['compromise'], 'compromised')
        paths = {a['file']['path'] for a in alerts(recs) if a['rule']['id'].startswith('exh.files.')}
        self.assertIn('MAIL13.zip!/C:/' + SHELL[2:], paths)

    def test_cylr_default_collection(self):
        """CyLR's default list alone (no -c): registry hives, event logs and
        the IIS 6 log folder System32\\LogFiles\\W3SVC1; no Exchange folder,
        so the update level and the web folders are unknown, never clean."""
        z = os.path.join(self.work, 'EXCH01.zip')
        with open(os.path.join(self.servers, 'mail10', 'inetpub/logs/LogFiles/W3SVC1/u_ex261110.log'), 'rb') as f:
            iis = f.read()
        with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
            zf.writestr('C\\Windows\\System32\\config\\SAM', b'regf' + b'\0' * 4092)
            zf.writestr('C\\Windows\\System32\\drivers\\etc\\hosts', b'127.0.0.1 localhost\r\n')
            zf.writestr('C\\Windows\\System32\\LogFiles\\W3SVC1\\u_ex261110.log', iis)
            zf.writestr('C\\Windows\\Prefetch\\CMD.EXE-4A81B364.pf', b'MAM\x04' + b'\0' * 60)
        rc, out, err = self.run_check('--format', 'jsonl', 'EXCH01.zip')
        self.assertEqual(rc, 1, err)
        s = summaries(jsonl(out))['EXCH01']['exhunt']
        src = {x['id']: x for x in s['sources']}
        self.assertEqual(src['iis']['paths'], ['EXCH01.zip!/C/Windows/System32/LogFiles/W3SVC1'])
        self.assertGreater(src['iis']['lines'], 0)
        self.assertFalse(src['exsetup']['found'])
        self.assertEqual(s['verdict']['update'], 'unknown')
        self.assertEqual(s['verdict']['compromise'], 'unknown')
        self.assertIn('web folders', s['verdict']['missing'])
        self.assertNotIn('request logs', s['verdict']['missing'])
        # A folder of that name elsewhere is not IIS's.
        z2 = os.path.join(self.work, 'EXCH02.zip')
        with zipfile.ZipFile(z2, 'w') as zf:
            zf.writestr('C\\Users\\bob\\System32\\LogFiles\\W3SVC1\\u_ex261110.log', iis)
            zf.writestr('C\\inetpub\\wwwroot\\iisstart.htm', b'<html></html>')
        rc, out, err = self.run_check('--format', 'jsonl', 'EXCH02.zip')
        src = {x['id']: x for x in summaries(jsonl(out))['EXCH02']['exhunt']['sources']}
        self.assertFalse(src['iis']['found'])


def main():
    global EXHUNT, SRC, MAKE_ARCHIVE
    EXHUNT, SRC, MAKE_ARCHIVE = sys.argv[1], sys.argv[2], sys.argv[3]
    unittest.main(argv=sys.argv[:1], verbosity=2)


if __name__ == '__main__':
    main()
