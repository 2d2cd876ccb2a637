#!/usr/bin/env python3
"""Conformance of `exhunt logs` with the public log samples in
../shared/corpus/logs (skipped, exit 77, when that folder is absent), with
the expectations of its SOURCE.md:
  - no ProxyLogon/ProxyShell finding in any qazeer HttpProxy/ECP file;
  - exactly one web shell access in the qazeer IIS example (aKdMadOeT.aspx, 200);
  - the wazuh rows give CVE-2021-26855 and CVE-2021-27065;
  - the elastic 74-field row parses to DateTime 2024-01-24T15:26:47.957Z,
    UrlStem /mapi/emsmdb/, HttpStatus 200 (checked through --iocs on its
    client address, which makes exhunt report the parsed fields).

usage: corpus_logs.py EXHUNT SHARED_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77


def findings(exhunt, *args):
    p = subprocess.run([exhunt, 'logs', '--format', 'jsonl', *args], capture_output=True, timeout=300)
    if p.returncode not in (0, 1):
        sys.exit('exhunt logs failed (%d): %s' % (p.returncode, p.stderr.decode()[:2000]))
    return [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]


def main():
    exhunt, shared = sys.argv[1], sys.argv[2]
    logs = os.path.join(shared, 'corpus', 'logs')
    if not os.path.isdir(logs):
        print('corpus_logs: %s absent, skipped' % logs)
        return SKIP
    failed = 0

    def check(cond, what):
        nonlocal failed
        print(('ok   ' if cond else 'FAIL ') + what)
        failed += not cond

    q = os.path.join(logs, 'qazeer')
    recs = [r for r in findings(exhunt, q) if r['rule']['id'] != 'exh.logs.coverage']
    exploit = [r for r in recs if r['rule']['id'].startswith(('exh.logs.proxylogon', 'exh.logs.proxyshell',
                                                               'exh.logs.proxynotshell'))]
    check(not exploit, 'qazeer HttpProxy/ECP files: no ProxyLogon/ProxyShell finding (%d)' % len(exploit))
    ws = [r for r in recs if r['rule']['id'] == 'exh.logs.webshell.iis_access']
    check(len(ws) == 1 and ws[0]['url']['path'] == '/owa/auth/aKdMadOeT.aspx'
          and ws[0]['exhunt']['outcome'] == 'exploited' and ws[0]['url']['query'] == 'cmd=whoami',
          'qazeer IIS example: one web shell access, /owa/auth/aKdMadOeT.aspx cmd=whoami, 200')
    check(len(recs) == 1, 'qazeer: nothing else (%s)' % [r['rule']['id'] for r in recs])

    w = os.path.join(logs, 'wazuh')
    recs = findings(exhunt, w)
    cves = {c for r in recs for c in (r.get('vulnerability') or {}).get('id', [])}
    check('CVE-2021-26855' in cves, 'wazuh rows: CVE-2021-26855')
    check('CVE-2021-27065' in cves, 'wazuh rows: CVE-2021-27065')
    s = [r for r in recs if r['rule']['id'] == 'exh.logs.proxylogon.cve_2021_26855']
    check(len(s) == 1 and s[0]['url']['path'] == '/ecp/lkO.js'
          and s[0]['exhunt']['anchor_mailbox'].startswith('ServerInfo~Admin@WIN-03FGEGKLSPR:444/ecp/DDI/'),
          'wazuh 2013 row (no #Fields): UrlStem and AnchorMailbox bound')

    e = os.path.join(logs, 'elastic')
    with tempfile.NamedTemporaryFile('w', suffix='.csv', delete=False) as f:
        f.write('type,value\nip,10.12.13.14\n')
        iocs = f.name
    try:
        recs = [r for r in findings(exhunt, '--iocs', iocs, e) if r['rule']['id'] == 'exh.logs.ioc.source_ip']
    finally:
        os.unlink(iocs)
    ok = (len(recs) == 1 and recs[0]['@timestamp'] == '2024-01-24T15:26:47.957Z'
          and recs[0]['url']['path'] == '/mapi/emsmdb/'
          and recs[0]['http']['response']['status_code'] == '200')
    check(ok, 'elastic 74-field row: DateTime, UrlStem, HttpStatus as in SOURCE.md')
    print('corpus_logs: %d failed' % failed)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
