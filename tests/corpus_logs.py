#!/usr/bin/env python3
"""Conformance of `exhunt logs` with the public log samples in
../shared/corpus/logs (skipped, exit 77, when that folder is absent), with
the expectations of its SOURCE.md:
  - no ProxyLogon/ProxyShell finding in any qazeer HttpProxy/ECP file;
  - exactly one web shell access in the qazeer IIS example (aKdMadOeT.aspx, 200);
  - the wazuh rows give CVE-2021-26855 and CVE-2021-27065;
  - ../shared/corpus/evtx reads without error and yields the web shell process
    chains (w3wp.exe -> cmd.exe, w3wp.exe -> powershell.exe), the transport agent
    install (MSExchange Management 6) and the Exchange group changes (Security 4756);
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


# No indicator store but the one a test names: the user's is not ours.
NO_STORE = dict(os.environ, XDG_DATA_HOME=os.path.join(tempfile.gettempdir(), 'exhunt-corpus-logs-no-store'))


def findings(exhunt, *args):
    p = subprocess.run([exhunt, 'logs', '--format', 'jsonl', *args], capture_output=True, timeout=300, env=NO_STORE)
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
    check(any(r['rule']['id'] == 'exh.logs.proxylogon.forged_backend_cookie' for r in recs),
          'wazuh 2013 row: TargetServerVersion 41.42.31996.000 is no real build')
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
    ev = os.path.join(shared, 'corpus', 'evtx')
    if os.path.isdir(ev):
        p = subprocess.run([exhunt, 'logs', '--format', 'jsonl', ev], capture_output=True, timeout=300, env=NO_STORE)
        check(p.returncode == 1 and not p.stderr, 'evtx folder: read without error (exit %d, %r)'
              % (p.returncode, p.stderr.decode()[:300]))
        recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
        chains = {(r['process']['parent']['executable'].split('\\')[-1].lower(),
                   r['process']['executable'].split('\\')[-1].lower())
                  for r in recs if r['rule']['id'] == 'exh.logs.evtx.webshell_process'}
        check(chains == {('w3wp.exe', 'cmd.exe'), ('w3wp.exe', 'powershell.exe')},
              'evtx: web shell process chains w3wp -> cmd, w3wp -> powershell (%s)' % sorted(chains))
        check(any(r['rule']['id'] == 'exh.logs.evtx.transport_agent_install' for r in recs),
              'evtx: transport agent install (MSExchange Management 6)')
        groups = {r['group']['name'] for r in recs if r['rule']['id'] == 'exh.logs.evtx.exchange_group_member_added'}
        check('Organization Management' in groups, 'evtx: Organization Management member added (4756)')
        cov = [r for r in recs if r['rule']['id'] == 'exh.logs.coverage' and r['exhunt']['log_kind'] == 'evtx']
        check(len(cov) == 1 and cov[0]['exhunt']['files'] == '9', 'evtx: 9 event logs read')
    print('corpus_logs: %d failed' % failed)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
