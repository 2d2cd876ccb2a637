#!/usr/bin/env python3
"""Volexity's published list (../shared/corpus/iocs, skipped with exit 77
when absent) imported into a temporary store; an IIS log written here with
one of its addresses as the client, and a neighbour address that is not in
the list, hunted with that store: the listed client is flagged with source
volexity, the neighbour is not, and the hit is recorded as a sighting.

usage: corpus_logs_ioc.py EXHUNT SHARED_DIR
"""
import csv
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
VOLEXITY = 'volexity-exchange-marauder-indicators.csv'


def run(exhunt, env, *args):
    p = subprocess.run([exhunt, *args], capture_output=True, env=env, timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def main():
    exhunt, shared = sys.argv[1], sys.argv[2]
    feed = os.path.join(shared, 'corpus', 'iocs', VOLEXITY)
    if not os.path.isfile(feed):
        print(f'corpus-logs-ioc: {feed} not present: skipped')
        return SKIP
    rows = list(csv.DictReader(open(feed, encoding='utf-8-sig')))
    ips = {r['value'].strip() for r in rows if r['type'].strip().lower() == 'ipaddress'}
    v4 = sorted(ip for ip in ips if ':' not in ip)
    if not v4:
        print('corpus-logs-ioc: no IPv4 address in the list')
        return 1
    listed = v4[0]
    # The next address up, unless that is listed too.
    near = str(ipaddress.ip_address(listed) + 1)
    while near in ips:
        near = str(ipaddress.ip_address(near) + 1)
    tmp = tempfile.mkdtemp(prefix='exhunt-corpus-logs-ioc-')
    try:
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, 'xdg'))
        db = os.path.join(tmp, 'store.sqlite')
        rc, out, err = run(exhunt, env, 'ioc', '--db', db, 'import', feed)
        if rc != 0:
            print('import failed:', err)
            return 1
        log = os.path.join(tmp, 'W3SVC1', 'u_ex210302.log')
        os.makedirs(os.path.dirname(log))
        with open(log, 'w') as f:
            f.write('#Software: Microsoft Internet Information Services 10.0\n'
                    '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username '
                    'c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n'
                    f'2021-03-02 03:10:00 10.0.0.5 GET /owa/auth/logon.aspx - 443 - {listed} '
                    'Mozilla/5.0 - 200 0 0 15\n'
                    f'2021-03-02 03:11:00 10.0.0.5 GET /owa/auth/logon.aspx - 443 - {near} '
                    'Mozilla/5.0 - 200 0 0 15\n')
        rc, out, err = run(exhunt, env, 'logs', '--db', db, '--format', 'jsonl', log)
        recs = [json.loads(line) for line in out.splitlines() if line.strip()]
        hits = [r for r in recs if r['rule']['id'] == 'exh.logs.ioc.source_ip']
        ok = True
        if rc != 1 or [r['source']['ip'] for r in hits] != [listed]:
            print(f'expected one hit for {listed} (rc 1), got rc {rc}:', [r.get('source') for r in hits], err)
            ok = False
        elif hits[0]['threat']['indicator']['provider'] != 'volexity':
            print('provider:', hits[0]['threat']['indicator'])
            ok = False
        rc, out, err = run(exhunt, env, 'ioc', '--db', db, 'export', '--format', 'csv')
        sight = list(csv.DictReader(out.splitlines()))
        if rc != 0 or [(s['value'], s['source'], s['detector']) for s in sight] != [(listed, 'volexity', 'logs')]:
            print('sightings:', rc, sight, err)
            ok = False
        print(f'corpus-logs-ioc: {len(ips)} addresses listed; {listed} flagged, {near} not' if ok else 'FAIL')
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    sys.exit(main())
