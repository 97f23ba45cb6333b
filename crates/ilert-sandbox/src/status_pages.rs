//! Status pages (ilert `StatusPage`, `StatusPageList`, `StatusPageNoIncludes`,
//! `StatusPageGroup`): storage and `/api/status-pages` with groups and private subscribers. A
//! page's status is the worst status of its services.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get};
use axum::{Json, Router};
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::query::{Paging, Params};
use crate::subscribers::{self, Subscriber};
use crate::{input, reply, services, teams};

#[derive(Debug, Clone)]
pub struct StatusPage {
    pub id: i64,
    pub name: String,
    pub subdomain: Option<String>,
    pub domain: Option<String>,
    pub timezone: Option<String>,
    pub visibility: String,
    pub page_title: Option<String>,
    pub page_description: Option<String>,
    pub page_layout: String,
    pub appearance: String,
    pub activated: bool,
    pub services: Vec<i64>,
    pub structure: Value,
    /// `StatusPageGroup`s: `{id, name}`.
    pub groups: Vec<Value>,
    pub teams: Vec<i64>,
    pub subscribers: Vec<Subscriber>,
    pub public_subscribers: i64,
    pub announcement: Option<String>,
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<Vec<StatusPage>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, subdomain, domain, timezone, visibility, page_title, page_description, page_layout, \
         appearance, activated, services, structure, groups_json, teams, subscribers, public_subscribers, \
         announcement FROM status_pages ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        let services: String = r.get(11)?;
        let structure: String = r.get(12)?;
        let groups: String = r.get(13)?;
        let teams: String = r.get(14)?;
        let subs: String = r.get(15)?;
        Ok(StatusPage {
            id: r.get(0)?,
            name: r.get(1)?,
            subdomain: r.get(2)?,
            domain: r.get(3)?,
            timezone: r.get(4)?,
            visibility: r.get(5)?,
            page_title: r.get(6)?,
            page_description: r.get(7)?,
            page_layout: r.get(8)?,
            appearance: r.get(9)?,
            activated: r.get(10)?,
            services: input::stored_ids(&services),
            structure: serde_json::from_str(&structure).unwrap_or_else(|_| json!({"elements": []})),
            groups: serde_json::from_str(&groups).unwrap_or_default(),
            teams: input::stored_ids(&teams),
            subscribers: subscribers::stored(&subs),
            public_subscribers: r.get(16)?,
            announcement: r.get(17)?,
        })
    })?;
    rows.collect()
}

/// Which schema to render: the list item, the single GET, or the POST/PUT answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    List,
    Full,
    NoIncludes,
}

#[derive(Debug, Clone, Copy, Default)]
struct Includes {
    subscribed: bool,
    uptime: bool,
    groups: bool,
}

fn page_json(
    p: &StatusPage,
    cat: &Catalog,
    now: i64,
    shape: Shape,
    inc: Includes,
    caller: i64,
) -> Value {
    let page_services: Vec<&services::Service> = p
        .services
        .iter()
        .filter_map(|id| cat.services.get(id))
        .collect();
    let status = page_services
        .iter()
        .map(|s| s.status(cat, now))
        .max_by_key(|s| services::severity(s))
        .unwrap_or("OPERATIONAL");
    let service_list: Vec<Value> = page_services
        .iter()
        .map(|s| {
            let mut v = services::service_json(s, cat, now);
            if let Some(obj) = v.as_object_mut() {
                if shape != Shape::NoIncludes {
                    // `ServiceUptimeOnly` has no alias.
                    obj.remove("alias");
                }
                if shape == Shape::Full && inc.uptime {
                    obj.insert("uptime".into(), services::uptime_json(s, now));
                }
            }
            v
        })
        .collect();
    let mut out = json!({
        "id": p.id,
        "name": p.name,
        "domain": p.domain,
        "subdomain": p.subdomain,
        "timezone": p.timezone,
        "visibility": p.visibility,
        "pageTitle": p.page_title,
        "pageDescription": p.page_description,
        "activated": p.activated,
        "status": status,
        "teams": teams::team_refs(&p.teams, cat),
        "services": service_list,
    });
    let Some(obj) = out.as_object_mut() else {
        return out;
    };
    if shape != Shape::List {
        obj.insert("pageLayout".into(), p.page_layout.clone().into());
        obj.insert("appearance".into(), p.appearance.clone().into());
        obj.insert("structure".into(), structure_out(&p.structure));
    }
    if shape != Shape::NoIncludes {
        if let Some(a) = &p.announcement {
            obj.insert("announcement".into(), a.clone().into());
            obj.insert("announcementOnPage".into(), true.into());
        }
        if inc.subscribed {
            obj.insert(
                "subscribed".into(),
                subscribers::includes_user(&p.subscribers, caller, cat).into(),
            );
        }
    }
    if shape == Shape::Full && inc.groups {
        obj.insert("groups".into(), Value::Array(p.groups.clone()));
    }
    out
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status-pages", get(list).post(create))
        .route(
            "/status-pages/{id}",
            get(get_one).put(update).delete(remove),
        )
        .route("/status-pages/{id}/groups", get(list_groups))
        .route("/status-pages/{id}/groups/{group_id}", get(get_group))
        .route(
            "/status-pages/{id}/private-subscribers",
            get(get_subscribers)
                .put(put_subscribers)
                .post(add_subscribers),
        )
        .route(
            "/status-pages/{id}/private-subscribers/{subscriber_id}",
            delete(remove_subscriber),
        )
}

/// `/status-pages` paging: default 25, at most 50.
const DEFAULT_MAX_RESULTS: i64 = 25;
const MAX_RESULTS_CAP: i64 = 50;

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Status page {id} not found"))
}

fn find(conn: &Connection, id: i64) -> ApiResult<StatusPage> {
    load_all(conn)?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| not_found(id))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let Paging {
        start_index,
        max_results,
    } = params.paging(DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP)?;
    let inc = Includes {
        subscribed: params.includes().contains("subscribed"),
        ..Includes::default()
    };
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            Ok(load_all(conn)?
                .iter()
                .filter(|p| caller.in_context(&p.teams, &cat))
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(|p| page_json(p, &cat, now, Shape::List, inc, caller.user_id))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

/// `structure` is always part of the single GET.
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "status page")?;
    let set = params.includes();
    let inc = Includes {
        subscribed: set.contains("subscribed"),
        uptime: set.contains("uptime"),
        groups: set.contains("groups"),
    };
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            Ok(page_json(
                &find(conn, id)?,
                &cat,
                now,
                Shape::Full,
                inc,
                caller.user_id,
            ))
        })
        .await?;
    Ok(reply::json(out))
}

struct PageInput {
    name: String,
    subdomain: Option<String>,
    domain: Option<String>,
    timezone: Option<String>,
    visibility: String,
    page_title: Option<String>,
    page_description: Option<String>,
    page_layout: String,
    appearance: String,
    activated: bool,
    services: Vec<i64>,
    structure: Option<Value>,
    teams: Vec<i64>,
}

/// An element's `options`: the spec types it as one string, ilert's Go client and Terraform
/// provider as a list of strings (spec/README.md); both are accepted, each value
/// `expand` or `no-graph`.
fn element_options(o: &input::Object, field: &str) -> ApiResult<Vec<String>> {
    let values: Vec<&Value> = match o.get("options") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    values
        .into_iter()
        .map(|v| match v.as_str() {
            Some(s @ ("expand" | "no-graph")) => Ok(s.to_owned()),
            _ => Err(ApiError::bad_request(format!(
                "Field '{field}.options' must be 'expand' or 'no-graph', or a list of them; got {v}"
            ))),
        })
        .collect()
}

/// The structure as ilert sends it: every element's `options` a list (a stored single string
/// becomes a list of one), nested children too.
fn structure_out(structure: &Value) -> Value {
    fn walk(elements: &mut Value) {
        for e in elements.as_array_mut().into_iter().flatten() {
            if let Some(o) = e.as_object_mut() {
                match o.get("options").cloned() {
                    Some(one @ Value::String(_)) => {
                        o.insert("options".into(), Value::Array(vec![one]));
                    }
                    Some(Value::Null) => {
                        o.remove("options");
                    }
                    _ => {}
                }
                if let Some(children) = o.get_mut("children") {
                    walk(children);
                }
            }
        }
    }
    let mut out = structure.clone();
    if let Some(elements) = out.get_mut("elements") {
        walk(elements);
    }
    out
}

/// Checks a `StatusPageStructure` element tree: SERVICE elements name services of the page.
fn check_elements(elements: &[Value], services: &[i64], path: &str) -> ApiResult<()> {
    for (i, e) in elements.iter().enumerate() {
        let field = format!("{path}[{i}]");
        let o = input::object(e, "StatusPageElement")?;
        let id = input::opt_i64(o, "id")?
            .ok_or_else(|| ApiError::bad_request(format!("Field '{field}.id' is required")))?;
        match input::opt_enum(o, "type", &["SERVICE", "GROUP"])?.as_deref() {
            Some("SERVICE") if !services.contains(&id) => {
                return Err(ApiError::bad_request(format!(
                    "Field '{field}' names service {id}, which is not on the page"
                )));
            }
            Some(_) => {}
            None => {
                return Err(ApiError::bad_request(format!(
                    "Field '{field}.type' is required"
                )));
            }
        }
        element_options(o, &field)?;
        check_elements(
            input::opt_array(o, "children")?,
            services,
            &format!("{field}.children"),
        )?;
    }
    Ok(())
}

impl PageInput {
    fn parse(body: &Value) -> ApiResult<PageInput> {
        let o = input::object(body, "StatusPageNoIncludes")?;
        let services = input::ref_list(o, "services")?;
        let structure = match o.get("structure").filter(|v| !v.is_null()) {
            None => None,
            Some(s) => {
                let so = input::object(s, "StatusPageStructure")?;
                check_elements(
                    input::opt_array(so, "elements")?,
                    &services,
                    "structure.elements",
                )?;
                Some(s.clone())
            }
        };
        Ok(PageInput {
            name: input::req_str(o, "name")?,
            subdomain: input::opt_str(o, "subdomain")?,
            domain: input::opt_str(o, "domain")?,
            timezone: input::opt_tz(o, "timezone")?,
            visibility: input::opt_enum(o, "visibility", &["PUBLIC", "PRIVATE"])?.ok_or_else(
                || ApiError::bad_request("Field 'visibility' is required: PUBLIC or PRIVATE"),
            )?,
            page_title: input::opt_str(o, "pageTitle")?,
            page_description: input::opt_str(o, "pageDescription")?,
            page_layout: input::opt_enum(o, "pageLayout", &["SINGLE_COLUMN", "RESPONSIVE"])?
                .unwrap_or_else(|| "SINGLE_COLUMN".to_owned()),
            appearance: input::opt_enum(o, "appearance", &["LIGHT", "DARK"])?
                .unwrap_or_else(|| "LIGHT".to_owned()),
            activated: input::opt_bool(o, "activated")?.unwrap_or(true),
            services,
            structure,
            teams: input::ref_list(o, "teams")?,
        })
    }

    fn structure_text(&self) -> String {
        self.structure
            .clone()
            .unwrap_or_else(|| {
                json!({"elements": self.services.iter().map(|id| json!({"id": id, "type": "SERVICE"})).collect::<Vec<_>>()})
            })
            .to_string()
    }

    fn check(&self, cat: &Catalog) -> ApiResult<()> {
        for id in &self.services {
            if !cat.services.contains_key(id) {
                return Err(ApiError::bad_request(format!(
                    "Service {id} does not exist"
                )));
            }
        }
        Ok(())
    }
}

fn render_no_includes(conn: &Connection, id: i64, now: i64) -> ApiResult<Value> {
    let cat = Catalog::load(conn)?;
    Ok(page_json(
        &find(conn, id)?,
        &cat,
        now,
        Shape::NoIncludes,
        Includes::default(),
        0,
    ))
}

/// POST answers 200 with `StatusPageNoIncludes`, as ilert documents it.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "create status pages")?;
    let p = PageInput::parse(&body)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            p.check(&Catalog::load(conn)?)?;
            conn.execute(
                "INSERT INTO status_pages (name, subdomain, domain, timezone, visibility, page_title, page_description, \
                 page_layout, appearance, activated, services, structure, teams) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    p.name, p.subdomain, p.domain, p.timezone, p.visibility, p.page_title, p.page_description,
                    p.page_layout, p.appearance, p.activated, input::ids_text(&p.services), p.structure_text(),
                    input::ids_text(&p.teams)
                ],
            )?;
            render_no_includes(conn, conn.last_insert_rowid(), now)
        })
        .await?;
    Ok(reply::json(out))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change status pages")?;
    let id = input::path_id(&raw, "status page")?;
    let p = PageInput::parse(&body)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            p.check(&Catalog::load(conn)?)?;
            let n = conn.execute(
                "UPDATE status_pages SET name = ?1, subdomain = ?2, domain = ?3, timezone = ?4, visibility = ?5, \
                 page_title = ?6, page_description = ?7, page_layout = ?8, appearance = ?9, activated = ?10, \
                 services = ?11, structure = ?12, teams = ?13 WHERE id = ?14",
                params![
                    p.name, p.subdomain, p.domain, p.timezone, p.visibility, p.page_title, p.page_description,
                    p.page_layout, p.appearance, p.activated, input::ids_text(&p.services), p.structure_text(),
                    input::ids_text(&p.teams), id
                ],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            render_no_includes(conn, id, now)
        })
        .await?;
    Ok(reply::json(out))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "delete status pages")?;
    let id = input::path_id(&raw, "status page")?;
    state.db.delete_by_id("status_pages", id, not_found).await?;
    Ok(reply::no_content())
}

/// `/status-pages/{id}/groups` paging: default 50, at most 100.
async fn list_groups(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "status page")?;
    let Paging {
        start_index,
        max_results,
    } = params.paging(50, 100)?;
    let out = state
        .db
        .call(move |conn| {
            Ok(find(conn, id)?
                .groups
                .into_iter()
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

async fn get_subscribers(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "status page")?;
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            Ok(subscribers::json_list(&find(conn, id)?.subscribers, &cat))
        })
        .await?;
    Ok(reply::json(out))
}

fn write_subscribers(conn: &Connection, id: i64, list: &[Subscriber]) -> ApiResult<()> {
    conn.execute(
        "UPDATE status_pages SET subscribers = ?1 WHERE id = ?2",
        params![subscribers::to_text(list), id],
    )?;
    Ok(())
}

/// PUT replaces the list.
async fn put_subscribers(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "change status page subscribers")?;
    let id = input::path_id(&raw, "status page")?;
    state
        .db
        .call(move |conn| {
            find(conn, id)?;
            let list = subscribers::parse(&body, &Catalog::load(conn)?)?;
            write_subscribers(conn, id, &list)
        })
        .await?;
    Ok(reply::no_content())
}

/// POST adds to the list.
async fn add_subscribers(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "change status page subscribers")?;
    let id = input::path_id(&raw, "status page")?;
    state
        .db
        .call(move |conn| {
            let mut list = find(conn, id)?.subscribers;
            for s in subscribers::parse(&body, &Catalog::load(conn)?)? {
                if !list.contains(&s) {
                    list.push(s);
                }
            }
            write_subscribers(conn, id, &list)
        })
        .await?;
    Ok(reply::no_content())
}

/// `?subscriber-type=USER|TEAM`, USER when omitted.
async fn remove_subscriber(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, raw_sub)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "change status page subscribers")?;
    let id = input::path_id(&raw, "status page")?;
    let sub = input::path_id(&raw_sub, "subscriber")?;
    let kind = match params.single("subscriber-type") {
        None | Some("USER") => subscribers::Kind::User,
        Some("TEAM") => subscribers::Kind::Team,
        Some(other) => {
            return Err(crate::query::invalid(
                "subscriber-type",
                other,
                "USER or TEAM",
            ));
        }
    };
    state
        .db
        .call(move |conn| {
            let mut list = find(conn, id)?.subscribers;
            let before = list.len();
            list.retain(|s| !(s.id == sub && s.kind == kind));
            if list.len() == before {
                return Err(ApiError::not_found(format!(
                    "Subscriber {sub} not found on status page {id}"
                )));
            }
            write_subscribers(conn, id, &list)
        })
        .await?;
    Ok(reply::no_content())
}

/// One `StatusPageGroup` of a page; 404 for a group the page does not have.
async fn get_group(
    State(state): State<AppState>,
    Path((raw, raw_group)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "status page")?;
    let group_id = input::path_id(&raw_group, "status page group")?;
    let out = state
        .db
        .call(move |conn| {
            find(conn, id)?
                .groups
                .into_iter()
                .find(|g| g["id"].as_i64() == Some(group_id))
                .ok_or_else(|| {
                    ApiError::not_found(format!("Group {group_id} not found on status page {id}"))
                })
        })
        .await?;
    Ok(reply::json(out))
}
