//! On-call schedules (ilert `Schedule`, `ScheduleLayerConfig`, `Shift`, `ScheduleRel`): storage,
//! the shifts they produce (computed by `shifts.rs`), and `/api/schedules` with shifts,
//! overrides and the user on call.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Action, Caller};
use crate::catalog::Catalog;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::query::{Paging, Params};
use crate::shifts::{self, Layer, Plan, Segment, WeekWindow};
use crate::time::{self, DAY, IsoDuration};
use crate::{input, reply, teams, users};

/// A layer as stored: `ScheduleLayerConfig` with user ids and epoch-millisecond times.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredLayer {
    pub name: Option<String>,
    pub starts_on: i64,
    pub ends_on: Option<i64>,
    pub users: Vec<i64>,
    pub rotation: String,
    pub restriction_type: Option<String>,
    pub restrictions: Vec<StoredRestriction>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRestriction {
    pub from: TimeOfWeek,
    pub to: TimeOfWeek,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeOfWeek {
    pub day_of_week: String,
    pub time: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct StoredShift {
    pub user: i64,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub tz: Tz,
    /// `STATIC` or `RECURRING`.
    pub kind: String,
    pub show_gaps: bool,
    pub default_shift_duration: Option<String>,
    pub layers: Vec<StoredLayer>,
    engine_layers: Vec<Layer>,
    pub shifts: Vec<Segment>,
    pub teams: Vec<i64>,
    pub overrides: Vec<Segment>,
}

/// How far around an instant to look when asked for the whole shift it falls into.
const SHIFT_HORIZON: i64 = 45 * DAY;

impl Schedule {
    fn plan(&self) -> Plan<'_> {
        if self.kind == "STATIC" {
            Plan::Static(&self.shifts)
        } else {
            Plan::Recurring(&self.engine_layers)
        }
    }

    /// Shifts over `[from, until)`, clipped to it.
    pub fn segments(&self, from: i64, until: i64, with_overrides: bool) -> Vec<Segment> {
        let overrides: &[Segment] = if with_overrides { &self.overrides } else { &[] };
        shifts::compute(self.tz, self.plan(), overrides, from, until)
    }

    /// The whole shift running at `t`, if anyone is on call.
    pub fn shift_at(&self, t: i64) -> Option<Segment> {
        self.segments(t - SHIFT_HORIZON, t + SHIFT_HORIZON, true)
            .into_iter()
            .find(|s| s.contains(t))
    }

    pub fn on_call_at(&self, t: i64) -> Option<i64> {
        self.segments(t, t + 1, true).first().map(|s| s.user_id)
    }

    /// The first shift to start after `t`.
    pub fn next_shift_after(&self, t: i64) -> Option<Segment> {
        self.segments(t - SHIFT_HORIZON, t + 2 * SHIFT_HORIZON, true)
            .into_iter()
            .find(|s| s.start > t)
    }
}

fn engine_layer(layer: &StoredLayer) -> Option<Layer> {
    let restrictions = layer
        .restrictions
        .iter()
        .map(|r| {
            Some(WeekWindow {
                from: (
                    shifts::parse_weekday(&r.from.day_of_week)?,
                    shifts::parse_time_of_day(&r.from.time)?,
                ),
                to: (
                    shifts::parse_weekday(&r.to.day_of_week)?,
                    shifts::parse_time_of_day(&r.to.time)?,
                ),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Layer {
        starts_on: layer.starts_on,
        ends_on: layer.ends_on,
        users: layer.users.clone(),
        rotation: IsoDuration::parse(&layer.rotation)?,
        restrictions,
    })
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<HashMap<i64, Schedule>> {
    let mut overrides: HashMap<i64, Vec<Segment>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT schedule_id, user_id, start, end FROM schedule_overrides ORDER BY start, id",
    )?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Segment {
                user_id: r.get(1)?,
                start: r.get(2)?,
                end: r.get(3)?,
            },
        ))
    })? {
        let (schedule, segment) = row?;
        overrides.entry(schedule).or_default().push(segment);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, timezone, type, show_gaps, default_shift_duration, layers, shifts, teams \
         FROM schedules",
    )?;
    let rows = stmt.query_map([], |r| {
        let timezone: String = r.get(2)?;
        let layers_text: String = r.get(6)?;
        let shifts_text: String = r.get(7)?;
        let teams_text: String = r.get(8)?;
        let layers: Vec<StoredLayer> = serde_json::from_str(&layers_text).unwrap_or_default();
        let stored_shifts: Vec<StoredShift> =
            serde_json::from_str(&shifts_text).unwrap_or_default();
        let id: i64 = r.get(0)?;
        Ok(Schedule {
            id,
            name: r.get(1)?,
            tz: time::parse_tz(&timezone).unwrap_or(Tz::UTC),
            timezone,
            kind: r.get(3)?,
            show_gaps: r.get(4)?,
            default_shift_duration: r.get(5)?,
            engine_layers: layers.iter().filter_map(engine_layer).collect(),
            layers,
            shifts: stored_shifts
                .iter()
                .map(|s| Segment {
                    user_id: s.user,
                    start: s.start,
                    end: s.end,
                })
                .collect(),
            teams: input::stored_ids(&teams_text),
            overrides: overrides.remove(&id).unwrap_or_default(),
        })
    })?;
    rows.map(|r| r.map(|s| (s.id, s))).collect()
}

/// `ScheduleRel`: `{id, name, type}`.
pub fn schedule_rel(s: &Schedule) -> Value {
    json!({"id": s.id, "name": s.name, "type": s.kind})
}

fn user_rel(id: i64, cat: &Catalog) -> Value {
    cat.users
        .get(&id)
        .map_or_else(|| json!({"id": id}), users::user_rel_json)
}

/// `ShiftRel`: the user as `UserRel`.
pub fn shift_rel_json(s: &Segment, cat: &Catalog) -> Value {
    json!({"user": user_rel(s.user_id, cat), "start": time::format_ms(s.start), "end": time::format_ms(s.end)})
}

/// `Shift`: the user in full.
pub fn shift_json(s: &Segment, cat: &Catalog, tz: Tz) -> Value {
    json!({
        "user": cat.users.get(&s.user_id).map_or_else(|| json!({"id": s.user_id}), users::user_json),
        "start": time::format_in(s.start, tz),
        "end": time::format_in(s.end, tz),
    })
}

fn layer_json(layer: &StoredLayer, cat: &Catalog) -> Value {
    json!({
        "name": layer.name,
        "startsOn": time::format_ms(layer.starts_on),
        "endsOn": layer.ends_on.map(time::format_ms),
        "users": layer.users.iter().map(|id| user_rel(*id, cat)).collect::<Vec<_>>(),
        "rotation": layer.rotation,
        "restrictionType": layer.restriction_type,
        "restrictions": layer.restrictions,
    })
}

/// Optional `Schedule` fields requested with `?include=`.
#[derive(Debug, Clone, Copy, Default)]
struct Includes {
    layers: bool,
    shifts: bool,
    current: bool,
    next: bool,
    past: bool,
}

impl Includes {
    fn from_params(params: &Params) -> Includes {
        let set = params.includes();
        Includes {
            layers: set.contains("scheduleLayers"),
            shifts: set.contains("shifts"),
            current: set.contains("currentShift"),
            next: set.contains("nextShift"),
            past: set.contains("past"),
        }
    }
}

/// The `Schedule` schema. Layers exist only on RECURRING schedules, the shift list only on STATIC
/// ones (past shifts only with `past`).
fn schedule_json(s: &Schedule, cat: &Catalog, inc: Includes, now: i64) -> Value {
    let mut out = json!({
        "id": s.id,
        "name": s.name,
        "timezone": s.timezone,
        "type": s.kind,
        "showGaps": s.show_gaps,
        "defaultShiftDuration": s.default_shift_duration,
        "teams": teams::team_refs(&s.teams, cat),
    });
    let Some(obj) = out.as_object_mut() else {
        return out;
    };
    if inc.layers && s.kind == "RECURRING" {
        obj.insert(
            "scheduleLayers".into(),
            s.layers.iter().map(|l| layer_json(l, cat)).collect(),
        );
    }
    if inc.shifts && s.kind == "STATIC" {
        let list: Vec<Value> = s
            .shifts
            .iter()
            .filter(|sh| inc.past || sh.end > now)
            .map(|sh| shift_rel_json(sh, cat))
            .collect();
        obj.insert("shifts".into(), Value::Array(list));
    }
    if inc.current {
        obj.insert(
            "currentShift".into(),
            s.shift_at(now)
                .map_or(Value::Null, |sh| shift_rel_json(&sh, cat)),
        );
    }
    if inc.next {
        obj.insert(
            "nextShift".into(),
            s.next_shift_after(now)
                .map_or(Value::Null, |sh| shift_rel_json(&sh, cat)),
        );
    }
    out
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/schedules", get(list).post(create))
        .route("/schedules/{id}", get(get_one).put(update).delete(remove))
        .route("/schedules/{id}/shifts", get(list_shifts))
        // ilert-go adds overrides with POST where the spec says PUT; both work.
        .route(
            "/schedules/{id}/overrides",
            get(list_overrides).put(add_override).post(add_override),
        )
        .route("/schedules/{id}/user-on-call", get(user_on_call))
}

/// `/schedules` paging: default 20 and at most 20.
const DEFAULT_MAX_RESULTS: i64 = 20;
const MAX_RESULTS_CAP: i64 = 20;

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Schedule {id} not found"))
}

fn lookup(cat: &Catalog, id: i64) -> ApiResult<&Schedule> {
    cat.schedules.get(&id).ok_or_else(|| not_found(id))
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
    let inc = Includes::from_params(&params);
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let mut list: Vec<&Schedule> = cat
                .schedules
                .values()
                .filter(|s| caller.in_context(&s.teams, &cat))
                .collect();
            list.sort_by_key(|s| s.id);
            Ok(list
                .into_iter()
                .skip(usize::try_from(start_index).unwrap_or(usize::MAX))
                .take(usize::try_from(max_results).unwrap_or(0))
                .map(|s| schedule_json(s, &cat, inc, now))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(reply::json(Value::Array(out)))
}

async fn get_one(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "schedule")?;
    let inc = Includes::from_params(&params);
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            Ok(schedule_json(lookup(&cat, id)?, &cat, inc, now))
        })
        .await?;
    Ok(reply::json(out))
}

/// A validated `Schedule` body.
struct ScheduleInput {
    name: String,
    timezone: String,
    kind: String,
    show_gaps: bool,
    default_shift_duration: Option<String>,
    layers: Vec<StoredLayer>,
    shifts: Vec<StoredShift>,
    teams: Vec<i64>,
}

fn parse_time_of_week(v: Option<&Value>, field: &str) -> ApiResult<TimeOfWeek> {
    let bad = || {
        ApiError::bad_request(format!(
            "Field '{field}' must be a TimeOfWeek such as {{\"dayOfWeek\": \"MONDAY\", \"time\": \"08:00\"}}"
        ))
    };
    let o = v.and_then(Value::as_object).ok_or_else(bad)?;
    let day = input::opt_str(o, "dayOfWeek")?.ok_or_else(bad)?;
    let t = input::opt_str(o, "time")?.ok_or_else(bad)?;
    let day = shifts::parse_weekday(&day).ok_or_else(bad)?;
    let parsed = shifts::parse_time_of_day(&t).ok_or_else(bad)?;
    Ok(TimeOfWeek {
        day_of_week: shifts::weekday_name(day).to_owned(),
        time: if t.trim() == "24:00" {
            "24:00".to_owned()
        } else {
            parsed.format("%H:%M").to_string()
        },
    })
}

fn parse_layer(v: &Value, field: &str) -> ApiResult<StoredLayer> {
    let o = input::object(v, "ScheduleLayerConfig")?;
    let starts_on = input::opt_time(o, "startsOn")?
        .ok_or_else(|| ApiError::bad_request(format!("Field '{field}.startsOn' is required")))?;
    let ends_on = input::opt_time(o, "endsOn")?;
    if ends_on.is_some_and(|e| e <= starts_on) {
        return Err(ApiError::bad_request(format!(
            "Field '{field}.endsOn' must be after startsOn"
        )));
    }
    let users = input::ref_list(o, "users")?;
    if users.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Field '{field}.users' needs at least one user"
        )));
    }
    let rotation = input::req_str(o, "rotation").map_err(|_| {
        ApiError::bad_request(format!("Field '{field}.rotation' is required, e.g. P7D"))
    })?;
    if IsoDuration::parse(&rotation).is_none() {
        return Err(ApiError::bad_request(format!(
            "Field '{field}.rotation' must be a positive ISO-8601 duration such as P7D or PT8H, got '{rotation}'"
        )));
    }
    let restriction_type = input::opt_enum(o, "restrictionType", &["TIMES_OF_WEEK"])?;
    let restrictions = input::opt_array(o, "restrictions")?
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let f = format!("{field}.restrictions[{i}]");
            Ok(StoredRestriction {
                from: parse_time_of_week(r.get("from"), &format!("{f}.from"))?,
                to: parse_time_of_week(r.get("to"), &format!("{f}.to"))?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(StoredLayer {
        name: input::opt_str(o, "name")?,
        starts_on,
        ends_on,
        users,
        rotation,
        restriction_type: if restrictions.is_empty() {
            restriction_type
        } else {
            Some("TIMES_OF_WEEK".to_owned())
        },
        restrictions,
    })
}

fn parse_shift(v: &Value, field: &str) -> ApiResult<StoredShift> {
    let o = input::object(v, "Shift")?;
    let user = o
        .get("user")
        .ok_or_else(|| ApiError::bad_request(format!("Field '{field}.user' is required")))?;
    let user = input::ref_id(user, &format!("{field}.user"))?;
    let start = input::opt_time(o, "start")?
        .ok_or_else(|| ApiError::bad_request(format!("Field '{field}.start' is required")))?;
    let end = input::opt_time(o, "end")?
        .ok_or_else(|| ApiError::bad_request(format!("Field '{field}.end' is required")))?;
    if end <= start {
        return Err(ApiError::bad_request(format!(
            "Field '{field}.end' must be after start"
        )));
    }
    Ok(StoredShift { user, start, end })
}

impl ScheduleInput {
    fn parse(body: &Value, abort_on_gaps: bool) -> ApiResult<ScheduleInput> {
        let o = input::object(body, "Schedule")?;
        let name = input::req_str(o, "name")?;
        let timezone = input::opt_tz(o, "timezone")?.unwrap_or_else(|| "Europe/Berlin".to_owned());
        let kind = input::opt_enum(o, "type", &["STATIC", "RECURRING"])?.ok_or_else(|| {
            ApiError::bad_request("Field 'type' is required: STATIC or RECURRING")
        })?;
        let default_shift_duration = input::opt_str(o, "defaultShiftDuration")?;
        if let Some(d) = &default_shift_duration
            && IsoDuration::parse(d).is_none()
        {
            return Err(ApiError::bad_request(format!(
                "Field 'defaultShiftDuration' must be an ISO-8601 duration such as P7D, got '{d}'"
            )));
        }
        let mut input = ScheduleInput {
            name,
            timezone,
            show_gaps: input::opt_bool(o, "showGaps")?.unwrap_or(true),
            default_shift_duration,
            layers: Vec::new(),
            shifts: Vec::new(),
            teams: input::ref_list(o, "teams")?,
            kind,
        };
        if input.kind == "RECURRING" {
            input.layers = input::opt_array(o, "scheduleLayers")?
                .iter()
                .enumerate()
                .map(|(i, l)| parse_layer(l, &format!("scheduleLayers[{i}]")))
                .collect::<ApiResult<_>>()?;
            if input.layers.is_empty() {
                return Err(ApiError::bad_request(
                    "A RECURRING schedule needs at least one entry in 'scheduleLayers'",
                ));
            }
        } else {
            input.shifts = input::opt_array(o, "shifts")?
                .iter()
                .enumerate()
                .map(|(i, s)| parse_shift(s, &format!("shifts[{i}]")))
                .collect::<ApiResult<_>>()?;
            if input.shifts.is_empty() {
                return Err(ApiError::bad_request(
                    "A STATIC schedule needs at least one entry in 'shifts'",
                ));
            }
            input.shifts.sort_by_key(|s| s.start);
            if abort_on_gaps
                && input
                    .shifts
                    .windows(2)
                    .any(|w| matches!(w, [a, b] if b.start > a.end))
            {
                return Err(ApiError::bad_request(
                    "The shifts leave gaps, and abort-on-gaps is set",
                ));
            }
        }
        Ok(input)
    }

    fn check_references(&self, conn: &Connection) -> ApiResult<()> {
        let ids = self
            .layers
            .iter()
            .flat_map(|l| l.users.iter().copied())
            .chain(self.shifts.iter().map(|s| s.user));
        for id in ids {
            if users::load(conn, id)?.is_none() {
                return Err(ApiError::bad_request(format!("User {id} does not exist")));
            }
        }
        Ok(())
    }
}

fn abort_on_gaps(params: &Params) -> ApiResult<bool> {
    match params.single("abort-on-gaps") {
        None => Ok(false),
        Some(v) => v
            .parse()
            .map_err(|_| crate::query::invalid("abort-on-gaps", v, "true or false")),
    }
}

fn write(conn: &Connection, id: Option<i64>, s: &ScheduleInput) -> ApiResult<i64> {
    let layers = serde_json::to_string(&s.layers)?;
    let shifts = serde_json::to_string(&s.shifts)?;
    let teams = input::ids_text(&s.teams);
    match id {
        None => {
            conn.execute(
                "INSERT INTO schedules (name, timezone, type, show_gaps, default_shift_duration, layers, shifts, teams) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![s.name, s.timezone, s.kind, s.show_gaps, s.default_shift_duration, layers, shifts, teams],
            )?;
            Ok(conn.last_insert_rowid())
        }
        Some(id) => {
            let n = conn.execute(
                "UPDATE schedules SET name = ?1, timezone = ?2, type = ?3, show_gaps = ?4, \
                 default_shift_duration = ?5, layers = ?6, shifts = ?7, teams = ?8 WHERE id = ?9",
                params![
                    s.name,
                    s.timezone,
                    s.kind,
                    s.show_gaps,
                    s.default_shift_duration,
                    layers,
                    shifts,
                    teams,
                    id
                ],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            Ok(id)
        }
    }
}

fn full_includes() -> Includes {
    Includes {
        layers: true,
        shifts: true,
        current: false,
        next: false,
        past: true,
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "create schedules")?;
    let input = ScheduleInput::parse(&body, abort_on_gaps(&params)?)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            input.check_references(conn)?;
            let id = write(conn, None, &input)?;
            let cat = Catalog::load(conn)?;
            Ok(schedule_json(lookup(&cat, id)?, &cat, full_includes(), now))
        })
        .await?;
    Ok(reply::created(out))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    params: Params,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change schedules")?;
    let id = input::path_id(&raw, "schedule")?;
    let input = ScheduleInput::parse(&body, abort_on_gaps(&params)?)?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            input.check_references(conn)?;
            write(conn, Some(id), &input)?;
            let cat = Catalog::load(conn)?;
            Ok(schedule_json(lookup(&cat, id)?, &cat, full_includes(), now))
        })
        .await?;
    Ok(reply::json(out))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    caller.require(Action::Configure, "delete schedules")?;
    let id = input::path_id(&raw, "schedule")?;
    state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            lookup(&cat, id)?;
            if let Some(p) = cat
                .policies
                .values()
                .find(|p| p.rules.iter().any(|r| r.schedules.contains(&id)))
            {
                return Err(ApiError::bad_request(format!(
                    "Schedule {id} is used by escalation policy {} ({}); remove it there first",
                    p.id, p.name
                )));
            }
            conn.execute("DELETE FROM schedules WHERE id = ?1", [id])?;
            Ok(())
        })
        .await?;
    Ok(reply::no_content())
}

fn bool_param(params: &Params, name: &str) -> ApiResult<bool> {
    match params.single(name) {
        None => Ok(false),
        Some(v) => v
            .parse()
            .map_err(|_| crate::query::invalid(name, v, "true or false")),
    }
}

/// `from` defaults to the start of last month and `until` to three months later, as ilert does.
async fn list_shifts(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "schedule")?;
    let exclude_overrides = bool_param(&params, "exclude-overrides")?;
    let from = params.datetime("from")?;
    let until = params.datetime("until")?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let s = lookup(&cat, id)?;
            let from = from.unwrap_or_else(|| start_of_last_month(now, s.tz));
            let until = until.unwrap_or_else(|| {
                IsoDuration {
                    months: 3,
                    days: 0,
                    millis: 0,
                }
                .add_times(s.tz, from, 1)
                .unwrap_or(from + 92 * DAY)
            });
            if until <= from {
                return Err(ApiError::bad_request(
                    "Query parameter 'until' must be after 'from'",
                ));
            }
            if until - from > 366 * DAY {
                return Err(ApiError::bad_request(
                    "The range from 'from' to 'until' may not exceed one year",
                ));
            }
            // Shifts that cross the window's edges are returned whole.
            let list: Vec<Value> = s
                .segments(
                    from - SHIFT_HORIZON,
                    until + SHIFT_HORIZON,
                    !exclude_overrides,
                )
                .iter()
                .filter(|sh| sh.overlaps(from, until))
                .map(|sh| shift_json(sh, &cat, Tz::UTC))
                .collect();
            Ok(Value::Array(list))
        })
        .await?;
    Ok(reply::json(out))
}

fn start_of_last_month(now: i64, tz: Tz) -> i64 {
    use chrono::{Datelike, Months, NaiveTime};
    time::ms_to_local(tz, now)
        .and_then(|local| local.date().with_day(1))
        .and_then(|first| first.checked_sub_months(Months::new(1)))
        .map_or(now - 31 * DAY, |d| {
            time::local_to_ms(tz, d.and_time(NaiveTime::MIN))
        })
}

async fn list_overrides(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = input::path_id(&raw, "schedule")?;
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let s = lookup(&cat, id)?;
            Ok(Value::Array(
                s.overrides
                    .iter()
                    .map(|o| shift_json(o, &cat, Tz::UTC))
                    .collect(),
            ))
        })
        .await?;
    Ok(reply::json(out))
}

/// An override replaces whoever is on call for its window. It must not lie in the past.
async fn add_override(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Action::Configure, "change schedules")?;
    let id = input::path_id(&raw, "schedule")?;
    let shift = parse_shift(&body, "body")?;
    let now = state.clock.now_ms();
    if shift.end <= now {
        return Err(ApiError::bad_request(
            "An override must not lie in the past",
        ));
    }
    let out = state
        .db
        .call(move |conn| {
            let found: Option<(String, String)> = conn
                .query_row("SELECT name, type FROM schedules WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (name, kind) = found.ok_or_else(|| not_found(id))?;
            if users::load(conn, shift.user)?.is_none() {
                return Err(ApiError::bad_request(format!("User {} does not exist", shift.user)));
            }
            conn.execute(
                "INSERT INTO schedule_overrides (schedule_id, user_id, start, end) VALUES (?1, ?2, ?3, ?4)",
                params![id, shift.user, shift.start, shift.end],
            )?;
            Ok(json!({"id": id, "name": name, "type": kind}))
        })
        .await?;
    Ok(reply::json(out))
}

/// 204 with no body when nobody is on call.
async fn user_on_call(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let id = input::path_id(&raw, "schedule")?;
    let now = state.clock.now_ms();
    let out = state
        .db
        .call(move |conn| {
            let cat = Catalog::load(conn)?;
            let s = lookup(&cat, id)?;
            Ok(s.shift_at(now).map(|sh| shift_json(&sh, &cat, Tz::UTC)))
        })
        .await?;
    Ok(match out {
        Some(shift) => reply::json(shift).into_response(),
        None => reply::no_content(),
    })
}
