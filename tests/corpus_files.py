#!/usr/bin/env python3
"""Conformance of `exhunt files` with the file paths Microsoft published for
the March 2021 attacks (../shared/corpus/iocs/, MSTIC feed): a volume holding
a harmless file at each published path gets a path finding on every one of
them, and a clean copy of the same folders gets none. Skips (77) without the
corpus.

usage: corpus_files.py EXHUNT SHARED_DIR
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

PATH_RULES = {'exh.files.path.published_shell_name', 'exh.files.path.opera_loader'}


def main():
    exhunt, shared = sys.argv[1:3]
    feed = os.path.join(shared, 'corpus', 'iocs',
                        'MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv')
    if not os.path.exists(feed):
        print(f'{feed} absent: skipped')
        return 77
    with open(feed, newline='') as f:
        paths = sorted({r['Indicator'] for r in csv.DictReader(f)
                        if r['IndicatorType'].lower() == 'filepath'})
    if len(paths) < 40:
        print(f'only {len(paths)} file paths in the feed')
        return 1
    tmp = tempfile.mkdtemp(prefix='exhunt-corpus-files.')
    try:
        vol = os.path.join(tmp, 'C')
        rels = []
        for p in paths:
            rel = p.split(':', 1)[1].replace('\\', '/').lstrip('/')
            full = os.path.join(vol, rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w') as f:
                f.write('placeholder\n')  # the path is the indicator, not the bytes
            rels.append(rel)
        r = subprocess.run([exhunt, 'files', '--no-iocs', '-f', 'jsonl', vol], capture_output=True, timeout=120)
        if r.returncode != 1:
            print(r.stderr.decode(errors='replace'))
            return 1
        flagged = {}
        for line in r.stdout.decode().splitlines():
            rec = json.loads(line)
            flagged.setdefault(os.path.relpath(rec['file']['path'], vol), set()).add(rec['rule']['id'])
        missed = [p for p in rels if not (flagged.get(p, set()) & PATH_RULES)]
        for p in missed:
            print('not flagged:', p, sorted(flagged.get(p, ())))
        print(f'{len(rels) - len(missed)} of {len(rels)} published paths flagged')
        # The same folders holding only standard files: nothing.
        clean = os.path.join(tmp, 'clean')
        for rel in rels:
            d = os.path.join(clean, os.path.dirname(rel))
            os.makedirs(d, exist_ok=True)
        owa = os.path.join(clean, 'Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth')
        for name in ('logon.aspx', 'logoff.aspx', 'errorFE.aspx'):
            with open(os.path.join(owa, name), 'w') as f:
                f.write('<%@ Page language="c#" %>\n')
        r2 = subprocess.run([exhunt, 'files', '--no-iocs', clean], capture_output=True, timeout=120)
        if r2.returncode != 0:
            print('clean folders gave findings:', r2.stdout.decode(errors='replace'))
            return 1
        return 1 if missed else 0
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    sys.exit(main())
