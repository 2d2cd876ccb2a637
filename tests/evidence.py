"""Helpers the end-to-end tests of exhunt check share (imported from the
tests folder, which is the script's own)."""
import hashlib
import json
import os

NOATIME = getattr(os, 'O_NOATIME', 0)


def snapshot(root):
    """Every entry below root, by relative path: the bytes' SHA-256 (files),
    size and mtime; links not followed, files read with O_NOATIME so the
    snapshot itself moves no time."""
    snap = {}
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for n in sorted(files) + sorted(dirs):
            p = os.path.join(d, n)
            st = os.lstat(p)
            h = ''
            if os.path.isfile(p) and not os.path.islink(p):
                fd = os.open(p, os.O_RDONLY | NOATIME)
                with os.fdopen(fd, 'rb') as f:
                    h = hashlib.sha256(f.read()).hexdigest()
            snap[os.path.relpath(p, root)] = (h, st.st_size, st.st_mtime_ns)
    return snap


def jsonl(out):
    """The records of a JSON-lines output."""
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def summaries(recs):
    """The one summary record per server of `exhunt check --format jsonl`,
    by server name."""
    return {r['host']['name']: r for r in recs if r.get('event', {}).get('dataset') == 'exhunt.check'}
