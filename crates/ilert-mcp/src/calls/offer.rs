//! Stage 1, selection and grant: whether this request is offered the tool at all. The server's
//! own selection already built the catalogue; a request can only narrow it (`X-MCP-*` headers,
//! read-only first), an OAuth grant covers only the groups it was given, and the caller's ilert
//! role (learnt with the key) leaves out writes it cannot make. `tools/list` applies the same rule,
//! so a tool hidden from the list is refused when called, before anyone is asked to confirm it.

use std::sync::OnceLock;

use rmcp::model::{CallToolResult, ContentBlock, Tool};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};

use crate::auth::{CallerRole, GrantInfo, Role, Scope};
use crate::calls::catalogue::{Catalogue, Selection, is_read_only};
use crate::rules::{failure, result_text, without_tools};

/// Request headers that narrow the server's tool selection for one request (never widen it).
pub const HEADER_TOOLSETS: &str = "x-mcp-toolsets";
pub const HEADER_TOOLS: &str = "x-mcp-tools";
pub const HEADER_EXCLUDE_TOOLS: &str = "x-mcp-exclude-tools";
pub const HEADER_READ_ONLY: &str = "x-mcp-readonly";

/// What one request may see of the catalogue: its narrowing and its grant.
#[derive(Debug, Clone, Default)]
pub struct Offer {
    pub narrowing: Option<Selection>,
    pub grant: Option<Scope>,
    /// The caller's ilert role, when the key check learnt it.
    pub role: Option<Role>,
}

/// Writes that configure ilert (ilert lets USER and ADMIN do them, not RESPONDER).
const CONFIGURE: &[&str] = &["create_maintenance_window", "create_schedule_override"];

/// Why `role` cannot make the write `tool`, or `None` (reads, and writes the role may make).
pub fn role_refusal(role: Role, tool: &Tool) -> Option<&'static str> {
    crate::rules::confirm::class_of(tool)?;
    if role < Role::Responder {
        return Some(match role {
            Role::Guest => {
                "your ilert role, GUEST, is not allowed to change anything (it can read)"
            }
            _ => "your ilert role, STAKEHOLDER, is not allowed to change anything (it can read)",
        });
    }
    if role < Role::User && CONFIGURE.contains(&tool.name.as_ref()) {
        return Some(
            "your ilert role, RESPONDER, is not allowed to change configuration such as \
             maintenance windows and schedule overrides (USER or ADMIN can)",
        );
    }
    None
}

/// The tool `name` from the catalogue; an unknown name is a protocol error.
pub fn find<'c>(catalogue: &'c Catalogue, name: &str) -> Result<&'c Tool, ErrorData> {
    catalogue.router.get(name).ok_or_else(|| {
        ErrorData::invalid_params(
            format!("Unknown tool {name:?}. Call tools/list for the available tools."),
            None,
        )
    })
}

/// The answer to a call of a tool this request is not offered.
pub fn not_available(name: &str, why: &str) -> CallToolResult {
    failure(format!("{name} is not available: {why}."))
}

impl Offer {
    /// The request's `X-MCP-*` headers, OAuth grant and role, when it came over HTTP; over stdio,
    /// the role of the key's owner, learnt once (`Toolbox::stdio_role`).
    pub fn of(context: &RequestContext<RoleServer>, stdio_role: Option<Role>) -> Self {
        let Some(parts) = context.extensions.get::<http::request::Parts>() else {
            return Self {
                role: stdio_role,
                ..Self::default()
            };
        };
        Self {
            narrowing: narrowing(&parts.headers),
            grant: parts.extensions.get::<GrantInfo>().map(|g| g.scope),
            role: parts.extensions.get::<CallerRole>().map(|r| r.0),
        }
    }

    /// Why `tool` is not available to this request, or `None` when it is: the request's
    /// narrowing (the server's own selection already holds), then the grant's scope.
    pub fn refusal(&self, catalogue: &Catalogue, tool: &Tool) -> Option<&'static str> {
        let name = tool.name.as_ref();
        let set = catalogue.toolset_of.get(name).copied().unwrap_or("");
        if let Some(selection) = &self.narrowing
            && !selection.narrows(set, tool)
        {
            return Some(if selection.read_only && !is_read_only(tool) {
                "this connection is read-only (its X-MCP-Readonly header)"
            } else {
                "this connection's tool selection excludes it"
            });
        }
        if let Some(scope) = &self.grant
            && !scope.covers(&needed_scope(set, tool))
        {
            return Some(
                "the access granted to this app does not include it (sign in again and allow it)",
            );
        }
        self.role.and_then(|role| role_refusal(role, tool))
    }

    /// The catalogue's tools this request is offered, in catalogue order.
    pub fn tools(&self, catalogue: &Catalogue) -> Vec<Tool> {
        catalogue
            .tools()
            .into_iter()
            .filter(|t| self.refusal(catalogue, t).is_none())
            .collect()
    }

    /// An error names a tool only if this caller is offered it: pointers to other tools are cut
    /// out of its sentences (see [`crate::rules::without_tools`]).
    pub fn offered_only(
        &self,
        catalogue: &Catalogue,
        mut result: CallToolResult,
    ) -> CallToolResult {
        static ALL: OnceLock<Vec<String>> = OnceLock::new();
        if result.is_error != Some(true) {
            return result;
        }
        let all = ALL.get_or_init(|| {
            Catalogue::full()
                .tools()
                .iter()
                .map(|t| t.name.to_string())
                .collect()
        });
        let hidden: Vec<&str> = all
            .iter()
            .filter(|n| {
                catalogue
                    .router
                    .get(n)
                    .is_none_or(|t| self.refusal(catalogue, t).is_some())
            })
            .map(String::as_str)
            .collect();
        let text = result_text(&result);
        let cut = without_tools(&text, &hidden);
        if cut != text {
            result.content = vec![ContentBlock::text(cut)];
        }
        result
    }
}

/// The request's `X-MCP-*` headers as a selection, if it sent any.
fn narrowing(headers: &http::HeaderMap) -> Option<Selection> {
    let list = |name: &str| -> Option<Vec<String>> {
        let joined: Vec<String> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        (!joined.is_empty()).then_some(joined)
    };
    let selection = Selection {
        toolsets: list(HEADER_TOOLSETS),
        tools: list(HEADER_TOOLS).unwrap_or_default(),
        exclude: list(HEADER_EXCLUDE_TOOLS).unwrap_or_default(),
        read_only: read_only_requested(headers),
    };
    (selection != Selection::default()).then_some(selection)
}

/// The most a grant for `catalogue` can be worth: per group, write if a tool that writes needs
/// it, read if any tool needs it, nothing otherwise.
pub fn ceiling(catalogue: &Catalogue) -> Scope {
    let mut ceiling = Scope::NONE;
    for tool in catalogue.router.list_all() {
        let set = catalogue
            .toolset_of
            .get(tool.name.as_ref())
            .copied()
            .unwrap_or("");
        ceiling = ceiling.union(&needed_scope(set, &tool));
    }
    ceiling
}

/// The scope a tool of `toolset` needs: read or write on its consent groups.
pub fn needed_scope(toolset: &str, tool: &Tool) -> Scope {
    Scope::needed(
        crate::auth::scopes::groups_of(toolset, tool.name.as_ref()),
        !is_read_only(tool),
    )
}

/// Whether the `X-MCP-Readonly` headers ask for read-only. It fails closed: a header that is present
/// means read-only unless it says plainly that it is off (false, 0, no, off), and with repeated
/// headers every one is read and the strictest wins.
fn read_only_requested(headers: &http::HeaderMap) -> bool {
    headers.get_all(HEADER_READ_ONLY).iter().any(|value| {
        let off = value.to_str().is_ok_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "false" | "0" | "no" | "off"
            )
        });
        !off
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn read_only_header_fails_closed() {
        assert!(!read_only_requested(&headers(&[])));
        assert!(read_only_requested(&headers(&[(HEADER_READ_ONLY, "true")])));
        assert!(read_only_requested(&headers(&[(
            HEADER_READ_ONLY,
            "maybe"
        )])));
        assert!(!read_only_requested(&headers(&[(
            HEADER_READ_ONLY,
            " Off "
        )])));
        assert!(read_only_requested(&headers(&[
            (HEADER_READ_ONLY, "false"),
            (HEADER_READ_ONLY, "1"),
        ])));
    }

    #[test]
    fn headers_narrow_only_when_sent() {
        assert_eq!(narrowing(&headers(&[])), None);
        let narrowed = narrowing(&headers(&[
            (HEADER_TOOLSETS, "alerts, oncall"),
            (HEADER_EXCLUDE_TOOLS, "create_alert"),
        ]))
        .unwrap();
        assert_eq!(
            narrowed.toolsets,
            Some(vec!["alerts".to_owned(), "oncall".to_owned()])
        );
        assert_eq!(narrowed.exclude, vec!["create_alert".to_owned()]);
        assert!(!narrowed.read_only);
    }

    #[test]
    fn read_only_is_named_before_selection_and_grant() {
        let catalogue = Catalogue::full();
        let write = find(&catalogue, "create_alert").unwrap();
        let read = find(&catalogue, "list_alerts").unwrap();
        let open = Offer::default();
        assert_eq!(open.refusal(&catalogue, write), None);
        let read_only = Offer {
            narrowing: Some(Selection {
                toolsets: Some(vec!["oncall".into()]),
                read_only: true,
                ..Default::default()
            }),
            grant: Some(Scope::NONE),
            role: Some(Role::Stakeholder),
        };
        assert!(
            read_only
                .refusal(&catalogue, write)
                .unwrap()
                .contains("read-only")
        );
        assert!(
            read_only
                .refusal(&catalogue, read)
                .unwrap()
                .contains("tool selection")
        );
        let granted_nothing = Offer {
            narrowing: None,
            grant: Some(Scope::NONE),
            role: None,
        };
        assert!(
            granted_nothing
                .refusal(&catalogue, read)
                .unwrap()
                .contains("access granted")
        );
        assert!(
            !granted_nothing
                .tools(&catalogue)
                .iter()
                .any(|t| t.name == "list_alerts")
        );
    }

    #[test]
    fn unknown_tools_are_protocol_errors_and_refusals_say_why() {
        let catalogue = Catalogue::full();
        let error = find(&catalogue, "no_such_tool").unwrap_err();
        assert!(error.message.contains("Call tools/list"));
        let answer = not_available("create_alert", "this connection is read-only");
        assert_eq!(answer.is_error, Some(true));
        assert_eq!(
            result_text(&answer),
            "create_alert is not available: this connection is read-only."
        );
    }

    #[test]
    fn a_role_is_offered_the_writes_it_can_make() {
        let catalogue = Catalogue::full();
        let tool = |name| find(&catalogue, name).unwrap();
        for role in [Role::Guest, Role::Stakeholder] {
            assert!(role_refusal(role, tool("accept_alerts")).is_some());
            assert!(role_refusal(role, tool("list_alerts")).is_none());
        }
        assert!(role_refusal(Role::Responder, tool("accept_alerts")).is_none());
        assert!(role_refusal(Role::Responder, tool("create_maintenance_window")).is_some());
        assert!(role_refusal(Role::Responder, tool("create_schedule_override")).is_some());
        assert!(role_refusal(Role::User, tool("create_maintenance_window")).is_none());
        assert_eq!(Role::parse("responder"), Some(Role::Responder));
        assert_eq!(Role::parse("OWNER"), Some(Role::Admin));
        assert_eq!(Role::parse("ROBOT"), None);
    }
}
