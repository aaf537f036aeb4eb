//! `/v1/users…`: create, read, list, count, update, metadata, delete, password check, ban, lock (wire §8.2).

use super::{path_id, BapiInstance};
use crate::common::extract::double_option;
use crate::common::{convert, ApiError, ClerkJson, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use concierge_core::{EmailAddressId, Millis, UserId};
use concierge_service::users::{CreateUser, MetadataUpdate, UpdateUser};
use concierge_service::{UserOrderField, UserQuery};
use concierge_wire::bapi as wire;
use serde::Deserialize;
use serde_json::Value;

/// A timestamp given as Unix ms or an ISO-8601 string (the SDK sends `Date`s as ISO strings).
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Timestamp {
    Millis(i64),
    Text(String),
}

fn timestamp(value: Option<Timestamp>, param: &'static str) -> Result<Option<Millis>, ApiError> {
    match value {
        None => Ok(None),
        Some(Timestamp::Millis(ms)) => Ok(Some(ms)),
        Some(Timestamp::Text(text)) => parse_rfc3339_ms(&text)
            .map(Some)
            .ok_or_else(|| ApiError::format_invalid(param)),
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (what `Date.toISOString()` produces) into Unix ms.
fn parse_rfc3339_ms(text: &str) -> Option<Millis> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    let millis: i64 = format!("{:0<3}", &frac[..frac.len().min(3)]).parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + millis)
}

fn one_or_many(value: Option<Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Deserialize, Debug)]
struct CreateUserBody {
    email_address: Option<Value>,
    username: Option<String>,
    password: Option<String>,
    password_digest: Option<String>,
    password_hasher: Option<String>,
    #[serde(default)]
    skip_password_checks: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    external_id: Option<String>,
    public_metadata: Option<Value>,
    private_metadata: Option<Value>,
    unsafe_metadata: Option<Value>,
    created_at: Option<Timestamp>,
    legal_accepted_at: Option<Timestamp>,
    create_organization_enabled: Option<bool>,
    create_organizations_limit: Option<i64>,
    delete_self_enabled: Option<bool>,
    locale: Option<String>,
    banned: Option<bool>,
}

fn digest_pair(
    digest: Option<String>,
    hasher: Option<String>,
) -> Result<Option<(String, String)>, ApiError> {
    match (digest, hasher) {
        (Some(digest), Some(hasher)) => Ok(Some((hasher, digest))),
        (Some(_), None) => Err(ApiError::param_missing("password_hasher")),
        (None, Some(_)) => Err(ApiError::param_missing("password_digest")),
        (None, None) => Ok(None),
    }
}

async fn create_user(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    ClerkJson(body): ClerkJson<CreateUserBody>,
) -> Result<ClerkJson<wire::User>, ApiError> {
    let params = CreateUser {
        email_addresses: one_or_many(body.email_address),
        username: body.username,
        password: body.password,
        password_digest: digest_pair(body.password_digest, body.password_hasher)?,
        skip_password_checks: body.skip_password_checks,
        first_name: body.first_name,
        last_name: body.last_name,
        external_id: body.external_id,
        public_metadata: body.public_metadata,
        private_metadata: body.private_metadata,
        unsafe_metadata: body.unsafe_metadata,
        created_at: timestamp(body.created_at, "created_at")?,
        legal_accepted_at: timestamp(body.legal_accepted_at, "legal_accepted_at")?,
        create_organization_enabled: body.create_organization_enabled,
        create_organizations_limit: body.create_organizations_limit,
        delete_self_enabled: body.delete_self_enabled,
        locale: body.locale,
        banned: body.banned,
    };
    let view = app.service.create_user(&instance, params).await?;
    Ok(ClerkJson(convert::user(&view, app.service.now())))
}

async fn get_user(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::User>, ApiError> {
    let id = path_id(&id, UserId::parse)?;
    let view = app.service.get_user(&instance.id, &id).await?;
    Ok(ClerkJson(convert::user(&view, app.service.now())))
}

fn user_query(params: &QueryParams, paginate: bool) -> Result<UserQuery, ApiError> {
    let mut query = UserQuery {
        email_addresses: params
            .get_all("email_address")
            .iter()
            .map(|e| e.trim().to_lowercase())
            .collect(),
        phone_numbers: params.get_all("phone_number"),
        web3_wallets: params.get_all("web3_wallet"),
        usernames: params
            .get_all("username")
            .iter()
            .map(|u| u.trim().to_lowercase())
            .collect(),
        user_ids: params
            .get_all("user_id")
            .iter()
            .map(|id| UserId::parse(id).map_err(|_| ApiError::format_invalid("user_id")))
            .collect::<Result<_, _>>()?,
        external_ids: params.get_all("external_id"),
        organization_ids: params.get_all("organization_id"),
        query: params.get("query").map(str::to_owned),
        created_at_before: params.get_i64("created_at_before")?,
        created_at_after: params.get_i64("created_at_after")?,
        last_active_at_before: params.get_i64("last_active_at_before")?,
        last_active_at_after: params
            .get_i64("last_active_at_after")?
            .or(params.get_i64("last_active_at_since")?),
        last_sign_in_at_before: params.get_i64("last_sign_in_at_before")?,
        last_sign_in_at_after: params.get_i64("last_sign_in_at_after")?,
        ..UserQuery::default()
    };
    if let Some(order) = params.get("order_by") {
        let (descending, field) = match order.as_bytes().first() {
            Some(b'-') => (true, &order[1..]),
            Some(b'+') => (false, &order[1..]),
            _ => (false, order),
        };
        query.descending = descending;
        query.order_by = match field {
            "created_at" => UserOrderField::CreatedAt,
            "updated_at" => UserOrderField::UpdatedAt,
            "email_address" => UserOrderField::EmailAddress,
            "first_name" => UserOrderField::FirstName,
            "last_name" => UserOrderField::LastName,
            "username" => UserOrderField::Username,
            "last_active_at" => UserOrderField::LastActiveAt,
            "last_sign_in_at" => UserOrderField::LastSignInAt,
            "phone_number" => UserOrderField::PhoneNumber,
            "web3wallet" => UserOrderField::Web3Wallet,
            _ => return Err(ApiError::format_invalid("order_by")),
        };
    }
    if paginate {
        let (limit, offset) = params.pagination()?;
        query.limit = limit;
        query.offset = offset;
    }
    Ok(query)
}

async fn list_users(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Result<ClerkJson<Vec<wire::User>>, ApiError> {
    let query = user_query(&params, true)?;
    let views = app.service.list_users(&instance.id, &query).await?;
    let now = app.service.now();
    Ok(ClerkJson(
        views.iter().map(|v| convert::user(v, now)).collect(),
    ))
}

async fn count_users(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    params: QueryParams,
) -> Result<ClerkJson<wire::TotalCount>, ApiError> {
    let query = user_query(&params, false)?;
    let total_count = app.service.count_users(&instance.id, &query).await?;
    Ok(ClerkJson(wire::TotalCount {
        object: "total_count".into(),
        total_count,
    }))
}

#[derive(Deserialize, Debug)]
struct UpdateUserBody {
    #[serde(default, deserialize_with = "double_option")]
    first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    username: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    external_id: Option<Option<String>>,
    password: Option<String>,
    password_digest: Option<String>,
    password_hasher: Option<String>,
    #[serde(default)]
    skip_password_checks: bool,
    #[serde(default)]
    sign_out_of_other_sessions: bool,
    primary_email_address_id: Option<String>,
    public_metadata: Option<Value>,
    private_metadata: Option<Value>,
    unsafe_metadata: Option<Value>,
    legal_accepted_at: Option<Timestamp>,
    create_organization_enabled: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    create_organizations_limit: Option<Option<i64>>,
    delete_self_enabled: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    locale: Option<Option<String>>,
}

async fn update_user(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<UpdateUserBody>,
) -> Result<ClerkJson<wire::User>, ApiError> {
    let id = path_id(&id, UserId::parse)?;
    let params = UpdateUser {
        first_name: body.first_name,
        last_name: body.last_name,
        username: body.username,
        external_id: body.external_id,
        password: body.password,
        password_digest: digest_pair(body.password_digest, body.password_hasher)?,
        skip_password_checks: body.skip_password_checks,
        sign_out_of_other_sessions: body.sign_out_of_other_sessions,
        keep_session: None,
        primary_email_address_id: body
            .primary_email_address_id
            .map(|raw| {
                EmailAddressId::parse(&raw)
                    .map_err(|_| ApiError::format_invalid("primary_email_address_id"))
            })
            .transpose()?,
        public_metadata: body.public_metadata,
        private_metadata: body.private_metadata,
        unsafe_metadata: body.unsafe_metadata,
        legal_accepted_at: timestamp(body.legal_accepted_at, "legal_accepted_at")?,
        create_organization_enabled: body.create_organization_enabled,
        create_organizations_limit: body.create_organizations_limit,
        delete_self_enabled: body.delete_self_enabled,
        locale: body.locale,
    };
    let view = app.service.update_user(&instance, &id, params).await?;
    Ok(ClerkJson(convert::user(&view, app.service.now())))
}

#[derive(Deserialize, Debug)]
struct MetadataBody {
    public_metadata: Option<Value>,
    private_metadata: Option<Value>,
    unsafe_metadata: Option<Value>,
}

async fn metadata(
    app: &AppState,
    instance: &concierge_core::Instance,
    id: &str,
    body: MetadataBody,
    merge: bool,
) -> Result<ClerkJson<wire::User>, ApiError> {
    let id = path_id(id, UserId::parse)?;
    let update = MetadataUpdate {
        public_metadata: body.public_metadata,
        private_metadata: body.private_metadata,
        unsafe_metadata: body.unsafe_metadata,
    };
    let view = app
        .service
        .update_user_metadata(&instance.id, &id, update, merge)
        .await?;
    Ok(ClerkJson(convert::user(&view, app.service.now())))
}

async fn merge_metadata(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<MetadataBody>,
) -> Result<ClerkJson<wire::User>, ApiError> {
    metadata(&app, &instance, &id, body, true).await
}

async fn replace_metadata(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<MetadataBody>,
) -> Result<ClerkJson<wire::User>, ApiError> {
    metadata(&app, &instance, &id, body, false).await
}

async fn delete_user(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::DeletedObject>, ApiError> {
    let id = path_id(&id, UserId::parse)?;
    app.service.delete_user(&instance.id, &id).await?;
    Ok(ClerkJson(convert::deleted("user", id.as_str())))
}

#[derive(Deserialize, Debug)]
struct VerifyPasswordBody {
    password: Option<String>,
}

async fn verify_password(
    State(app): State<AppState>,
    BapiInstance(instance): BapiInstance,
    Path(id): Path<String>,
    ClerkJson(body): ClerkJson<VerifyPasswordBody>,
) -> Result<ClerkJson<wire::PasswordVerified>, ApiError> {
    let id = path_id(&id, UserId::parse)?;
    let password = body
        .password
        .ok_or_else(|| ApiError::param_missing("password"))?;
    if app
        .service
        .verify_user_password(&instance.id, &id, password)
        .await?
    {
        Ok(ClerkJson(wire::PasswordVerified { verified: true }))
    } else {
        Err(ApiError::incorrect_password())
    }
}

async fn set_flag(
    app: &AppState,
    instance: &concierge_core::Instance,
    id: &str,
    flag: Flag,
) -> Result<ClerkJson<wire::User>, ApiError> {
    let id = path_id(id, UserId::parse)?;
    let view = match flag {
        Flag::Ban(banned) => {
            app.service
                .set_user_banned(&instance.id, &id, banned)
                .await?
        }
        Flag::Lock(locked) => {
            app.service
                .set_user_locked(&instance.id, &id, locked)
                .await?
        }
    };
    Ok(ClerkJson(convert::user(&view, app.service.now())))
}

enum Flag {
    Ban(bool),
    Lock(bool),
}

async fn ban(
    State(app): State<AppState>,
    BapiInstance(i): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::User>, ApiError> {
    set_flag(&app, &i, &id, Flag::Ban(true)).await
}
async fn unban(
    State(app): State<AppState>,
    BapiInstance(i): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::User>, ApiError> {
    set_flag(&app, &i, &id, Flag::Ban(false)).await
}
async fn lock(
    State(app): State<AppState>,
    BapiInstance(i): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::User>, ApiError> {
    set_flag(&app, &i, &id, Flag::Lock(true)).await
}
async fn unlock(
    State(app): State<AppState>,
    BapiInstance(i): BapiInstance,
    Path(id): Path<String>,
) -> Result<ClerkJson<wire::User>, ApiError> {
    set_flag(&app, &i, &id, Flag::Lock(false)).await
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/users", get(list_users).post(create_user))
        .route("/v1/users/count", get(count_users))
        .route(
            "/v1/users/{id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route(
            "/v1/users/{id}/metadata",
            axum::routing::patch(merge_metadata).put(replace_metadata),
        )
        .route("/v1/users/{id}/verify_password", post(verify_password))
        .route("/v1/users/{id}/ban", post(ban))
        .route("/v1/users/{id}/unban", post(unban))
        .route("/v1/users/{id}/lock", post(lock))
        .route("/v1/users/{id}/unlock", post(unlock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_timestamps() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T12:34:56.789Z"),
            Some(1_709_210_096_789)
        );
        assert_eq!(parse_rfc3339_ms("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("garbage"), None);
    }
}
