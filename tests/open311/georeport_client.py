"""Drives Rongtook's Open311 GeoReport v2 endpoints with the unchanged PyPI client `georeport`.

Usage: python3 georeport_client.py ROOT_URL CLOSED_ID OPEN_ID
Exits non-zero on the first failed check; prints one line per check.
"""
import sys

from georeport import GeoReport

root, closed_id, open_id = sys.argv[1], sys.argv[2], sys.argv[3]
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)
    checks += 1
    print(f"ok: {what}")


for fmt in ("json", "xml"):
    client = GeoReport(root, output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    check(len(codes) == 24 and "road" in codes, f"{fmt}: services lists the 24 categories")

    def listed(**kw):
        found = client.get_service_requests(**kw)
        if isinstance(found, dict):  # xmltodict gives a dict for a single element
            found = [found]
        return found

    requests = listed(start_date="2024-08-01T00:00:00Z", end_date="2024-10-01T00:00:00Z")
    ids = {r["service_request_id"] for r in requests}
    check(closed_id in ids and open_id not in ids, f"{fmt}: a date window lists the 2024 complaint only ({sorted(ids)})")
    recent = {r["service_request_id"] for r in listed()}
    check(open_id in recent and closed_id not in recent, f"{fmt}: the default window is the last 90 days")
    check({r["service_request_id"] for r in listed(status="closed", start_date="2024-08-01T00:00:00Z", end_date="2024-10-01T00:00:00Z")} == {closed_id}, f"{fmt}: the status filter")

    closed_only = client.get_service_requests(service_request_id=closed_id)
    if isinstance(closed_only, dict):
        closed_only = [closed_only]
    check([r["status"] for r in closed_only] == ["closed"], f"{fmt}: a request by id")

    one = client.get_service_request(closed_id)
    check(one["service_request_id"] == closed_id and one["status"] == "closed", f"{fmt}: the closed request")
    check(bool(one["status_notes"]), f"{fmt}: its status notes are the answer")
    check(one["agency_responsible"] == "district:bang-rak", f"{fmt}: the agency responsible")
    opened = client.get_service_request(open_id)
    check(opened["status"] == "open" and opened["expected_datetime"], f"{fmt}: the open request has an expected date")
    text = repr(one) + repr(opened) + repr(requests)
    check("Somchai" not in text and "0812345678" not in text, f"{fmt}: no personal data")

print(f"{checks} passed, 0 failed")
