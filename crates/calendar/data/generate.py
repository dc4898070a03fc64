#!/usr/bin/env python3
"""Regenerate th-government-holidays.txt from the PyPI package `holidays`.

Usage: pip install holidays && python3 generate.py FIRST_YEAR LAST_YEAR > th-government-holidays.txt

Thai government-office holidays = the `public` and `government` categories of
holidays.country_holidays("TH"), including "in lieu" substitution days and Cabinet
"bridge" days, minus National Labour Day (1 May) and its "in lieu" day: government
offices are open on Labour Day.
"""
import sys

import holidays

first, last = int(sys.argv[1]), int(sys.argv[2])
th = holidays.country_holidays(
    "TH", years=range(first, last + 1), categories=("public", "government")
)
print("# Thai government-office holidays (business-day calendar of Rongtook)")
print(f"# source: PyPI package holidays {holidays.__version__}, country TH, categories public + government")
print("# rule: minus National Labour Day (1 May) and its in-lieu day; offices are open that day")
print(f"# covers: {first}-{last}")
print("# format: one holiday per line, YYYY-MM-DD<TAB>name; '#' starts a comment")
for day, name in sorted(th.items()):
    names = [n.strip() for n in name.split(";")]
    kept = [n for n in names if "Labor Day" not in n and "Labour Day" not in n]
    if not kept:
        continue
    print(f"{day.isoformat()}\t{'; '.join(kept)}")
