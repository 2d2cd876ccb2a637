#!/usr/bin/env python3
"""Writes the seed archives of fuzz target 'archive' beside this script:
a small collection as zip, tar and tar.gz, and hostile entries (.., absolute
paths, a symlink, deep nesting). Run it again to regenerate them."""
import io
import os
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = {'C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log': b'#Fields: date time cs-uri-stem\n2021-03-03 07:01:00 /owa/\n',
         'C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/a.LOG': b'#Fields: DateTime\n'}

with zipfile.ZipFile(os.path.join(HERE, 'collection.zip'), 'w', zipfile.ZIP_DEFLATED) as z:
    for n, d in FILES.items():
        z.writestr(n, d)
with zipfile.ZipFile(os.path.join(HERE, 'hostile.zip'), 'w') as z:
    z.writestr('../dotdot.txt', b'x')
    z.writestr('/abs.txt', b'x')
    z.writestr('C:\\drive.txt', b'x')
    z.writestr('/'.join(['d'] * 60) + '/deep.txt', b'x')
    link = zipfile.ZipInfo('link')
    link.external_attr = 0o120777 << 16
    z.writestr(link, '/etc')
    z.writestr('link/through.txt', b'x')
for mode, name in (('w', 'collection.tar'), ('w:gz', 'collection.tar.gz')):
    with tarfile.open(os.path.join(HERE, name), mode) as t:
        for n, d in FILES.items():
            info = tarfile.TarInfo(n)
            info.size = len(d)
            info.mtime = 1614755000
            t.addfile(info, io.BytesIO(d))
        sl = tarfile.TarInfo('C/inetpub/wwwroot/etc')
        sl.type = tarfile.SYMTYPE
        sl.linkname = '/etc'
        t.addfile(sl)
