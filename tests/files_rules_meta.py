#!/usr/bin/env python3
"""The bundled rules of `exhunt files` stay documented and sourced: every
YARA rule has the meta exhunt reads (id, title, message, severity, attack,
action, source) and a literal string for the prefilter, ids are unique, and
every rule id (YARA and path rules) is listed in docs/findings.md.

usage: files_rules_meta.py SOURCE_ROOT
"""
import csv
import glob
import os
import re
import sys


def main():
    root = sys.argv[1]
    docs = open(os.path.join(root, 'docs', 'findings.md')).read()
    problems, ids = [], []
    for path in sorted(glob.glob(os.path.join(root, 'rules', 'yara', '*.yar'))):
        text = open(path).read()
        rules = re.findall(r'^rule (\w+)\s*\{(.*?)^\}', text, re.S | re.M)
        if not rules:
            problems.append(f'{path}: no rules')
        for name, body in rules:
            meta = dict(re.findall(r'^\s*(\w+) = "((?:[^"\\]|\\.)*)"', body, re.M))
            for key in ('id', 'title', 'message', 'severity', 'attack', 'action', 'source'):
                if not meta.get(key):
                    problems.append(f'{name}: no {key} meta')
            if meta.get('severity') not in ('info', 'low', 'medium', 'high', 'critical'):
                problems.append(f'{name}: severity {meta.get("severity")!r}')
            if not re.search(r'^\s*\$\w* = "', body, re.M):
                problems.append(f'{name}: no literal string for the prefilter')
            cond = body.split('condition:', 1)[-1]
            if re.search(r'^\s*\$gate\w* = ', body, re.M) and '$gate' not in cond:
                problems.append(f'{name}: $gate strings that the condition does not require')
            ids.append(meta.get('id', name))
    with open(os.path.join(root, 'rules', 'files', 'paths.csv')) as f:
        for row in csv.DictReader(line for line in f if not line.startswith('#')):
            ids.append(row['id'])
            if not row['source']:
                problems.append(f'{row["id"]}: no source')
    for i in sorted(set(ids)):
        if ids.count(i) > 1:
            problems.append(f'{i}: used twice')
        if f'`{i}`' not in docs:
            problems.append(f'{i}: not in docs/findings.md')
    for p in problems:
        print(p)
    print(f'{len(ids)} rule ids checked, {len(problems)} problems')
    return 1 if problems or len(ids) < 30 else 0


if __name__ == '__main__':
    sys.exit(main())
