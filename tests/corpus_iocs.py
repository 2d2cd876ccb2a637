#!/usr/bin/env python3
"""The two public indicator lists in ../shared/corpus/iocs import with the
right counts per type and source (skipped, exit 77, when absent).

Expected values are computed here from the files themselves, independently
of exhunt: MSTIC's rows by IndicatorType (paths compared as Windows does:
case-insensitively, so the list's case-only repeats are one indicator),
Volexity's IP addresses. Re-importing adds nothing.

usage: corpus_iocs.py EXHUNT SHARED_DIR
"""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
MSTIC = 'MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv'
VOLEXITY = 'volexity-exchange-marauder-indicators.csv'


def main():
    exhunt, shared = sys.argv[1], sys.argv[2]
    d = os.path.join(shared, 'corpus', 'iocs')
    files = [os.path.join(d, MSTIC), os.path.join(d, VOLEXITY)]
    if not all(os.path.isfile(f) for f in files):
        print(f'corpus-iocs: {d} not present: skipped')
        return SKIP
    mstic = list(csv.DictReader(open(files[0], encoding='utf-8-sig')))
    vol = list(csv.DictReader(open(files[1], encoding='utf-8-sig')))

    def path_norm(p):
        p = re.sub(r'^[A-Za-z]:', '', p).replace('\\', '/').lower()
        return re.sub('/+', '/', p)

    want = {
        ('microsoft-mstic', 'sha256'): {r['Indicator'].lower() for r in mstic if r['IndicatorType'] == 'sha256'},
        ('microsoft-mstic', 'filepath'): {path_norm(r['Indicator']) for r in mstic if r['IndicatorType'] == 'filepath'},
        ('volexity', 'ipv4'): {r['value'] for r in vol if r['type'] == 'ipaddress'},
    }
    rows_read = {'sha256': sum(r['IndicatorType'] == 'sha256' for r in mstic),
                 'filepath': sum(r['IndicatorType'] == 'filepath' for r in mstic)}
    failures = 0

    def check(cond, what):
        nonlocal failures
        if not cond:
            failures += 1
            print(f'FAIL: {what}', file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix='exhunt-corpus-iocs.') as tmp:
        db = os.path.join(tmp, 'iocs.sqlite')
        p = subprocess.run([exhunt, 'ioc', '--db', db, 'import', *files], capture_output=True, text=True)
        check(p.returncode == 0, f'import: {p.stderr}')
        out = p.stdout
        check(f'csv-mstic: {len(mstic)} indicators' in out and '0 skipped' in out, out)
        check(f'sha256 {rows_read["sha256"]}, filepath {rows_read["filepath"]}' in out, out)
        check(f'csv-volexity: {len(vol)} indicators ({len(vol)} new' in out, out)

        p = subprocess.run([exhunt, 'ioc', '--db', db, 'list', '--format', 'jsonl'], capture_output=True, text=True)
        got = {}
        for line in p.stdout.splitlines():
            o = json.loads(line)
            got.setdefault((o['source'], o['type']), set()).add(o['value'])
        check(set(got) == set(want), f'sources and types: {sorted(got)}')
        for k, v in want.items():
            check(got.get(k) == v, f'{k}: {len(got.get(k, ()))} stored, {len(v)} expected')

        # A published hash keeps its first-seen time and TLP.
        row = next(r for r in mstic if r['IndicatorType'] == 'sha256' and r['FirstSeen'])
        p = subprocess.run([exhunt, 'ioc', '--db', db, 'list', '--type', 'sha256', '--format', 'jsonl'],
                           capture_output=True, text=True)
        hit = [json.loads(l) for l in p.stdout.splitlines() if json.loads(l)['value'] == row['Indicator'].lower()]
        check(len(hit) == 1 and hit[0]['first_seen'] == row['FirstSeen'] and hit[0]['tags'] == 'tlp:white',
              f'{row["Indicator"]}: {hit}')

        p = subprocess.run([exhunt, 'ioc', '--db', db, 'import', *files], capture_output=True, text=True)
        check(p.returncode == 0 and p.stdout.count('(0 new, 0 updated') == 2, f're-import: {p.stdout}')
        p = subprocess.run([exhunt, 'ioc', '--db', db, 'stats'], capture_output=True, text=True)
        total = sum(len(v) for v in want.values())
        lines = [l.split() for l in p.stdout.splitlines()]
        check(['volexity'] in [l[1:] for l in lines if l and l[0] == str(len(want[('volexity', 'ipv4')]))],
              p.stdout)
        n_mstic = len(want[('microsoft-mstic', 'sha256')]) + len(want[('microsoft-mstic', 'filepath')])
        check([str(n_mstic), 'microsoft-mstic'] in lines, p.stdout)
        check([str(total), '(none)'] in lines, p.stdout)
    print(f'corpus-iocs: {"ok" if not failures else f"{failures} failed"}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
