#!/usr/bin/env python3
"""libcurl, libarchive and libmaxminddb are loaded on first use (src/core/dynlib.c):
the commands that do not need them never load them (the dynamic loader's own
account, LD_DEBUG=libs, says which libraries the process opened), the ones that
do load them, and a library that cannot be loaded or is not the right one gives
an error naming the file and the Debian package, exit status 2, no crash.

Usage: e2e_lazylibs.py EXHUNT SOURCE_ROOT
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile

EXHUNT, ROOT = sys.argv[1], sys.argv[2]
LAZY = {'curl': 'libcurl.so.4', 'archive': 'libarchive.so.13', 'maxminddb': 'libmaxminddb.so.0'}
failures = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        failures.append(what)


def env(**extra):
    e = dict(os.environ)
    e['XDG_DATA_HOME'] = '/nonexistent-exhunt-test'  # no indicator store
    e.update(extra)
    return e


def run(args, **extra):
    return subprocess.run([EXHUNT] + args, env=env(**extra), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors='replace', timeout=120)


def loaded(args):
    """The run and the lazy libraries the loader mapped into it, by short name,
    with where each was found."""
    r = run(args, LD_DEBUG='libs')
    # "   1234:\tcalling init: /lib/x86_64-linux-gnu/libcurl.so.4" once per library
    inits = re.findall(r'calling init: (\S+)', r.stderr)
    found = {}
    for name, soname in LAZY.items():
        for path in inits:
            if os.path.basename(path) == soname:
                found[name] = path
    return r, inits, found


def closed_port():
    """A loopback port nothing listens on (bound, never listened)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    return s, s.getsockname()[1]


def main():
    tmp = tempfile.mkdtemp(prefix='exhunt-lazylibs-')
    try:
        logs = os.path.join(ROOT, 'tests', 'fixtures', 'logs', 'exch01')
        server = os.path.join(ROOT, 'examples', 'check', 'mail10')
        zpath = os.path.join(tmp, 'MAIL10.zip')
        with zipfile.ZipFile(zpath, 'w') as z:
            for d, _, files in os.walk(server):
                for f in files:
                    p = os.path.join(d, f)
                    z.write(p, os.path.relpath(p, server))

        # Commands that need none of them.
        for args in (['--version'], ['assess', '15.1.2176.2'], ['logs', '--no-iocs', '-q', logs],
                     ['check', '--no-iocs', '-q', server]):
            r, inits, found = loaded(args)
            cmd = ' '.join(args[:1] + [a for a in args[1:] if not a.startswith('/')])
            check(r.returncode in (0, 1) and len(inits) > 1,
                  f'{cmd}: runs (exit {r.returncode}), the loader reports {len(inits)} libraries')
            check(not found, f'{cmd}: loads none of libcurl, libarchive, libmaxminddb: {found}')

        # The commands that need one load it, and only it: the same account
        # sees them, so the test above can fail.
        r, _, found = loaded(['check', '--no-iocs', zpath])
        check(r.returncode in (0, 1) and 'MAIL10' in r.stdout,
              f'check on a zip: the server is checked (exit {r.returncode}) {r.stderr[-300:] if r.returncode > 1 else ""}')
        check(set(found) == {'archive'}, f'check on a zip: loads libarchive only: {found}')
        archive_path = found.get('archive')

        sock, port = closed_port()
        db = os.path.join(tmp, 'pull.sqlite')
        r, _, found = loaded(['ioc', '--db', db, 'pull', f'http://127.0.0.1:{port}/feed.csv'])
        sock.close()
        check(r.returncode == 2 and 'cannot be loaded' not in r.stderr,
              f'ioc pull from a closed port: a connection error, exit 2 (got {r.returncode})')
        check(set(found) == {'curl'}, f'ioc pull: loads libcurl only: {found}')
        curl_path = found.get('curl')

        # A library that is not there or is not the right one: the loader
        # finds these first (LD_LIBRARY_PATH comes before the system folders).
        junk = os.path.join(tmp, 'junk')
        wrong = os.path.join(tmp, 'wrong')
        os.mkdir(junk)
        os.mkdir(wrong)
        for soname in LAZY.values():
            with open(os.path.join(junk, soname), 'w') as f:
                f.write('not a shared object\n')
        # Real shared objects of another library: load fine, lack the functions.
        if archive_path and curl_path:
            shutil.copy(archive_path, os.path.join(wrong, LAZY['curl']))
            shutil.copy(curl_path, os.path.join(wrong, LAZY['archive']))
            shutil.copy(curl_path, os.path.join(wrong, LAZY['maxminddb']))
        mmdb = os.path.join(tmp, 'geo.mmdb')
        open(mmdb, 'wb').close()
        cases = [
            ('ioc pull', 'curl', 'libcurl4', ['ioc', '--db', db, 'pull', 'http://127.0.0.1:9/feed.csv']),
            ('scan', 'curl', 'libcurl4', ['scan', '--allow', '127.0.0.0/8', '--only', '127.0.0.0/8', '-p', '9',
                                  '--timeout', '1', '127.0.0.1']),
            ('check on a zip', 'archive', 'libarchive13', ['check', '--no-iocs', zpath]),
            ('scan --geoip', 'maxminddb', 'libmaxminddb0', ['scan', '--allow', '127.0.0.0/8', '--only', '127.0.0.0/8',
                                            '--geoip', mmdb, '-p', '9', '--timeout', '1', '127.0.0.1']),
        ]
        for folder, why in ((junk, 'is not loadable'), (wrong, 'lacks its functions')):
            for label, lib, package, args in cases:
                r = run(args, LD_LIBRARY_PATH=folder)
                soname = LAZY[lib]
                what = f'{label} with a {soname} that {why}'
                msg = next((l for l in r.stderr.splitlines() if soname in l), r.stderr[-300:])
                check(r.returncode == 2, f'{what}: exit 2 (got {r.returncode})')
                check(msg.count(soname) >= 1 and f'install the Debian package {package}' in msg and
                      os.path.join(folder, soname) in msg,
                      f'{what}: the error names the file, the loader\'s reason and the package: {msg!r}')
                if why == 'lacks its functions':
                    check('undefined symbol' in msg, f'{what}: says which function is missing: {msg!r}')
                # The error comes before any work: no report, no temporary folder kept.
                check(r.stdout == '', f'{what}: nothing reported: {r.stdout[:200]!r}')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f'e2e-lazylibs: {len(failures)} failed')
        sys.exit(1)
    print('e2e-lazylibs: all passed')


main()
