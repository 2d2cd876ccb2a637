/*
 * Ransomware that followed ProxyLogon onto Exchange servers in March 2021:
 * DearCry (DoejoCrypt) and Black Kingdom (Pydomer). Written for exhunt from
 * the public reports named in each rule's `source`.
 */

rule Exh_DearCry_Encrypted_File
{
  meta:
    id = "exh.files.ransom.dearcry_encrypted"
    title = "File encrypted by DearCry ransomware"
    message = "the file starts with the marker DEARCRY! that DearCry writes in front of every file it encrypts"
    severity = "critical"
    attack = "T1486"
    action = "Isolate the server at once; do not pay; restore from offline backups after rebuilding; report to the national CERT."
    source = "Cyberint 2021-03 (DearCry ransomware); Microsoft Defender Ransom:Win32/DoejoCrypt.A; Sophos 2021-03-15"
  strings:
    $m = "DEARCRY!" ascii
  condition:
    $m at 0
}

rule Exh_DearCry_Ransom_Note
{
  meta:
    id = "exh.files.ransom.dearcry_note"
    title = "DearCry ransom note"
    message = "the file is a DearCry ransom note (its text and contact addresses)"
    severity = "critical"
    attack = "T1486"
    action = "Isolate the server at once; look for files starting with DEARCRY!; restore from offline backups after rebuilding; report to the national CERT."
    source = "Acronis 2021-03 (DearCry ransomware exploits Exchange vulnerability); spywareremove.com DearCry note; Cyberint 2021-03"
  strings:
    $head = "Your file has been encrypted" ascii wide nocase
    $mail1 = "konedieyp@airmail.cc" ascii wide nocase
    $mail2 = "uenwonken@memail.com" ascii wide nocase
    $hash = "send me the following hash" ascii wide nocase
  condition:
    filesize < 64KB and $head and ($mail1 or $mail2 or $hash)
}

rule Exh_DearCry_Binary
{
  meta:
    id = "exh.files.ransom.dearcry_binary"
    title = "DearCry ransomware program"
    message = "a Windows program holding DearCry's file marker and its build path or service name"
    severity = "critical"
    attack = "T1486,T1543.003"
    action = "Isolate the server at once; preserve the program; look for a service named msupdate (System event 7045); restore from offline backups after rebuilding."
    source = "Acronis 2021-03; NII Consulting 2021-04 (technical analysis of DearCry); Binary Defense 2021-03 (service msupdate)"
  strings:
    $gate = "DEARCRY!" ascii
    $pdb = "encryptfile -svcv2" ascii nocase
    $svc = "msupdate" ascii wide
    $note = "readme.txt" ascii wide nocase
  condition:
    $gate and uint16(0) == 0x5A4D and ($pdb or ($svc and $note))
}

rule Exh_BlackKingdom_Ransom_Note
{
  meta:
    id = "exh.files.ransom.blackkingdom_note"
    title = "Black Kingdom ransom note"
    message = "the file names the Bitcoin wallet of the Black Kingdom (Pydomer) ransom demands against Exchange servers"
    severity = "critical"
    attack = "T1486"
    action = "Isolate the server; Black Kingdom sometimes left notes without encrypting: check for encrypted files before restoring; report to the national CERT."
    source = "BleepingComputer 2021-03-21 (Black Kingdom on Exchange, Marcus Hutchins); Stellar 2021-03 (wallet 1Lf8ZzcEhhRiXpk6YNQFpCJcUisiXb34FT)"
  strings:
    $wallet = "1Lf8ZzcEhhRiXpk6YNQFpCJcUisiXb34FT" ascii wide
  condition:
    $wallet
}
