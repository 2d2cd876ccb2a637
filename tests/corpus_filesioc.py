#!/usr/bin/env python3
"""`exhunt files` with Microsoft's March 2021 indicator feed
(../shared/corpus/iocs/, MSTIC CSV) imported into a temporary store: every
SHA-256 of the feed loads into the scanner's set (no file with those hashes
can be made here), a harmless file planted at one of the feed's published
paths is flagged by that path indicator with source microsoft-mstic, the
same name in another folder is not, and `exhunt ioc export` then lists the
sighting. Skips (77) without the corpus.

usage: corpus_filesioc.py EXHUNT SHARED_DIR
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77
MSTIC = 'MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv'
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f'FAIL: {what}', file=sys.stderr)


def run(exhunt, *args):
    p = subprocess.run([exhunt, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    exhunt, shared = sys.argv[1], sys.argv[2]
    feed = os.path.join(shared, 'corpus', 'iocs', MSTIC)
    if not os.path.isfile(feed):
        print(f'{feed} absent: skipped')
        return SKIP
    rows = list(csv.DictReader(open(feed, encoding='utf-8-sig')))
    hashes = {r['Indicator'].lower() for r in rows if r['IndicatorType'] == 'sha256'}
    paths = sorted({r['Indicator'] for r in rows if r['IndicatorType'] == 'filepath'})
    check(len(hashes) > 0 and len(paths) > 0, 'the feed has hashes and paths')
    # A web shell under owa\auth, as most of the feed's paths are.
    shell = next(p for p in paths if '\\owa\\auth\\' in p.lower())
    rel = shell.split(':', 1)[1].replace('\\', '/').lstrip('/')
    name = rel.rsplit('/', 1)[1]

    with tempfile.TemporaryDirectory(prefix='exhunt-corpus-filesioc.') as tmp:
        db = os.path.join(tmp, 'iocs.sqlite')
        rc, out, err = run(exhunt, 'ioc', '--db', db, 'import', feed)
        check(rc == 0, f'import: {err}')
        # The hash indicators are in the store under the feed's source...
        rc, out, err = run(exhunt, 'ioc', '--db', db, 'list', '--type', 'sha256', '--source', 'microsoft-mstic')
        listed = {line.split('\t')[1] for line in out.splitlines()}
        check(listed == hashes, f'{len(listed)} sha256 listed, {len(hashes)} in the feed')

        vol = os.path.join(tmp, 'C')
        for r in (rel, 'Users/Public/' + name, 'Windows/Temp/unrelated.bin'):
            p = os.path.join(vol, r)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, 'w') as f:
                f.write('placeholder: the path is the indicator, not the bytes\n')
        rc, out, err = run(exhunt, 'files', '--db', db, '--host', 'EXCH-CORPUS', '-f', 'jsonl', vol)
        check(rc == 1, f'files rc {rc}: {err}')
        # ...and all of them (and the paths) are loaded into the scanner.
        rc2, total, _ = run(exhunt, 'ioc', '--db', db, 'list')
        n_total = len(total.splitlines())
        check(f'; {n_total} indicators from {db}' in err, f'summary names {n_total} indicators: {err}')
        hits = [json.loads(line) for line in out.splitlines()]
        hits = [h for h in hits if h['rule']['id'].startswith('exh.files.ioc.')]
        flagged = {os.path.relpath(h['file']['path'], vol) for h in hits}
        check(flagged == {rel}, f'only the planted shell is an indicator hit: {sorted(flagged)}')
        for h in hits:
            check(h['threat']['indicator']['provider'] == 'microsoft-mstic', h['threat'])
            check(h['threat']['indicator']['type'] == 'filepath', h['threat'])
            check(h['threat']['feed']['name'] == MSTIC, h['threat'])
            check(h['host']['name'] == 'EXCH-CORPUS', h.get('host'))

        rc, out, err = run(exhunt, 'ioc', '--db', db, 'export')
        srows = list(csv.DictReader(io.StringIO(out)))
        check(rc == 0 and len(srows) == 1, f'one sighting exported: {out}')
        if srows:
            s = srows[0]
            check(s['source'] == 'microsoft-mstic' and s['host'] == 'EXCH-CORPUS' and s['detector'] == 'files'
                  and s['location'] == os.path.join(vol, rel), s)
    print(f'corpus-filesioc: {len(hashes)} hashes loaded; {shell} flagged; {failures} failures')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
