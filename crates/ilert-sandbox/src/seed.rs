//! The demo organisation "Acme Shop", written into a fresh sandbox. It tells a story to explore:
//!
//! - 14 people on four continents in four teams (Checkout, Platform, Storefront, Customer Care),
//!   with the four fixed API keys of [`DEMO_KEYS`].
//! - Follow-the-sun schedules: "Checkout primary" (Europe/Berlin: Europe by day, the Americas in
//!   the evening, APAC at night, with an override tomorrow), "Platform follow-the-sun" (UTC),
//!   "Storefront weekly" (America/Los_Angeles) and a STATIC "Checkout secondary".
//! - Escalation policies with two or three levels over those schedules, a user and a team.
//! - Alert sources of real integration types, and four weeks of alerts in every state, escalated
//!   and accepted or resolved by the engine the API uses, so reports show real MTTA and MTTR.
//! - Six services on a public and a private status page, past status updates, and one open
//!   incident, "Elevated checkout errors", with its history.
//! - Maintenance windows, heartbeat monitors and alert actions.
//!
//! Ids are fixed; times are relative to the moment of seeding, so the story always looks current.

use chrono::{Datelike, Duration, NaiveTime};
use chrono_tz::Tz;
use rusqlite::{Connection, Transaction, params};
use serde_json::{Map, Value, json};

use crate::alerts::{self, Actor, NewAlert};
use crate::catalog::Catalog;
use crate::error::ApiError;
use crate::log_entries::{self, Entry};
use crate::schedules::{StoredLayer, StoredRestriction, StoredShift, TimeOfWeek};
use crate::subscribers::{Kind, Subscriber};
use crate::time::{self, DAY, HOUR, MINUTE};
use crate::{escalations, incidents, services};

mod history;

/// An API key that a fresh sandbox accepts, and the user it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct DemoKey {
    pub key: &'static str,
    pub user_id: i64,
    pub name: &'static str,
    pub email: &'static str,
    pub role: &'static str,
}

pub const DEMO_KEYS: &[DemoKey] = &[
    DemoKey {
        key: "demo-key-admin",
        user_id: MAYA,
        name: "Maya Chen",
        email: "maya.chen@example.com",
        role: "ADMIN",
    },
    DemoKey {
        key: "demo-key-user",
        user_id: JONAS,
        name: "Jonas Weber",
        email: "jonas.weber@example.com",
        role: "USER",
    },
    DemoKey {
        key: "demo-key-responder",
        user_id: PRIYA,
        name: "Priya Nair",
        email: "priya.nair@example.com",
        role: "RESPONDER",
    },
    DemoKey {
        key: "demo-key-stakeholder",
        user_id: SAM,
        name: "Sam Rivera",
        email: "sam.rivera@example.com",
        role: "STAKEHOLDER",
    },
];

const MAYA: i64 = 10001;
const JONAS: i64 = 10002;
const PRIYA: i64 = 10003;
const SAM: i64 = 10004;
const LENA: i64 = 10005;
const DIEGO: i64 = 10006;
const YUKI: i64 = 10007;
const LIAM: i64 = 10008;
const ANA: i64 = 10009;
const ARJUN: i64 = 10010;
const EMILY: i64 = 10011;
const OLIVER: i64 = 10012;
const NOAH: i64 = 10013;
const GRACE: i64 = 10014;

struct SeedUser {
    id: i64,
    first: &'static str,
    last: &'static str,
    timezone: &'static str,
    language: &'static str,
    /// ilert's region enum has ten countries; others have none.
    region: Option<&'static str>,
    role: &'static str,
    position: &'static str,
    department: &'static str,
    shift_color: &'static str,
}

impl SeedUser {
    fn username(&self) -> String {
        format!("{}.{}", self.first, self.last).to_lowercase()
    }

    fn email(&self) -> String {
        format!("{}@example.com", self.username())
    }
}

const fn user(
    id: i64,
    (first, last): (&'static str, &'static str),
    timezone: &'static str,
    (language, region): (&'static str, Option<&'static str>),
    role: &'static str,
    (position, department): (&'static str, &'static str),
    shift_color: &'static str,
) -> SeedUser {
    SeedUser {
        id,
        first,
        last,
        timezone,
        language,
        region,
        role,
        position,
        department,
        shift_color,
    }
}

const USERS: &[SeedUser] = &[
    user(
        MAYA,
        ("Maya", "Chen"),
        "Europe/Berlin",
        ("en", Some("DE")),
        "ADMIN",
        ("Head of Platform Engineering", "Engineering"),
        "#7c3aed",
    ),
    user(
        JONAS,
        ("Jonas", "Weber"),
        "Europe/Berlin",
        ("de", Some("DE")),
        "USER",
        ("Senior Backend Engineer", "Checkout"),
        "#2563eb",
    ),
    user(
        PRIYA,
        ("Priya", "Nair"),
        "Asia/Kolkata",
        ("en", Some("IN")),
        "RESPONDER",
        ("Site Reliability Engineer", "Platform"),
        "#059669",
    ),
    user(
        SAM,
        ("Sam", "Rivera"),
        "America/New_York",
        ("en", Some("US")),
        "STAKEHOLDER",
        ("Customer Support Lead", "Customer Care"),
        "#d97706",
    ),
    user(
        LENA,
        ("Lena", "Hoffmann"),
        "Europe/Berlin",
        ("de", Some("DE")),
        "USER",
        ("Backend Engineer", "Checkout"),
        "#db2777",
    ),
    user(
        DIEGO,
        ("Diego", "Alvarez"),
        "America/Los_Angeles",
        ("en", Some("US")),
        "RESPONDER",
        ("Frontend Engineer", "Storefront"),
        "#0891b2",
    ),
    user(
        YUKI,
        ("Yuki", "Tanaka"),
        "Asia/Tokyo",
        ("en", None),
        "RESPONDER",
        ("Site Reliability Engineer", "Platform"),
        "#65a30d",
    ),
    user(
        LIAM,
        ("Liam", "Walsh"),
        "Australia/Sydney",
        ("en", None),
        "USER",
        ("Backend Engineer", "Checkout"),
        "#ea580c",
    ),
    user(
        ANA,
        ("Ana", "Souza"),
        "America/Sao_Paulo",
        ("en", None),
        "RESPONDER",
        ("Backend Engineer", "Checkout"),
        "#9333ea",
    ),
    user(
        ARJUN,
        ("Arjun", "Mehta"),
        "Asia/Kolkata",
        ("en", Some("IN")),
        "USER",
        ("Platform Engineer", "Platform"),
        "#0d9488",
    ),
    user(
        EMILY,
        ("Emily", "Carter"),
        "America/Los_Angeles",
        ("en", Some("US")),
        "RESPONDER",
        ("Site Reliability Engineer", "Platform"),
        "#e11d48",
    ),
    user(
        OLIVER,
        ("Oliver", "Bennett"),
        "Europe/London",
        ("en", Some("GB")),
        "USER",
        ("Search Engineer", "Storefront"),
        "#4f46e5",
    ),
    user(
        NOAH,
        ("Noah", "Fischer"),
        "Europe/Berlin",
        ("de", Some("DE")),
        "GUEST",
        ("Product Manager", "Product"),
        "#78716c",
    ),
    user(
        GRACE,
        ("Grace", "Kim"),
        "America/New_York",
        ("en", Some("US")),
        "STAKEHOLDER",
        ("VP Customer Experience", "Customer Care"),
        "#ca8a04",
    ),
];

const CHECKOUT_TEAM: i64 = 501;
const PLATFORM_TEAM: i64 = 502;
const STOREFRONT_TEAM: i64 = 503;
const CARE_TEAM: i64 = 504;

/// (id, name, members with their team role).
type SeedTeam = (i64, &'static str, &'static [(i64, &'static str)]);

const TEAMS: &[SeedTeam] = &[
    (
        CHECKOUT_TEAM,
        "Checkout",
        &[
            (JONAS, "ADMIN"),
            (LENA, "USER"),
            (ANA, "RESPONDER"),
            (LIAM, "USER"),
        ],
    ),
    (
        PLATFORM_TEAM,
        "Platform",
        &[
            (MAYA, "ADMIN"),
            (PRIYA, "RESPONDER"),
            (YUKI, "RESPONDER"),
            (ARJUN, "USER"),
            (EMILY, "RESPONDER"),
        ],
    ),
    (
        STOREFRONT_TEAM,
        "Storefront",
        &[
            (DIEGO, "RESPONDER"),
            (OLIVER, "USER"),
            (NOAH, "STAKEHOLDER"),
        ],
    ),
    (
        CARE_TEAM,
        "Customer Care",
        &[(SAM, "STAKEHOLDER"), (GRACE, "STAKEHOLDER")],
    ),
];

const CHECKOUT_PRIMARY: i64 = 7001;
const PLATFORM_SUN: i64 = 7002;
const STOREFRONT_WEEKLY: i64 = 7003;
const CHECKOUT_SECONDARY: i64 = 7004;

const CHECKOUT_POLICY: i64 = 3101;
const PLATFORM_POLICY: i64 = 3102;
const STOREFRONT_POLICY: i64 = 3103;

/// (id, name, routing key, team, levels: (timeout minutes, users, schedules, teams)).
type SeedPolicy = (
    i64,
    &'static str,
    &'static str,
    i64,
    &'static [(i64, &'static [i64], &'static [i64], &'static [i64])],
);

const POLICIES: &[SeedPolicy] = &[
    (
        CHECKOUT_POLICY,
        "Checkout on-call",
        "checkout",
        CHECKOUT_TEAM,
        &[
            (15, &[], &[CHECKOUT_PRIMARY], &[]),
            (15, &[], &[CHECKOUT_SECONDARY], &[]),
            (30, &[MAYA], &[], &[]),
        ],
    ),
    (
        PLATFORM_POLICY,
        "Platform on-call",
        "platform",
        PLATFORM_TEAM,
        &[(15, &[], &[PLATFORM_SUN], &[]), (30, &[MAYA], &[], &[])],
    ),
    (
        STOREFRONT_POLICY,
        "Storefront on-call",
        "storefront",
        STOREFRONT_TEAM,
        &[
            (30, &[], &[STOREFRONT_WEEKLY], &[]),
            (30, &[], &[], &[STOREFRONT_TEAM]),
        ],
    ),
];

const PROMETHEUS: i64 = 202541;
const DATADOG: i64 = 202542;
const CHECKOUT_API: i64 = 202543;
const GRAFANA: i64 = 202544;
const SENTRY: i64 = 202545;
const HEARTBEATS: i64 = 202546;
const VENDOR_MAIL: i64 = 202547;

/// (id, name, integration type, integration key, policy, team, priority rule).
const SOURCES: &[(i64, &str, &str, &str, i64, i64, &str)] = &[
    (
        PROMETHEUS,
        "Prometheus production",
        "PROMETHEUS",
        "il1prom3a9c0e51d7b24f68e",
        PLATFORM_POLICY,
        PLATFORM_TEAM,
        "HIGH",
    ),
    (
        DATADOG,
        "Datadog APM",
        "DATADOG",
        "il1dd7f2b19c4e08a36d51c",
        CHECKOUT_POLICY,
        CHECKOUT_TEAM,
        "HIGH",
    ),
    (
        CHECKOUT_API,
        "Checkout API",
        "API",
        "il1api0460d849fcdc753d4f",
        CHECKOUT_POLICY,
        CHECKOUT_TEAM,
        "HIGH",
    ),
    (
        GRAFANA,
        "Grafana",
        "GRAFANA",
        "il1graf81e6d2b97c05a4f3",
        STOREFRONT_POLICY,
        STOREFRONT_TEAM,
        "HIGH",
    ),
    (
        SENTRY,
        "Sentry storefront",
        "SENTRY",
        "il1sent5c2e9a7f1b3d8046",
        STOREFRONT_POLICY,
        STOREFRONT_TEAM,
        "LOW",
    ),
    (
        HEARTBEATS,
        "Heartbeats",
        "HEARTBEAT2",
        "il1hbt9d4f1c6a8e2b7305",
        PLATFORM_POLICY,
        PLATFORM_TEAM,
        "HIGH",
    ),
    (
        VENDOR_MAIL,
        "Payment provider e-mails",
        "EMAIL2",
        "il1mail2b8e6d4f0a9c1753",
        CHECKOUT_POLICY,
        CHECKOUT_TEAM,
        "LOW",
    ),
];

const CHECKOUT_SVC: i64 = 801;
const PAYMENTS_SVC: i64 = 802;
const STOREFRONT_SVC: i64 = 803;
const SEARCH_SVC: i64 = 804;
const ACCOUNTS_SVC: i64 = 805;
const API_SVC: i64 = 806;

const SERVICES: &[(i64, &str, &str, i64)] = &[
    (CHECKOUT_SVC, "Checkout", "checkout", CHECKOUT_TEAM),
    (PAYMENTS_SVC, "Payments", "payments", CHECKOUT_TEAM),
    (STOREFRONT_SVC, "Storefront", "storefront", STOREFRONT_TEAM),
    (SEARCH_SVC, "Search", "search", STOREFRONT_TEAM),
    (ACCOUNTS_SVC, "Customer accounts", "accounts", PLATFORM_TEAM),
    (API_SVC, "Public API", "api", PLATFORM_TEAM),
];

/// A status update: minutes after the incident opened, status, author, text.
type Update = (i64, &'static str, i64, &'static str);

struct SeedIncident {
    id: i64,
    ago: i64,
    summary: &'static str,
    affected: &'static [(i64, &'static str)],
    updates: &'static [Update],
    subscribers: &'static [i64],
}

/// Oldest first; the last one is still open.
const INCIDENTS: &[SeedIncident] = &[
    SeedIncident {
        id: 9001,
        ago: 23 * DAY + HOUR,
        summary: "Search returns errors for some queries",
        affected: &[(SEARCH_SVC, "PARTIAL_OUTAGE")],
        updates: &[
            (
                2,
                "INVESTIGATING",
                OLIVER,
                "Some searches fail with an error. We are investigating.",
            ),
            (
                40,
                "MONITORING",
                OLIVER,
                "A faulty index shard was replaced; searches work again. We are monitoring.",
            ),
            (95, "RESOLVED", OLIVER, "Search is fully operational again."),
        ],
        subscribers: &[],
    },
    SeedIncident {
        id: 9002,
        ago: 11 * DAY + 20 * HOUR,
        summary: "Checkout errors after a deployment",
        affected: &[(CHECKOUT_SVC, "PARTIAL_OUTAGE")],
        updates: &[
            (
                4,
                "IDENTIFIED",
                JONAS,
                "A deployment causes errors for about 6% of checkouts; we are rolling it back.",
            ),
            (
                38,
                "RESOLVED",
                JONAS,
                "The rollback is complete and checkout works normally.",
            ),
        ],
        subscribers: &[SAM],
    },
    SeedIncident {
        id: 9003,
        ago: 8 * DAY + 6 * HOUR,
        summary: "Slow product pages",
        affected: &[(STOREFRONT_SVC, "DEGRADED")],
        updates: &[
            (
                45,
                "INVESTIGATING",
                DIEGO,
                "Product pages load slowly for some visitors. We are looking into it.",
            ),
            (
                300,
                "RESOLVED",
                DIEGO,
                "Image sizes were fixed and product pages load quickly again.",
            ),
        ],
        subscribers: &[],
    },
    SeedIncident {
        id: 9004,
        ago: 25 * MINUTE,
        summary: "Elevated checkout errors",
        affected: &[(CHECKOUT_SVC, "PARTIAL_OUTAGE"), (PAYMENTS_SVC, "DEGRADED")],
        updates: &[
            (
                0,
                "INVESTIGATING",
                JONAS,
                "Some customers see errors when paying by card. We are investigating.",
            ),
            (
                11,
                "IDENTIFIED",
                JONAS,
                "Our payment provider returns errors for about 4% of card payments. We are failing over to our secondary provider; PayPal is not affected.",
            ),
            (
                20,
                "IDENTIFIED",
                JONAS,
                "The failover to the secondary payment provider is in progress; most card payments succeed again.",
            ),
        ],
        subscribers: &[SAM, GRACE],
    },
];

const DASH_CHECKOUT: (&str, &str) = (
    "https://grafana.acme-shop.example/d/checkout-overview",
    "Checkout overview dashboard",
);
const DASH_K8S: (&str, &str) = (
    "https://grafana.acme-shop.example/d/k8s-cluster",
    "Kubernetes cluster dashboard",
);

#[derive(Clone, Copy)]
enum Outcome {
    Pending,
    /// Accepted this long after the report, by the first person it reached.
    Accepted {
        after: i64,
    },
    /// Resolved this long after the report, by the first person it reached or (`by_source`)
    /// by the monitoring tool; optionally accepted before.
    Resolved {
        accepted: Option<i64>,
        after: i64,
        by_source: bool,
    },
}

struct SeedAlert {
    id: i64,
    /// How long before seeding the alert was reported.
    ago: i64,
    source: i64,
    summary: &'static str,
    details: &'static str,
    priority: &'static str,
    severity: Option<i64>,
    alert_key: &'static str,
    labels: &'static [(&'static str, &'static str)],
    links: &'static [(&'static str, &'static str)],
    custom_details: &'static str,
    /// Created with `POST /alerts` by this user rather than by an event.
    manual_by: Option<i64>,
    /// (after, creator, text), added with COMMENT events.
    comments: &'static [(i64, &'static str, &'static str)],
    outcome: Outcome,
}

/// A short alert of the older weeks: mostly resolved, mostly by whoever was on call.
const fn past(
    id: i64,
    ago: i64,
    source: i64,
    (summary, alert_key): (&'static str, &'static str),
    (priority, severity): (&'static str, i64),
    outcome: Outcome,
) -> SeedAlert {
    SeedAlert {
        id,
        ago,
        source,
        summary,
        details: "",
        priority,
        severity: Some(severity),
        alert_key,
        labels: &[("env", "production")],
        links: &[],
        custom_details: "{}",
        manual_by: None,
        comments: &[],
        outcome,
    }
}

const fn done(accepted: i64, after: i64) -> Outcome {
    Outcome::Resolved {
        accepted: Some(accepted),
        after,
        by_source: false,
    }
}

const fn auto(after: i64) -> Outcome {
    Outcome::Resolved {
        accepted: None,
        after,
        by_source: true,
    }
}

/// Oldest first; ids grow with report time, as they do in ilert.
const ALERTS: &[SeedAlert] = &[
    past(
        4695,
        27 * DAY + 4 * HOUR,
        PROMETHEUS,
        (
            "High memory usage on search-indexer-0",
            "mem/search-indexer-0",
        ),
        ("LOW", 4),
        done(22 * MINUTE, 3 * HOUR),
    ),
    past(
        4696,
        26 * DAY + 9 * HOUR,
        DATADOG,
        (
            "Checkout API p95 latency above 800ms",
            "checkout-api/latency-p95",
        ),
        ("HIGH", 3),
        done(4 * MINUTE, 41 * MINUTE),
    ),
    past(
        4697,
        25 * DAY + 2 * HOUR,
        GRAFANA,
        ("Storefront 5xx rate above 1%", "storefront/5xx-rate"),
        ("HIGH", 2),
        done(9 * MINUTE, 55 * MINUTE),
    ),
    past(
        4698,
        24 * DAY + 18 * HOUR,
        CHECKOUT_API,
        (
            "Order confirmation e-mails delayed",
            "checkout-api/mail-queue",
        ),
        ("LOW", 4),
        done(35 * MINUTE, 4 * HOUR),
    ),
    past(
        4699,
        23 * DAY + HOUR + 3 * MINUTE,
        PROMETHEUS,
        ("Search API error rate above 2%", "search-api/error-rate"),
        ("HIGH", 2),
        done(6 * MINUTE, 95 * MINUTE),
    ),
    past(
        4700,
        22 * DAY + 6 * HOUR,
        SENTRY,
        (
            "TypeError in ProductGallery.tsx (312 events)",
            "sentry/STOREFRONT-1F3",
        ),
        ("LOW", 4),
        done(2 * HOUR, DAY),
    ),
    past(
        4701,
        21 * DAY + 13 * HOUR,
        PROMETHEUS,
        (
            "etcd leader changed 4 times in 10 minutes",
            "etcd/leader-changes",
        ),
        ("HIGH", 3),
        done(3 * MINUTE, 20 * MINUTE),
    ),
    past(
        4702,
        20 * DAY + 3 * HOUR,
        VENDOR_MAIL,
        (
            "[PayFast] Scheduled maintenance notification",
            "payfast/maintenance-notice",
        ),
        ("LOW", 5),
        auto(2 * HOUR),
    ),
    SeedAlert {
        id: 4703,
        ago: 19 * DAY + 8 * HOUR,
        source: CHECKOUT_API,
        summary: "Customers report coupon codes rejected at checkout",
        details: "Support forwarded 14 tickets since 09:00: valid WINTER coupon codes are rejected as expired.",
        priority: "HIGH",
        severity: Some(3),
        alert_key: "",
        labels: &[("env", "production"), ("team", "checkout")],
        links: &[],
        custom_details: "{}",
        manual_by: Some(JONAS),
        comments: &[],
        outcome: done(MINUTE, 70 * MINUTE),
    },
    past(
        4704,
        18 * DAY + 22 * HOUR,
        DATADOG,
        (
            "Payment service error rate above 2%",
            "payment-service/error-rate",
        ),
        ("HIGH", 2),
        done(11 * MINUTE, 33 * MINUTE),
    ),
    past(
        4705,
        17 * DAY + 5 * HOUR,
        HEARTBEATS,
        (
            "Heartbeat overdue: Order export (hourly cron)",
            "heartbeat/order-export",
        ),
        ("HIGH", 3),
        done(18 * MINUTE, 50 * MINUTE),
    ),
    past(
        4706,
        16 * DAY + 14 * HOUR,
        GRAFANA,
        (
            "Storefront LCP above 3s on category pages",
            "storefront/lcp-category",
        ),
        ("LOW", 4),
        auto(6 * HOUR),
    ),
    past(
        4707,
        15 * DAY + 19 * HOUR,
        PROMETHEUS,
        (
            "Node disk pressure on ip-10-0-2-44",
            "k8s-disk-pressure/ip-10-0-2-44",
        ),
        ("LOW", 4),
        done(40 * MINUTE, 2 * HOUR),
    ),
    past(
        4708,
        15 * DAY + 2 * HOUR,
        SENTRY,
        (
            "Unhandled promise rejection in CartDrawer",
            "sentry/STOREFRONT-2A9",
        ),
        ("LOW", 4),
        done(3 * HOUR, 20 * HOUR),
    ),
    past(
        4709,
        14 * DAY + 11 * HOUR,
        DATADOG,
        (
            "Checkout API error budget burn rate high",
            "checkout-api/burn-rate",
        ),
        ("HIGH", 2),
        done(7 * MINUTE, HOUR),
    ),
    past(
        4710,
        14 * DAY + HOUR,
        CHECKOUT_API,
        (
            "Payment provider webhook signature failures",
            "checkout-api/webhook-signatures",
        ),
        ("HIGH", 2),
        done(5 * MINUTE, 28 * MINUTE),
    ),
    SeedAlert {
        id: 4711,
        ago: 13 * DAY + 3 * HOUR + 17_412,
        source: PROMETHEUS,
        summary: "Disk usage above 85% on db-replica-2",
        details: "Filesystem /var/lib/postgresql on db-replica-2 is 87% full and grew 6% in the last 24h.",
        priority: "LOW",
        severity: Some(4),
        alert_key: "disk-usage/db-replica-2",
        labels: &[
            ("env", "production"),
            ("host", "db-replica-2"),
            ("team", "platform"),
        ],
        links: &[DASH_K8S],
        custom_details: r#"{"alertname":"NodeFilesystemAlmostFull","instance":"db-replica-2:9100","mountpoint":"/var/lib/postgresql","value":"87.2"}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Resolved {
            accepted: Some(14 * MINUTE),
            after: 2 * HOUR + 5 * MINUTE,
            by_source: false,
        },
    },
    SeedAlert {
        id: 4712,
        ago: 11 * DAY + 20 * HOUR + 41_093,
        source: CHECKOUT_API,
        summary: "Checkout API error rate above 5%",
        details: "POST /v2/checkout returned HTTP 500 for 6.3% of requests over 5 minutes after deploy 2026.11.2-rc1.",
        priority: "HIGH",
        severity: Some(2),
        alert_key: "checkout-api/error-rate",
        labels: &[
            ("env", "production"),
            ("service", "checkout-api"),
            ("team", "checkout"),
        ],
        links: &[DASH_CHECKOUT],
        custom_details: r#"{"endpoint":"POST /v2/checkout","errorRate":0.063,"window":"5m","deploy":"2026.11.2-rc1"}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Resolved {
            accepted: Some(3 * MINUTE),
            after: 38 * MINUTE,
            by_source: false,
        },
    },
    SeedAlert {
        id: 4713,
        ago: 10 * DAY + 2 * HOUR + 9_250,
        source: DATADOG,
        summary: "Payment service p95 latency above 1.5s",
        details: "Datadog monitor `payment-service.latency.p95` crossed 1.5s (now 1.82s) on env:production.",
        priority: "HIGH",
        severity: Some(3),
        alert_key: "payment-service/latency-p95",
        labels: &[
            ("env", "production"),
            ("service", "payment-service"),
            ("team", "checkout"),
        ],
        links: &[(
            "https://app.datadoghq.eu/monitors/81234567",
            "Datadog monitor",
        )],
        custom_details: r#"{"monitor":"payment-service.latency.p95","threshold":1.5,"value":1.82,"unit":"s"}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Resolved {
            accepted: Some(7 * MINUTE),
            after: HOUR + 10 * MINUTE,
            by_source: false,
        },
    },
    SeedAlert {
        id: 4714,
        ago: 8 * DAY + 6 * HOUR + 52_118,
        source: GRAFANA,
        summary: "Storefront LCP above 4s on product pages",
        details: "Largest Contentful Paint p75 for /product/* is 4.6s (threshold 4s), measured by RUM.",
        priority: "LOW",
        severity: Some(4),
        alert_key: "storefront/lcp-product",
        labels: &[
            ("env", "production"),
            ("service", "storefront"),
            ("team", "storefront"),
        ],
        links: &[(
            "https://grafana.acme-shop.example/d/storefront-web-vitals",
            "Web vitals dashboard",
        )],
        custom_details: r#"{"ruleName":"LCP p75 product pages","state":"alerting","value":4.6}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Resolved {
            accepted: Some(42 * MINUTE),
            after: 5 * HOUR,
            by_source: false,
        },
    },
    SeedAlert {
        id: 4715,
        ago: 6 * DAY + 14 * HOUR + 30_770,
        source: PROMETHEUS,
        summary: "Kubernetes node ip-10-0-3-17 NotReady",
        details: "Node ip-10-0-3-17.eu-central-1.compute.internal has been NotReady for 5 minutes; 14 pods are being rescheduled.",
        priority: "HIGH",
        severity: Some(2),
        alert_key: "k8s-node-notready/ip-10-0-3-17",
        labels: &[
            ("env", "production"),
            ("node", "ip-10-0-3-17"),
            ("team", "platform"),
        ],
        links: &[DASH_K8S],
        custom_details: r#"{"alertname":"KubeNodeNotReady","node":"ip-10-0-3-17.eu-central-1.compute.internal","cluster":"prod-eu-1"}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Resolved {
            accepted: Some(4 * MINUTE),
            after: 25 * MINUTE,
            by_source: false,
        },
    },
    SeedAlert {
        id: 4716,
        ago: 5 * DAY + HOUR + 12_004,
        source: PROMETHEUS,
        summary: "TLS certificate for api.acme-shop.example expires in 14 days",
        details: "blackbox_exporter reports the certificate for https://api.acme-shop.example expires in 14 days.",
        priority: "LOW",
        severity: Some(5),
        alert_key: "cert-expiry/api.acme-shop.example",
        labels: &[
            ("env", "production"),
            ("domain", "api.acme-shop.example"),
            ("team", "platform"),
        ],
        links: &[],
        custom_details: r#"{"alertname":"SSLCertExpiringSoon","instance":"https://api.acme-shop.example","daysLeft":14}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Resolved {
            accepted: None,
            after: 19 * HOUR,
            by_source: true,
        },
    },
    SeedAlert {
        id: 4717,
        ago: 3 * DAY + 9 * HOUR + 44_561,
        source: CHECKOUT_API,
        summary: "Payment provider webhook backlog above 500",
        details: "The payment-webhooks queue holds 742 unprocessed events; order confirmations are delayed.",
        priority: "HIGH",
        severity: Some(2),
        alert_key: "checkout-api/webhook-backlog",
        labels: &[
            ("env", "production"),
            ("service", "payment-webhooks"),
            ("team", "checkout"),
        ],
        links: &[DASH_CHECKOUT],
        custom_details: r#"{"queue":"payment-webhooks","depth":742,"oldestMessageAgeSeconds":611}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Resolved {
            accepted: Some(5 * MINUTE),
            after: 50 * MINUTE,
            by_source: false,
        },
    },
    SeedAlert {
        id: 4718,
        ago: 2 * DAY + 4 * HOUR + 3_318,
        source: PROMETHEUS,
        summary: "Disk usage above 80% on logs-01",
        details: "Filesystem /var/log on logs-01 is 82% full. Log retention cleanup is scheduled; monitor until then.",
        priority: "LOW",
        severity: Some(4),
        alert_key: "disk-usage/logs-01",
        labels: &[
            ("env", "production"),
            ("host", "logs-01"),
            ("team", "platform"),
        ],
        links: &[DASH_K8S],
        custom_details: r#"{"alertname":"NodeFilesystemAlmostFull","instance":"logs-01:9100","mountpoint":"/var/log","value":"82.4"}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Accepted { after: 26 * MINUTE },
    },
    SeedAlert {
        id: 4719,
        ago: DAY + 7 * HOUR + 57_846,
        source: PROMETHEUS,
        summary: "TLS certificate for shop.acme-shop.example expires in 7 days",
        details: "blackbox_exporter reports the certificate for https://shop.acme-shop.example expires in 7 days. Automatic renewal failed: DNS-01 challenge timed out.",
        priority: "LOW",
        severity: Some(3),
        alert_key: "cert-expiry/shop.acme-shop.example",
        labels: &[
            ("env", "production"),
            ("domain", "shop.acme-shop.example"),
            ("team", "platform"),
        ],
        links: &[(
            "https://runbooks.acme-shop.example/platform/tls-certificates",
            "Runbook: TLS certificates",
        )],
        custom_details: r#"{"alertname":"SSLCertExpiringSoon","instance":"https://shop.acme-shop.example","daysLeft":7,"renewalError":"DNS-01 challenge timed out"}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Pending,
    },
    SeedAlert {
        id: 4720,
        ago: 5 * HOUR + 2 * MINUTE + 26_187,
        source: GRAFANA,
        summary: "Storefront CDN cache hit ratio below 80%",
        details: "CDN cache hit ratio for static.acme-shop.example dropped to 71% after the asset pipeline change.",
        priority: "LOW",
        severity: Some(4),
        alert_key: "storefront/cdn-hit-ratio",
        labels: &[
            ("env", "production"),
            ("service", "cdn"),
            ("team", "storefront"),
        ],
        links: &[("https://grafana.acme-shop.example/d/cdn", "CDN dashboard")],
        custom_details: r#"{"ruleName":"CDN cache hit ratio","state":"alerting","value":0.71}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Resolved {
            accepted: Some(12 * MINUTE),
            after: HOUR + 4 * MINUTE,
            by_source: false,
        },
    },
    SeedAlert {
        id: 4721,
        ago: 2 * HOUR + 40 * MINUTE + 8_902,
        source: DATADOG,
        summary: "Cart service: Redis connection pool exhausted",
        details: "cart-service reports `ERR max number of clients reached` from redis-cart; 3% of add-to-cart calls fail.",
        priority: "HIGH",
        severity: Some(2),
        alert_key: "cart-service/redis-pool",
        labels: &[
            ("env", "production"),
            ("service", "cart-service"),
            ("team", "checkout"),
        ],
        links: &[(
            "https://app.datadoghq.eu/apm/services/cart-service",
            "Datadog APM: cart-service",
        )],
        custom_details: r#"{"monitor":"cart-service.redis.pool_exhausted","failedCallsRatio":0.03,"redis":"redis-cart"}"#,
        manual_by: None,
        comments: &[(
            9 * MINUTE,
            "Jonas Weber",
            "Raised maxclients on redis-cart from 128 to 256; watching the pool.",
        )],
        outcome: Outcome::Accepted { after: 6 * MINUTE },
    },
    SeedAlert {
        id: 4722,
        ago: 23 * MINUTE + 14_512,
        source: CHECKOUT_API,
        summary: "Payment provider returns 5xx for 4% of requests",
        details: "Calls from checkout-api to the payment provider fail with HTTP 502/503 for 4.1% of requests over the last 10 minutes. Card payments are affected; PayPal is not.",
        priority: "HIGH",
        severity: Some(1),
        alert_key: "checkout-api/payment-provider-5xx",
        labels: &[
            ("env", "production"),
            ("service", "checkout-api"),
            ("dependency", "payment-provider"),
            ("team", "checkout"),
        ],
        links: &[
            DASH_CHECKOUT,
            (
                "https://runbooks.acme-shop.example/checkout/payment-provider-errors",
                "Runbook: payment provider errors",
            ),
        ],
        custom_details: r#"{"dependency":"payment-provider","errorRate":0.041,"statusCodes":{"502":311,"503":97},"window":"10m"}"#,
        manual_by: None,
        comments: &[(
            2 * MINUTE,
            "checkout-api",
            "Retry budget exhausted for 311 requests; circuit breaker is half-open.",
        )],
        outcome: Outcome::Pending,
    },
    SeedAlert {
        id: 4723,
        ago: 11 * MINUTE + 48_730,
        source: DATADOG,
        summary: "Checkout API p99 latency above 2s",
        details: "Datadog monitor `checkout-api.latency.p99` is at 2.7s (threshold 2s). Most time is spent waiting on the payment provider.",
        priority: "HIGH",
        severity: Some(2),
        alert_key: "checkout-api/latency-p99",
        labels: &[
            ("env", "production"),
            ("service", "checkout-api"),
            ("team", "checkout"),
        ],
        links: &[(
            "https://app.datadoghq.eu/monitors/81234599",
            "Datadog monitor",
        )],
        custom_details: r#"{"monitor":"checkout-api.latency.p99","threshold":2.0,"value":2.7,"unit":"s"}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Pending,
    },
    SeedAlert {
        id: 4724,
        ago: 4 * MINUTE + 21_066,
        source: PROMETHEUS,
        summary: "checkout-api pods restarting (CrashLoopBackOff)",
        details: "3 of 8 checkout-api pods in namespace shop restarted more than 5 times in 10 minutes (OOMKilled while retrying payment calls).",
        priority: "HIGH",
        severity: Some(2),
        alert_key: "k8s-crashloop/shop/checkout-api",
        labels: &[
            ("env", "production"),
            ("namespace", "shop"),
            ("deployment", "checkout-api"),
            ("team", "platform"),
        ],
        links: &[DASH_K8S],
        custom_details: r#"{"alertname":"KubePodCrashLooping","namespace":"shop","deployment":"checkout-api","restarts":17,"reason":"OOMKilled"}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Pending,
    },
    SeedAlert {
        id: 4725,
        ago: 2 * MINUTE + 9_114,
        source: SENTRY,
        summary: "Checkout button unresponsive on Safari 17 (87 users)",
        details: "Sentry issue STOREFRONT-3C1: `TypeError: undefined is not an object (evaluating 'cart.total')` in CheckoutButton.tsx, Safari 17 only.",
        priority: "LOW",
        severity: Some(3),
        alert_key: "sentry/STOREFRONT-3C1",
        labels: &[
            ("env", "production"),
            ("service", "storefront"),
            ("browser", "safari-17"),
            ("team", "storefront"),
        ],
        links: &[(
            "https://sentry.acme-shop.example/issues/STOREFRONT-3C1",
            "Sentry issue",
        )],
        custom_details: r#"{"issue":"STOREFRONT-3C1","users":87,"release":"web@2026.11.7"}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Pending,
    },
];

fn labels_json(labels: &[(&str, &str)]) -> Value {
    let map: Map<String, Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect();
    Value::Object(map)
}

fn links_json(links: &[(&str, &str)]) -> Value {
    Value::Array(
        links
            .iter()
            .map(|(href, text)| json!({"href": href, "text": text}))
            .collect(),
    )
}

fn sql_err(e: ApiError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// Writes the demo organisation in one transaction, so a failure leaves the file empty and the
/// next start seeds again.
pub(crate) fn seed(conn: &mut Connection, now: i64, history: bool) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    seed_users(&tx, now)?;
    seed_teams(&tx, now)?;
    seed_schedules(&tx, now)?;
    seed_policies(&tx)?;
    seed_sources(&tx, now)?;
    seed_services(&tx, now)?;
    seed_status_pages(&tx)?;
    seed_incidents(&tx, now)?;
    seed_maintenance(&tx, now)?;
    seed_heartbeats(&tx, now)?;
    seed_alert_actions(&tx)?;
    seed_alerts(&tx, now, history).map_err(sql_err)?;
    seed_failed_notifications(&tx)?;
    if history {
        history::failed_notifications(&tx)?;
    }
    tx.commit()
}

/// Not every page arrives. Every notification of the payment alert (4722) so far failed: its
/// e-mail bounced, the phone that gets its push is off, and an SMS went to a wrong number. For
/// the latency alert (4723) one SMS failed among deliveries that worked. Later ones (the next
/// escalation level, as the clock moves on) are delivered as usual.
fn seed_failed_notifications(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for (alert, method, error) in [
        (4722, "EMAIL", "Mailbox unavailable (552: mailbox full)"),
        (
            4722,
            "PUSH",
            "Device unreachable: the phone has been offline since the push was sent",
        ),
    ] {
        tx.execute(
            "UPDATE notifications SET status = 'ERROR', error = ?3 WHERE alert_id = ?1 AND method = ?2",
            params![alert, method, error],
        )?;
    }
    for alert in [4722, 4723] {
        // An SMS beside the first notification, to a number that does not exist.
        tx.execute(
            "INSERT INTO notifications (alert_id, user_id, method, target, subject, time, status, error) \
             SELECT alert_id, user_id, 'SMS', '+49 151 0000000', subject, time, 'ERROR', \
                    'Invalid phone number: the number is not assigned' \
             FROM notifications WHERE alert_id = ?1 ORDER BY time, id LIMIT 1",
            [alert],
        )?;
    }
    Ok(())
}

fn seed_users(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    for (i, u) in (0_i64..).zip(USERS.iter()) {
        let created = now - (420 - 23 * i) * DAY;
        tx.execute(
            "INSERT INTO users (id, username, first_name, last_name, email, timezone, language, \
             region, role, position, department, shift_color, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                u.id,
                u.username(),
                u.first,
                u.last,
                u.email(),
                u.timezone,
                u.language,
                u.region,
                u.role,
                u.position,
                u.department,
                u.shift_color,
                created,
                created + 30 * DAY
            ],
        )?;
    }
    for k in DEMO_KEYS {
        tx.execute(
            "INSERT INTO api_keys (key, user_id) VALUES (?1, ?2)",
            params![k.key, k.user_id],
        )?;
    }
    Ok(())
}

fn seed_teams(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    for (id, name, members) in TEAMS {
        tx.execute(
            "INSERT INTO teams (id, name, visibility, created_at, updated_at) VALUES (?1, ?2, 'PUBLIC', ?3, ?3)",
            params![id, name, now - 400 * DAY],
        )?;
        for (user, role) in *members {
            tx.execute(
                "INSERT INTO team_members (team_id, user_id, role) VALUES (?1, ?2, ?3)",
                params![id, user, role],
            )?;
        }
    }
    Ok(())
}

/// Midnight of the Monday `weeks` weeks before `now`'s week, in `tz`.
fn monday(now: i64, tz: Tz, weeks: i64) -> i64 {
    let date = time::ms_to_local(tz, now).map_or_else(chrono::NaiveDate::default, |t| t.date());
    let monday = date
        - Duration::days(i64::from(date.weekday().num_days_from_monday()))
        - Duration::weeks(weeks);
    time::local_to_ms(tz, monday.and_time(NaiveTime::MIN))
}

/// The demo user's cover on "Checkout primary", so that his part of the story holds at any hour:
/// from about three hours ago (before the newest Checkout alerts, which therefore reached him)
/// to the first of the schedule's hand-overs (00:00, 08:00 or 16:00 Berlin) at least two hours
/// ahead. So he is on call now, has open alerts of his own, and hands over within ten hours.
/// It ends at tomorrow's 08:00 override at the latest, never overlapping it.
fn demo_user_cover(now: i64) -> (i64, i64) {
    let berlin: Tz = chrono_tz::Europe::Berlin;
    let quarter = 15 * MINUTE;
    let from = (now - 3 * HOUR).div_euclid(quarter) * quarter;
    let earliest = now + 2 * HOUR;
    let date =
        time::ms_to_local(berlin, earliest).map_or_else(chrono::NaiveDate::default, |t| t.date());
    let until = [(0, 8), (0, 16), (1, 0)]
        .into_iter()
        .map(|(days, hour)| {
            let at = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
            time::local_to_ms(berlin, (date + Duration::days(days)).and_time(at))
        })
        .find(|&t| t >= earliest)
        .unwrap_or(earliest);
    (from, until)
}

/// Every day from `from` to `to` (`"00:00"` as an end is the next midnight).
fn daily(from: &str, to: &str) -> Vec<StoredRestriction> {
    const DAYS: [&str; 7] = [
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
        "SUNDAY",
    ];
    let next_days = DAYS.iter().cycle().skip(1);
    DAYS.iter()
        .zip(next_days)
        .map(|(day, next)| {
            let end_day = if to <= from { next } else { day };
            StoredRestriction {
                from: TimeOfWeek {
                    day_of_week: (*day).to_owned(),
                    time: from.to_owned(),
                },
                to: TimeOfWeek {
                    day_of_week: (*end_day).to_owned(),
                    time: to.to_owned(),
                },
            }
        })
        .collect()
}

fn layer(
    name: &str,
    starts_on: i64,
    users: &[i64],
    restrictions: Vec<StoredRestriction>,
) -> StoredLayer {
    StoredLayer {
        name: Some(name.to_owned()),
        starts_on,
        ends_on: None,
        users: users.to_vec(),
        rotation: "P7D".to_owned(),
        restriction_type: (!restrictions.is_empty()).then(|| "TIMES_OF_WEEK".to_owned()),
        restrictions,
    }
}

fn insert_schedule(
    tx: &Transaction<'_>,
    (id, name, timezone, team): (i64, &str, &str, i64),
    layers: &[StoredLayer],
    shifts: &[StoredShift],
) -> rusqlite::Result<()> {
    let to_text = |v: serde_json::Result<String>| {
        v.map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    };
    tx.execute(
        "INSERT INTO schedules (id, name, timezone, type, show_gaps, default_shift_duration, layers, shifts, teams) \
         VALUES (?1, ?2, ?3, ?4, 1, 'P7D', ?5, ?6, ?7)",
        params![
            id,
            name,
            timezone,
            if layers.is_empty() { "STATIC" } else { "RECURRING" },
            to_text(serde_json::to_string(layers))?,
            to_text(serde_json::to_string(shifts))?,
            format!("[{team}]")
        ],
    )?;
    Ok(())
}

/// Follow the sun: Checkout in Berlin time (Europe by day, São Paulo in the evening, Sydney at
/// night), Platform in UTC (Tokyo, then India and Berlin, then San Francisco), Storefront a
/// plain weekly rotation, and a STATIC secondary with weekly shifts. Tomorrow the two Europe
/// day-shift people swap with an override.
/// How many weeks back the rotations begin: before the 90 days of history. A multiple of 6 more
/// than any earlier start keeps every rotation (of two or three people, weekly) in its phase.
const SCHEDULE_WEEKS: i64 = 14;

fn seed_schedules(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    let berlin: Tz = chrono_tz::Europe::Berlin;
    let start = monday(now, berlin, SCHEDULE_WEEKS);
    let europe = [JONAS, LENA];
    insert_schedule(
        tx,
        (
            CHECKOUT_PRIMARY,
            "Checkout primary",
            "Europe/Berlin",
            CHECKOUT_TEAM,
        ),
        &[
            layer("Europe", start, &europe, daily("08:00", "16:00")),
            layer("Americas", start, &[ANA], daily("16:00", "00:00")),
            layer("APAC", start, &[LIAM], daily("00:00", "08:00")),
        ],
        &[],
    )?;
    // Tomorrow 08:00-16:00 Berlin: whoever has the Europe day shift swaps with the other.
    let tomorrow = time::ms_to_local(berlin, now + DAY)
        .map(|t| t.date())
        .unwrap_or_default();
    let from = time::local_to_ms(
        berlin,
        tomorrow.and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN)),
    );
    let until = time::local_to_ms(
        berlin,
        tomorrow.and_time(NaiveTime::from_hms_opt(16, 0, 0).unwrap_or(NaiveTime::MIN)),
    );
    let week = usize::try_from(
        (tomorrow
            - time::ms_to_local(berlin, start)
                .map(|t| t.date())
                .unwrap_or_default())
        .num_days()
            / 7,
    )
    .unwrap_or(0);
    let standing_in = europe.get((week + 1) % 2).copied().unwrap_or(LENA);
    tx.execute(
        "INSERT INTO schedule_overrides (schedule_id, user_id, start, end) VALUES (?1, ?2, ?3, ?4)",
        params![CHECKOUT_PRIMARY, standing_in, from, until],
    )?;
    let (covering_from, covering_until) = demo_user_cover(now);
    tx.execute(
        "INSERT INTO schedule_overrides (schedule_id, user_id, start, end) VALUES (?1, ?2, ?3, ?4)",
        params![CHECKOUT_PRIMARY, JONAS, covering_from, covering_until],
    )?;

    let utc_start = monday(now, Tz::UTC, SCHEDULE_WEEKS);
    insert_schedule(
        tx,
        (
            PLATFORM_SUN,
            "Platform follow-the-sun",
            "UTC",
            PLATFORM_TEAM,
        ),
        &[
            layer("APAC", utc_start, &[YUKI], daily("00:00", "08:00")),
            layer(
                "India and Europe",
                utc_start,
                &[PRIYA, ARJUN, MAYA],
                daily("08:00", "16:00"),
            ),
            layer("Americas", utc_start, &[EMILY], daily("16:00", "00:00")),
        ],
        &[],
    )?;

    let la: Tz = chrono_tz::America::Los_Angeles;
    let la_start = monday(now, la, SCHEDULE_WEEKS) + 9 * HOUR;
    insert_schedule(
        tx,
        (
            STOREFRONT_WEEKLY,
            "Storefront weekly",
            "America/Los_Angeles",
            STOREFRONT_TEAM,
        ),
        &[layer("Weekly", la_start, &[DIEGO, OLIVER], Vec::new())],
        &[],
    )?;

    let secondary_start = monday(now, berlin, 5) + 8 * HOUR;
    let shifts: Vec<StoredShift> = (0..10_u32)
        .filter_map(|k| {
            let week = crate::time::IsoDuration {
                months: 0,
                days: 7,
                millis: 0,
            };
            let start = week.add_times(berlin, secondary_start, k)?;
            let end = week.add_times(berlin, secondary_start, k + 1)?;
            Some(StoredShift {
                user: if k % 2 == 0 { MAYA } else { JONAS },
                start,
                end,
            })
        })
        .collect();
    insert_schedule(
        tx,
        (
            CHECKOUT_SECONDARY,
            "Checkout secondary",
            "Europe/Berlin",
            CHECKOUT_TEAM,
        ),
        &[],
        &shifts,
    )?;
    for (schedule, user, from, until) in uneven_load(now) {
        tx.execute(
            "INSERT INTO schedule_overrides (schedule_id, user_id, start, end) VALUES (?1, ?2, ?3, ?4)",
            params![schedule, user, from, until],
        )?;
    }
    Ok(())
}

/// Past overrides that make the on-call load uneven (issue 25 §3), all over at least three days
/// before seeding so they never touch the present: Arjun (Kolkata) took Emily's 16:00-24:00 UTC
/// Platform shift, 21:30-05:30 his time, on two days a week for four weeks; and Lena covered
/// Liam's 00:00-08:00 Berlin Checkout shift on the Sunday nights of the last four weeks, so
/// the weekly export job (Sundays about 02:30 UTC) woke her. (schedule, user, start, end).
fn uneven_load(now: i64) -> Vec<(i64, i64, i64, i64)> {
    let berlin: Tz = chrono_tz::Europe::Berlin;
    let today = now - now.rem_euclid(DAY);
    let mut out: Vec<(i64, i64, i64, i64)> = [4, 5, 11, 12, 18, 19, 25, 26]
        .into_iter()
        .map(|d| {
            let day = today - d * DAY;
            (PLATFORM_SUN, ARJUN, day + 16 * HOUR, day + DAY)
        })
        .collect();
    for d in 3..=27 {
        let day = today - d * DAY;
        let Some(date) = chrono::DateTime::from_timestamp_millis(day).map(|t| t.date_naive())
        else {
            continue;
        };
        if date.weekday() != chrono::Weekday::Sun {
            continue;
        }
        let at = |h: u32| {
            time::local_to_ms(
                berlin,
                date.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)),
            )
        };
        out.push((CHECKOUT_PRIMARY, LENA, at(0), at(8)));
    }
    out
}

fn seed_policies(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for (id, name, routing_key, team, levels) in POLICIES {
        let rules: Vec<Value> = levels
            .iter()
            .map(|(timeout, users, schedules, teams)| {
                json!({"escalationTimeout": timeout, "users": users, "schedules": schedules, "teams": teams})
            })
            .collect();
        tx.execute(
            "INSERT INTO escalation_policies (id, name, routing_key, rules, teams) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, name, routing_key, Value::Array(rules).to_string(), format!("[{team}]")],
        )?;
    }
    Ok(())
}

fn seed_sources(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    for (id, name, kind, key, policy, team, priority) in SOURCES {
        let created = now - 300 * DAY;
        tx.execute(
            "INSERT INTO alert_sources (id, name, integration_type, integration_key, escalation_policy_id, \
             alert_priority_rule, auto_resolution_timeout, teams, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                id,
                name,
                kind,
                key,
                policy,
                priority,
                (*kind == "SENTRY").then_some("P1D"),
                format!("[{team}]"),
                created,
                created + 90 * DAY
            ],
        )?;
    }
    Ok(())
}

fn seed_services(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    let created = now - 120 * DAY;
    for (id, name, alias, team) in SERVICES {
        let subscribers = if *id == CHECKOUT_SVC || *id == PAYMENTS_SVC {
            crate::subscribers::to_text(&[Subscriber {
                id: CARE_TEAM,
                kind: Kind::Team,
            }])
        } else {
            "[]".to_owned()
        };
        tx.execute(
            "INSERT INTO services (id, name, alias, status, teams, subscribers, created_at) \
             VALUES (?1, ?2, ?3, 'OPERATIONAL', ?4, ?5, ?6)",
            params![id, name, alias, format!("[{team}]"), subscribers, created],
        )?;
        tx.execute(
            "INSERT INTO service_status_log (service_id, at, status) VALUES (?1, ?2, 'OPERATIONAL')",
            params![id, created],
        )?;
    }
    Ok(())
}

fn seed_status_pages(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    // `options` as ilert's clients send them (a list); per the spec's note, `expand` belongs
    // to SERVICE elements and `no-graph` to GROUP elements.
    let public_structure = json!({"elements": [
        {"id": 1, "type": "GROUP", "children": [
            {"id": CHECKOUT_SVC, "type": "SERVICE", "options": ["expand"]}, {"id": PAYMENTS_SVC, "type": "SERVICE"},
            {"id": STOREFRONT_SVC, "type": "SERVICE"}, {"id": SEARCH_SVC, "type": "SERVICE"}]},
        {"id": 2, "type": "GROUP", "options": ["no-graph"], "children": [
            {"id": ACCOUNTS_SVC, "type": "SERVICE"}, {"id": API_SVC, "type": "SERVICE"}]},
    ]});
    tx.execute(
        "INSERT INTO status_pages (id, name, subdomain, domain, timezone, visibility, page_title, page_description, \
         page_layout, services, structure, groups_json, teams, public_subscribers) \
         VALUES (2101, 'Acme Shop Status', 'acme-shop', 'status.acme-shop.example', 'Europe/Berlin', 'PUBLIC', \
         'Acme Shop status', 'Live status of the Acme Shop web shop, payments and APIs.', 'RESPONSIVE', ?1, ?2, ?3, ?4, 1284)",
        params![
            json!([CHECKOUT_SVC, PAYMENTS_SVC, STOREFRONT_SVC, SEARCH_SVC, ACCOUNTS_SVC, API_SVC]).to_string(),
            public_structure.to_string(),
            json!([{"id": 1, "name": "Shopping"}, {"id": 2, "name": "Accounts and API"}]).to_string(),
            json!([CHECKOUT_TEAM, STOREFRONT_TEAM, PLATFORM_TEAM]).to_string(),
        ],
    )?;
    let private_subscribers = crate::subscribers::to_text(&[
        Subscriber {
            id: CARE_TEAM,
            kind: Kind::Team,
        },
        Subscriber {
            id: MAYA,
            kind: Kind::User,
        },
    ]);
    tx.execute(
        "INSERT INTO status_pages (id, name, subdomain, timezone, visibility, page_title, services, structure, teams, \
         subscribers) VALUES (2102, 'Internal platform status', 'acme-internal', 'Europe/Berlin', 'PRIVATE', \
         'Platform status for Acme staff', ?1, ?2, ?3, ?4)",
        params![
            json!([CHECKOUT_SVC, ACCOUNTS_SVC, API_SVC]).to_string(),
            json!({"elements": [{"id": CHECKOUT_SVC, "type": "SERVICE"}, {"id": ACCOUNTS_SVC, "type": "SERVICE"}, {"id": API_SVC, "type": "SERVICE"}]}).to_string(),
            json!([PLATFORM_TEAM]).to_string(),
            private_subscribers,
        ],
    )?;
    Ok(())
}

/// Status updates in time order, each moving the services as the API would.
fn seed_incidents(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    for inc in INCIDENTS {
        let opened = now - inc.ago;
        let affected: Vec<Value> = inc
            .affected
            .iter()
            .map(|(id, impact)| json!({"serviceId": id, "impact": impact}))
            .collect();
        let subscribers: Vec<Subscriber> = inc
            .subscribers
            .iter()
            .map(|id| Subscriber {
                id: *id,
                kind: Kind::User,
            })
            .collect();
        let (last_after, last_status, _, last_text) =
            inc.updates
                .last()
                .copied()
                .unwrap_or((0, "INVESTIGATING", MAYA, ""));
        let updated = opened + last_after * MINUTE;
        tx.execute(
            "INSERT INTO incidents (id, summary, status, message, send_notification, affected_services, subscribers, \
             created_at, updated_at, resolved_on, version) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                inc.id,
                inc.summary,
                last_status,
                last_text,
                Value::Array(affected).to_string(),
                crate::subscribers::to_text(&subscribers),
                opened,
                updated,
                (last_status == "RESOLVED").then_some(updated),
                i64::try_from(inc.updates.len()).unwrap_or(1)
            ],
        )?;
        for (after, status, author, text) in inc.updates {
            let at = opened + after * MINUTE;
            incidents::add_update(tx, inc.id, text, status, Some(*author), true, at)?;
            for (service, impact) in inc.affected {
                let next = if *status == "RESOLVED" {
                    "OPERATIONAL"
                } else {
                    impact
                };
                services::set_status(tx, *service, next, at)?;
            }
        }
    }
    Ok(())
}

fn seed_maintenance(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    let berlin: Tz = chrono_tz::Europe::Berlin;
    let night = |days: i64, hour: u32, minute: u32| {
        let date = time::ms_to_local(berlin, now + days * DAY)
            .map(|t| t.date())
            .unwrap_or_default();
        time::local_to_ms(
            berlin,
            date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)),
        )
    };
    let windows = [
        (
            6001,
            "Database failover drill",
            night(-12, 2, 0),
            night(-12, 3, 0),
            json!([PROMETHEUS]),
            json!([ACCOUNTS_SVC]),
        ),
        (
            6002,
            "PostgreSQL minor upgrade for checkout and payments",
            night(3, 2, 0),
            night(3, 3, 30),
            json!([DATADOG, CHECKOUT_API]),
            json!([CHECKOUT_SVC, PAYMENTS_SVC]),
        ),
    ];
    for (id, summary, start, end, sources, services) in windows {
        tx.execute(
            "INSERT INTO maintenance_windows (id, summary, timezone, start, end, created_by, alert_sources, services, \
             notifications) VALUES (?1, ?2, 'Europe/Berlin', ?3, ?4, 'maya.chen@example.com', ?5, ?6, ?7)",
            params![id, summary, start, end, sources.to_string(), services.to_string(), json!({"atCreation": true, "atStart": true, "atEnd": true}).to_string()],
        )?;
    }
    Ok(())
}

fn seed_heartbeats(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    let monitors = [
        (
            1101,
            "Nightly database backup",
            90_000,
            "Nightly database backup did not report",
            "il1hbt4e7a2c9f0d3b5816",
            now - 7 * HOUR,
        ),
        (
            1102,
            "Order export (hourly cron)",
            3_600,
            "Order export has not run for an hour",
            "il1hbt8b1d6e3a9c2f7450",
            now - 2 * HOUR - 10 * MINUTE,
        ),
        (
            1103,
            "Search indexer",
            600,
            "Search indexer stopped sending heartbeats",
            "il1hbt2f9c5a8d1e6b3047",
            now - MINUTE,
        ),
    ];
    for (id, name, interval, summary, key, last_ping) in monitors {
        tx.execute(
            "INSERT INTO heartbeat_monitors (id, name, interval_sec, alert_summary, alert_source_id, integration_key, \
             teams, last_ping, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            params![id, name, interval, summary, HEARTBEATS, key, format!("[{PLATFORM_TEAM}]"), last_ping, now - 200 * DAY],
        )?;
    }
    Ok(())
}

fn seed_alert_actions(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let actions = [
        (
            "slack-checkout-incidents",
            "Post to #checkout-incidents",
            "slack_webhook",
            None,
            json!([DATADOG, CHECKOUT_API]),
        ),
        (
            "jira-create-issue",
            "Create Jira issue",
            "jira",
            Some("jira-acme"),
            json!([]),
        ),
        (
            "webhook-status-bot",
            "Notify the status bot",
            "webhook",
            None,
            json!([PROMETHEUS, GRAFANA, SENTRY]),
        ),
    ];
    for (id, name, kind, connector, sources) in actions {
        tx.execute(
            "INSERT INTO alert_actions (id, name, connector_type, connector_id, alert_sources) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, name, kind, connector, sources.to_string()],
        )?;
    }
    Ok(())
}

/// Something that happens to a seeded alert, replayed in time order through the same code the
/// API uses, so escalation, notifications and the timeline are what they would be.
enum Step {
    Create,
    Comment(&'static str, &'static str),
    Accept,
    Resolve { by_source: bool },
}

/// The first person the alert reached.
fn first_responder(conn: &Connection, alert: i64) -> rusqlite::Result<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM alert_responders WHERE alert_id = ?1 ORDER BY added_at, rowid LIMIT 1",
    )?;
    let mut rows = stmt.query_map([alert], |r| r.get(0))?;
    rows.next().transpose()
}

/// The newest alert: a short spike that the on-call accepted and the source resolved within about
/// a minute and a half. It is never older than the current week (Monday 00:00 UTC), so that every
/// week, the one just begun included, has an accepted and a resolved alert for the metrics.
fn newest_blip(now: i64) -> SeedAlert {
    let week_began = monday(now, Tz::UTC, 0);
    let ago = (100 * 1000).min((now - week_began) * 9 / 10).max(0);
    SeedAlert {
        id: 4726,
        ago,
        source: DATADOG,
        summary: "Order confirmation e-mails queued above 500",
        details: "Datadog monitor `mailer.queue.depth` crossed 500 (peak 612) and recovered.",
        priority: "LOW",
        severity: Some(4),
        alert_key: "mailer/queue-depth",
        labels: &[
            ("env", "production"),
            ("service", "mailer"),
            ("team", "checkout"),
        ],
        links: &[],
        custom_details: r#"{"monitor":"mailer.queue.depth","threshold":500,"peak":612}"#,
        manual_by: None,
        comments: &[],
        outcome: Outcome::Resolved {
            accepted: Some(ago / 5),
            after: ago * 7 / 10,
            by_source: true,
        },
    }
}

fn seed_alerts(tx: &Transaction<'_>, now: i64, history: bool) -> Result<(), ApiError> {
    let cat = Catalog::load(tx)?;
    let blip = newest_blip(now);
    let past = if history {
        history::alerts(now)
    } else {
        Vec::new()
    };
    let all: Vec<&SeedAlert> = past.iter().chain(ALERTS).chain([&blip]).collect();
    let mut steps: Vec<(i64, usize, Step)> = Vec::new();
    for (i, a) in all.iter().enumerate() {
        let reported = now - a.ago;
        steps.push((reported, i, Step::Create));
        for (after, creator, text) in a.comments {
            steps.push((reported + after, i, Step::Comment(creator, text)));
        }
        match a.outcome {
            Outcome::Pending => {}
            Outcome::Accepted { after } => steps.push((reported + after, i, Step::Accept)),
            Outcome::Resolved {
                accepted,
                after,
                by_source,
            } => {
                if let Some(a) = accepted {
                    steps.push((reported + a, i, Step::Accept));
                }
                steps.push((reported + after, i, Step::Resolve { by_source }));
            }
        }
    }
    steps.sort_by_key(|(t, i, _)| (*t, *i));
    for (at, i, step) in steps {
        let Some(a) = all.get(i) else { continue };
        escalations::advance_due(tx, at)?;
        let source = cat
            .sources
            .get(&a.source)
            .ok_or_else(|| ApiError::internal("seed source"))?;
        let user_actor = |tx: &Connection| -> Result<(i64, String), ApiError> {
            let id = first_responder(tx, a.id)?.unwrap_or(MAYA);
            Ok((id, alerts::user_name(tx, id)?))
        };
        match step {
            Step::Create => {
                let new = NewAlert {
                    id: Some(a.id),
                    summary: a.summary.to_owned(),
                    details: a.details.to_owned(),
                    source_id: a.source,
                    policy_id: source.escalation_policy_id,
                    priority: a.priority.to_owned(),
                    severity: a.severity,
                    alert_key: (!a.alert_key.is_empty()).then(|| a.alert_key.to_owned()),
                    labels: labels_json(a.labels),
                    images: json!([]),
                    links: links_json(a.links),
                    custom_details: serde_json::from_str(a.custom_details)
                        .unwrap_or_else(|_| json!({})),
                };
                let id = alerts::insert_alert(tx, &new, at)?;
                match a.manual_by {
                    Some(user) => {
                        let name = alerts::user_name(tx, user)?;
                        log_entries::add(tx, id, at, Entry::CreatedByUser { user: &name })?;
                    }
                    None => log_entries::add(
                        tx,
                        id,
                        at,
                        Entry::Received {
                            source: &source.name,
                        },
                    )?,
                }
                escalations::start(tx, &cat, id, at)?;
            }
            Step::Comment(creator, content) => {
                log_entries::add(tx, a.id, at, Entry::Comment { creator, content })?
            }
            Step::Accept => {
                let (id, name) = user_actor(tx)?;
                alerts::accept_alert(tx, a.id, Actor::User { id, name: &name }, at)?;
            }
            Step::Resolve { by_source: true } => {
                alerts::resolve_alert(tx, a.id, Actor::Source { name: &source.name }, at)?;
            }
            Step::Resolve { by_source: false } => {
                let accepted_by: Option<i64> = tx
                    .query_row(
                        "SELECT user_id FROM alert_responders WHERE alert_id = ?1 AND status = 'ACCEPTED' LIMIT 1",
                        [a.id],
                        |r| r.get(0),
                    )
                    .ok();
                let (id, name) = match accepted_by {
                    Some(id) => (id, alerts::user_name(tx, id)?),
                    None => user_actor(tx)?,
                };
                alerts::resolve_alert(tx, a.id, Actor::User { id, name: &name }, at)?;
            }
        }
    }
    escalations::advance_due(tx, now)?;
    // One earlier run of an alert action, so the history is not empty.
    let ran = now - ALERTS.iter().find(|a| a.id == 4712).map_or(DAY, |a| a.ago) + 6 * MINUTE;
    tx.execute(
        "INSERT INTO alert_action_results (id, alert_action_id, alert_id, actor_id, success, created_at) \
         VALUES ('slack-checkout-incidents-seed-1', 'slack-checkout-incidents', 4712, ?1, 1, ?2)",
        params![JONAS, ran],
    )?;
    log_entries::add(
        tx,
        4712,
        ran,
        Entry::ActionRun {
            action: "Post to #checkout-incidents",
            user: "Jonas Weber",
            success: true,
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_keys_match_seeded_users() {
        for k in DEMO_KEYS {
            let u = USERS.iter().find(|u| u.id == k.user_id).unwrap();
            assert_eq!(u.email(), k.email);
            assert_eq!(format!("{} {}", u.first, u.last), k.name);
            assert_eq!(u.role, k.role);
        }
    }

    #[test]
    fn alert_ids_grow_with_report_time() {
        let blip = newest_blip(time::real_now_ms());
        let all: Vec<&SeedAlert> = ALERTS.iter().chain([&blip]).collect();
        for pair in all.windows(2) {
            assert!(pair[0].id < pair[1].id);
            assert!(
                pair[0].ago > pair[1].ago,
                "alert {} is out of order",
                pair[1].id
            );
        }
        assert!(
            ALERTS
                .iter()
                .all(|a| SOURCES.iter().any(|s| s.0 == a.source))
        );
    }

    /// The any-hour sweep's instants (`tests/sweep/instants.txt`: week, month and year
    /// boundaries, both DST switches of Europe and North America, night in Berlin, Los Angeles
    /// and Sydney), then every 7 h 13 min over five weeks, so that each hour of each weekday
    /// comes round.
    fn instants() -> Vec<i64> {
        let listed: Vec<i64> = include_str!("../../../tests/sweep/instants.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let at = l.get(..19).unwrap();
                chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S")
                    .unwrap()
                    .and_utc()
                    .timestamp_millis()
            })
            .collect();
        assert!(listed.len() >= 10, "{listed:?}");
        let start = listed[0];
        listed
            .into_iter()
            .chain((0..117).map(|k| start + k * (7 * HOUR + 13 * MINUTE)))
            .collect()
    }

    #[test]
    fn the_demo_users_cover_holds_at_any_hour() {
        let berlin: Tz = chrono_tz::Europe::Berlin;
        for now in instants() {
            let (from, until) = demo_user_cover(now);
            let when = time::format_ms(now);
            assert!(
                from <= now - 3 * HOUR && from > now - 3 * HOUR - 15 * MINUTE,
                "{when}"
            );
            assert!(
                until >= now + 2 * HOUR,
                "{when}: a hand-over at least two hours away"
            );
            assert!(
                until <= now + 11 * HOUR,
                "{when}: a hand-over within the next hours"
            );
            let local = time::ms_to_local(berlin, until).unwrap();
            assert_eq!(local.time().format("%M:%S").to_string(), "00:00", "{when}");
            assert!(
                [0, 8, 16].contains(&chrono::Timelike::hour(&local)),
                "{when}"
            );
            // Never overlapping tomorrow's 08:00-16:00 swap.
            let tomorrow = time::ms_to_local(berlin, now + DAY).unwrap().date();
            let swap = time::local_to_ms(berlin, tomorrow.and_hms_opt(8, 0, 0).unwrap());
            assert!(until <= swap, "{when}");
        }
    }

    /// Seeded at each instant, the load is uneven (issue 25 §3): Arjun covered eight Platform
    /// evenings (his nights), and the export job paged Lena on Sunday nights in Berlin.
    /// A fresh sandbox file seeded (with the history) at `now`, handed to `check`.
    pub(crate) fn seeded_at(now: i64, check: impl FnOnce(&mut rusqlite::Connection)) {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = crate::db::Db::open(&dir.path().join("sandbox.db")).unwrap();
        db.with_conn(|c| seed(c, now, true)).unwrap();
        db.with_conn(check);
    }

    #[test]
    fn the_uneven_load_holds_at_any_hour() {
        for now in instants().into_iter().step_by(3) {
            let when = time::format_ms(now);
            seeded_at(now, |c| {
                let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> i64 {
                    c.query_row(sql, p, |r| r.get(0)).unwrap()
                };
                let arjun = count(
                    "SELECT COUNT(*) FROM schedule_overrides WHERE user_id = ?1 AND schedule_id = ?2 AND end < ?3",
                    &[&ARJUN, &PLATFORM_SUN, &now],
                );
                assert_eq!(arjun, 8, "{when}");
                let woken = count(
                    "SELECT COUNT(DISTINCT n.alert_id) FROM notifications n JOIN alerts a ON a.id = n.alert_id \
                     WHERE n.user_id = ?1 AND a.alert_key = 'jobs/invoice-export' AND n.time > ?2",
                    &[&LENA, &(now - 30 * DAY)],
                );
                assert!((3..=4).contains(&woken), "{when}: {woken}");
            });
        }
    }

    /// Seeded at each instant, the demo user is on call on Checkout primary, has open alerts of
    /// his own, and the current UTC week has an accepted and a resolved alert.
    #[test]
    fn the_story_holds_at_any_hour() {
        for now in instants().into_iter().step_by(3) {
            let when = time::format_ms(now);
            seeded_at(now, |c| {
                let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> i64 {
                    c.query_row(sql, p, |r| r.get(0)).unwrap()
                };
                let mine = count(
                    "SELECT COUNT(DISTINCT a.id) FROM alerts a JOIN alert_responders r ON r.alert_id = a.id \
                     WHERE r.user_id = ?1 AND a.status != 'RESOLVED'",
                    &[&JONAS],
                );
                assert!(mine >= 3, "{when}: {mine} open alerts of Jonas");
                let covering = count(
                    "SELECT COUNT(*) FROM schedule_overrides WHERE user_id = ?1 AND start <= ?2 AND end > ?2",
                    &[&JONAS, &now],
                );
                assert_eq!(covering, 1, "{when}: Jonas covers Checkout primary now");
                let week = monday(now, Tz::UTC, 0);
                let this_week = |what: &str| {
                    count(
                        &format!("SELECT COUNT(*) FROM alerts WHERE report_time >= ?1 AND {what}"),
                        &[&week],
                    )
                };
                if now - week >= MINUTE {
                    assert!(this_week("resolved_on IS NOT NULL") >= 1, "{when}");
                    assert!(
                        this_week(
                            "EXISTS (SELECT 1 FROM alert_responders r WHERE r.alert_id = alerts.id AND r.accepted_at IS NOT NULL)"
                        ) >= 1,
                        "{when}"
                    );
                }
                let ongoing = count(
                    "SELECT COUNT(*) FROM incidents WHERE status != 'RESOLVED'",
                    &[],
                );
                assert!(ongoing >= 1, "{when}: an incident is ongoing");
            });
        }
    }

    #[test]
    fn seeding_is_fast_and_complete() {
        let dir = tempfile::tempdir().unwrap();
        let (db, empty) = crate::db::Db::open(&dir.path().join("sandbox.db")).unwrap();
        assert!(empty);
        let started = std::time::Instant::now();
        let now = time::real_now_ms();
        db.with_conn(|c| seed(c, now, true)).unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        db.with_conn(|c| {
            let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
            assert_eq!(
                count("SELECT COUNT(*) FROM alerts"),
                (ALERTS.len() + 1 + history::alerts(now).len()) as i64
            );
            assert_eq!(count("SELECT COUNT(*) FROM users"), 14);
            // Every alert reached someone and has a timeline.
            assert_eq!(count("SELECT COUNT(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM alert_responders r WHERE r.alert_id = a.id)"), 0);
            assert_eq!(count("SELECT COUNT(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM log_entries l WHERE l.alert_id = a.id)"), 0);
            assert_eq!(count("SELECT COUNT(*) FROM alerts WHERE status = 'RESOLVED' AND resolved_on IS NULL"), 0);
            assert_eq!(count("SELECT COUNT(*) FROM services WHERE id = 801 AND status = 'PARTIAL_OUTAGE'"), 1);
        });
    }
}
