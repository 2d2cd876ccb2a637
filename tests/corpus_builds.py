#!/usr/bin/env python3
"""Conformance of `exhunt assess` with the public build and CVE tables in
../shared/corpus/facts (skipped, exit 77, when that folder is absent).

For every build of exchange-builds.csv: exhunt names the same product, CU
and update as the table, and its open-CVE list equals the one an
independent reading of cve-fixed-builds.csv gives. Every build of
HealthChecker's table is known with the same CU.

usage: corpus_builds.py EXHUNT SHARED_DIR
"""
import csv
import json
import os
import re
import subprocess
import sys

SKIP = 77


def key(b):
    return tuple(int(x) for x in b.split('.'))


def name_parts(product, name):
    """(cu, update) from a release name as Microsoft's page writes it."""
    if product == 'Exchange Server 2010':
        m = re.match(r'^(Update Rollup \d+(?: v\d)?)(?: for)? Exchange Server 2010(?: (SP\d))?', name)
        if m:
            return m.group(2) or 'RTM', m.group(1)
        m = re.match(r'^Exchange Server 2010 (SP\d|RTM)$', name)
        return m.group(1), ''
    year = product.split()[-1]
    rest = name[len('Exchange Server ' + year) + 1:].split()
    cu = rest[0]
    update = rest[1] if len(rest) > 1 and not rest[1].startswith('(') else ''
    return cu, update


def main():
    exhunt, shared = sys.argv[1], sys.argv[2]
    facts = os.path.join(shared, 'corpus', 'facts')
    if not os.path.isfile(os.path.join(facts, 'exchange-builds.csv')):
        print(f'corpus-builds: {facts} not present: skipped')
        return SKIP
    builds = list(csv.DictReader(open(os.path.join(facts, 'exchange-builds.csv'))))
    fixes = list(csv.DictReader(open(os.path.join(facts, 'cve-fixed-builds.csv'))))
    hc = list(csv.DictReader(open(os.path.join(facts, 'exchange-su-builds-healthchecker.csv'))))

    # CU order per product, from the CU rows (no update) of the build table.
    order = {}
    for b in builds:
        cu, upd = name_parts(b['product'], b['name'])
        if not upd:
            order.setdefault(b['product'], []).append((key(b['build_short']), cu))
    cu_index = {p: {cu: i for i, (_, cu) in enumerate(sorted(v))} for p, v in order.items()}

    def expected_open(product, cu, build):
        rows = [f for f in fixes if f['product'] == product]
        out = set()
        for cve in sorted({r['cve'] for r in rows}):
            fixed = None
            here = cu_index[product].get(cu)
            for r in rows:
                if r['cve'] != cve:
                    continue
                rc = r['cu_or_branch'].replace('SP1 (CU4)', 'SP1')
                plus = rc.endswith('+')
                rc = rc.rstrip('+')
                if rc == cu and not plus:
                    fixed = key(r['first_fixed_build'])
                    break
                if plus and here is not None and cu_index[product].get(rc, 1 << 30) <= here:
                    fixed = key(r['first_fixed_build'])
            if fixed is None or key(build) < fixed:
                out.add(cve)
        return out

    inputs = [b['build_short'] for b in builds] + [h['build'] for h in hc]
    p = subprocess.run([exhunt, 'assess', '--format', 'jsonl', '--as-of', '2026-11-23', '-'],
                       input='\n'.join(inputs).encode(), capture_output=True, timeout=300)
    if p.returncode not in (0, 1):
        print(p.stderr.decode()[:2000])
        print('corpus-builds: 0 passed, 1 failed')
        return 1
    state = {}
    for line in p.stdout.decode().splitlines():
        j = json.loads(line)
        if j['event']['kind'] == 'state':
            state[j['exhunt']['input']] = j

    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            if failed <= 30:
                print('FAIL:', what)

    for b in builds:
        s = state.get(b['build_short'])
        check(s is not None, f"{b['build_short']}: no result")
        if not s:
            continue
        x = s['exhunt']
        cu, upd = name_parts(b['product'], b['name'])
        check(x['product'] == b['product'], f"{b['build_short']}: product {x['product']} != {b['product']}")
        check(x['cu'] == cu, f"{b['build_short']}: cu {x['cu']} != {cu}")
        check(x['update'] == upd, f"{b['build_short']}: update {x['update']!r} != {upd!r}")
        check(x['known_build'] and x['release']['name'] == b['name'],
              f"{b['build_short']}: release {x.get('release')} != {b['name']}")
        want = expected_open(b['product'], cu, b['build_short'])
        got = set(s['vulnerability']['id'])
        check(got == want, f"{b['build_short']} ({b['name']}): extra {sorted(got - want)}, missing {sorted(want - got)}")
        check(x['update_level'] == ('unpatched' if want else 'none_open'),
              f"{b['build_short']}: level {x['update_level']}")
    for h in hc:
        s = state.get(h['build'])
        want_cu = 'SP1' if (h['product'], h['cu']) == ('Exchange Server 2013', 'CU4') else h['cu']
        check(s is not None and s['exhunt']['known_build'] and s['exhunt']['cu'] == want_cu
              and s['exhunt']['product'] == h['product'],
              f"HealthChecker {h['build']} ({h['product']} {h['cu']} {h['su_name']}): {s and s['exhunt'].get('cu')}")
    print(f'corpus-builds: {len(builds)} builds of Microsoft\'s table, {len(hc)} of HealthChecker\'s')
    print(f'corpus-builds: {passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
