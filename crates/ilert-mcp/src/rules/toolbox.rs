//! The toolbox: what every tool is handed. The pooled ilert client and settings, the name cache,
//! and the one rule for whose ilert key a call uses: the HTTP caller's own (set by
//! [`crate::transport::auth`]) or, for stdio only, the process's. Tools are methods on it, so
//! they need nothing from the server above them.

use std::sync::Arc;

use ilert_client::{ApiKey, Client, Session};
use rmcp::model::{CallToolResult, Extensions};

use crate::auth::{CallerKey, GrantInfo};
use crate::observe::audit::AuditLog;
use crate::rules::confirm::{self, Confirmer};
use crate::rules::failure;
use crate::rules::names::RefCache;
use crate::rules::similar::Memory;

/// What every request shares. Holds no caller's key, except `stdio_key`, which only the
/// single-user stdio mode sets.
pub struct Toolbox {
    pub client: Client,
    /// ilert web app root for links, without trailing slash.
    pub app_url: String,
    pub stdio_key: Option<ApiKey>,
    /// Reference data per caller, for name lookups.
    pub refs: RefCache,
    /// Past alerts and timelines per caller, for `find_similar_alerts`.
    pub memory: Memory,
    /// The stdio key's ilert role, learnt once, at the first listing or call (HTTP learns each
    /// caller's with the key); `None` inside when ilert did not say.
    stdio_role: tokio::sync::OnceCell<Option<crate::auth::Role>>,
    /// Recent looks at watched alerts, shared by polls of follow-through tasks.
    pub polls: crate::rules::follow::Polls,
    /// Where every write's audit event goes.
    pub audit: Arc<AuditLog>,
    /// Which writes ask a person first, and the key and store their confirmations use.
    pub confirm: Confirmer,
}

impl Toolbox {
    pub fn new(client: Client, app_url: &str, stdio_key: Option<ApiKey>) -> Self {
        Self {
            client,
            app_url: app_url.trim().trim_end_matches('/').to_owned(),
            stdio_key,
            refs: RefCache::default(),
            memory: Memory::default(),
            stdio_role: Default::default(),
            polls: Default::default(),
            audit: Arc::new(AuditLog::stderr()),
            confirm: Confirmer::default(),
        }
    }

    /// The same, with audit events going to `audit` instead of stderr.
    pub fn with_audit(mut self, audit: Arc<AuditLog>) -> Self {
        self.audit = audit;
        self
    }

    /// The same, with these confirmation settings (policy, the replicas' key and store).
    pub fn with_confirmer(mut self, confirm: Confirmer) -> Self {
        self.confirm = confirm;
        self
    }

    /// The stdio key's ilert role, for offering only the tools it can use: asked of ilert once,
    /// at the first listing or call (not at start, so the handshake never waits on ilert), for at
    /// most 5 s. `None` over HTTP, without a key, or when ilert did not say (every tool is
    /// offered then, and ilert still checks each call).
    pub(crate) async fn stdio_role(&self, ext: &Extensions) -> Option<crate::auth::Role> {
        if ext.get::<http::request::Parts>().is_some() {
            return None;
        }
        let key = self.stdio_key.as_ref()?;
        let learn = self.stdio_role.get_or_init(|| async {
            let session = self.client.session(key.clone());
            match session.current_user().await {
                Ok(user) => user.role.as_deref().and_then(crate::auth::Role::parse),
                Err(e) => {
                    tracing::warn!(
                        error = %crate::observe::logsafe::escaped(&e.to_string()),
                        "could not learn the key's role; offering every tool (ilert checks each call)"
                    );
                    None
                }
            }
        });
        match tokio::time::timeout(std::time::Duration::from_secs(5), learn).await {
            Ok(role) => *role,
            Err(_) => {
                tracing::warn!("ilert did not say the key's role within 5 s; offering every tool");
                None
            }
        }
    }

    /// The ilert session for this call, or a tool error saying why there is none.
    pub(crate) fn session(&self, ext: &Extensions) -> Result<Session, CallToolResult> {
        if let Some(parts) = ext.get::<http::request::Parts>() {
            // Over HTTP only the caller's own key is ever used.
            return match parts.extensions.get::<CallerKey>() {
                Some(CallerKey(key)) => Ok(self.client.session(key.clone())),
                None => Err(failure(
                    "No ilert API key came with this request. Send `Authorization: Bearer <ilert API key>`.",
                )),
            };
        }
        match &self.stdio_key {
            Some(key) => Ok(self.client.session(key.clone())),
            None => Err(failure(
                "No ilert API key is configured. Set ILERT_API_KEY for ilert-mcp.",
            )),
        }
    }

    /// Who is calling, for binding confirmations: a digest of the caller's ilert key and OAuth
    /// client (never the key itself).
    pub(crate) fn caller_id(&self, ext: &Extensions) -> String {
        if let Some(parts) = ext.get::<http::request::Parts>() {
            let key = parts.extensions.get::<CallerKey>();
            let client = parts
                .extensions
                .get::<GrantInfo>()
                .map(|g| g.client.as_str());
            return confirm::caller_id(key.map_or("", |CallerKey(k)| k.expose()), client);
        }
        confirm::caller_id(self.stdio_key.as_ref().map_or("", |k| k.expose()), None)
    }
}
