//! stdio transport: one user, key from the environment, protocol on stdout, logs on stderr.

use std::sync::Arc;

use rmcp::ServiceExt;

use crate::calls::catalogue::Catalogue;
use crate::mcp::server::IlertMcp;
use crate::rules::toolbox::Toolbox;

pub async fn run(shared: Arc<Toolbox>, catalogue: Arc<Catalogue>) -> Result<(), String> {
    learn_role(&shared).await;
    let server = crate::observe::traces::Traced(IlertMcp::new(shared, catalogue));
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("the MCP client did not complete the handshake: {e}"))?;
    running
        .waiting()
        .await
        .map_err(|e| format!("the stdio session ended with an error: {e}"))?;
    Ok(())
}

/// Learns the key's ilert role once, so tools/list leaves out writes it cannot make (as over HTTP).
/// Not knowing it (ilert unreachable at start) offers every tool: ilert still checks each call.
async fn learn_role(shared: &Toolbox) {
    let Some(key) = &shared.stdio_key else {
        return;
    };
    let session = shared.client.session(key.clone());
    match tokio::time::timeout(std::time::Duration::from_secs(10), session.current_user()).await {
        Ok(Ok(user)) => {
            if let Some(role) = user.role.as_deref().and_then(crate::auth::Role::parse) {
                let _ = shared.stdio_role.set(role);
            }
        }
        Ok(Err(e)) => tracing::warn!(
            error = %crate::observe::logsafe::escaped(&e.to_string()),
            "could not learn the key's role; offering every tool (ilert checks each call)"
        ),
        Err(_) => {
            tracing::warn!("ilert did not say the key's role within 10 s; offering every tool")
        }
    }
}
