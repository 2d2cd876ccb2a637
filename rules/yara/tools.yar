/*
 * Post-exploitation tools named in the public reports of the 2021 Exchange
 * attacks. Written for exhunt from those reports' descriptions.
 */

rule Exh_Tool_Nishang_PowerShellTcp
{
  meta:
    id = "exh.files.tool.nishang_tcp"
    title = "Nishang reverse PowerShell shell"
    message = "a PowerShell reverse shell (Nishang Invoke-PowerShellTcp or its one-line form)"
    severity = "high"
    attack = "T1059.001"
    action = "Find what ran it (web shell, scheduled task) and where it connected; treat the server as compromised."
    source = "FireEye/Mandiant 2021-03-04 summary of Microsoft (Nishang); Microsoft Sentinel 'Nishang Invoke-PowerShellTcpOneLine in Windows Event Logging'"
  strings:
    $gate_name = "Invoke-PowerShellTcp" ascii wide nocase
    $gate_tcp = "Net.Sockets.TCPClient" ascii wide nocase
    $stream = "GetStream()" ascii wide nocase
    $iex = /\b(iex|Invoke-Expression)\b/ nocase
    $back = "sendback" ascii wide nocase
  condition:
    $gate_name or ($gate_tcp and $stream and $iex and $back)
}

rule Exh_Tool_PowerCat
{
  meta:
    id = "exh.files.tool.powercat"
    title = "PowerCat"
    message = "the PowerCat PowerShell netcat (used to move data and open shells after the Exchange compromises)"
    severity = "high"
    attack = "T1059.001,T1095"
    action = "Find what ran it and where it connected; treat the server as compromised."
    source = "Microsoft HAFNIUM blog 2021-03-02 (PowerCat downloaded from GitHub); Microsoft Sentinel 'Downloads of PowerCat'"
  strings:
    $f = /function\s+powercat\b/ nocase
    $gate = "powercat" nocase // implied by $f
  condition:
    $gate and $f
}

rule Exh_Tool_Mimikatz
{
  meta:
    id = "exh.files.tool.mimikatz"
    title = "Mimikatz"
    message = "the Mimikatz credential theft tool or a script carrying its commands"
    severity = "critical"
    attack = "T1003.001"
    action = "Reset credentials of every account that logged on to the server; look for lateral movement."
    source = "ESET 2021-03-10 (Exchange servers under siege from at least 10 APT groups: Winnti Group used Mimikatz)"
  strings:
    $a = "sekurlsa::logonpasswords" ascii wide nocase
    $b = "gentilkiwi" ascii wide nocase
    $c = "mimikatz" ascii wide nocase
    $d = "lsadump::" ascii wide nocase
  condition:
    2 of them
}

rule Exh_Tool_Exchange_Snapin_Mailbox_Export
{
  meta:
    id = "exh.files.tool.mailbox_export_script"
    title = "Script exporting mailboxes through the Exchange snap-in"
    message = "a script loads the Exchange PowerShell snap-in and exports mailboxes (New-MailboxExportRequest): mailbox theft as in the HAFNIUM and ProxyShell attacks"
    severity = "high"
    attack = "T1114.001,T1059.001"
    action = "Find which mailboxes were exported and where the PST files went (Get-MailboxExportRequest); remove the role assignment that allowed it."
    source = "Microsoft HAFNIUM blog 2021-03-02 (Exchange PowerShell snap-in to export mailboxes); Splunk research 2021-12 (ProxyShell New-MailboxExportRequest)"
  strings:
    $snap = "Microsoft.Exchange.Management.PowerShell" ascii wide nocase
    $export = "New-MailboxExportRequest" ascii wide nocase
  condition:
    $snap and $export
}
