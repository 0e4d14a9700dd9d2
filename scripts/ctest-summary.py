#!/usr/bin/env python3
"""ctest-summary.py - what a test run did, from ctest's JUnit file.

    scripts/ctest-summary.py FILE.xml

Prints each skipped test with the reason it gave (its "# skip" lines),
each failed one, then one line: "N passed, M skipped, K failed".  A
skipped test is one that exited 77 (ctest's SKIP_RETURN_CODE, set for
every test in tests/tests.cmake) or was not run (a fixture failed).
"""

import sys
import xml.etree.ElementTree as ET


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    try:
        root = ET.parse(argv[1]).getroot()
    except (OSError, ET.ParseError) as e:
        print('no test summary: %s' % e)
        return 1
    passed, skipped, failed = [], [], []
    for case in root.iter('testcase'):
        name = case.get('name')
        status = case.get('status')
        out = case.findtext('system-out') or ''
        if status == 'run':
            passed.append(name)
        elif status in ('notrun', 'disabled'):
            why = [ln.strip() for ln in out.splitlines() if '# skip' in ln]
            if not why:
                s = case.find('skipped')
                why = [s.get('message', '')] if s is not None else []
            skipped.append((name, why))
        else:
            failed.append(name)
    for name, why in skipped:
        print('skipped: %s: %s' % (name, '; '.join(why) or '(no reason)'))
    for name in failed:
        print('failed: %s' % name)
    print('%d passed, %d skipped, %d failed'
          % (len(passed), len(skipped), len(failed)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
