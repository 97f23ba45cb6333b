//! Users toolset: `get_current_user` (`GET /users/current`).

use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::IlertMcp;
use crate::tools::{explain, input_schema, output_schema, structured};

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// The ilert user that owns the API key in use.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CurrentUserOutput {
    pub id: i64,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// STAKEHOLDER, GUEST, RESPONDER, USER or ADMIN; stakeholders and guests can only read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// IANA time zone of the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

#[tool_router(router = users_router, vis = "pub(crate)")]
impl IlertMcp {
    /// Who am I in ilert: the user behind the API key in use, with role and time zone. Use it to
    /// check the connection and to know whose alerts "mine" means.
    #[tool(
        title = "Get current user",
        input_schema = input_schema::<NoParams>(),
        output_schema = output_schema::<CurrentUserOutput>(),
        annotations(title = "Get current user", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_current_user(&self, ext: Extensions) -> CallToolResult {
        let api = match self.session(&ext) {
            Ok(api) => api,
            Err(e) => return e,
        };
        match api.current_user().await {
            Ok(user) => {
                let out = CurrentUserOutput {
                    id: user.id,
                    name: user.display_name(),
                    email: user.email.clone(),
                    role: user.role.clone(),
                    timezone: user.timezone.clone(),
                };
                let text = format!(
                    "{} (id {}), role {}, e-mail {}, time zone {}",
                    out.name,
                    out.id,
                    out.role.as_deref().unwrap_or("unknown"),
                    out.email.as_deref().unwrap_or("unknown"),
                    out.timezone.as_deref().unwrap_or("unknown"),
                );
                structured(&out, text)
            }
            Err(e) => crate::tools::failure(explain(&e, "your user")),
        }
    }
}
