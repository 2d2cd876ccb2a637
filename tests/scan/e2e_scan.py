#!/usr/bin/env python3
"""End-to-end tests of `exhunt scan` against the emulated fleet (exhunt-fleet).

usage: e2e_scan.py EXHUNT FLEET

Everything runs inside a private network namespace (unshare -n) holding only
a loopback interface, so no packet can leave the machine whatever the
scanner does. Where namespaces are not allowed the test is skipped (77).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmdb  # noqa: E402  (a tiny MaxMind DB writer for --geoip)

SKIP = 77
failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print(f'FAIL: {what}', file=sys.stderr)


def reexec_in_netns():
    try:
        probe = subprocess.run(['unshare', '-n', 'true'], capture_output=True)
    except FileNotFoundError:
        print('skip: unshare not found', file=sys.stderr)
        return SKIP
    if probe.returncode != 0:
        print('skip: cannot create a network namespace here: ' + probe.stderr.decode(errors='replace'),
              file=sys.stderr)
        return SKIP
    env = dict(os.environ, EXHUNT_IN_NETNS='1')
    return subprocess.run(['unshare', '-n', '--', sys.executable, __file__] + sys.argv[1:],
                          env=env).returncode


def records(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            check(line.endswith('\n'), f'{path}: line {n} is complete')
            out.append(json.loads(line))
    return out


class Env:
    def __init__(self, exhunt, fleet, tmp):
        self.exhunt, self.fleet, self.tmp = exhunt, fleet, tmp
        port_file = os.path.join(tmp, 'port')
        # Slow hosts answer after 20 s; the scans below time out after 3 s
        # (generous: the machine may be busy with other builds).
        self.proc = subprocess.Popen([fleet, 'serve', port_file, '20000'])
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().endswith('\n'):
                break
            time.sleep(0.05)
        self.port = open(port_file).read().strip()

    def scan(self, *args, stdin=None, check_rc=None):
        cmd = [self.exhunt, 'scan', '-p', self.port, '--allow', '127.0.0.0/8', '--only', '127.0.0.0/8',
               '--timeout', '3', *args]
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
        if check_rc is not None:
            check(r.returncode == check_rc, f'{" ".join(args)}: exit {r.returncode}, expected {check_rc}: '
                                            f'{r.stderr.strip()[-400:]}')
        return r

    def truth(self, cidr):
        r = subprocess.run([self.fleet, 'truth', cidr], capture_output=True, text=True, check=True)
        return {o['ip']: o for o in map(json.loads, r.stdout.splitlines())}

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def test_fleet(env):
    """Every host's build, precision, level, ProxyLogon level and probe result."""
    cidr = '127.1.0.0/21'
    truth = env.truth(cidr)
    out = os.path.join(env.tmp, 'fleet.jsonl')
    env.geodb = os.path.join(env.tmp, 'geo.mmdb')
    mmdb.write_ipv4_db(env.geodb, (127 << 24) | (1 << 16), 16,
                       {'country': {'iso_code': 'NL'}, 'autonomous_system_number': 64500,
                        'autonomous_system_organization': 'Example Fleet AS'})
    # One retry: a connection lost to a busy machine is tried again, as in real use.
    r = env.scan('--probe', 'proxylogon', '--retries', '1', '--concurrency', '256', '--summary',
                 '--contact', 'https://cert.example/scan', '--geoip', env.geodb, '-o', out, cidr, check_rc=1)
    got = {o['ip']: o for o in records(out)}
    check(len(got) == len(truth), f'fleet: {len(got)} hosts reported, {len(truth)} in the fleet')
    wrong = {}
    for ip, t in truth.items():
        o = got.get(ip)
        if o is None:
            wrong.setdefault(t['profile'], f'{ip} missing')
            continue
        probe = o.get('probe', {}).get('proxylogon', 'not_run')
        if o.get('geo') != {'country': 'NL', 'asn': 64500, 'as_org': 'Example Fleet AS'}:
            wrong.setdefault('geo', f'{ip}: geo {o.get("geo")}')
        fields = [('status', o['status'], t['status']), ('is_exchange', o['is_exchange'], t['is_exchange']),
                  ('build', o.get('build'), t['build']), ('precision', o.get('precision'), t['precision']),
                  ('level', o.get('level'), t['level']), ('proxylogon', o.get('proxylogon'), t['proxylogon']),
                  ('probe', probe, t['probe'])]
        for name, a, b in fields:
            if a != b:
                wrong.setdefault(t['profile'], f'{ip}: {name} {a!r}, expected {b!r}: {json.dumps(o)[:600]}')
        if t['is_exchange']:
            if 'mail.fleet.test' not in o.get('tls', {}).get('subject', ''):
                wrong.setdefault(t['profile'], f'{ip}: TLS subject {o.get("tls")}')
            if not o.get('tls', {}).get('not_after', '').endswith('Z'):
                wrong.setdefault(t['profile'], f'{ip}: TLS not_after {o.get("tls")}')
        if t['profile'] == 'redirect-to-online':
            if 'login.microsoftonline.com' not in o.get('http', {}).get('redirect', '') or \
                    not o['http'].get('redirect_m365'):
                wrong.setdefault(t['profile'], f'{ip}: redirect not reported: {o}')
        if t['profile'] == 'e2019-cu8-path' and 'CVE-2021-26855' not in o.get('open_cves_without_update', []):
            wrong.setdefault(t['profile'], f'{ip}: open CVEs without update lack CVE-2021-26855')
        if t['profile'] == 'e2016-cu19-mar21su-manifest' and (
                o.get('update') != 'Mar21SU' or 'CVE-2021-26855' in o.get('open_cves', [])):
            wrong.setdefault(t['profile'], f'{ip}: exact build update/open CVEs wrong: {o}')
    for profile, msg in sorted(wrong.items()):
        check(False, f'fleet profile {profile}: {msg}')
    check(len({t['profile'] for t in truth.values()}) >= 19, 'every fleet profile appears in the range')
    check('exposed hosts by country:' in r.stderr and 'AS64500 Example Fleet AS' in r.stderr,
          f'--summary with --geoip counts by country and AS: {r.stderr[-800:]}')
    check('by level:' in r.stderr and 'undetermined' in r.stderr and 'Exchange Server 2016 CU19' in r.stderr,
          f'--summary counts by level and CU: {r.stderr[-800:]}')
    return out


def test_shards(env):
    """Shards 0..3 cover every host exactly once, the same way every time."""
    cidr = '127.2.0.0/23'
    seen = []
    sets = []
    for i in range(4):
        # A short timeout: coverage is what counts here, not the answers.
        r = env.scan('--seed', '5', '--shard', f'{i}/4', '--retries', '0', '--timeout', '0.5', cidr)
        ips = [json.loads(l)['ip'] for l in r.stdout.splitlines()]
        sets.append(set(ips))
        seen += ips
        check(len(ips) > 0, f'shard {i}/4 is not empty')
    check(len(seen) == 512 and len(set(seen)) == 512, f'shards: {len(seen)} reports, {len(set(seen))} distinct, want 512')
    again = env.scan('--seed', '5', '--shard', '1/4', '--retries', '0', '--timeout', '0.5', cidr)
    check({json.loads(l)['ip'] for l in again.stdout.splitlines()} == sets[1], 'shard 1/4 is the same on a rerun')
    other = env.scan('--seed', '6', '--shard', '1/4', '--retries', '0', '--timeout', '0.5', cidr)
    check({json.loads(l)['ip'] for l in other.stdout.splitlines()} != sets[1], 'another seed splits differently')


def test_resume(env):
    """kill -9 mid-scan, then the same command: every host once."""
    cidr = '127.3.0.0/22'
    out = os.path.join(env.tmp, 'resume.jsonl')
    log = os.path.join(env.tmp, 'resume.log')
    args = [env.exhunt, 'scan', '-p', env.port, '--allow', '127.0.0.0/8', '--only', '127.0.0.0/8',
            '--timeout', '3', '--retries', '0', '--rate', '400', '--seed', '3', '-o', out, '--resume', log, cidr]
    p = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    # Kill it once a fair part is written (not a timing assertion: we wait for output).
    for _ in range(600):
        if os.path.exists(out) and sum(1 for _ in open(out)) >= 200:
            break
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    first = sum(1 for _ in open(out))
    check(0 < first < 1024, f'resume: the first run was killed part way ({first} of 1024 lines)')
    r = subprocess.run(args, capture_output=True, text=True)
    check(r.returncode in (0, 1), f'resume: second run exit {r.returncode}: {r.stderr[-300:]}')
    check('resuming' in r.stderr, 'resume: the second run says it resumes')
    ips = [o['ip'] for o in records(out)]
    check(len(ips) == 1024 and len(set(ips)) == 1024,
          f'resume: {len(ips)} reports, {len(set(ips))} distinct, want 1024 each')
    # A third run has nothing left to do and adds nothing.
    r = subprocess.run(args, capture_output=True, text=True)
    check(sum(1 for _ in open(out)) == 1024, 'resume: a finished scan adds nothing when run again')
    # Another scan must not continue this log.
    bad = args[:]
    bad[bad.index('--seed') + 1] = '4'
    r = subprocess.run(bad, capture_output=True, text=True)
    check(r.returncode == 2 and 'another scan' in r.stderr, f'resume: a log of another scan is refused: {r.stderr}')


def test_diff(env, fleet_out):
    old = os.path.join(env.tmp, 'old.jsonl')
    new = os.path.join(env.tmp, 'new.jsonl')

    def rec(ip, exposed, status='success', exch=True, build='15.1.2176'):
        return json.dumps({'ip': ip, 'port': 443, 'status': status, 'is_exchange': exch, 'build': build,
                           'exposed': exposed}) + '\n'
    with open(old, 'w') as f:
        f.write(rec('192.0.2.1', True) + rec('192.0.2.2', True) + rec('192.0.2.3', True) +
                rec('192.0.2.4', False) + rec('192.0.2.5', True) + rec('192.0.2.6', True))
    with open(new, 'w') as f:
        f.write(rec('192.0.2.1', False, build='15.1.2176.9') + rec('192.0.2.2', True) +
                rec('192.0.2.4', True) + rec('192.0.2.5', False, status='error', exch=False) +
                rec('192.0.2.7', True) + rec('192.0.2.6', False, exch=False))
    r = subprocess.run([env.exhunt, 'scan', 'diff', old, new], capture_output=True, text=True)
    check(r.returncode == 1, f'diff: exit 1 when hosts stay exposed, got {r.returncode}')
    for line in ('fixed:          1', 'still exposed:  1', 'newly exposed:  2', 'gone:           3'):
        check(line in r.stdout, f'diff: "{line}" in {r.stdout!r}')
    r = subprocess.run([env.exhunt, 'scan', 'diff', '--list', old, new], capture_output=True, text=True)
    changes = {o['ip']: o['change'] for o in map(json.loads, r.stdout.splitlines())}
    check(changes == {'192.0.2.1': 'fixed', '192.0.2.2': 'still_exposed', '192.0.2.3': 'gone',
                      '192.0.2.4': 'newly_exposed', '192.0.2.5': 'gone', '192.0.2.6': 'gone',
                      '192.0.2.7': 'newly_exposed'}, f'diff --list: {changes}')
    # A scan against itself: everything exposed stays exposed.
    r = subprocess.run([env.exhunt, 'scan', 'diff', fleet_out, fleet_out], capture_output=True, text=True)
    exposed = sum(1 for o in records(fleet_out) if o['exposed'])
    check(f'still exposed:  {exposed}\n' in r.stdout and exposed > 0, f'diff of a scan with itself: {r.stdout}')
    with open(new, 'w') as f:
        f.write('not json\n')
    r = subprocess.run([env.exhunt, 'scan', 'diff', old, new], capture_output=True, text=True)
    check(r.returncode == 2 and 'line 1' in r.stderr, f'diff: a broken file is an error naming the line: {r.stderr}')


def test_policy(env):
    """The blocklist stays in force: only what --allow names is scanned."""
    port = env.port
    r = subprocess.run([env.exhunt, 'scan', '-p', port, '--timeout', '1', '127.1.0.1'], capture_output=True, text=True)
    check(r.returncode == 2 and 'refused' in r.stderr, f'policy: loopback without --allow is refused: {r.stderr}')
    r = env.scan('192.0.2.1', '10.1.2.3', '8.8.8.8', '2001:db8::1')
    check(r.returncode == 2 and 'refused' in r.stderr and r.stdout == '',
          f'policy: addresses outside --only are refused before any packet: {r.stderr}')
    # A name resolves to a blocked address: refused when connecting.
    r = subprocess.run([env.exhunt, 'scan', '-p', port, '--timeout', '1', '--only', '127.0.0.0/8', 'localhost'],
                       capture_output=True, text=True)
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    check(len(recs) == 1 and recs[0]['status'] == 'blocked', f'policy: localhost refused at connect: {r.stdout}')
    # A mix: the allowed part is scanned, the rest skipped and counted.
    r = subprocess.run([env.exhunt, 'scan', '-p', port, '--timeout', '1', '--allow', '127.4.0.0/30',
                        '--only', '127.0.0.0/8', '127.4.0.0/29'], capture_output=True, text=True)
    ips = sorted(json.loads(l)['ip'] for l in r.stdout.splitlines())
    check(ips == ['127.4.0.0', '127.4.0.1', '127.4.0.2', '127.4.0.3'], f'policy: only --allow part scanned: {ips}')
    check('4 refused by the blocklist' in r.stderr, f'policy: refused targets counted: {r.stderr}')


def test_inputs(env):
    """zgrab2 CSV (DOMAIN as SNI and Host), masscan lists, files, stdin."""
    truth = env.truth('127.5.0.0/24')
    ip = next(i for i, t in truth.items() if t['profile'] == 'e2016-cu19-mar21su-manifest')
    ip2 = next(i for i, t in truth.items() if t['profile'] == 'e2019-cu8-path')
    ip3 = next(i for i, t in truth.items() if t['profile'] == 'nginx')
    lines = (f'{ip},mail.fleet.test,nl-cert,{env.port}\n'
             f'open tcp {env.port} {ip2} 1700000000\n'
             f'# a comment\n'
             f'Discovered open port {env.port}/tcp on {ip3}\n')
    r = env.scan('--geoip', env.geodb, '-', stdin=lines)
    recs = {o['ip']: o for o in map(json.loads, r.stdout.splitlines())}
    check(all('geo' not in o for o in recs.values()), 'geoip: addresses outside the database get no geo')
    bad = os.path.join(env.tmp, 'bad.mmdb')
    with open(bad, 'wb') as f:
        f.write(b'not a database')
    r2 = env.scan('--geoip', bad, '127.5.0.1')
    check(r2.returncode == 2 and '--geoip' in r2.stderr, f'geoip: a broken database is an error: {r2.stderr}')
    check(set(recs) == {ip, ip2, ip3}, f'inputs: three hosts from three formats: {sorted(recs)}')
    o = recs.get(ip, {})
    check(o.get('domain') == 'mail.fleet.test' and o.get('tag') == 'nl-cert' and o.get('build') == '15.1.2176.9',
          f'inputs: zgrab2 line keeps domain, tag and finds the build: {o}')
    check(recs.get(ip2, {}).get('build') == '15.2.792', 'inputs: masscan -oL line scanned')
    path = os.path.join(env.tmp, 'targets.txt')
    with open(path, 'w') as f:
        f.write(f'{ip2}\n')
    r = env.scan('-f', path)
    check(json.loads(r.stdout.splitlines()[0])['ip'] == ip2 if r.stdout else False, 'inputs: -f FILE')
    r = env.scan('-', stdin='127.5.0.1\nnot a target line at all\n')
    check(r.returncode == 2 and 'stdin: line 2' in r.stderr, f'inputs: a bad line is named: {r.stderr}')


def test_plain_http(env):
    """--http: the same requests over plain HTTP, and no TLS fields."""
    port_file = os.path.join(env.tmp, 'plain-port')
    proc = subprocess.Popen([env.fleet, 'serve', port_file, '20000', 'plain'])
    try:
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().endswith('\n'):
                break
            time.sleep(0.05)
        port = open(port_file).read().strip()
        truth = env.truth('127.7.0.0/24')
        want = {t['profile']: ip for ip, t in reversed(list(truth.items()))}
        ips = [want['e2016-cu19-mar21su-manifest'], want['e2019-cu8-path'], want['nginx']]
        r = subprocess.run([env.exhunt, 'scan', '--http', '-p', port, '--allow', '127.0.0.0/8', '--only',
                            '127.0.0.0/8', '--timeout', '3', *ips], capture_output=True, text=True)
        recs = {o['ip']: o for o in map(json.loads, r.stdout.splitlines())}
        check(recs.get(ips[0], {}).get('build') == '15.1.2176.9' and recs.get(ips[1], {}).get('build') == '15.2.792'
              and recs.get(ips[2], {}).get('is_exchange') is False, f'--http: builds over plain HTTP: {recs}')
        check(all('tls' not in o for o in recs.values()), '--http: no TLS fields')
    finally:
        proc.terminate()
        proc.wait()


def test_rate(env):
    """--rate N starts at most N hosts per second: 30 hosts at 20/s take 1.45 s or more."""
    t0 = time.monotonic()
    r = env.scan('--rate', '20', '--retries', '0', '127.6.0.0/27')
    elapsed = time.monotonic() - t0
    n = len(r.stdout.splitlines())
    check(n == 32, f'rate: 32 hosts reported, got {n}')
    check(elapsed >= 31 / 20 - 0.1, f'rate: 32 hosts at 20/s took {elapsed:.2f}s, less than the limit allows')


def main():
    if os.environ.get('EXHUNT_IN_NETNS') != '1':
        return reexec_in_netns()
    exhunt, fleet = sys.argv[1], sys.argv[2]
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = Env(exhunt, fleet, tmp)
        try:
            t0 = time.monotonic()
            fleet_out = test_fleet(env)
            for test in (test_shards, test_resume, lambda e: test_diff(e, fleet_out), test_policy,
                         test_inputs, test_plain_http, test_rate):
                print(f'{time.monotonic() - t0:6.1f}s', file=sys.stderr)
                test(env)
        finally:
            env.close()
    print(f'{checks - failures} passed, {failures} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
