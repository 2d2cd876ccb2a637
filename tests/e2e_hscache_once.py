#!/usr/bin/env python3
"""The compiled-rule cache folder is made and checked once per run, not once
per database (a hunt loads some thirty): counted with strace, on a fresh cache
(each missing folder made once) and a warm one (no mkdir at all, every database
loaded). Skipped (77) where strace cannot trace.

Usage: e2e_hscache_once.py EXHUNT SOURCE_ROOT
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

EXHUNT, ROOT = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        failures.append(what)


def traced(tmp, cache):
    """One hunt under strace: (exit status, mkdir paths, the hunt's stderr)."""
    trace = os.path.join(tmp, 'trace')
    env = dict(os.environ, XDG_CACHE_HOME=cache, XDG_DATA_HOME='/nonexistent-exhunt-test',
               EXHUNT_CACHE_TRACE='1')
    env.pop('EXHUNT_NO_CACHE', None)
    # LeakSanitizer stops the process with ptrace, which strace holds: the
    # sanitizer build's leaks are checked by the other tests.
    env['ASAN_OPTIONS'] = (env.get('ASAN_OPTIONS', '') + ':detect_leaks=0').lstrip(':')
    logs = os.path.join(ROOT, 'tests', 'fixtures', 'logs', 'exch01')
    r = subprocess.run(['strace', '-f', '-qq', '-e', 'trace=mkdir,mkdirat', '-o', trace,
                        EXHUNT, 'logs', '--no-iocs', '-q', logs],
                       env=env, capture_output=True, text=True, errors='replace', timeout=300)
    with open(trace) as f:
        made = re.findall(r'mkdir(?:at)?\((?:AT_FDCWD, )?"([^"]*)"', f.read())
    return r.returncode, made, r.stderr


def main():
    if not shutil.which('strace') or subprocess.run(['strace', '-qq', '-o', os.devnull, 'true']).returncode:
        print('e2e-hscache-once: strace cannot run here: skipped')
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix='exhunt-hsonce-')
    try:
        cache = os.path.join(tmp, 'fresh', 'cache')
        rc, made, err = traced(tmp, cache)
        compiled = err.count('cache: compiled')
        used = compiled + err.count('cache: loaded')  # a database the run stored and used again
        check(rc in (0, 1) and compiled > 5, f'cold run: exit {rc}, {compiled} databases compiled {err[-300:] if rc > 1 or rc < 0 else ""}')
        ours = [m for m in made if m.startswith(tmp)]
        check(sorted(ours) == sorted(set(ours)), f'cold run: each folder made at most once: {ours}')
        check(os.path.join(cache, 'exhunt', 'hs') in ours and len(made) <= 8,
              f'cold run: the cache folder made, {len(made)} mkdir calls in all: {made}')
        check(err.count('cache: stored') == compiled, 'cold run: every compiled database stored')

        rc, made, err = traced(tmp, cache)
        loaded = err.count('cache: loaded')
        check(rc in (0, 1) and loaded == used and 'cache: compiled' not in err,
              f'warm run: exit {rc}, {loaded} of {used} databases loaded, none compiled')
        check(made == [], f'warm run: no mkdir call: {made}')

        # Still refused when it is not ours alone: group-writable.
        os.chmod(os.path.join(cache, 'exhunt', 'hs'), 0o770)
        rc, made, err = traced(tmp, cache)
        check(rc in (0, 1) and 'cache: loaded' not in err and 'cache: stored' not in err,
              'a group-writable cache folder is not used')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f'e2e-hscache-once: {len(failures)} failed')
        sys.exit(1)
    print('e2e-hscache-once: all passed')


main()
