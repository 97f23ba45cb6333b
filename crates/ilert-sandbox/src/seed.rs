//! The demo organisation "Acme Shop" written into a fresh sandbox: users with fixed API keys,
//! escalation policies, alert sources and two weeks of alerts. Ids are fixed; times are
//! relative to the moment of seeding, so the story always looks current.

use rusqlite::{Connection, Transaction, params};
use serde_json::{Map, Value, json};

use crate::time;

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

struct SeedUser {
    id: i64,
    first: &'static str,
    last: &'static str,
    timezone: &'static str,
    language: &'static str,
    region: &'static str,
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

const USERS: &[SeedUser] = &[
    SeedUser {
        id: MAYA,
        first: "Maya",
        last: "Chen",
        timezone: "Europe/Berlin",
        language: "en",
        region: "DE",
        role: "ADMIN",
        position: "Head of Platform Engineering",
        department: "Engineering",
        shift_color: "#7c3aed",
    },
    SeedUser {
        id: JONAS,
        first: "Jonas",
        last: "Weber",
        timezone: "Europe/Berlin",
        language: "de",
        region: "DE",
        role: "USER",
        position: "Senior Backend Engineer",
        department: "Checkout",
        shift_color: "#2563eb",
    },
    SeedUser {
        id: PRIYA,
        first: "Priya",
        last: "Nair",
        timezone: "Asia/Kolkata",
        language: "en",
        region: "IN",
        role: "RESPONDER",
        position: "Site Reliability Engineer",
        department: "Platform",
        shift_color: "#059669",
    },
    SeedUser {
        id: SAM,
        first: "Sam",
        last: "Rivera",
        timezone: "America/New_York",
        language: "en",
        region: "US",
        role: "STAKEHOLDER",
        position: "Customer Support Lead",
        department: "Customer Care",
        shift_color: "#d97706",
    },
    SeedUser {
        id: LENA,
        first: "Lena",
        last: "Hoffmann",
        timezone: "Europe/Berlin",
        language: "de",
        region: "DE",
        role: "USER",
        position: "Backend Engineer",
        department: "Checkout",
        shift_color: "#db2777",
    },
    SeedUser {
        id: DIEGO,
        first: "Diego",
        last: "Alvarez",
        timezone: "America/Los_Angeles",
        language: "en",
        region: "US",
        role: "RESPONDER",
        position: "Frontend Engineer",
        department: "Storefront",
        shift_color: "#0891b2",
    },
];

const CHECKOUT_POLICY: i64 = 3101;
const PLATFORM_POLICY: i64 = 3102;
const STOREFRONT_POLICY: i64 = 3103;

struct SeedPolicy {
    id: i64,
    name: &'static str,
    routing_key: &'static str,
    /// (escalation timeout in minutes, users) per level.
    rules: &'static [(i64, &'static [i64])],
}

const POLICIES: &[SeedPolicy] = &[
    SeedPolicy {
        id: CHECKOUT_POLICY,
        name: "Checkout on-call",
        routing_key: "checkout",
        rules: &[(30, &[JONAS, LENA]), (30, &[MAYA])],
    },
    SeedPolicy {
        id: PLATFORM_POLICY,
        name: "Platform on-call",
        routing_key: "platform",
        rules: &[(30, &[PRIYA, DIEGO]), (30, &[MAYA])],
    },
    SeedPolicy {
        id: STOREFRONT_POLICY,
        name: "Storefront on-call",
        routing_key: "storefront",
        rules: &[(30, &[DIEGO]), (30, &[JONAS])],
    },
];

const PROMETHEUS: i64 = 202541;
const DATADOG: i64 = 202542;
const CHECKOUT_API: i64 = 202543;
const GRAFANA: i64 = 202544;

struct SeedSource {
    id: i64,
    name: &'static str,
    integration_type: &'static str,
    integration_key: &'static str,
    policy: i64,
}

const SOURCES: &[SeedSource] = &[
    SeedSource {
        id: PROMETHEUS,
        name: "Prometheus production",
        integration_type: "PROMETHEUS",
        integration_key: "il1prom3a9c0e51d7b24f68e",
        policy: PLATFORM_POLICY,
    },
    SeedSource {
        id: DATADOG,
        name: "Datadog APM",
        integration_type: "DATADOG",
        integration_key: "il1dd7f2b19c4e08a36d51c",
        policy: CHECKOUT_POLICY,
    },
    SeedSource {
        id: CHECKOUT_API,
        name: "Checkout API",
        integration_type: "API",
        integration_key: "il1api0460d849fcdc753d4f",
        policy: CHECKOUT_POLICY,
    },
    SeedSource {
        id: GRAFANA,
        name: "Grafana",
        integration_type: "GRAFANA",
        integration_key: "il1graf81e6d2b97c05a4f3",
        policy: STOREFRONT_POLICY,
    },
];

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

#[derive(Clone, Copy)]
enum Outcome {
    Pending,
    /// Accepted by a user this long after the report.
    Accepted {
        by: i64,
        after: i64,
    },
    /// Optionally accepted first, resolved this long after the report.
    Resolved {
        accepted: Option<(i64, i64)>,
        after: i64,
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
    outcome: Outcome,
}

const DASH_CHECKOUT: (&str, &str) = (
    "https://grafana.acme-shop.example/d/checkout-overview",
    "Checkout overview dashboard",
);
const DASH_K8S: (&str, &str) = (
    "https://grafana.acme-shop.example/d/k8s-cluster",
    "Kubernetes cluster dashboard",
);

/// Oldest first; ids grow with report time, as they do in ilert.
const ALERTS: &[SeedAlert] = &[
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
        outcome: Outcome::Resolved {
            accepted: Some((PRIYA, 14 * MINUTE)),
            after: 2 * HOUR + 5 * MINUTE,
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
        outcome: Outcome::Resolved {
            accepted: Some((JONAS, 3 * MINUTE)),
            after: 38 * MINUTE,
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
        outcome: Outcome::Resolved {
            accepted: Some((LENA, 7 * MINUTE)),
            after: HOUR + 10 * MINUTE,
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
        outcome: Outcome::Resolved {
            accepted: Some((DIEGO, 42 * MINUTE)),
            after: 5 * HOUR,
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
        outcome: Outcome::Resolved {
            accepted: Some((PRIYA, 4 * MINUTE)),
            after: 25 * MINUTE,
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
        outcome: Outcome::Resolved {
            accepted: None,
            after: 19 * HOUR,
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
        outcome: Outcome::Resolved {
            accepted: Some((JONAS, 5 * MINUTE)),
            after: 50 * MINUTE,
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
        outcome: Outcome::Accepted {
            by: PRIYA,
            after: 26 * MINUTE,
        },
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
        outcome: Outcome::Resolved {
            accepted: Some((DIEGO, 12 * MINUTE)),
            after: HOUR + 4 * MINUTE,
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
        outcome: Outcome::Accepted {
            by: JONAS,
            after: 6 * MINUTE,
        },
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
        outcome: Outcome::Pending,
    },
];

fn labels_json(labels: &[(&str, &str)]) -> String {
    let map: Map<String, Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect();
    Value::Object(map).to_string()
}

fn links_json(links: &[(&str, &str)]) -> String {
    Value::Array(
        links
            .iter()
            .map(|(href, text)| json!({"href": href, "text": text}))
            .collect(),
    )
    .to_string()
}

/// Writes the demo organisation in one transaction, so a failure leaves the file empty and the
/// next start seeds again.
pub(crate) fn seed(conn: &mut Connection) -> rusqlite::Result<()> {
    let now = time::now_ms();
    let tx = conn.transaction()?;
    seed_users(&tx, now)?;
    seed_policies(&tx)?;
    seed_sources(&tx, now)?;
    seed_alerts(&tx, now)?;
    tx.commit()
}

fn seed_users(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    for (i, u) in (0_i64..).zip(USERS.iter()) {
        let created = now - (420 - 37 * i) * DAY;
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

fn seed_policies(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for p in POLICIES {
        tx.execute(
            "INSERT INTO escalation_policies (id, name, routing_key) VALUES (?1, ?2, ?3)",
            params![p.id, p.name, p.routing_key],
        )?;
        for (position, (timeout, users)) in (0_i64..).zip(p.rules.iter()) {
            tx.execute(
                "INSERT INTO escalation_rules (policy_id, position, escalation_timeout) \
                 VALUES (?1, ?2, ?3)",
                params![p.id, position, timeout],
            )?;
            for (ord, user) in (0_i64..).zip(users.iter()) {
                tx.execute(
                    "INSERT INTO escalation_rule_users (policy_id, position, ord, user_id) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![p.id, position, ord, user],
                )?;
            }
        }
    }
    Ok(())
}

fn seed_sources(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    for s in SOURCES {
        let created = now - 300 * DAY;
        tx.execute(
            "INSERT INTO alert_sources (id, name, integration_type, integration_key, \
             escalation_policy_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                s.id,
                s.name,
                s.integration_type,
                s.integration_key,
                s.policy,
                created,
                created + 90 * DAY
            ],
        )?;
    }
    Ok(())
}

fn policy_of(source: i64) -> Option<&'static SeedPolicy> {
    let policy = SOURCES.iter().find(|s| s.id == source)?.policy;
    POLICIES.iter().find(|p| p.id == policy)
}

fn seed_alerts(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
    for a in ALERTS {
        let Some(policy) = policy_of(a.source) else {
            continue;
        };
        let first_level = policy.rules.first();
        let reported = now - a.ago;
        let (status, resolved_on, accepted) = match a.outcome {
            Outcome::Pending => ("PENDING", None, None),
            Outcome::Accepted { by, after } => ("ACCEPTED", None, Some((by, reported + after))),
            Outcome::Resolved { accepted, after } => (
                "RESOLVED",
                Some(reported + after),
                accepted.map(|(by, at)| (by, reported + at)),
            ),
        };
        // Only open HIGH alerts escalate; ilert keeps LOW alerts on the first level.
        let (next_escalation, next_rule) = match (status, a.priority, first_level) {
            ("PENDING", "HIGH", Some((timeout, _))) if policy.rules.len() > 1 => {
                (Some(reported + timeout * MINUTE), Some(1))
            }
            _ => (None, None),
        };
        tx.execute(
            "INSERT INTO alerts (id, summary, details, report_time, resolved_on, status, priority, \
             severity, alert_key, alert_source_id, escalation_policy_id, next_escalation, \
             next_escalation_rule_index, labels, images, links, custom_details) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, '[]', ?15, ?16)",
            params![
                a.id,
                a.summary,
                a.details,
                reported,
                resolved_on,
                status,
                a.priority,
                a.severity,
                a.alert_key,
                a.source,
                policy.id,
                next_escalation,
                next_rule,
                labels_json(a.labels),
                links_json(a.links),
                a.custom_details
            ],
        )?;
        for user in first_level.map_or(&[][..], |(_, users)| *users) {
            tx.execute(
                "INSERT INTO alert_responders (alert_id, user_id, status) VALUES (?1, ?2, 'PENDING')",
                params![a.id, user],
            )?;
        }
        if let Some((by, at)) = accepted {
            tx.execute(
                "INSERT INTO alert_responders (alert_id, user_id, status, accepted_at) \
                 VALUES (?1, ?2, 'ACCEPTED', ?3) ON CONFLICT (alert_id, user_id) DO UPDATE \
                 SET status = 'ACCEPTED', accepted_at = excluded.accepted_at",
                params![a.id, by, at],
            )?;
        }
    }
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
        for pair in ALERTS.windows(2) {
            assert!(pair[0].id < pair[1].id);
            assert!(
                pair[0].ago > pair[1].ago,
                "alert {} is out of order",
                pair[1].id
            );
        }
        assert!(ALERTS.iter().all(|a| policy_of(a.source).is_some()));
    }
}
