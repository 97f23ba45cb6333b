//! stdio transport: one user, key from the environment, protocol on stdout, logs on stderr.

use std::sync::Arc;

use rmcp::ServiceExt;

use crate::calls::catalogue::Catalogue;
use crate::mcp::server::IlertMcp;
use crate::rules::toolbox::Toolbox;

pub async fn run(shared: Arc<Toolbox>, catalogue: Arc<Catalogue>) -> Result<(), String> {
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
