#!/usr/bin/env python3
"""docs/api.md describes every exh_check_* function, type and constant that
include/exhunt.h declares: each is named there in backquotes (a declaration
added without its description fails here).

usage: api_docs.py SOURCE_ROOT
"""
import os
import re
import sys
import unittest

ROOT = ''


class CheckApiDocumented(unittest.TestCase):
    def test_every_check_name_is_described(self):
        with open(os.path.join(ROOT, 'include', 'exhunt.h')) as f:
            header = f.read()
        with open(os.path.join(ROOT, 'docs', 'api.md')) as f:
            doc = f.read()
        declared = set(re.findall(r'\bEXH_API\b[^;{]*?\b(exh_check_\w+)\s*\(', header))
        declared |= set(re.findall(r'\b(?:typedef struct|struct)\s+(exh_check_\w+)', header))
        declared |= set(re.findall(r'#define\s+(EXH_CHECK_\w+)', header))
        # The parsing itself: the archive functions are among what is found.
        self.assertTrue({'exh_check_extract', 'exh_check_extract_stop', 'exh_check_run_archive',
                         'exh_check_show_path', 'EXH_CHECK_DEFAULT_MAX_EXTRACT'} <= declared,
                        sorted(declared))
        described = set(re.findall(r'`([A-Za-z_]\w*)', doc))
        self.assertEqual(sorted(declared - described), [], 'declared in exhunt.h, not in docs/api.md')


if __name__ == '__main__':
    ROOT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
