#!/usr/bin/env python3
"""libcurl, libarchive, libmaxminddb, libyara, libsqlite3, libevtx, libcrypto and
vectorscan's compiler (libhs; its runtime is linked) are loaded on first use (src/core/dynlib.c): the commands that do not need them never load
them (the dynamic loader's own account, LD_DEBUG=libs, says which libraries the
process opened), the ones that do load them, and a library that cannot be
loaded or is not the right one gives an error naming the file and the Debian
package, exit status 2, no crash.

Usage: e2e_lazylibs.py EXHUNT SOURCE_ROOT [SHARED_DIR]
(SHARED_DIR/corpus/evtx, when there, adds a hunt of real event logs.)
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
SHARED = sys.argv[3] if len(sys.argv) > 3 else ''
LAZY = {'curl': 'libcurl.so.4', 'archive': 'libarchive.so.13', 'maxminddb': 'libmaxminddb.so.0',
        'yara': 'libyara.so.9', 'sqlite': 'libsqlite3.so.0', 'evtx': 'libevtx.so.1',
        'crypto': 'libcrypto.so.3', 'hs': 'libhs.so.5'}
# What the lazy ones brought with them when linked: the loader must not map
# these either when none of the lazy ones is loaded.
BROUGHT = {'magic': 'libmagic.so.1', 'bfio': 'libbfio.so.1', 'stdcxx': 'libstdc++.so.6'}
# The compiled-rule cache, this test's own (set in main): a run finds its
# databases there or compiles them (and loads the compiler).
CACHE = {}
failures = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        failures.append(what)


def env(**extra):
    e = dict(os.environ)
    e['XDG_DATA_HOME'] = '/nonexistent-exhunt-test'  # no indicator store
    e.update(CACHE)
    e.update(extra)
    return e


def run(args, **extra):
    return subprocess.run([EXHUNT] + args, env=env(**extra), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors='replace', timeout=120)


def linked():
    """The BROUGHT libraries the binary needs at start by itself: a sanitizer
    build's runtime (libubsan) needs libstdc++, for one; those say nothing
    about what a lazy library brought."""
    r = subprocess.run(['ldd', EXHUNT], capture_output=True, text=True)
    return {name for name, soname in BROUGHT.items() if soname in r.stdout}


LINKED = linked()


def want(*names):
    """The set a run must load, less what the binary needs at start."""
    return set(names) - LINKED


def loaded(args, **extra):
    """The run and the lazy libraries the loader mapped into it, by short name,
    with where each was found."""
    r = run(args, LD_DEBUG='libs', **extra)
    # "   1234:\tcalling init: /lib/x86_64-linux-gnu/libcurl.so.4" once per library
    inits = re.findall(r'calling init: (\S+)', r.stderr)
    found = {}
    for name, soname in list(LAZY.items()) + [b for b in BROUGHT.items() if b[0] not in LINKED]:
        for path in inits:
            if os.path.basename(path) == soname:
                found[name] = path
    # exhunt's own messages, without the loader's account ("  1234:\t...").
    r.stderr = ''.join(l for l in r.stderr.splitlines(True) if not re.match(r'\s*\d+:\t', l))
    return r, inits, found


def closed_port():
    """A loopback port nothing listens on (bound, never listened)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    return s, s.getsockname()[1]


def main():
    tmp = tempfile.mkdtemp(prefix='exhunt-lazylibs-')
    CACHE['XDG_CACHE_HOME'] = os.path.join(tmp, 'cache')
    try:
        logs = os.path.join(ROOT, 'tests', 'fixtures', 'logs', 'exch01')
        server = os.path.join(ROOT, 'examples', 'check', 'mail10')
        zpath = os.path.join(tmp, 'MAIL10.zip')
        with zipfile.ZipFile(zpath, 'w') as z:
            for d, _, files in os.walk(server):
                for f in files:
                    p = os.path.join(d, f)
                    z.write(p, os.path.relpath(p, server))

        # A folder of logs with an event log in it: "ElfFile\0" is what the
        # hunt reads as one; past the header libevtx finds it damaged.
        evlogs = os.path.join(tmp, 'evlogs')
        shutil.copytree(logs, evlogs)
        fake_evtx = os.path.join(evlogs, 'Security.evtx')
        with open(fake_evtx, 'wb') as f:
            f.write(b'ElfFile\0' + b'\0' * 120)
        db = os.path.join(tmp, 'iocs.sqlite')
        iocs_csv = os.path.join(ROOT, 'tests', 'fixtures', 'ioc', 'plain.csv')
        r = run(['ioc', '--db', db, 'import', iocs_csv])
        check(r.returncode == 0,
              f'ioc import into a new store (exit {r.returncode}) {r.stderr[-300:]}')

        # The rules' databases, not in this test's cache yet (ioc import put
        # the indicators' prefilter there): compiled, so the compiler is
        # loaded, with the C++ library it needs.
        r, _, found = loaded(['logs', '--no-iocs', logs])
        check(r.returncode == 1 and 'ProxyLogon' in r.stdout and set(found) == want('hs', 'stdcxx'),
              f'logs on an empty rule cache: compiles, loads vectorscan\'s compiler (and '
              f'libstdc++) only (exit {r.returncode}): {found} {r.stderr[-300:]}')
        hs_path = found.get('hs')
        cold_findings = r.stdout

        # Commands that need none of them (no indicator store: XDG_DATA_HOME
        # points nowhere); logs without --no-iocs looks for the store too;
        # logs finds its databases in the cache now.
        for args in (['--version'], ['assess', '15.1.2176.2'],
                     ['logs', '--no-iocs', '-q', logs], ['logs', logs]):
            r, inits, found = loaded(args)
            cmd = ' '.join(args[:1] + [a for a in args[1:] if not a.startswith('/')])
            check(r.returncode in (0, 1) and len(inits) > 1,
                  f'{cmd}: runs (exit {r.returncode}), the loader reports {len(inits)} libraries')
            check(not found, f'{cmd}: loads none of the lazy libraries nor what they bring: {found}')

        r, _, _ = loaded(['logs', '--no-iocs', logs])
        check(r.returncode == 1 and r.stdout == cold_findings,
              'logs on the cache it filled: the same findings as when it compiled')
        r, _, found = loaded(['logs', '--no-iocs', logs], EXHUNT_NO_CACHE='1')
        check(r.returncode == 1 and r.stdout == cold_findings and set(found) == want('hs', 'stdcxx'),
              f'logs with EXHUNT_NO_CACHE=1: compiles (loads the compiler), the same findings '
              f'(exit {r.returncode}): {found}')

        # The commands that need one load it, and only what they need: the
        # same account sees them, so the test above can fail.
        r, _, found = loaded(['logs', '--no-iocs', evlogs])
        check(r.returncode == 2 and 'Security.evtx' in r.stderr and 'not a readable event log' in r.stderr
              and 'cannot be loaded' not in r.stderr and 'ProxyLogon' in r.stdout,
              f'logs on a folder with a damaged event log: libevtx reads and refuses it, the other '
              f'logs are hunted (exit {r.returncode}) {r.stderr[-300:]!r}')
        check(set(found) == {'evtx', 'bfio'}, f'logs with an .evtx: loads libevtx (and libbfio) only: {found}')
        evtx_path = found.get('evtx')

        r, _, found = loaded(['logs', '--db', db, '-q', logs])
        check(r.returncode == 1, f'logs with a store: findings (exit {r.returncode}) {r.stderr[-300:]}')
        check(set(found) == {'sqlite'}, f'logs with a store: loads libsqlite3 only: {found}')
        sqlite_path = found.get('sqlite')
        r, _, found = loaded(['logs', '--no-iocs', '--iocs', iocs_csv,
                              '-q', logs])
        check(r.returncode == 1 and set(found) == {'sqlite'},
              f'logs --iocs FILE (read through an in-memory store): loads libsqlite3 only (exit {r.returncode}): {found}')

        r, _, found = loaded(['files', '-q', server])
        check(r.returncode in (0, 1), f'files: runs (exit {r.returncode}) {r.stderr[-300:]}')
        # libyara needs libcrypto too: exhunt loads it first, for the hashes;
        # the YARA rules' literal prefilter is compiled at every run.
        check(set(found) == want('yara', 'magic', 'crypto', 'hs', 'stdcxx'),
              f'files: loads libcrypto, libyara (and libmagic), vectorscan\'s compiler only: {found}')
        yara_path = found.get('yara')

        r, _, found = loaded(['check', '--no-iocs', '-q', server])
        check(r.returncode in (0, 1), f'check on a folder: runs (exit {r.returncode}) {r.stderr[-300:]}')
        check(set(found) == want('yara', 'magic', 'crypto', 'hs', 'stdcxx'),
              f'check on a folder: loads libcrypto, libyara (and libmagic), vectorscan\'s '
              f'compiler only: {found}')

        r, _, found = loaded(['check', '--no-iocs', zpath])
        check(r.returncode in (0, 1) and 'MAIL10' in r.stdout,
              f'check on a zip: the server is checked (exit {r.returncode}) {r.stderr[-300:] if r.returncode > 1 else ""}')
        check(set(found) == want('archive', 'yara', 'magic', 'crypto', 'hs', 'stdcxx'),
              f'check on a zip: loads libarchive, libcrypto, libyara, vectorscan\'s compiler '
              f'only: {found}')
        archive_path = found.get('archive')

        sock, port = closed_port()
        pull_db = os.path.join(tmp, 'pull.sqlite')
        r, _, found = loaded(['ioc', '--db', pull_db, 'pull', f'http://127.0.0.1:{port}/feed.csv'])
        sock.close()
        check(r.returncode == 2 and 'cannot be loaded' not in r.stderr,
              f'ioc pull from a closed port: a connection error, exit 2 (got {r.returncode})')
        # libcurl brings libcrypto (TLS).
        check(set(found) == {'curl', 'sqlite', 'crypto'},
              f'ioc pull: loads libcurl (with libcrypto) and libsqlite3 only: {found}')
        curl_path = found.get('curl')

        # ioc export: CSV needs no hash, STIX's ids are SHA-1 based.
        r, _, found = loaded(['ioc', '--db', db, 'export', '--format', 'csv'])
        check(r.returncode == 0 and set(found) == {'sqlite'},
              f'ioc export --format csv: loads libsqlite3 only (exit {r.returncode}): {found}')
        r, _, found = loaded(['ioc', '--db', db, 'export', '--format', 'stix'])
        check(r.returncode == 0 and '"bundle"' in r.stdout and set(found) == {'sqlite', 'crypto'},
              f'ioc export --format stix: loads libsqlite3 and libcrypto only (exit {r.returncode}): '
              f'{found} {r.stderr[-300:]}')
        crypto_path = found.get('crypto')

        # Real event logs, when the shared corpus is there (corpus-logs
        # checks what is found in them; here: that they are read).
        corpus_evtx = os.path.join(SHARED, 'corpus', 'evtx') if SHARED else ''
        if corpus_evtx and os.path.isdir(corpus_evtx):
            r, _, found = loaded(['logs', '--no-iocs', corpus_evtx])
            check(r.returncode == 1 and 'exhunt logs:' not in r.stderr and ' 0 findings' not in r.stdout
                  and set(found) == {'evtx', 'bfio'},
                  f'logs on real event logs: read, findings (exit {r.returncode}), libevtx only: {found}')
        else:
            print('skip real event logs: no shared corpus')

        # A library that is not there or is not the right one: the loader
        # finds these first (LD_LIBRARY_PATH comes before the system folders).
        # One folder per library, so that the library under test is the one
        # missing (check on a zip needs libyara too, ioc pull libsqlite3).
        junk = os.path.join(tmp, 'junk')
        wrong = os.path.join(tmp, 'wrong')
        for lib, soname in LAZY.items():
            os.makedirs(os.path.join(junk, lib))
            os.makedirs(os.path.join(wrong, lib))
            with open(os.path.join(junk, lib, soname), 'w') as f:
                f.write('not a shared object\n')
            # Real shared objects of another library: load fine, lack the functions.
            # (libcurl needs libcrypto: a copy of it named libcrypto.so.3
            # would be refused for libssl's missing functions, not its own.)
            other = archive_path if lib in ('curl', 'crypto') else curl_path
            if other:
                shutil.copy(other, os.path.join(wrong, lib, soname))
        check(all((archive_path, curl_path, yara_path, sqlite_path, evtx_path, crypto_path, hs_path)),
              'every lazy library was found loaded once (their paths)')
        mmdb = os.path.join(tmp, 'geo.mmdb')
        open(mmdb, 'wb').close()
        cases = [
            ('ioc pull', 'curl', 'libcurl4', ['ioc', '--db', db, 'pull', 'http://127.0.0.1:9/feed.csv']),
            ('scan', 'curl', 'libcurl4', ['scan', '--allow', '127.0.0.0/8', '--only', '127.0.0.0/8', '-p', '9',
                                  '--timeout', '1', '127.0.0.1']),
            ('check on a zip', 'archive', 'libarchive13', ['check', '--no-iocs', zpath]),
            ('scan --geoip', 'maxminddb', 'libmaxminddb0', ['scan', '--allow', '127.0.0.0/8', '--only', '127.0.0.0/8',
                                            '--geoip', mmdb, '-p', '9', '--timeout', '1', '127.0.0.1']),
            ('files', 'yara', 'libyara9', ['files', '--no-iocs', server]),
            ('check', 'yara', 'libyara9', ['check', '--no-iocs', server]),
            ('ioc list', 'sqlite', 'libsqlite3-0', ['ioc', '--db', db, 'list']),
            # An existing store must not be taken for "no store" and skipped.
            ('logs with a store', 'sqlite', 'libsqlite3-0', ['logs', '--db', db, logs]),
            ('logs --iocs FILE', 'sqlite', 'libsqlite3-0',
             ['logs', '--no-iocs', '--iocs', iocs_csv, logs]),
            # libcrypto is loaded before libyara (which needs it too).
            ('files (hashes)', 'crypto', 'libssl3', ['files', '--no-iocs', server]),
            ('check (hashes)', 'crypto', 'libssl3', ['check', '--no-iocs', server]),
            ('ioc export --format stix', 'crypto', 'libssl3',
             ['ioc', '--db', db, 'export', '--format', 'stix']),
            # Rules not in the cache: compiled, which needs the compiler.
            ('logs without the cache', 'hs', 'libvectorscan5', ['logs', '--no-iocs', logs],
             {'EXHUNT_NO_CACHE': '1'}),
            # Per event log, after the other logs are hunted (see below).
            ('logs with an .evtx', 'evtx', 'libevtx1', ['logs', '--no-iocs', evlogs]),
        ]
        for folder, why in ((junk, 'is not loadable'), (wrong, 'lacks its functions')):
            for label, lib, package, args, *extra in cases:
                r = run(args, LD_LIBRARY_PATH=os.path.join(folder, lib), **(extra[0] if extra else {}))
                soname = LAZY[lib]
                what = f'{label} with a {soname} that {why}'
                msg = next((l for l in r.stderr.splitlines() if soname in l), r.stderr[-300:])
                check(r.returncode == 2, f'{what}: exit 2 (got {r.returncode})')
                check(msg.count(soname) >= 1 and f'install the Debian package {package}' in msg and
                      os.path.join(folder, lib, soname) in msg,
                      f'{what}: the error names the file, the loader\'s reason and the package: {msg!r}')
                if lib == 'sqlite':
                    # Not taken for "no store" (ioc: "import first") nor for
                    # a file that is not a store.
                    check('import indicators first' not in r.stderr and 'not an exhunt' not in r.stderr,
                          f'{what}: the store is not judged without the library: {r.stderr[-300:]!r}')
                if why == 'lacks its functions':
                    check('undefined symbol' in msg, f'{what}: says which function is missing: {msg!r}')
                if lib == 'evtx':
                    # An event log is one file among others: its error is
                    # its own, the hunt of the rest goes on.
                    check('ProxyLogon' in r.stdout, f'{what}: the other logs are hunted: {r.stdout[-200:]!r}')
                    continue
                # The error comes before any work: no report, no temporary folder kept.
                check(r.stdout == '', f'{what}: nothing reported: {r.stdout[:200]!r}')
        # A run on a warm cache needs no compiler: one that cannot be
        # loaded changes nothing.
        r = run(['logs', '--no-iocs', logs], LD_LIBRARY_PATH=os.path.join(junk, 'hs'))
        check(r.returncode == 1 and r.stdout == cold_findings,
              f'logs on the warm cache with a libhs.so.5 that is not loadable: the same findings '
              f'(exit {r.returncode}) {r.stderr[-300:]!r}')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f'e2e-lazylibs: {len(failures)} failed')
        sys.exit(1)
    print('e2e-lazylibs: all passed')


main()
