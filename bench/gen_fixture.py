#!/usr/bin/env python3
"""Writes bench/fixtures/alerts.json: 50 open alerts in ilert's `Alert` shape (GET /alerts).

Deterministic (fixed seed, fixed clock) so the file and the benchmark are reproducible.
The organisation is the sandbox's "Acme Shop". Run: python3 bench/gen_fixture.py
"""
import json
import os
import random

rng = random.Random(7)

USERS = [
    (1, "Maya", "Chen"), (2, "Jonas", "Weber"), (3, "Priya", "Nair"), (4, "Sam", "Rivera"),
    (5, "Lena", "Hoffmann"), (6, "Diego", "Alvarez"), (7, "Yuki", "Tanaka"), (8, "Amara", "Okafor"),
]
SOURCES = [
    (101, "Checkout API (Prometheus)", "PROMETHEUS"),
    (102, "Payments gateway (Datadog)", "DATADOG"),
    (103, "Storefront uptime", "UPTIMEMONITOR"),
    (104, "Platform Kubernetes (Alertmanager)", "PROMETHEUS"),
    (105, "Search cluster (Grafana)", "GRAFANA"),
]
POLICIES = [(201, "Checkout primary"), (202, "Platform follow-the-sun"), (203, "Storefront weekly")]
PROBLEMS = [
    ("High 5xx rate on {svc}", "Error ratio {v}% over the last 5 minutes (threshold 2%)."),
    ("p99 latency above SLO on {svc}", "p99 latency {v}00 ms for 10 minutes (SLO 800 ms)."),
    ("Pod crash looping in {svc}", "Container restarted {v} times in 15 minutes; last exit code 137 (OOMKilled)."),
    ("Disk almost full on {svc}", "Volume /var/lib/data at {v}% (threshold 85%); growth 1.2 GB/h."),
    ("Certificate expires soon for {svc}", "TLS certificate expires in {v} days; renewal job failed twice."),
    ("Queue backlog growing in {svc}", "{v}000 messages waiting, consumer lag rising for 20 minutes."),
]
SERVICES = ["checkout-api", "payments-gateway", "storefront-web", "search-indexer", "order-events",
            "inventory-sync", "auth-service", "recommendations"]
REGIONS = ["eu-central-1", "us-east-1", "ap-south-1"]


def user(uid):
    u = next(x for x in USERS if x[0] == uid)
    return {"id": u[0], "firstName": u[1], "lastName": u[2],
            "email": f"{u[1].lower()}.{u[2].lower()}@example.com"}


def alert(i):
    svc = SERVICES[i % len(SERVICES)]
    title, detail = PROBLEMS[i % len(PROBLEMS)]
    v = rng.randint(3, 97)
    src = SOURCES[i % len(SOURCES)]
    pol = POLICIES[i % len(POLICIES)]
    region = REGIONS[i % len(REGIONS)]
    status = "ACCEPTED" if i % 3 == 0 else "PENDING"
    day, hour, minute = 20 + i // 20, (i * 7) % 24, (i * 13) % 60
    reported = f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:{(i * 17) % 60:02d}.{i:03d}Z"
    responders = []
    for uid in rng.sample([u[0] for u in USERS], 2):
        accepted = status == "ACCEPTED" and not responders
        responders.append({
            "user": {k: v for k, v in user(uid).items() if k != "email"},
            "status": "ACCEPTED" if accepted else "PENDING",
            "acceptedAt": reported.replace("Z", "").rsplit(":", 1)[0] + ":59.000Z" if accepted else None,
        })
    return {
        "id": 880000 + i,
        "summary": title.format(svc=svc) + f" ({region})",
        "details": (detail.format(v=v) + f"\nService: {svc}\nRegion: {region}\n"
                    f"Runbook: https://runbooks.acme.example/{svc}/{i % len(PROBLEMS)}"),
        "reportTime": reported,
        "resolvedOn": None,
        "status": status,
        "priority": "HIGH" if i % 4 != 3 else "LOW",
        "severity": 1 + i % 5,
        "alertKey": f"{src[2].lower()}-{svc}-{i % len(PROBLEMS)}-{region}",
        "alertSource": {"id": src[0], "name": src[1], "integrationType": src[2],
                        "iconUrl": f"https://app.ilert.com/icons/{src[2].lower()}.svg"},
        "escalationPolicy": {"id": pol[0], "name": pol[1]},
        "nextEscalation": None if status == "ACCEPTED" else reported.replace("Z", "").rsplit(":", 1)[0] + ":45.000Z",
        "nextEscalationUser": None,
        "nextEscalationRuleIndex": 1,
        "responders": responders,
        "labels": {"service": svc, "region": region, "team": ["Checkout", "Platform", "Storefront"][i % 3]},
        "links": [
            {"href": f"https://grafana.acme.example/d/{svc}?var-region={region}", "text": "Dashboard"},
        ],
        "images": [{"src": f"https://grafana.acme.example/render/{svc}-{i}.png",
                    "href": f"https://grafana.acme.example/d/{svc}", "alt": "Error ratio"}] if i % 4 == 0 else [],
        "linkedIncidentId": None,
        "logEntryCount": 3 + i % 7,
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "fixtures", "alerts.json")
    data = [alert(i) for i in range(50)]
    with open(out, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"{out}: {len(data)} alerts, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
