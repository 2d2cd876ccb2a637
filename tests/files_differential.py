#!/usr/bin/env python3
"""Differential test: on a tree of test files, the (file, rule) matches of
`exhunt files` with its bundled YARA rules equal those of the `yara` command
line with the same rule files. Skips (77) when yara is not installed.

usage: files_differential.py EXHUNT RULES_DIR YARA
"""
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import files_samples  # noqa: E402


def main():
    exhunt, rules_dir, yara = sys.argv[1:4]
    if not yara or not os.access(yara, os.X_OK):
        print('yara not installed: skipped')
        return 77
    rules = sorted(glob.glob(os.path.join(rules_dir, '*.yar')))
    tmp = tempfile.mkdtemp(prefix='exhunt-diff.')
    try:
        root = os.path.join(tmp, 'tree')
        os.makedirs(root)
        files_samples.plant(root, extras=False)
        # Noise: random bytes and text, and the samples cut short, so both
        # tools see files that nearly match.
        rnd = random.Random(4)
        for i in range(300):
            p = os.path.join(root, 'noise', f'{i % 7}', f'f{i}.bin')
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, 'wb') as f:
                f.write(rnd.randbytes(rnd.randrange(0, 20000)))
        for i, (path, data, _, _) in enumerate(files_samples.tree()):
            p = os.path.join(root, 'cut', f'{i}-' + os.path.basename(path))
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, 'wb') as f:
                f.write(data[: max(1, len(data) * 2 // 3)])

        y = subprocess.run([yara, '-r', '-w', *rules, root], capture_output=True, timeout=120)
        if y.returncode != 0:
            print(y.stderr.decode(errors='replace'))
            return 1
        want = set()
        for line in y.stdout.decode().splitlines():
            rule, _, path = line.partition(' ')
            want.add((os.path.relpath(path, root), rule))

        e = subprocess.run([exhunt, 'files', '--no-iocs', '-f', 'jsonl', root], capture_output=True, timeout=120)
        if e.returncode not in (0, 1):
            print(e.stderr.decode(errors='replace'))
            return 1
        got = set()
        for line in e.stdout.decode().splitlines():
            r = json.loads(line)
            y_rule = r.get('exhunt', {}).get('yara', {}).get('rule')
            if y_rule:
                got.add((os.path.relpath(r['file']['path'], root), y_rule))
        print(f'yara: {len(want)} matches, exhunt: {len(got)} matches')
        for m in sorted(want - got):
            print('only yara:  ', m)
        for m in sorted(got - want):
            print('only exhunt:', m)
        if not want:
            print('no matches at all: the test tree is wrong')
            return 1
        return 0 if want == got else 1
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    sys.exit(main())
