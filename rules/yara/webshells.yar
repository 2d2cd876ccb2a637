/*
 * Web shells left on Exchange servers by the March 2021 (ProxyLogon) and
 * later waves. Written for exhunt from the public descriptions named in
 * each rule's `source`; no rule text of other projects is reused.
 * Meta read by exhunt: id, title, message, severity, attack, action, source
 * (rules/yara/README.md).
 */

rule Exh_Webshell_ChinaChopper_Eval
{
  meta:
    id = "exh.files.webshell.china_chopper"
    title = "China Chopper style one-line eval web shell"
    message = "server-side script evaluates a request parameter (eval(Request[...], \"unsafe\")): a China Chopper style web shell"
    severity = "critical"
    attack = "T1505.003,T1059"
    action = "Treat the server as compromised: preserve the file, isolate the server, remove the shell, reset credentials and look for lateral movement."
    source = "Volexity 2021-03-02 (Operation Exchange Marauder, SIMPLESEESHARP); CISA AR21-084A / MAR-10329496-1; Microsoft HAFNIUM blog 2021-03-02"
  strings:
    // eval(Request.Item["p"],"unsafe"), eval(Request["p"],"unsafe"),
    // eval(Request.Form("p"), "unsafe") - JScript.NET's unsafe eval.
    $eval = /eval\s*\(\s*Request\s*(\.\s*(Item|Form|QueryString|Params)\s*)?[\[\(]/ nocase
    $unsafe = /,\s*["']unsafe["']\s*\)/ nocase
    $gate = "unsafe" nocase // implied by $unsafe: the literal exhunt's prefilter needs
  condition:
    $gate and $eval and $unsafe
}

rule Exh_Webshell_OAB_Config_Script_In_Url
{
  meta:
    id = "exh.files.webshell.oab_config"
    title = "OAB virtual directory settings with a script in ExternalUrl or InternalUrl"
    message = "an OAB virtual directory configuration dump carries a server-side script in its URL field: the CVE-2021-27065 web shell"
    severity = "critical"
    attack = "T1505.003,T1190"
    action = "Treat the server as compromised: apply the March 2021 or later update, remove the file, reset the OAB virtual directory's URLs (Set-OabVirtualDirectory) and follow the incident response plan."
    source = "CISA AR21-084A / MAR-10329496-1.v1 (2021-03-19): discover.aspx, supp0rt.aspx, shell.aspx; Volexity 2021-03-02; Microsoft CVE-2021-27065"
  strings:
    $url = /(External|Internal)Url\s*:\s*[^\r\n]{0,256}<script[^>]{0,64}runat\s*=\s*["']?server/ nocase
    $oab1 = "OfflineAddressBooks" nocase
    $oab2 = "PollInterval" nocase
    $oab3 = "OAB (Default Web Site)" nocase
  condition:
    $url and any of ($oab*)
}

rule Exh_Webshell_ASPX_Command_Exec
{
  meta:
    id = "exh.files.webshell.aspx_cmd"
    title = "ASPX page that runs cmd.exe with request input"
    message = "an ASP.NET page starts cmd.exe or powershell.exe with a request parameter: a command web shell"
    severity = "critical"
    attack = "T1505.003,T1059.003"
    action = "Treat the server as compromised: preserve the file, isolate the server, remove the shell, reset credentials and look for lateral movement."
    source = "Microsoft HAFNIUM blog 2021-03-02 (web shells running commands through w3wp.exe); FireEye/Mandiant 2021-03-04 (UNC2639-2643); NCSC-FI web shell guide"
  strings:
    $page1 = "<%@" ascii
    $page2 = /runat\s*=\s*["']?server/ nocase
    $proc1 = "ProcessStartInfo" ascii nocase
    $proc2 = /Process\s*\.\s*Start\s*\(/ nocase
    $gate_cmd = "cmd.exe" ascii nocase
    $gate_ps = "powershell.exe" ascii nocase
    $req = /Request\s*(\.\s*(Item|Form|QueryString|Params)\s*)?[\[\(]/ nocase
  condition:
    any of ($gate*) and filesize < 2MB and any of ($page*) and any of ($proc*) and $req
}

rule Exh_Webshell_ASPXSpy
{
  meta:
    id = "exh.files.webshell.aspxspy"
    title = "ASPXSpy web shell"
    message = "the file carries the ASPXSpy web shell's name in an ASP.NET page"
    severity = "critical"
    attack = "T1505.003"
    action = "Treat the server as compromised: preserve the file, isolate the server, remove the shell, reset credentials and look for lateral movement."
    source = "Volexity 2021-03-02 (ASPXSPY seen after SIMPLESEESHARP); FireEye/Mandiant 2021-03-04"
  strings:
    $gate = "ASPXSpy" ascii wide nocase
    $page = "<%@" ascii
  condition:
    $gate and $page
}

rule Exh_Webshell_ChinaChopper_Command_Framing
{
  meta:
    id = "exh.files.webshell.chopper_framing"
    title = "China Chopper client command framing"
    message = "the file holds the command framing China Chopper clients send (&echo [S]&cd&echo [E]): a saved request, a log or a shell's output"
    severity = "high"
    attack = "T1505.003,T1059.003"
    action = "Find where the file came from (log, capture, dropped output) and look for the web shell it talked to."
    source = "Red Canary 2021-03 (Microsoft Exchange server exploitation: how to detect, mitigate and stay calm)"
  strings:
    $f = "&echo [S]&cd&echo [E]" ascii wide nocase
  condition:
    $f
}
