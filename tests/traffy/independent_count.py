"""Counts, straight from Traffy Fondue's raw files and independently of Rongtook's importer,
what the files hold and what each Bangkok district office received and finished.

Usage: python3 independent_count.py [--as-of KEY] FILE [...]
Prints JSON:
  files:     {file name: {"records", "no_id", "ids"}}  (records; records without a ticket id;
             distinct ticket ids)
  tickets:   distinct ticket ids over all files
  districts: {district: [received, finished]}: tickets of Bangkok's district offices, and how
             many the latest capture shows finished (`เสร็จสิ้น`); with --as-of (a UTC time written
             `YYYYMMDDTHHMMSS[.ffffff]`), only tickets whose latest capture holds a time at or
             after it (the others' state then is not known: counted in `undetermined`)
  newest:    {file name: its newest platform time, written the same way}
  placed:    distinct tickets whose first record holds a point (`coords` "lon,lat", or
             longitude/latitude columns, or a GeoJSON point)
  mapped:    of those, the ones inside the map's frame of Bangkok (13.48-13.97 N,
             100.32-100.96 E)
  unplaced, outside: the ids of the tickets without a point, and with one outside the frame

Rules (README, "Importing Traffy Fondue"): a ticket's latest capture is the one taken last: an
archive member by the time in its name, any other file by the newest time it holds, ties in the
order given; tickets outside Bangkok count for no district office; the responsible office is the
first district office (`เขต...`) among the organisations, else the first organisation other than
the watching accounts (`เพื่อนชัชชาติ`, `ร้องทุกข์ กทม. 1555`), the BMA itself (`กรุงเทพ...`) meaning the
district of the record or of the address (its last `เขต` name). Only the
standard library is used, and the `zstd` program for the archives.
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
import xml.etree.ElementTree as ET

BANGKOK = {"กรุงเทพมหานคร", "จังหวัดกรุงเทพมหานคร"}
# Accounts that follow tickets without being responsible for them.
WATCHERS = {"เพื่อนชัชชาติ", "ร้องทุกข์ กทม. 1555"}
THAI = re.compile(r"เขต[\s:]*([\u0E00-\u0E7F]+)")
# The 50 district offices' Thai names (the engine's unit list, data).
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OFFICES = {
    u["th"][len("สำนักงานเขต"):]
    for u in json.load(open(_ROOT + "/crates/indicators/specs/units-bangkok.json", encoding="utf-8"))["units"].values()
    if u["th"].startswith("สำนักงานเขต")
}
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def xlsx_rows(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
            shared.append("".join(t.text or "" for t in si.iter("{%s}t" % NS["m"])))
    sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter("{%s}row" % NS["m"]):
        cells = {}
        for c in row.findall("m:c", NS):
            ref = c.get("r")
            col = 0
            for ch in re.match(r"[A-Z]+", ref).group(0):
                col = col * 26 + ord(ch) - 64
            v = c.find("m:v", NS)
            if c.get("t") == "s":
                val = shared[int(v.text)]
            elif c.get("t") == "inlineStr":
                val = "".join(t.text or "" for t in c.iter("{%s}t" % NS["m"]))
            else:
                val = v.text if v is not None else ""
                if val and re.fullmatch(r"-?\d+\.0", val):
                    val = val[:-2]
            cells[col - 1] = val or ""
        width = max(cells) + 1 if cells else 0
        rows.append([cells.get(i, "") for i in range(width)])
    header = rows[0]
    return [dict(zip(header, r + [""] * (len(header) - len(r)))) for r in rows[1:]]


def props_of(v):
    """The records of a JSON document: features' properties, results, or cards."""
    if isinstance(v, dict) and isinstance(v.get("features"), list):
        out = []
        for f in v["features"]:
            p = dict(f.get("properties") or {})
            g = f.get("geometry") or {}
            if g.get("type") == "Point" and isinstance(g.get("coordinates"), list):
                p["_point"] = g["coordinates"][:2]
            out.append(p)
        return out
    if isinstance(v, dict) and "results" in v:
        r = v["results"]
        return r if isinstance(r, list) else [r]
    if isinstance(v, list):
        out = []
        for c in v:
            if "copied_url" in c:
                m = re.search(r"ticketID=([^&]+)", c.get("copied_url") or "")
                out.append({"ticket_id": m.group(1) if m else "", "address": c.get("location_thailand") or "",
                            "state": "เสร็จสิ้น" if (c.get("title_state") or "").startswith("เสร็จสิ้น") else ""})
            else:
                out.append(c)
        return out
    return []


def text(v):
    if v is None:
        return ""
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return str(v).strip()


def member_time(name):
    m = re.search(r"(\d{8}T\d{6}Z)", name)
    return m.group(1) if m else None


def platform_time(s):
    """A sortable UTC key of the platform's `2023-05-12 13:27:54.48+00` times (others: None)."""
    m = re.match(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?\+00", s or "")
    if not m:
        return None
    return m.group(1).replace("-", "") + "T" + m.group(2).replace(":", "") + (m.group(3) or "")


def parts(path):
    """(part name or None, capture key or None, records) of a file."""
    data = open(path, "rb").read()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        proc = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for m in tar:
                if m.isfile() and m.name.endswith(".json"):
                    v = json.load(tar.extractfile(m))
                    yield m.name, member_time(m.name), props_of(v)
        proc.wait()
        return
    if data[:4] == b"PK\x03\x04":
        yield None, None, xlsx_rows(data)
        return
    t = data.decode("utf-8-sig").lstrip()
    if t[:1] in "[{":
        yield None, None, props_of(json.loads(t))
        return
    yield None, None, list(csv.DictReader(io.StringIO(t, newline="")))


def point_of(row):
    """(lon, lat) of a record, or None."""
    try:
        if "_point" in row:
            lon, lat = (float(x) for x in row["_point"])
        elif text(row.get("coords")):
            c = re.sub(r"[\[\]'\" ]", "", text(row.get("coords"))).split(",")
            lon, lat = float(c[0]), float(c[1])
        else:
            lon = next(text(row.get(k)) for k in ("Longitude", "longitude", "lon") if text(row.get(k)))
            lat = next(text(row.get(k)) for k in ("Latitute", "Latitude", "latitude", "lat") if text(row.get(k)))
            lon, lat = float(lon), float(lat)
            # One export's `Latitute,Longitude` columns hold the longitude first.
            if abs(lat) > 90 and abs(lon) <= 90:
                lon, lat = lat, lon
    except (StopIteration, ValueError, IndexError):
        return None
    if -180 <= lon <= 180 and -90 <= lat <= 90:
        return lon, lat
    return None


def in_frame(p):
    return 13.48 <= p[1] <= 13.97 and 100.32 <= p[0] <= 100.96


def district_of(row):
    address = text(row.get("address"))
    province = text(row.get("province"))
    if not province and "กรุงเทพมหานคร" in address:
        province = "กรุงเทพมหานคร"
    if province not in BANGKOK:
        return None
    orgs = [o.strip() for o in text(row.get("organization") or row.get("org") or row.get("agency")).split(",") if o.strip()]
    offices = [o for o in orgs if o.startswith("เขต")]
    if offices:
        return offices[0][len("เขต"):].strip() or None
    others = [o for o in orgs if o not in WATCHERS]
    first = others[0] if others else "กรุงเทพมหานคร"
    if first.startswith("กรุงเทพ"):
        d = text(row.get("district"))
        if d.startswith("เขต"):
            d = d[len("เขต"):].strip()
        names = [n for n in THAI.findall(address) if n not in ("กรุงเทพมหานคร", "พื้นที่")]
        in_address = names[-1] if names else ""
        if not d or (d not in OFFICES and in_address in OFFICES):
            d = in_address
        return d or None
    return None


args = sys.argv[1:]
as_of = None
if args[:1] == ["--as-of"]:
    as_of, args = args[1], args[2:]
files = {}
newest = {}
latest = {}  # ticket -> (capture key, order, district, state)
first_seen = {}
points = {}
order = 0
for path in args:
    name = path.rsplit("/", 1)[-1]
    stats = files.setdefault(name, {"records": 0, "no_id": 0, "ids": set()})
    for part, when, rows in parts(path):
        times = [platform_time(text(r.get(k))) for r in rows for k in ("timestamp", "last_activity")]
        times = [t for t in times if t]
        if part is None and times:
            newest[name] = max(times)
        if when is None:
            when = max(times) if times else ""
        for r in rows:
            stats["records"] += 1
            ticket = text(r.get("ticket_id"))
            if not ticket:
                stats["no_id"] += 1
                continue
            stats["ids"].add(ticket)
            order += 1
            state = text(r.get("state"))
            if ticket not in first_seen:
                first_seen[ticket] = district_of(r)
                points[ticket] = point_of(r)
            key = (when, order)
            if ticket not in latest or key >= latest[ticket][0]:
                latest[ticket] = (key, state, when)

districts = {}
undetermined = 0
for ticket, district in first_seen.items():
    if district is None:
        continue
    if as_of is not None and latest[ticket][2] < as_of:
        undetermined += 1
        continue
    c = districts.setdefault(district, [0, 0])
    c[0] += 1
    if latest[ticket][1] == "เสร็จสิ้น":
        c[1] += 1

json.dump(
    {
        "files": {n: {"records": s["records"], "no_id": s["no_id"], "ids": len(s["ids"])} for n, s in files.items()},
        "tickets": len(first_seen),
        "districts": districts,
        "undetermined": undetermined,
        "newest": newest,
        "placed": sum(1 for p in points.values() if p),
        "mapped": sum(1 for p in points.values() if p and in_frame(p)),
        "unplaced": sorted(t for t, p in points.items() if not p),
        "outside": sorted(t for t, p in points.items() if p and not in_frame(p)),
    },
    sys.stdout,
    ensure_ascii=False,
    sort_keys=True,
)
