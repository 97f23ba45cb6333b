//! The SQLite file outlives the process; `reset` reseeds it.

use ilert_sandbox::{Sandbox, SandboxConfig};

use crate::common::*;

#[tokio::test]
async fn changes_survive_a_restart_and_reset_reseeds() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested").join("data");

    let s = start_with(config(&data_dir)).await;
    assert!(data_dir.join("sandbox.db").is_file());
    let original = s.ok("/api/alerts/4722", ADMIN).await;
    let seeded = s.ok("/api/alerts/count", ADMIN).await["count"].clone();
    assert_eq!(s.put("/api/alerts/4722/accept", USER).await.status, 200);
    assert_eq!(s.put("/api/alerts/4723/resolve", USER).await.status, 200);
    s.stop().await;

    let s = start_with(config(&data_dir)).await;
    assert_eq!(s.ok("/api/alerts/4722", ADMIN).await["status"], "ACCEPTED");
    assert_eq!(s.ok("/api/alerts/4723", ADMIN).await["status"], "RESOLVED");
    assert_eq!(
        s.ok("/api/alerts/count", ADMIN).await["count"],
        seeded,
        "no second seed"
    );
    s.stop().await;

    let s = start_with(SandboxConfig {
        reset: true,
        ..config(&data_dir)
    })
    .await;
    let fresh = s.ok("/api/alerts/4722", ADMIN).await;
    assert_eq!(fresh["status"], "PENDING");
    assert_eq!(
        s.alert_ids("?states=PENDING").await,
        [4725, 4724, 4723, 4722, 4719]
    );
    assert_eq!(fresh["summary"], original["summary"]);
    assert!(fresh["reportTime"].as_str().unwrap() >= original["reportTime"].as_str().unwrap());
    s.stop().await;
}

#[test]
fn two_sandboxes_can_share_a_directory_and_clones_share_state() {
    let dir = tempfile::tempdir().unwrap();
    let a = Sandbox::open(config(dir.path())).unwrap();
    let b = Sandbox::open(config(dir.path())).unwrap();
    let _router = a.clone().router();
    drop((a, b));
}

#[test]
fn open_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = Sandbox::open(config(&file)).unwrap_err();
    assert!(err.to_string().contains("not-a-dir"), "{err}");

    let garbage = dir.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    std::fs::write(garbage.join("sandbox.db"), vec![7u8; 4096]).unwrap();
    let err = Sandbox::open(config(&garbage)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("sandbox.db") && text.contains("SQLite"),
        "{text}"
    );
    // A reset recovers from a corrupt file.
    Sandbox::open(SandboxConfig {
        reset: true,
        ..config(&garbage)
    })
    .unwrap();
}

#[tokio::test]
async fn an_older_schema_version_is_reseeded() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(config(dir.path())).await;
    let seeded = s.ok("/api/alerts/count", ADMIN).await["count"].clone();
    assert_eq!(s.put("/api/alerts/4722/accept", USER).await.status, 200);
    s.stop().await;
    let conn = rusqlite::Connection::open(dir.path().join("sandbox.db")).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    drop(conn);
    let s = start_with(config(dir.path())).await;
    assert_eq!(
        s.alert(4722).await["status"],
        "PENDING",
        "demo data from an old version is replaced"
    );
    assert_eq!(s.ok("/api/alerts/count", ADMIN).await["count"], seeded);
    s.stop().await;
}
