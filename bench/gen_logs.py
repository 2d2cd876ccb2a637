#!/usr/bin/env python3
"""Generates realistic Exchange HttpProxy and IIS logs with planted attacks.

usage: gen_logs.py OUT_DIR MEGABYTES [SEED]

Writes OUT_DIR/Logging/HttpProxy/<Protocol>/HttpProxy_*.LOG (74-field 2016/2019
layout, own #Fields preamble, some with a repeated preamble mid-file) and
OUT_DIR/inetpub/logs/LogFiles/W3SVC1/u_ex*.log (IIS W3C), about MEGABYTES in
all (4 in 5 bytes HttpProxy), and OUT_DIR.planted.json (beside it): the attacks planted,
one client address each, and the rule that must find each.

Benign traffic includes the near misses that must not match: ServerInfo~
cookies to localhost and to autodiscover (health probes), plain
autodiscover.json requests, owa/auth/logon.aspx and ecp/auth/TimeoutLogoff.aspx.
"""
import json
import os
import random
import sys

FIELDS = ("DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,"
          "ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,"
          "IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,"
          "ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,"
          "TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,"
          "ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,"
          "AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,"
          "TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,"
          "ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,"
          "TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,"
          "ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,"
          "BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,"
          "ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,"
          "RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,"
          "RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,"
          "BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,"
          "PartitionEndpointLookupLatency,RoutingStatus")
assert len(FIELDS.split(',')) == 74

PROTOCOLS = {
    'Mapi': ('/mapi/emsmdb/', 'MailboxGuidWithDomain', 'POST'),
    'Ews': ('/EWS/Exchange.asmx', 'AnchorMailboxHeader', 'POST'),
    'Owa': ('/owa/service.svc', 'OwaCookie', 'POST'),
    'Eas': ('/Microsoft-Server-ActiveSync/default.eas', 'Url', 'POST'),
    'Ecp': ('/ecp/default.aspx', 'ServerInfo', 'GET'),
    'Autodiscover': ('/autodiscover/autodiscover.xml', 'Url', 'POST'),
}
AGENTS = [
    'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.16731; Pro)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    'Outlook-iOS/709.2226530.prod.iphone (4.2305.0)',
    'Apple-iPhone14C2/2006.17',
    'ExchangeServicesClient/15.01.2507.035',
    'AMProbe/Local/ClientAccess',
]


def guid(r):
    return '%08x-%04x-%04x-%04x-%012x' % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(16),
                                          r.getrandbits(16), r.getrandbits(48))


def ts(day, sec, ms):
    return '2021-03-%02dT%02d:%02d:%02d.%03dZ' % (day, sec // 3600 % 24, sec // 60 % 60, sec % 60, ms)


def proxy_row(r, t, proto, anchor=None, stem=None, status=None, ip=None, ua=None, user=None,
              query='', method=None, hint=None):
    d_stem, d_hint, d_method = PROTOCOLS[proto]
    user = user if user is not None else 'CORP\\user%d' % r.randrange(5000)
    anchor = anchor if anchor is not None else 'SMTP:user%d@corp.example' % r.randrange(5000)
    f = [t, guid(r), '15', '1', '2507', '35', '', proto, 'mail.corp.example', stem or d_stem, '',
         'Negotiate', 'true' if user else 'false', user, 'corp.example', anchor,
         ua or r.choice(AGENTS), ip or '10.%d.%d.%d' % (r.randrange(256), r.randrange(256), r.randrange(1, 255)),
         'EXCH01', status or r.choice(['200', '200', '200', '200', '302', '401', '440']), '200', '',
         method or d_method, 'Proxy', 'exch02.corp.example', '15.01.2507.000', 'CrossForest',
         hint or d_hint, '', '', '', str(r.randrange(100, 9000)), str(r.randrange(100, 90000)), '0',
         '', '0', '1', '', '0', '', '0', '', '0', '0', '', '0', str(r.randrange(1, 40)), '0', '0',
         '0', '0', '3', '0', '0', '0', '2', '0', '10', '0', '4', '7', '7', '7', '10', '', query, '',
         'BeginRequest=%s;CorrelationID=<empty>;ProxyState-Run=None;FEAuth=BEVersion-1942063563;'
         'EndRequest=%s;' % (t, t), '', '', '', '', '', 'CafeV1']
    assert len(f) == 74
    return ','.join('"%s"' % x.replace('"', '""') if (',' in x or '"' in x) else x for x in f) + '\n'


def iis_row(r, day, sec, method=None, stem=None, query='-', status=None, ip=None, user=None, ua=None):
    stems = [('/owa/', 'GET'), ('/owa/service.svc', 'POST'), ('/mapi/emsmdb/', 'POST'),
             ('/EWS/Exchange.asmx', 'POST'), ('/Microsoft-Server-ActiveSync/default.eas', 'POST'),
             ('/owa/auth/logon.aspx', 'GET'), ('/ecp/auth/TimeoutLogoff.aspx', 'GET'),
             ('/autodiscover/autodiscover.json', 'GET'), ('/owa/auth/15.1.2507/themes/resources/logon.css', 'GET')]
    s, m = r.choice(stems)
    if stem is None and s == '/autodiscover/autodiscover.json':
        query = 'Email=user%d%%40corp.example&Protocol=ActiveSync&RedirectCount=1' % r.randrange(5000)
    u = user if user is not None else r.choice(['-', 'CORP\\user%d' % r.randrange(5000)])
    agent = (ua or r.choice(AGENTS)).replace(' ', '+')
    return '2021-03-%02d %02d:%02d:%02d 10.0.0.5 %s %s %s 443 %s %s %s - %s 0 0 %d\n' % (
        day, sec // 3600 % 24, sec // 60 % 60, sec % 60, method or m, stem or s, query, u,
        ip or '10.%d.%d.%d' % (r.randrange(256), r.randrange(256), r.randrange(1, 255)), agent,
        status or r.choice(['200', '200', '200', '302', '401']), r.randrange(1, 900))


def main():
    out, mb = sys.argv[1], float(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    r = random.Random(seed)
    total = int(mb * 1e6)
    target_proxy = total * 4 // 5
    planted = []
    ipn = [0]

    def attacker():
        ipn[0] += 1
        return '203.0.%d.%d' % (113 + ipn[0] // 250, ipn[0] % 250 + 1)

    # A pool of benign rows, reused with fresh times: generating every byte
    # anew would make the generator, not exhunt, the slow part.
    pool = {p: [proxy_row(r, ts(3, 0, 0), p) for _ in range(3000)] for p in PROTOCOLS}
    # Near misses in the pool (health probes and local calls).
    for _ in range(60):
        pool['Ecp'].append(proxy_row(r, ts(3, 0, 0), 'Ecp',
                                     anchor='ServerInfo~localhost/ecp/HealthCheck.htm',
                                     ua='AMProbe/Local/ClientAccess'))
        pool['Autodiscover'].append(proxy_row(r, ts(3, 0, 0), 'Autodiscover',
                                              anchor='ServerInfo~exch02.corp.example/autodiscover/autodiscover.xml'))
    written = 0
    files = 0
    day_sec = 0
    while written < target_proxy:
        for proto in PROTOCOLS:
            if written >= target_proxy:
                break
            d = os.path.join(out, 'Logging', 'HttpProxy', proto)
            os.makedirs(d, exist_ok=True)
            files += 1
            path = os.path.join(d, 'HttpProxy_202103%02d%02d-%d.LOG' % (3 + files // 100, files % 24, files))
            pre = ('#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.035\r\n'
                   '#Log-type: HttpProxy Logs\r\n#Date: %s\r\n#Fields: %s\r\n' % (ts(3, day_sec, 0), FIELDS))
            chunks = [pre]
            size = len(pre)
            want = min(40_000_000, target_proxy - written)
            rows = pool[proto]
            while size < want:
                batch = r.choices(rows, k=2000)
                if r.random() < 0.05:
                    batch.append(pre)  # the preamble again, as after a service restart
                if proto == 'Ecp' and r.random() < 0.5:
                    ip = attacker()
                    row = proxy_row(r, ts(3, day_sec % 86400, 1), 'Ecp', stem='/ecp/%s.js' % r.choice('xyz'),
                                    anchor='ServerInfo~a]@exch02.corp.example:444/ecp/proxyLogon.ecp?#',
                                    status='241', ip=ip, user='', hint='X-BEResource-Cookie',
                                    ua='python-requests/2.25.1')
                    batch.insert(r.randrange(len(batch)), row)
                    planted.append({'rule': 'exh.logs.proxylogon.cve_2021_26855', 'ip': ip})
                if proto == 'Ecp' and r.random() < 0.2:
                    ip = attacker()
                    row = proxy_row(r, ts(3, day_sec % 86400, 2), 'Ecp', stem='/ecp/y.js',
                                    anchor='ServerInfo~a]@exch02.corp.example:444/ecp/DDI/DDIService.svc/'
                                           'SetObject?schema=ResetOABVirtualDirectory#',
                                    status='200', ip=ip, user='', hint='X-BEResource-Cookie')
                    batch.insert(r.randrange(len(batch)), row)
                    planted.append({'rule': 'exh.logs.proxylogon.cve_2021_27065_ssrf', 'ip': ip})
                    planted.append({'rule': 'exh.logs.proxylogon.cve_2021_26855', 'ip': ip})
                text = ''.join(batch)
                chunks.append(text)
                size += len(text)
                day_sec += 7
            with open(path, 'w', newline='') as f:
                f.write(''.join(chunks))
            written += size
    # IIS
    d = os.path.join(out, 'inetpub', 'logs', 'LogFiles', 'W3SVC1')
    os.makedirs(d, exist_ok=True)
    ipool = [iis_row(r, 3, i) for i in range(5000)]
    day = 3
    while written < total:
        pre = ('#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n'
               '#Date: 2021-03-%02d 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem '
               'cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status '
               'sc-substatus sc-win32-status time-taken\n' % day)
        chunks = [pre]
        size = len(pre)
        want = min(40_000_000, total - written)
        while size < want:
            batch = r.choices(ipool, k=2000)
            if r.random() < 0.3:
                ip = attacker()
                batch.insert(r.randrange(len(batch)), iis_row(
                    r, day, 3600, 'POST', '/aspnet_client/system_web/%s.aspx' % guid(r)[:8],
                    'cmd=whoami', '200', ip, '-', 'antSword/v2.1'))
                planted.append({'rule': 'exh.logs.webshell.iis_access', 'ip': ip})
            if r.random() < 0.3:
                ip = attacker()
                batch.insert(r.randrange(len(batch)), iis_row(
                    r, day, 7200, 'POST', '/autodiscover/autodiscover.json',
                    '@evil.example/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.example',
                    '200', ip, '-', 'python-requests/2.25.1'))
                planted.append({'rule': 'exh.logs.proxyshell.autodiscover_ssrf_iis', 'ip': ip})
            text = ''.join(batch)
            chunks.append(text)
            size += len(text)
        with open(os.path.join(d, 'u_ex2103%02d.log' % day), 'w') as f:
            f.write(''.join(chunks))
        written += size
        day = day % 28 + 1
    with open(out.rstrip('/') + '.planted.json', 'w') as f:
        json.dump(planted, f)
    print('generated %.0f MB, %d planted attacks' % (written / 1e6, len(planted)))


if __name__ == '__main__':
    main()
