#!/usr/bin/env python3
"""End-to-end tests of `exhunt scan diff` on national-scale terms: exact keys
of any length, a host met twice in one scan, --list re-reading records by
offset (byte for byte what it printed before), and inputs that cannot seek
(standard input, a pipe, /dev/fd/N as bash's <(...) gives). Needs no
network.

usage: e2e_scan_diff.py EXHUNT
"""
import json
import os
import subprocess
import sys
import tempfile

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print(f'FAIL: {what}', file=sys.stderr)


def rec(ip, exposed, status='success', exch=True, build='15.1.2176', **more):
    return json.dumps({'ip': ip, 'port': 443, **more, 'status': status, 'is_exchange': exch, 'build': build,
                       'exposed': exposed}) + '\n'


# e2e_scan.py's test_diff scans, and the --list output exhunt printed for them
# before records were re-read by offset (commit 530d6e1): byte for byte.
OLD = (rec('192.0.2.1', True) + rec('192.0.2.2', True) + rec('192.0.2.3', True) +
       rec('192.0.2.4', False) + rec('192.0.2.5', True) + rec('192.0.2.6', True))
NEW = (rec('192.0.2.1', False, build='15.1.2176.9') + rec('192.0.2.2', True) +
       rec('192.0.2.4', True) + rec('192.0.2.5', False, status='error', exch=False) +
       rec('192.0.2.7', True) + rec('192.0.2.6', False, exch=False))
LIST = '''\
{"change":"fixed","ip":"192.0.2.1","port":443,"old_build":"15.1.2176","new_build":"15.1.2176.9"}
{"change":"still_exposed","ip":"192.0.2.2","port":443,"old_build":"15.1.2176","new_build":"15.1.2176"}
{"change":"gone","ip":"192.0.2.3","port":443,"old_build":"15.1.2176"}
{"change":"newly_exposed","ip":"192.0.2.4","port":443,"old_build":"15.1.2176","new_build":"15.1.2176"}
{"change":"gone","ip":"192.0.2.5","port":443,"old_build":"15.1.2176","new_build":"15.1.2176"}
{"change":"gone","ip":"192.0.2.6","port":443,"old_build":"15.1.2176","new_build":"15.1.2176"}
{"change":"newly_exposed","ip":"192.0.2.7","port":443,"new_build":"15.1.2176"}
'''
SUMMARY = ('exposed before: 5, now: 3\nfixed:          1\nstill exposed:  1\nnewly exposed:  2\n'
           'gone:           3  (exposed before; now no answer, not Exchange, or not scanned)\n')


def main():
    exhunt = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        def write(name, text):
            path = os.path.join(tmp, name)
            with open(path, 'w') as f:
                f.write(text)
            return path

        def diff(*args, **kw):
            return subprocess.run([exhunt, 'scan', 'diff', *args], capture_output=True, text=True, **kw)

        old, new = write('old.jsonl', OLD), write('new.jsonl', NEW)
        r = diff('--list', old, new)
        check(r.returncode == 1 and r.stdout == LIST, f'--list as before: {r.returncode} {r.stdout!r}')
        r = diff(old, new)
        check(r.returncode == 1 and r.stdout == SUMMARY, f'summary as before: {r.stdout!r}')

        # Non-seekable inputs: stdin from a pipe, stdin from a file, a pipe as
        # /dev/fd/N (bash's <(...)); the same output, with and without --list.
        for args, want in ((['--list'], LIST), ([], SUMMARY)):
            r = diff(*args, '-', new, input=OLD)
            check(r.returncode == 1 and r.stdout == want, f'{args} OLD from a pipe on stdin: {r.stdout!r} {r.stderr}')
            with open(new) as f:
                r = diff(*args, old, '-', stdin=f)
            check(r.returncode == 1 and r.stdout == want, f'{args} NEW as stdin from a file: {r.stdout!r} {r.stderr}')
            fd = os.open(new, os.O_RDONLY)
            os.lseek(fd, len(NEW.splitlines(True)[0]), os.SEEK_SET)  # read from: 192.0.2.1 is not in it any more
            r = diff(*args, old, '-', stdin=fd)
            os.close(fd)
            partly = (LIST.replace(LIST.splitlines(True)[0],
                                   '{"change":"gone","ip":"192.0.2.1","port":443,"old_build":"15.1.2176"}\n')
                      if args else SUMMARY.replace('fixed:          1', 'fixed:          0').replace(
                          'gone:           3', 'gone:           4'))
            check(r.returncode == 1 and r.stdout == partly, f'{args} stdin partly read: {r.stdout!r} {r.stderr}')
            rfd, wfd = os.pipe()
            p = subprocess.Popen([exhunt, 'scan', 'diff', *args, old, f'/dev/fd/{rfd}'], pass_fds=(rfd,),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            os.close(rfd)
            with os.fdopen(wfd, 'w') as w:
                w.write(NEW)
            out, err = p.communicate()
            check(p.returncode == 1 and out == want, f'{args} NEW from a pipe as /dev/fd/N: {out!r} {err}')
        r = diff('-', '-', input=OLD)
        check(r.returncode == 2 and 'standard input' in r.stderr, f'both from stdin is refused: {r.stderr}')

        # Keys are exact: two hosts whose domains share their first 600 bytes.
        dom = 'x' * 600
        a, b = rec('192.0.2.1', True, domain=dom + '.a.example'), rec('192.0.2.1', True, domain=dom + '.b.example')
        old, new = write('long-old.jsonl', a), write('long-new.jsonl', b)
        r = diff(old, new)
        check(r.returncode == 1 and 'still exposed:  0\n' in r.stdout and 'newly exposed:  1\n' in r.stdout
              and 'gone:           1 ' in r.stdout, f'long keys: two hosts: {r.stdout!r}')
        # One fixed, one still exposed, listed in key order with their own domains.
        fixed = rec('192.0.2.1', False, domain=dom + '.a.example', build='15.1.2507.39')
        old, new = write('long-old.jsonl', a + b), write('long-new.jsonl', b + fixed)
        r = diff('--list', old, new)
        got = [(o['change'], o['domain'], o.get('new_build')) for o in map(json.loads, r.stdout.splitlines())]
        check(got == [('fixed', dom + '.a.example', '15.1.2507.39'), ('still_exposed', dom + '.b.example', '15.1.2176')],
              f'long keys: {got}')
        # ... and fields that would run together once joined by spaces.
        old = write('join-old.jsonl', rec('192.0.2.1 443 x', True) + rec('192.0.2.1', True, domain='x 443 '))
        r = diff(old, old)
        check('still exposed:  2\n' in r.stdout, f'ip "a 443 x" and domain "x 443 " are two hosts: {r.stdout!r}')

        # A host met twice: its last record counts, the repeats are said.
        old = write('dup-old.jsonl', rec('192.0.2.1', True) + rec('192.0.2.2', True))
        new = write('dup-new.jsonl', rec('192.0.2.1', True, build='first') + rec('192.0.2.2', True) +
                    rec('192.0.2.1', True, build='second') + rec('192.0.2.1', False, build='15.1.2507.39'))
        r = diff(old, new)
        check(r.returncode == 1 and 'fixed:          1\n' in r.stdout and 'still exposed:  1\n' in r.stdout
              and 'exposed before: 2, now: 1\n' in r.stdout, f'duplicates: the last record counts: {r.stdout!r}')
        check('dup-new.jsonl: 2 records of a host already seen' in r.stderr and 'last record' in r.stderr
              and 'dup-old' not in r.stderr, f'duplicates: said on stderr: {r.stderr!r}')
        r = diff('--list', old, new)
        got = [(o['change'], o['ip'], o.get('new_build')) for o in map(json.loads, r.stdout.splitlines())]
        check(got == [('fixed', '192.0.2.1', '15.1.2507.39'), ('still_exposed', '192.0.2.2', '15.1.2176')],
              f'duplicates: --list prints the last record: {got}')

        # Errors name the file and line, through a pipe too.
        r = diff('-', new, input=OLD + 'not json\n')
        check(r.returncode == 2 and 'standard input' in r.stderr and 'line 7' in r.stderr,
              f'a broken line on stdin: {r.stderr!r}')
    print(f'{checks - failures} passed, {failures} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
