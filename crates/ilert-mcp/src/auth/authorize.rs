//! `/authorize`: a small HTML page that names the client and where it will send the user, asks for
//! the ilert API key, checks it with ilert, offers read-only or read-write, and redirects back with
//! a single-use code and the `iss` parameter. CSRF-protected (a sealed, expiring request bound to
//! a SameSite cookie) and not frameable.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ilert_client::{ApiError, ApiKey};
use serde::{Deserialize, Serialize};

use super::clients::redirect_matches;
use super::scopes::{Access, Group};
use super::seal::random_id;
use super::{CODE_PREFIX, CODE_TTL, CSRF_PREFIX, OAuth, Scope, store};

const FORM_TTL: i64 = 600;
const COOKIE: &str = "imcp_csrf";

#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    resource: Option<String>,
}

/// The checked request, sealed into the form so the POST cannot change it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    /// The issuer that made the form: another server sharing the key does not take it.
    iss: String,
    client_id: String,
    client_name: String,
    redirect_uri: String,
    challenge: String,
    state: Option<String>,
    scope: Scope,
    csrf: String,
    exp: i64,
}

/// The content of an authorization code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Code {
    /// The issuer that made the code; another server sharing the key refuses it.
    pub iss: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub scope: Scope,
    pub key: String,
    pub uid: i64,
    pub name: String,
    pub exp: i64,
    pub jti: String,
}

pub async fn page(State(oauth): State<Arc<OAuth>>, Query(q): Query<AuthorizeQuery>) -> Response {
    let Some(client_id) = q.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return error_page("The sign-in link is missing its client_id. Start again from your app.");
    };
    let client = match oauth.client(client_id).await {
        Ok(client) => client,
        Err(why) => return error_page(&format!("This app cannot sign in: {why}.")),
    };
    let redirect_uri = match q.redirect_uri.as_deref() {
        Some(r) if redirect_matches(&client.redirect_uris, r) => r.to_owned(),
        Some(_) => {
            return error_page(
                "The app asked to return to an address it did not register. Nothing was shared.",
            );
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => {
                return error_page(
                    "The sign-in link is missing its redirect_uri. Start again from your app.",
                );
            }
        },
    };
    // Until the user has seen the page and chosen, nothing redirects: a request that is not
    // valid gets a page, so /authorize cannot bounce a browser to a registered address.
    if q.response_type.as_deref() != Some("code") {
        return error_page(
            "The sign-in link asks for something other than a code (response_type=code). Start again from your app.",
        );
    }
    let Some(challenge) = q
        .code_challenge
        .clone()
        .filter(|c| (43..=128).contains(&c.len()))
    else {
        return error_page(
            "The sign-in link has no PKCE code_challenge (S256). Start again from your app.",
        );
    };
    if q.code_challenge_method.as_deref() != Some("S256") {
        return error_page(
            "The sign-in link must use code_challenge_method=S256. Start again from your app.",
        );
    }
    if let Some(resource) = q.resource.as_deref()
        && resource.trim_end_matches('/') != oauth.resource
        && resource.trim_end_matches('/') != oauth.issuer
    {
        return error_page(&format!(
            "The app asked for access to another server; this one only signs in to {}.",
            oauth.resource
        ));
    }
    let pending = Pending {
        iss: oauth.issuer.clone(),
        client_id: client_id.to_owned(),
        client_name: client.name.clone(),
        redirect_uri,
        challenge,
        state: q.state.clone(),
        scope: offered(&oauth, Scope::parse(q.scope.as_deref())),
        csrf: random_id(),
        exp: store::now() + FORM_TTL,
    };
    render(&oauth, &pending, None, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct Submission {
    request: String,
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    decision: Option<String>,
    /// `groups` when the page sent one checkbox pair per consent group (below); without it the
    /// older single `scope` (read or write) applies to every group.
    #[serde(default)]
    consent: Option<String>,
    /// `alerts=read`, `alerts_write=write`, ... per consent group.
    #[serde(flatten)]
    groups: std::collections::HashMap<String, String>,
}

impl Submission {
    /// What the user ticked.
    fn scope(&self) -> Scope {
        if self.consent.as_deref() != Some("groups") {
            return match self.scope.as_deref() {
                Some("write") => Scope::Write,
                _ => Scope::Read,
            };
        }
        let mut scope = Scope::NONE;
        for group in Group::ALL {
            let access = if self.groups.contains_key(&format!("{}_write", group.name())) {
                Access::Write
            } else if self.groups.contains_key(group.name()) {
                Access::Read
            } else {
                Access::None
            };
            scope.set(group, access);
        }
        scope
    }
}

/// What the page offers first: what the client asked for, within what this server grants; if that
/// leaves nothing, read access to whatever the server offers.
fn offered(oauth: &OAuth, asked: Scope) -> Scope {
    let within = asked.intersect(&oauth.grantable());
    if within == Scope::NONE {
        Scope::Read.intersect(&oauth.grantable())
    } else {
        within
    }
}

pub async fn submit(
    State(oauth): State<Arc<OAuth>>,
    headers: HeaderMap,
    Form(form): Form<Submission>,
) -> Response {
    let Some(mut pending) = oauth
        .sealer
        .open::<Pending>(CSRF_PREFIX, &form.request)
        .filter(|p| p.exp > store::now() && p.iss == oauth.issuer)
    else {
        return error_page("This sign-in form has expired. Start again from your app.");
    };
    if cookie(&headers, COOKIE).as_deref() != Some(pending.csrf.as_str()) {
        return error_page(
            "This sign-in form was not opened in this browser (or has been replaced by a newer one). Start again from your app.",
        );
    }
    if form.decision.as_deref() == Some("deny") {
        return redirect_error(
            &oauth,
            &pending.redirect_uri,
            pending.state.as_deref(),
            "access_denied",
            "the user declined",
        );
    }
    pending.scope = form.scope().intersect(&oauth.grantable());
    // Everything the page offered ticked is everything: `ilert:read ilert:write` on a server with
    // writes, though a group without tools that write shows no write box to tick.
    if pending.scope.covers(&oauth.ceiling) {
        pending.scope = oauth.grantable();
    }
    if pending.scope == Scope::NONE {
        pending.scope = offered(&oauth, Scope::NONE);
        return render(
            &oauth,
            &pending,
            Some("Choose at least one kind of access, or Deny."),
            StatusCode::BAD_REQUEST,
        );
    }
    let key = match ApiKey::new(&form.api_key) {
        Ok(key) => key,
        Err(_) => {
            return render(
                &oauth,
                &pending,
                Some("Enter your ilert API key."),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let user = match oauth.ilert.session(key.clone()).current_user().await {
        Ok(user) => user,
        Err(ApiError::Unauthorized { .. } | ApiError::InvalidKey { .. }) => {
            return render(
                &oauth,
                &pending,
                Some(
                    "ilert did not accept this API key. Check that you copied all of it and that it is active (ilert: Profile → API Keys).",
                ),
                StatusCode::BAD_REQUEST,
            );
        }
        Err(e) => {
            tracing::warn!(error = %crate::observe::logsafe::escaped(&e.to_string()), "could not check an API key on the authorize page");
            return render(
                &oauth,
                &pending,
                Some("ilert could not be reached to check the key. Try again in a moment."),
                StatusCode::BAD_GATEWAY,
            );
        }
    };
    let code = Code {
        iss: oauth.issuer.clone(),
        client_id: pending.client_id.clone(),
        redirect_uri: pending.redirect_uri.clone(),
        challenge: pending.challenge.clone(),
        scope: pending.scope,
        key: key.expose().to_owned(),
        uid: user.id,
        name: user.display_name(),
        exp: store::now() + CODE_TTL,
        jti: random_id(),
    };
    let sealed = oauth.sealer.seal(CODE_PREFIX, &code);
    let mut params = vec![("code", sealed.as_str()), ("iss", oauth.issuer.as_str())];
    if let Some(state) = pending.state.as_deref() {
        params.push(("state", state));
    }
    tracing::info!(client = %crate::observe::logsafe::escaped(&pending.client_name), user = user.id, scope = %pending.scope.to_scope_string(), "authorization granted");
    let mut response = redirect(&pending.redirect_uri, &params);
    clear_cookie(&mut response);
    response
}

fn render(oauth: &OAuth, pending: &Pending, error: Option<&str>, status: StatusCode) -> Response {
    let sealed = oauth.sealer.seal(CSRF_PREFIX, pending);
    let target = url::Url::parse(&pending.redirect_uri).ok();
    let destination = destination(target.as_ref(), &pending.redirect_uri);
    let access = consent_fieldset(oauth, pending.scope);
    let alert = error
        .map(|e| {
            format!(
                "<p class=\"error\" id=\"key_error\" role=\"alert\">{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    // After a refused key, the field is marked invalid, tied to the message, and focused.
    let (invalid, described, autofocus, title_prefix) = match error {
        Some(_) => (
            " aria-invalid=\"true\"",
            "key_error key_help",
            " autofocus",
            "Error: ",
        ),
        None => ("", "key_help", "", ""),
    };
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title_prefix}Connect {client} to ilert</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f5f6f8;color:#1d2430;margin:0}}
main{{max-width:30rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}}
@media (max-width:34rem){{main{{margin:1rem;padding:1.25rem}}}}
h1{{font-size:1.35rem;margin:0 0 1rem}} p{{line-height:1.5}} .muted{{color:#4a5568;font-size:.92rem}}
label{{display:block;font-weight:600;margin:1.2rem 0 .4rem}} input[type=password]{{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #8a94a6;border-radius:6px}}
fieldset{{border:1px solid #d5dae3;border-radius:6px;margin:1.2rem 0;padding:.6rem 1rem}} legend{{font-weight:600;padding:0 .3rem}}
fieldset label{{font-weight:400;margin:.4rem 0;display:flex;gap:.5rem;align-items:flex-start}} fieldset input{{margin-top:.25rem}}
.group{{padding:.4rem 0;border-top:1px solid #eef0f4}} .group:first-of-type{{border-top:0}} .group p{{margin:.1rem 0 .2rem 1.6rem}} .group .write{{margin-left:1.6rem}} .error{{background:#fdecea;color:#8a1c14;padding:.7rem;border-radius:6px}}
.actions{{display:flex;gap:.8rem;margin-top:1.5rem}} button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #1e5bd8;cursor:pointer}}
button[value=allow]{{background:#1e5bd8;color:#fff}} button[value=deny]{{background:#fff;color:#1e5bd8}}
:focus-visible{{outline:3px solid #f0a500;outline-offset:2px}}
</style>
</head>
<body>
<main>
<h1>Connect {client} to ilert</h1>
<p><strong>{client}</strong> wants to use ilert on your behalf. After you allow it, you will be sent to {destination}.</p>
<p class="muted">The name is what the app calls itself and is not verified; the address it returns to is. Only continue if you started this from that app.</p>
{alert}
<form method="post" action="/authorize">
<input type="hidden" name="request" value="{sealed}">
<label for="api_key">Your ilert API key</label>
<input type="password" id="api_key" name="api_key" required autocomplete="off" spellcheck="false" aria-describedby="{described}"{invalid}{autofocus}>
<p id="key_help" class="muted">Create one in ilert under Profile → API Keys. It is checked with ilert and kept only inside the token given to {client}, which can do what your ilert user can do, within the access you choose below.</p>
{access}
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</div>
</form>
</main>
</body>
</html>"#,
        client = escape(&pending.client_name),
        title_prefix = title_prefix,
        described = described,
        invalid = invalid,
        autofocus = autofocus,
        destination = destination,
        sealed = escape(&sealed),
    );
    // Chromium checks form-action on every redirect after the form is posted, so the address the
    // app returns to must be allowed by it: its origin, or its private scheme.
    let form_action = match &target {
        Some(u) if matches!(u.scheme(), "http" | "https") => {
            format!("'self' {}", u.origin().ascii_serialization())
        }
        Some(u) => format!("'self' {}:", u.scheme()),
        None => "'self'".to_owned(),
    };
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    set_security_headers(headers, &form_action);
    let secure = if oauth.issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/authorize; HttpOnly; SameSite=Strict; Max-Age={FORM_TTL}{secure}",
        pending.csrf
    )) {
        headers.insert(header::SET_COOKIE, value);
    }
    response
}

/// One checkbox pair per consent group this server offers: read, and "also make changes" where
/// the group has tools that write. Ticked as `scope` says.
fn consent_fieldset(oauth: &OAuth, scope: Scope) -> String {
    let mut html = String::from(
        "<fieldset>\n<legend>What it may do</legend>\n<input type=\"hidden\" name=\"consent\" value=\"groups\">\n",
    );
    for group in Group::ALL {
        let ceiling = oauth.ceiling.get(group);
        if ceiling == Access::None {
            continue;
        }
        let name = group.name();
        let checked = |min: Access| {
            if scope.get(group) >= min {
                " checked"
            } else {
                ""
            }
        };
        html.push_str(&format!(
            "<div class=\"group\">\n<label><input type=\"checkbox\" name=\"{name}\" value=\"read\" id=\"g_{name}\"{read}> <span><strong>{label}</strong>: see</span></label>\n<p class=\"muted\">{covers}</p>\n",
            read = checked(Access::Read),
            label = escape(group.label()),
            covers = escape(group.covers()),
        ));
        if ceiling == Access::Write {
            html.push_str(&format!(
                "<label class=\"write\"><input type=\"checkbox\" name=\"{name}_write\" value=\"write\" aria-label=\"{label}: also make changes\"{write}> <span>and make changes</span></label>\n",
                write = checked(Access::Write),
                label = escape(group.label()),
            ));
        }
        html.push_str("</div>\n");
    }
    if oauth.ceiling.is_read_only() {
        html.push_str(
            "<p class=\"muted\">This server is read-only: nothing can be changed through it.</p>\n",
        );
    }
    html.push_str("</fieldset>");
    html
}

/// Where the browser goes after consent, as HTML: scheme and host, so `x-evil://claude.ai` does not
/// read as claude.ai; any port that is not the scheme's default, so `https://claude.ai:8443` does
/// not read as claude.ai either and loopback apps (they differ by port alone) are told apart; and
/// anything that is neither https on the internet is marked as an app on this device.
fn destination(target: Option<&url::Url>, raw: &str) -> String {
    let Some(u) = target else {
        return format!("<strong>{}</strong>", escape(raw));
    };
    let host = u.host_str().unwrap_or("");
    // `port()` is None for the scheme's default port.
    let shown = match u.port() {
        _ if host.is_empty() => format!("{}:", u.scheme()),
        Some(port) => format!("{}://{host}:{port}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    };
    if u.scheme() == "https" && !super::clients::is_loopback(u) {
        format!("<strong>{}</strong>", escape(&shown))
    } else {
        format!(
            "<strong>{}</strong>, an app on this device (not a website)",
            escape(&shown)
        )
    }
}

fn set_security_headers(headers: &mut HeaderMap, form_action: &str) {
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert("content-security-policy", value);
    }
}

fn error_page(message: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ilert sign-in</title></head>\
         <body><main><h1>ilert sign-in</h1><p role=\"alert\">{}</p></main></body></html>",
        escape(message)
    );
    let mut response = (StatusCode::BAD_REQUEST, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    set_security_headers(response.headers_mut(), "'none'");
    response
}

fn redirect_error(
    oauth: &OAuth,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let mut params = vec![
        ("error", error),
        ("error_description", description),
        ("iss", oauth.issuer.as_str()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect(redirect_uri, &params)
}

fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page("The app's return address is not valid.");
    };
    url.query_pairs_mut().extend_pairs(params);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn clear_cookie(response: &mut Response) {
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("imcp_csrf=; Path=/authorize; Max-Age=0"),
    );
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
