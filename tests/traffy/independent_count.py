"""Counts, straight from Traffy Fondue exports and independently of Rongtook's importer, the
tickets each Bangkok district office received and how many it finished.

Usage: python3 independent_count.py EXPORT.csv [...]  -> JSON {district: [received, finished]}
Rules (README, "Importing Traffy Fondue"): rows without a ticket id are refused; a ticket id seen
before is a duplicate; tickets outside Bangkok count for no district office; the responsible
office is the first organisation when it is a district office (`เขต...`), or, for tickets held
by the BMA itself (`กรุงเทพ...`), the district of the address (its last `เขต` name).
"""
import csv
import json
import re
import sys

BANGKOK = {"กรุงเทพมหานคร", "จังหวัดกรุงเทพมหานคร"}
THAI = re.compile(r"เขต[\s:]*([\u0E00-\u0E7F]+)")

counts = {}
seen = set()
for path in sys.argv[1:]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            ticket = (row.get("ticket_id") or "").strip()
            if not ticket or ticket in seen:
                continue
            seen.add(ticket)
            address = row.get("address") or ""
            province = (row.get("province") or "").strip()
            if not province and "กรุงเทพมหานคร" in address:
                province = "กรุงเทพมหานคร"
            if province not in BANGKOK:
                continue
            orgs = [o.strip() for o in (row.get("organization") or row.get("org") or "").split(",") if o.strip()]
            first = orgs[0] if orgs else "กรุงเทพมหานคร"
            if first.startswith("เขต"):
                district = first[len("เขต"):].strip()
            elif first.startswith("กรุงเทพ"):
                district = (row.get("district") or "").strip()
                if not district:
                    names = [n for n in THAI.findall(address) if n not in ("กรุงเทพมหานคร", "พื้นที่")]
                    district = names[-1] if names else ""
            else:
                continue
            if not district:
                continue
            c = counts.setdefault(district, [0, 0])
            c[0] += 1
            if (row.get("state") or "").strip() == "เสร็จสิ้น":
                c[1] += 1

json.dump(counts, sys.stdout, ensure_ascii=False, sort_keys=True)
