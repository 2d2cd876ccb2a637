#!/usr/bin/env python3
"""Two generated scans of N hosts for bench/scan-diff: OLD and NEW, JSON lines
as `exhunt scan` writes them (fields, nesting and lengths alike; hosts in a
shuffled order, as a seeded scan writes them).

About 45% of the hosts answer; 70% of those are Exchange and 30% of all
hosts are exposed (unpatched or vulnerable), a few with a domain. Between
the scans: 8% of the exposed are patched, 3% stop answering, 2% of the
hosts are new, 1% are gone from the list, and 2% of the patched become
exposed. Deterministic (seeded)."""
import random
import sys

n, old_path, new_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rnd = random.Random(20210302)

EXPOSED = [('15.1.2176.2', 'Exchange Server 2016', 'CU19', 'none', 'unpatched',
            '"CVE-2021-26855","CVE-2021-26857","CVE-2021-26858","CVE-2021-27065","CVE-2021-34473","CVE-2021-34523","CVE-2021-31207"'),
           ('15.2.792.3', 'Exchange Server 2019', 'CU8', 'none', 'unpatched',
            '"CVE-2021-26855","CVE-2021-26857","CVE-2021-26858","CVE-2021-27065"'),
           ('15.0.1497.2', 'Exchange Server 2013', 'CU23', 'none', 'unpatched', '"CVE-2021-26855","CVE-2022-41040","CVE-2022-41082"')]
PATCHED = [('15.1.2507.39', 'Exchange Server 2016', 'CU23', 'Jan24SU', 'patched', ''),
           ('15.2.1544.4', 'Exchange Server 2019', 'CU14', 'none', 'patched', '')]


def record(ip, domain, ts, kind, build):
    head = f'{{"ip":"{ip}","port":443,' + (f'"domain":"{domain}",' if domain else '') + \
        f'"timestamp":"2026-11-{ts:02d}T10:11:12Z",'
    if kind == 'error':
        return head + '"status":"error","is_exchange":false,"exposed":false,"errors":["connect: Connection timed out"]}\n'
    tls = f'"tls":{{"subject":"CN={domain or "mail." + ip.replace(".", "-") + ".example.net"}","issuer":"CN=R3, O=Let\'s Encrypt, C=US","not_after":"2027-01-15T00:00:00Z"}},'
    if kind == 'other':
        return head + '"status":"success",' + tls + '"http":{"status":404,"requests":1},"is_exchange":false,"exposed":false}\n'
    b, product, cu, update, level, cves = build
    exposed = level != 'patched'
    return (head + '"status":"success",' + tls +
            '"http":{"status":200,"redirect":"/owa/auth/logon.aspx?url=https%3a%2f%2fmail%2fowa%2f&reason=0","requests":3},'
            f'"is_exchange":true,"build":"{b}","precision":"exact","build_source":"exporttool",'
            f'"product":"{product}","cu":"{cu}","update":"{update}","support":"ended","level":"{level}",'
            f'"proxylogon":"{"unpatched" if exposed else "patched"}","open_cves":[{cves}],'
            f'"exposed":{"true" if exposed else "false"}}}\n')


def host(i):
    """(ip, domain, kind, build) of host i in the old scan."""
    ip = f'{10 + i // 16777216 % 200}.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}'
    domain = f'mail{i}.org{i % 9973}.example' if i % 7 == 0 else None
    r = rnd.random()
    if r < 0.30:
        return ip, domain, 'exch', rnd.choice(EXPOSED)
    if r < 0.315:
        return ip, domain, 'exch', rnd.choice(PATCHED)
    if r < 0.45:
        return ip, domain, 'other', None
    return ip, domain, 'error', None


old, new = [], []
for i in range(n):
    ip, domain, kind, build = host(i)
    old.append(record(ip, domain, 2, kind, build))
    r = rnd.random()
    if r < 0.01:
        continue  # not in the new scan
    if kind == 'exch' and build in EXPOSED:
        if r < 0.09:
            build = rnd.choice(PATCHED)
        elif r < 0.12:
            kind = 'error'
    elif kind == 'exch' and r < 0.03:
        build = rnd.choice(EXPOSED)
    new.append(record(ip, domain, 9, kind, build))
for i in range(n, n + n // 50):
    ip, domain, kind, build = host(i)
    new.append(record(ip, domain, 9, kind, build))
for path, recs in ((old_path, old), (new_path, new)):
    rnd.shuffle(recs)
    with open(path, 'w') as f:
        f.writelines(recs)
