//! API-key authentication and per-key rate limiting, as ilert applies them to `/api/...`:
//! `Authorization: Bearer <key>`, 401 without a header, 403 `KEY_ERROR` for any bad
//! credential, 429 without `Retry-After` once a key exceeds its fixed one-minute window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::catalog::Catalog;
use crate::error::ApiError;
use crate::users::{self, Role};

/// The authenticated user behind a request, put there by [`require_api_key`].
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    /// The `team-context` / `x-team-context` header; lists show only what is in it.
    pub team_context: TeamContext,
}

/// ilert's team context: "`0` for ALL teams, `-1` for MY teams or a specific team id" (the
/// spec's Team Context section). With an API key and no header, lists show everything the
/// user may view, which is `All`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TeamContext {
    #[default]
    All,
    Mine,
    Team(i64),
}

impl TeamContext {
    /// From the header's value; `None` for anything that is not 0, -1 or a team id.
    fn parse(raw: &str) -> Option<TeamContext> {
        match raw.trim().parse::<i64>().ok()? {
            0 => Some(TeamContext::All),
            -1 => Some(TeamContext::Mine),
            id if id > 0 => Some(TeamContext::Team(id)),
            _ => None,
        }
    }
}

/// What a request wants to do, for the role check. The matrix, as ilert's roles describe it:
///
/// | role                | read | work alerts, incidents | configure | manage users |
/// |---------------------|------|------------------------|-----------|--------------|
/// | GUEST, STAKEHOLDER  | yes  | 403                    | 403       | 403          |
/// | RESPONDER           | yes  | yes                    | 403       | 403          |
/// | USER                | yes  | yes                    | yes       | 403          |
/// | ADMIN               | yes  | yes                    | yes       | yes          |
///
/// "Work" is accepting, resolving, assigning and creating alerts, responders, running alert
/// actions, and posting incidents (status updates). "Configure" is creating, changing or deleting
/// schedules and their overrides, escalation policies, alert sources, heartbeat monitors,
/// services, status pages, maintenance windows and teams. Everyone may edit their own profile
/// (`PUT /users/current`); reads, `POST /users/search-email` and `POST /incidents/publish-info`
/// (a preview) are open to every role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Work,
    Configure,
    ManageUsers,
}

impl Caller {
    /// Whether an object that belongs to `teams` is in the caller's team context. Objects of
    /// no team are in the context of all teams only.
    pub fn in_context(&self, teams: &[i64], cat: &Catalog) -> bool {
        match self.team_context {
            TeamContext::All => true,
            TeamContext::Team(id) => teams.contains(&id),
            TeamContext::Mine => teams.iter().any(|t| {
                cat.teams
                    .get(t)
                    .is_some_and(|t| t.members.iter().any(|(u, _)| *u == self.user_id))
            }),
        }
    }

    /// 403 unless the caller's role may change alerts and other operational state.
    pub fn require_responder(&self, action: &str) -> Result<(), ApiError> {
        self.require(Action::Work, action)
    }

    /// 403 unless the caller's role allows `action`; `what` completes "is not allowed to ...".
    pub fn require(&self, action: Action, what: &str) -> Result<(), ApiError> {
        let allowed = match action {
            Action::Work => self.role.can_respond(),
            Action::Configure => matches!(self.role, Role::User | Role::Admin),
            Action::ManageUsers => self.role == Role::Admin,
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "User {} with role {} is not allowed to {what}",
                self.email,
                self.role.as_str()
            )))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("route is missing the authentication layer"))
    }
}

/// The key from an `Authorization` header, if it has the form `Bearer <key>` (any case).
fn bearer_key(header: &str) -> Option<&str> {
    let (scheme, key) = header.trim().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// Middleware for every `/api` route. It also reads the team context from `x-team-context`
/// (what ilert's CLI sends) or `team-context` (the spec's name); a value other than 0, -1 or a
/// team id is 400.
pub async fn require_api_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(header) = req.headers().get(AUTHORIZATION) else {
        return ApiError::Unauthorized(
            "Authorization header is missing. Send 'Authorization: Bearer <API key>'.".to_owned(),
        )
        .into_response();
    };
    let Some(key) = header.to_str().ok().and_then(bearer_key).map(str::to_owned) else {
        return ApiError::KeyError.into_response();
    };
    let lookup_key = key.clone();
    let user = match state
        .db
        .call(move |conn| Ok(users::find_by_api_key(conn, &lookup_key)?))
        .await
    {
        Ok(Some(user)) => user,
        Ok(None) => return ApiError::KeyError.into_response(),
        Err(err) => return err.into_response(),
    };
    if let Some(limiter) = &state.limiter
        && !limiter.admit(&key)
    {
        return ApiError::TooManyRequests(format!(
            "Too many requests: API key rate limit of {} requests per minute exceeded. \
             Retry in the next minute.",
            limiter.limit
        ))
        .into_response();
    }
    let team_context = match req
        .headers()
        .get("x-team-context")
        .or_else(|| req.headers().get("team-context"))
    {
        None => TeamContext::All,
        Some(raw) => match raw.to_str().ok().and_then(TeamContext::parse) {
            Some(context) => context,
            None => {
                return ApiError::bad_request(
                    "Header 'team-context' must be 0 (all teams), -1 (my teams) or a team id",
                )
                .into_response();
            }
        },
    };
    req.extensions_mut().insert(Caller {
        user_id: user.id,
        role: user.role(),
        email: user.email,
        team_context,
    });
    next.run(req).await
}

/// Fixed 60 s windows per key, each starting with the key's first request after the last one
/// ended: what ilert documents ("rejected with 429 responses until a new window starts").
#[derive(Debug)]
pub struct RateLimiter {
    pub limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn per_minute(limit: u32) -> Self {
        RateLimiter {
            limit,
            window: Duration::from_secs(60),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key`; false once the key is over its limit in this window.
    pub fn admit(&self, key: &str) -> bool {
        self.admit_at(key, Instant::now())
    }

    fn admit_at(&self, key: &str, now: Instant) -> bool {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_key("Bearer abc"), Some("abc"));
        assert_eq!(bearer_key("bearer  abc "), Some("abc"));
        assert_eq!(bearer_key("BEARER abc"), Some("abc"));
        assert_eq!(bearer_key("Basic abc"), None);
        assert_eq!(bearer_key("Bearer "), None);
        assert_eq!(bearer_key("abc"), None);
    }

    #[test]
    fn fixed_windows() {
        let limiter = RateLimiter::per_minute(2);
        let t0 = Instant::now();
        assert!(limiter.admit_at("a", t0));
        assert!(limiter.admit_at("a", t0 + Duration::from_secs(1)));
        assert!(!limiter.admit_at("a", t0 + Duration::from_secs(2)));
        assert!(limiter.admit_at("b", t0 + Duration::from_secs(2)));
        assert!(!limiter.admit_at("a", t0 + Duration::from_secs(59)));
        assert!(limiter.admit_at("a", t0 + Duration::from_secs(60)));
    }
}
