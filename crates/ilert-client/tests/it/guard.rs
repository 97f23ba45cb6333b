//! The per-key budget and the circuit, counted at a fake ilert: what is refused locally never
//! reaches it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ilert_client::{ApiError, ApiKey, Client, ClientConfig, Outcome, RetryPolicy};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(server: &MockServer) -> ClientConfig {
    crate::capture::init();
    ClientConfig {
        base_url: format!("{}/api", server.uri()),
        retry: RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        },
        ..ClientConfig::default()
    }
}

#[tokio::test]
async fn a_spent_key_is_refused_locally_and_other_keys_go_on() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .expect(3)
        .mount(&server)
        .await;
    let client = Client::new(ClientConfig {
        per_key_budget: 2,
        ..config(&server)
    })
    .unwrap();
    let busy = client.session(ApiKey::new("busy-key").unwrap());
    busy.current_user().await.unwrap();
    busy.current_user().await.unwrap();
    let refused = busy.current_user().await.unwrap_err();
    assert!(
        matches!(refused, ApiError::RateLimited { .. }),
        "{refused:?}"
    );
    assert!(refused.message().contains("resets in"));
    client
        .session(ApiKey::new("quiet-key").unwrap())
        .current_user()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failing_ilert_opens_the_circuit_then_a_probe_closes_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .expect(2)
        .mount(&server)
        .await;
    let outcomes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = outcomes.clone();
    let observer: ilert_client::Observer = Arc::new(move |o| seen.lock().unwrap().push(o));
    let config = ClientConfig {
        circuit_threshold: 3,
        circuit_open_for: Duration::from_millis(200),
        observer: Some(observer),
        ..config(&server)
    };
    let session = Client::new(config)
        .unwrap()
        .session(ApiKey::new("k").unwrap());
    for _ in 0..3 {
        assert_eq!(
            session.current_user().await.unwrap_err().status(),
            Some(500)
        );
    }
    let fast = session.current_user().await.unwrap_err();
    assert!(fast.message().contains("pauses calls"), "{fast:?}");
    tokio::time::sleep(Duration::from_millis(250)).await;
    session
        .current_user()
        .await
        .expect("the probe goes through and succeeds");
    session.current_user().await.expect("closed again");
    let outcomes = outcomes.lock().unwrap().clone();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::Status(500))
            .count(),
        3
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::CircuitOpen)
            .count(),
        1
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::Status(200))
            .count(),
        2
    );
}

#[tokio::test]
async fn client_errors_do_not_open_the_circuit() {
    let server = MockServer::start().await;
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    Mock::given(method("GET"))
        .respond_with(move |_: &wiremock::Request| {
            counter.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(404).set_body_json(json!({"message": "nope"}))
        })
        .mount(&server)
        .await;
    let session = Client::new(ClientConfig {
        circuit_threshold: 2,
        ..config(&server)
    })
    .unwrap()
    .session(ApiKey::new("k").unwrap());
    for _ in 0..5 {
        assert_eq!(
            session.current_user().await.unwrap_err().status(),
            Some(404)
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_spent_budget_answers_at_once_instead_of_waiting_out_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .expect(1)
        .mount(&server)
        .await;
    let refusals = Arc::new(AtomicUsize::new(0));
    let counted = refusals.clone();
    let client = Client::new(ClientConfig {
        per_key_budget: 1,
        retry: RetryPolicy {
            max_retries: 2,
            rate_limit_delay: Duration::from_secs(2),
            server_error_delay: Duration::from_millis(10),
        },
        observer: Some(Arc::new(move |outcome| {
            if outcome == Outcome::BudgetSpent {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        })),
        ..config(&server)
    })
    .unwrap();
    let session = client.session(ApiKey::new("one-call-key").unwrap());
    session.current_user().await.unwrap();
    let refused = session.current_user().await.unwrap_err();
    assert!(
        matches!(refused, ApiError::RateLimited { .. }),
        "{refused:?}"
    );
    // The minute resets in about 60 s, beyond any backoff (2 s, then 4 s): asked once, not
    // retried after sleeping.
    assert_eq!(refusals.load(Ordering::SeqCst), 1);
}
