/*
 * Credential dumps: LSASS memory written to disk with comsvcs.dll MiniDump
 * or ProcDump after Exchange web shells (HAFNIUM and later actors).
 */

rule Exh_LSASS_Minidump
{
  meta:
    id = "exh.files.dump.lsass_minidump"
    title = "LSASS process memory dump"
    message = "a Windows minidump (MDMP) of lsass.exe: credentials of every logged-on account may have been taken"
    severity = "critical"
    attack = "T1003.001"
    action = "Reset the passwords of every account that logged on to the server (service and admin accounts first), then the krbtgt account twice; preserve and delete the dump."
    source = "Volexity 2021-03-02 (comsvcs.dll MiniDump, ProcDump of LSASS); Microsoft Sentinel LSASSCredDumpProcdump (Exchange zero-days threat analytics); Microsoft minidump format (MINIDUMP_HEADER signature MDMP)"
  strings:
    $l1 = "lsass.exe" wide nocase
    $l2 = "lsass.exe" ascii nocase
  condition:
    uint32(0) == 0x504D444D and any of ($l*)
}

rule Exh_LSASS_Dump_Command
{
  meta:
    id = "exh.files.dump.lsass_command"
    title = "Script that dumps LSASS memory"
    message = "a script or saved command line dumps LSASS with ProcDump or comsvcs.dll MiniDump"
    severity = "high"
    attack = "T1003.001"
    action = "Look for the dump it wrote (lsass*.dmp, often in Windows\\Temp or C:\\root) and reset credentials if it exists or existed."
    source = "Volexity 2021-03-02; Microsoft Sentinel LSASSCredDumpProcdump; Nextron 2021-03-03 (HAFNIUM detection coverage)"
  strings:
    $procdump = /procdump(64)?(\.exe)?["']?\s[^\r\n]{0,80}-ma\s[^\r\n]{0,40}lsass/ nocase
    $comsvcs = /comsvcs(\.dll)?["']?\s*,\s*#?(MiniDump|24)\b/ nocase
    $gate1 = "procdump" nocase // implied by $procdump
    $gate2 = "comsvcs" nocase  // implied by $comsvcs
  condition:
    filesize < 4MB and any of ($gate*) and ($procdump or $comsvcs)
}

rule Exh_Registry_Hive_Save_Script
{
  meta:
    id = "exh.files.dump.hive_save"
    title = "Script saving the SAM, SYSTEM or SECURITY registry hives"
    message = "a script saves two or more of the SAM, SYSTEM and SECURITY hives (local credential theft, seen before DearCry)"
    severity = "high"
    attack = "T1003.002"
    action = "Look for the saved hives and reset local administrator passwords; check for the DearCry ransomware that followed this step."
    source = "Microsoft 2021-03-25 (Analyzing attacks taking advantage of the Exchange Server vulnerabilities: C:\\Windows\\Temp\\xx.bat)"
  strings:
    $sam = /reg(\.exe)?\s+save\s+hklm\\sam\b/ nocase
    $sys = /reg(\.exe)?\s+save\s+hklm\\system\b/ nocase
    $sec = /reg(\.exe)?\s+save\s+hklm\\security\b/ nocase
    $gate = "hklm" nocase // implied by each of them
  condition:
    filesize < 1MB and $gate and 2 of ($sam, $sys, $sec)
}
