#!/usr/bin/env python3
"""End-to-end tests of `exhunt ioc`: import, list, stats, export, exit
statuses and errors, a kill -9 during an import, and `pull` against a local
HTTPS server on 127.0.0.1 (port 0, a self-signed certificate made with
openssl for this run): ETag gives 304 the second time, Last-Modified too,
5xx is retried, 404 and a bad certificate fail clearly, a broken body
imports nothing and keeps the old validators.

usage: e2e_ioc.py EXHUNT FIXTURES
"""
import http.server
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

EXHUNT, FIXTURES = sys.argv[1], sys.argv[2]
IOC = os.path.join(FIXTURES, 'ioc')
failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print(f'FAIL: {what}', file=sys.stderr)


def run(*args, env=None):
    p = subprocess.run([EXHUNT, 'ioc', *args], capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def cli_tests(tmp):
    db = os.path.join(tmp, 'cli.sqlite')
    rc, out, err = run('--db', db, 'import', os.path.join(IOC, 'plain.csv'),
                       os.path.join(IOC, 'bundle.stix.json'), os.path.join(IOC, 'event.misp.json'))
    check(rc == 0, f'import rc {rc}: {err}')
    check('plain.csv: csv: 10 indicators (10 new, 0 updated, 0 unchanged), 2 skipped' in out, out)
    check('bundle.stix.json: stix: 8 indicators' in out, out)
    check('event.misp.json: misp: 8 indicators (8 new' in out and '4 skipped' in out, out)  # 999.1.1.1 too
    check('first skipped: line 13: not a valid sha256' in out, out)
    rc, out, err = run('import', '--db', db, os.path.join(IOC, 'plain.csv'))
    check(rc == 0 and '(0 new, 0 updated, 10 unchanged)' in out, f're-import: {out}')

    rc, out, err = run('--db', db, 'list', '--type', 'sha256')
    check(rc == 0, f'list rc {rc}')
    rows = [l.split('\t') for l in out.splitlines()]
    check(len(rows) == 3, f'3 sha256 rows: {out}')
    check(['sha256', 'b67a11f17434f5ee501cc1d2acab2da14ae8dfc5a27dc00bbd7652425d5c3d23', 'cisa', 'HAFNIUM',
           '2021-03-19', '90'] in rows, out)
    rc, out, err = run('--db', db, 'list', '--actor', 'HAFNIUM', '--format', 'jsonl')
    objs = [json.loads(l) for l in out.splitlines()]
    check(rc == 0 and len(objs) >= 5 and all(o['actor'] == 'HAFNIUM' for o in objs), out)
    rc, out, err = run('--db', db, 'list', '--source', 'nobody')
    check(rc == 1 and out == '', f'empty list exits 1: {rc}')
    rc, out, err = run('--db', db, 'list', '--type', 'registry')
    check(rc == 2 and '--type takes' in err, err)

    # lookup: the type guessed from the value; hits print source and actor; exit 1 on a hit.
    rc, out, err = run('--db', db, 'lookup', 'B67A11F17434F5EE501CC1D2ACAB2DA14AE8DFC5A27DC00BBD7652425D5C3D23',
                       '/mnt/img/inetpub/wwwroot/aspnet_client/system_web/discover.aspx', '203.0.113.8')
    rows = [l.split('\t') for l in out.splitlines()]
    check(rc == 1, f'lookup with hits exits 1: {rc} {err}')
    check(['B67A11F17434F5EE501CC1D2ACAB2DA14AE8DFC5A27DC00BBD7652425D5C3D23', 'sha256', 'cisa', 'HAFNIUM',
           'AR21-084A'] in rows, out)
    check(sum(r[1] == 'filename' for r in rows) == 2, f'discover.aspx by name from two sources: {out}')
    check(not any(r[0] == '203.0.113.8' for r in rows), 'near-miss IP not found')
    p = subprocess.run([EXHUNT, 'ioc', '--db', db, 'lookup', '-t', 'domain', '-'], input='YUUUUU44[.]com\nexample.org\n',
                       capture_output=True, text=True)
    check(p.returncode == 1 and p.stdout.startswith('YUUUUU44[.]com\tdomain\tExample ISAC\tHAFNIUM'), p.stdout)
    rc, out, err = run('--db', db, 'lookup', '/owa/auth/supp0rt.aspx')
    check(rc == 1 and out.split('\t')[:3] == ['/owa/auth/supp0rt.aspx', 'name of /program files/microsoft/exchange '
          'server/v15/frontend/httpproxy/owa/auth/supp0rt.aspx', 'analyst-notes'], f'by name: {out!r}')
    rc, out, err = run('--db', db, 'lookup', '198.51.100.1', 'clean.example.org')
    check(rc == 0 and out == '', f'no hit exits 0: {rc} {out}')

    rc, out, err = run('--db', db, 'stats')
    check(rc == 0, f'stats rc {rc}')
    check('per source:' in out and 'per type:' in out and 'per actor:' in out, out)
    check(any(l.split() == ['8', 'Example', 'ISAC'] for l in out.splitlines()), out)
    check(any(l.split() == ['3', 'sha256'] for l in out.splitlines()), out)

    rc, out, err = run('--db', db, 'export')
    check(rc == 0 and out.startswith('type,value,source,actor,'), f'export: {out}')
    rc, out, err = run('--db', db, 'export', '--format', 'stix')
    check(rc == 0 and json.loads(out)['type'] == 'bundle', 'stix export is a bundle')
    rc, out, err = run('--db', db, 'export', '--format', 'xml')
    check(rc == 2 and 'csv or stix' in err, err)

    # Errors: a missing file, a broken file (named with its line), the rest still imported.
    broken = os.path.join(tmp, 'broken.csv')
    with open(broken, 'w') as f:
        f.write('type,value\nipv4,192.0.2.1\nipv4,"192.0.2.2\n')
    rc, out, err = run('--db', db, 'import', os.path.join(tmp, 'nope.csv'), broken,
                       os.path.join(IOC, 'plain.csv'))
    check(rc == 2, f'errors exit 2: {rc}')
    check('nope.csv: cannot open' in err, err)
    check('broken.csv: line 3: quoted field not closed' in err and 'nothing imported' in err, err)
    check('plain.csv: csv:' in out, out)
    rc, out, err = run('--db', db, 'list', '--type', 'ipv4', '--source', 'broken.csv')
    check(rc == 1, 'nothing of broken.csv imported')
    p = subprocess.run([EXHUNT, 'ioc', '--db', db, 'import', '--source', 'pasted', '-'],
                       input='type,value\nipv4,192.0.2.99\n', capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout.startswith('stdin: csv: 1 indicators (1 new'), f'stdin: {p.stdout} {p.stderr}')
    rc, out, err = run('--db', db, 'lookup', '192.0.2.99')
    check(rc == 1 and '\tpasted\t' in out, out)
    rc, out, err = run('--db', db, 'frobnicate')
    check(rc == 2 and 'unknown command' in err, err)
    rc, out, err = run()
    check(rc == 2 and 'no command' in err, err)
    rc, out, err = run('--help')
    check(rc == 0 and 'usage: exhunt ioc' in out and 'Exit status' in out, 'help')
    # A terminal-driving value is printed escaped.
    evil = os.path.join(tmp, 'evil.csv')
    with open(evil, 'w') as f:
        f.write('type,value,source\nuser-agent,x,"src\x1b]0;owned\x07"\n')
    rc, out, err = run('--db', db, 'import', evil)
    rc, out, err = run('--db', db, 'list', '--type', 'user-agent')
    check('\x1b' not in out and '\\x1b' in out, f'escaped: {out!r}')

    # The default store lives under XDG_DATA_HOME; read-only commands do not create it.
    env = dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, 'xdg'))
    rc, out, err = run('stats', env=env)
    check(rc == 2 and 'import indicators first' in err, f'no store yet: {err}')
    check(not os.path.exists(os.path.join(tmp, 'xdg', 'exhunt', 'iocs.sqlite')), 'stats created no store')
    rc, out, err = run('import', os.path.join(IOC, 'plain.csv'), env=env)
    check(rc == 0 and os.path.isfile(os.path.join(tmp, 'xdg', 'exhunt', 'iocs.sqlite')), 'default store')


def kill_test(tmp):
    """kill -9 while the import's transaction is open: the store keeps its rows."""
    db = os.path.join(tmp, 'kill.sqlite')
    rc, out, err = run('--db', db, 'import', os.path.join(IOC, 'plain.csv'))
    check(rc == 0, 'seed import')
    big = os.path.join(tmp, 'big.csv')
    n = 400000
    with open(big, 'w') as f:
        f.write('type,value,source\n')
        for k in range(n):
            f.write(f'ipv4,10.{k >> 16}.{(k >> 8) & 255}.{k & 255},bulk\n')
    journal = db + '-journal'
    p = subprocess.Popen([EXHUNT, 'ioc', '--db', db, 'import', big], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not os.path.exists(journal) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    killed = p.poll() is None
    p.send_signal(signal.SIGKILL)
    p.wait()
    check(killed, 'the import was still running when killed (journal seen)')
    rc, out, err = run('--db', db, 'stats')
    check(rc == 0 and 'bulk' not in out, f'killed import left nothing: {out}')
    rc, out, err = run('--db', db, 'list')
    check(rc == 0 and len(out.splitlines()) == 10, f'previous rows intact: {len(out.splitlines())}')
    rc, out, err = run('--db', db, 'import', big)
    check(rc == 0 and f'{n} indicators ({n} new' in out, f'the same import, not killed: {out} {err}')


class Handler(http.server.BaseHTTPRequestHandler):
    counts = {}
    seen_headers = {}
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def send(self, status, body=b'', headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        path = self.path
        Handler.counts[path] = Handler.counts.get(path, 0) + 1
        Handler.seen_headers.setdefault(path, []).append(
            (self.headers.get('If-None-Match'), self.headers.get('If-Modified-Since')))
        feed = b'type,value,actor\nsha256,2e1eb00575e1a8f6c95a23c87b05e23eb4718557f787aa905bb000e98b31c5f0,HAFNIUM\n'
        if path == '/feed.csv':
            if self.headers.get('If-None-Match') == '"v1"':
                return self.send(304, headers=[('ETag', '"v1"')])
            return self.send(200, feed, [('ETag', '"v1"'), ('Content-Type', 'text/csv')])
        if path == '/dated.csv':
            lm = 'Wed, 03 Mar 2021 10:00:00 GMT'
            if self.headers.get('If-Modified-Since') == lm:
                return self.send(304)
            return self.send(200, feed, [('Last-Modified', lm)])
        if path == '/flaky.stix.json':
            if Handler.counts[path] <= 2:
                return self.send(503, b'busy')
            with open(os.path.join(IOC, 'bundle.stix.json'), 'rb') as f:
                return self.send(200, f.read())
        if path == '/broken.json':
            if Handler.counts[path] == 1:
                return self.send(200, feed, [('ETag', '"b1"')])
            return self.send(200, b'{"type": "bundle", "objects": [', [('ETag', '"b2"')])
        return self.send(404, b'no such feed')


def pull_tests(tmp):
    if not shutil.which('openssl'):
        print('e2e-ioc: openssl not found: pull tests skipped')
        return
    key, cert = os.path.join(tmp, 'key.pem'), os.path.join(tmp, 'cert.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1'], check=True, capture_output=True)
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f'https://127.0.0.1:{srv.server_address[1]}'
    db = os.path.join(tmp, 'pull.sqlite')
    try:
        rc, out, err = run('--db', db, 'pull', '--cacert', cert, base + '/feed.csv')
        check(rc == 0 and 'csv: 1 indicators (1 new' in out, f'first pull: {out} {err}')
        rc, out, err = run('--db', db, 'pull', '--cacert', cert, base + '/feed.csv')
        check(rc == 0 and 'HTTP 304' in out, f'second pull 304: {out} {err}')
        check(Handler.seen_headers['/feed.csv'][1][0] == '"v1"', 'If-None-Match sent')
        rc, out, err = run('--db', db, 'pull', '--force', '--cacert', cert, base + '/feed.csv')
        check(rc == 0 and '(0 new, 0 updated, 1 unchanged)' in out, f'--force refetches: {out}')
        check(Handler.seen_headers['/feed.csv'][2][0] is None, '--force sends no validator')
        rc, out, err = run('--db', db, 'list', '--source', '127.0.0.1', '--format', 'jsonl')
        o = json.loads(out.splitlines()[0]) if out else {}
        check(o.get('actor') == 'HAFNIUM', f'pulled indicator keeps actor and host as source: {out}')

        rc, out, err = run('--db', db, 'pull', '--cacert', cert, base + '/dated.csv')
        rc, out, err = run('--db', db, 'pull', '--cacert', cert, base + '/dated.csv')
        check(rc == 0 and 'HTTP 304' in out, f'Last-Modified gives 304: {out} {err}')

        rc, out, err = run('--db', db, 'pull', '--cacert', cert, '--retry-delay', '10',
                           base + '/flaky.stix.json')
        check(rc == 0 and 'stix: 8 indicators' in out, f'retried after 503s: {out} {err}')
        check(Handler.counts['/flaky.stix.json'] == 3, 'three attempts')

        rc, out, err = run('--db', db, 'pull', '--cacert', cert, '--retry-delay', '10', base + '/nothing')
        check(rc == 2 and 'HTTP status 404' in err and 'nothing imported' in err, err)
        check(Handler.counts['/nothing'] == 1, '404 is not retried')

        rc, out, err = run('--db', db, 'pull', base + '/feed.csv')
        check(rc == 2 and ('certificate' in err.lower() or 'SSL' in err), f'untrusted cert fails: {err}')

        # A broken body: nothing imported, the old ETag kept (so no 304 next time).
        rc, out, err = run('--db', db, 'pull', '--cacert', cert, base + '/broken.json')
        check(rc == 0, 'first broken.json pull is fine')
        rc, out, err = run('--db', db, 'pull', '--cacert', cert, base + '/broken.json')
        check(rc == 2 and 'line 1' in err and 'JSON' in err, f'broken body: {err}')
        rc, out, err = run('--db', db, 'pull', '--cacert', cert, base + '/broken.json')
        check(Handler.seen_headers['/broken.json'][2][0] == '"b1"', 'validators of the failed pull not kept')

        rc, out, err = run('--db', db, 'pull', 'ftp://127.0.0.1/x')
        check(rc == 2 and 'http' in err, err)
        rc, out, err = run('--db', db, 'pull', '--retries', '0', 'https://127.0.0.1:1/x')
        check(rc == 2 and 'nothing imported' in err, f'connection refused: {err}')
    finally:
        srv.shutdown()


def main():
    tmp = tempfile.mkdtemp(prefix='exhunt-e2e-ioc.')
    try:
        cli_tests(tmp)
        kill_test(tmp)
        pull_tests(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f'e2e-ioc: {checks - failures} passed, {failures} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
