//! `/v1/users…` (wire §8.2): get, list with filters, count, create, update, delete.

use super::{push_all, ApiError, BackendApi};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A user as the Backend API returns it (the fields most applications read; every other
/// field is kept in `other`).
///
/// ```
/// use concierge_sdk::client::User;
///
/// let user: User = serde_json::from_str(r#"{
///     "object": "user",
///     "id": "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe",
///     "external_id": "42",
///     "username": null,
///     "first_name": "Ada",
///     "last_name": "Lovelace",
///     "image_url": "https://img.example.com/ada.png",
///     "primary_email_address_id": "idn_2mQ6zT4vWx5yZ6aB7cD8eF9gH0i",
///     "email_addresses": [
///         {
///             "object": "email_address",
///             "id": "idn_2mQ6zS3uVw4xY5zA6bC7dE8fG9h",
///             "email_address": "ada@old.example.com",
///             "verification": {"status": "verified", "strategy": "email_code"}
///         },
///         {
///             "object": "email_address",
///             "id": "idn_2mQ6zT4vWx5yZ6aB7cD8eF9gH0i",
///             "email_address": "ada@example.com",
///             "verification": {"status": "verified", "strategy": "email_link"}
///         }
///     ],
///     "password_enabled": true,
///     "two_factor_enabled": false,
///     "banned": false,
///     "locked": false,
///     "public_metadata": {"role": "editor"},
///     "private_metadata": {},
///     "unsafe_metadata": {},
///     "last_sign_in_at": 1760000000000,
///     "last_active_at": 1760000300000,
///     "created_at": 1759000000000,
///     "updated_at": 1760000000000
/// }"#)?;
/// assert_eq!(user.primary_email_address(), Some("ada@example.com"));
/// assert_eq!(user.email_addresses.len(), 2);
/// assert_eq!(user.public_metadata["role"], "editor");
/// assert!(!user.banned && !user.locked);
/// assert_eq!(user.other["two_factor_enabled"], false, "unmodelled fields are kept");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// `user_…`.
    pub id: String,
    /// The application's own id for the user.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Username, if the instance uses them.
    #[serde(default)]
    pub username: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub image_url: String,
    /// Id of the primary entry of `email_addresses`.
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    /// Email addresses.
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    /// Whether a password is set.
    #[serde(default)]
    pub password_enabled: bool,
    /// Whether the user is banned.
    #[serde(default)]
    pub banned: bool,
    /// Whether the user is locked out.
    #[serde(default)]
    pub locked: bool,
    /// Metadata readable by the browser.
    #[serde(default)]
    pub public_metadata: Value,
    /// Metadata only the backend sees.
    #[serde(default)]
    pub private_metadata: Value,
    /// Metadata the browser may write.
    #[serde(default)]
    pub unsafe_metadata: Value,
    /// Last sign-in, Unix ms.
    #[serde(default)]
    pub last_sign_in_at: Option<i64>,
    /// Last activity, Unix ms.
    #[serde(default)]
    pub last_active_at: Option<i64>,
    /// Creation, Unix ms.
    #[serde(default)]
    pub created_at: i64,
    /// Last update, Unix ms.
    #[serde(default)]
    pub updated_at: i64,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl User {
    /// The primary email address, if any.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let user = api.get_user("user_123").await?;
    /// if let Some(email) = user.primary_email_address() {
    ///     println!("mail {email}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn primary_email_address(&self) -> Option<&str> {
        let primary = self.primary_email_address_id.as_deref()?;
        self.email_addresses
            .iter()
            .find(|e| e.id == primary)
            .map(|e| e.email_address.as_str())
    }
}

/// One email address of a user.
///
/// ```
/// use concierge_sdk::client::EmailAddress;
///
/// let email: EmailAddress = serde_json::from_str(r#"{
///     "object": "email_address",
///     "id": "idn_2mQ6zT4vWx5yZ6aB7cD8eF9gH0i",
///     "email_address": "ada@example.com",
///     "verification": {"status": "unverified", "strategy": "email_code", "attempts": 0}
/// }"#)?;
/// let verified = email
///     .verification
///     .as_ref()
///     .is_some_and(|v| v["status"] == "verified");
/// assert!(!verified);
/// assert!(email.id.starts_with("idn_"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailAddress {
    /// `idn_…`.
    pub id: String,
    /// The address.
    pub email_address: String,
    /// Verification state (`{"status": "verified", …}`), when known.
    #[serde(default)]
    pub verification: Option<Value>,
}

/// Filters for [`BackendApi::list_users`] and [`BackendApi::count_users`]; empty fields are
/// not sent. A list filter matches users having any of its values.
///
/// ```
/// use concierge_sdk::client::UserListParams;
///
/// // The newest users among two email addresses, ten per page, second page.
/// let params = UserListParams {
///     email_address: vec!["ada@example.com".into(), "grace@example.com".into()],
///     order_by: Some("-created_at".into()),
///     limit: Some(10),
///     offset: Some(10),
///     ..Default::default()
/// };
/// assert!(params.user_id.is_empty() && params.query.is_none());
/// # async fn run(api: concierge_sdk::client::BackendApi, params: UserListParams) -> Result<(), concierge_sdk::client::ApiError> {
/// let users = api.list_users(&params).await?;
/// // `count_users` takes the same filters and ignores the paging ones.
/// let total = api.count_users(&params).await?;
/// println!("showing {} of {total}", users.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserListParams {
    /// Page size (the server's default when `None`).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
    /// Sort, such as `-created_at` or `+email_address`.
    pub order_by: Option<String>,
    /// Users having any of these email addresses.
    pub email_address: Vec<String>,
    /// Users with any of these ids.
    pub user_id: Vec<String>,
    /// Users with any of these external ids.
    pub external_id: Vec<String>,
    /// Users with any of these usernames.
    pub username: Vec<String>,
    /// Free-text search over names, emails, usernames and ids.
    pub query: Option<String>,
}

impl UserListParams {
    fn to_query(&self, with_page: bool) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if with_page {
            // Falsy values are never sent (wire §8.1).
            if let Some(limit) = self.limit.filter(|l| *l > 0) {
                query.push(("limit", limit.to_string()));
            }
            if let Some(offset) = self.offset.filter(|o| *o > 0) {
                query.push(("offset", offset.to_string()));
            }
            if let Some(order_by) = self.order_by.clone().filter(|o| !o.is_empty()) {
                query.push(("order_by", order_by));
            }
        }
        push_all(&mut query, "email_address", &self.email_address);
        push_all(&mut query, "user_id", &self.user_id);
        push_all(&mut query, "external_id", &self.external_id);
        push_all(&mut query, "username", &self.username);
        if let Some(text) = self.query.clone().filter(|q| !q.is_empty()) {
            query.push(("query", text));
        }
        query
    }
}

/// Fields of a new user; `None` and empty fields are not sent.
///
/// ```
/// use concierge_sdk::client::CreateUserParams;
/// use serde_json::json;
///
/// let params = CreateUserParams {
///     email_address: vec!["ada@example.com".into()],
///     password: Some("correct horse battery staple".into()),
///     first_name: Some("Ada".into()),
///     external_id: Some("42".into()),
///     public_metadata: Some(json!({"role": "editor"})),
///     ..Default::default()
/// };
/// assert_eq!(
///     serde_json::to_value(&params)?,
///     json!({
///         "email_address": ["ada@example.com"],
///         "password": "correct horse battery staple",
///         "first_name": "Ada",
///         "external_id": "42",
///         "public_metadata": {"role": "editor"}
///     }),
/// );
/// # async fn run(api: concierge_sdk::client::BackendApi, params: CreateUserParams) -> Result<(), concierge_sdk::client::ApiError> {
/// let user = api.create_user(&params).await?;
/// assert_eq!(user.primary_email_address(), Some("ada@example.com"));
/// # Ok(()) }
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateUserParams {
    /// Email addresses; the first becomes primary.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email_address: Vec<String>,
    /// Plain-text password, checked against the instance's policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The application's own id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Public metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Value>,
    /// Private metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Value>,
    /// Unsafe metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Value>,
    /// Skip the password strength checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_password_checks: Option<bool>,
}

/// Fields to change on a user (`PATCH`); `None` fields are left as they are.
///
/// ```
/// use concierge_sdk::client::UpdateUserParams;
/// use serde_json::json;
///
/// // Make another of the user's addresses the primary one and rename them.
/// let params = UpdateUserParams {
///     primary_email_address_id: Some("idn_2mQ6zS3uVw4xY5zA6bC7dE8fG9h".into()),
///     last_name: Some("King".into()),
///     ..Default::default()
/// };
/// assert_eq!(
///     serde_json::to_value(&params)?,
///     json!({"last_name": "King", "primary_email_address_id": "idn_2mQ6zS3uVw4xY5zA6bC7dE8fG9h"}),
/// );
/// # async fn run(api: concierge_sdk::client::BackendApi, params: UpdateUserParams) -> Result<(), concierge_sdk::client::ApiError> {
/// let user = api.update_user("user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe", &params).await?;
/// assert_eq!(user.last_name.as_deref(), Some("King"));
/// # Ok(()) }
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateUserParams {
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// New password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The application's own id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// One of the user's email address ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_email_address_id: Option<String>,
}

/// What a `DELETE` returns.
///
/// ```
/// use concierge_sdk::client::DeletedObject;
///
/// let deleted: DeletedObject = serde_json::from_str(
///     r#"{"object": "user", "id": "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe", "deleted": true}"#,
/// )?;
/// assert!(deleted.deleted);
/// assert_eq!((deleted.object.as_str(), deleted.id.as_str()), ("user", "user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedObject {
    /// The deleted object's id.
    pub id: String,
    /// Its type (`user`).
    #[serde(default)]
    pub object: String,
    /// Always `true`.
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Deserialize)]
struct TotalCount {
    total_count: u64,
}

fn user_path(id: &str) -> Result<String, ApiError> {
    super::segment(id).map(|id| format!("users/{id}"))
}

impl BackendApi {
    /// `GET /v1/users/{id}`.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let user = api.get_user("user_123").await?;
    /// println!("{:?}", user.primary_email_address());
    /// # Ok(()) }
    /// ```
    pub async fn get_user(&self, user_id: &str) -> Result<User, ApiError> {
        self.get(&user_path(user_id)?, &[]).await
    }

    /// `GET /v1/users`: one page of users matching the filters.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::UserListParams;
    ///
    /// let users = api
    ///     .list_users(&UserListParams { email_address: vec!["ada@example.com".into()], ..Default::default() })
    ///     .await?;
    /// println!("{} found", users.len());
    /// # Ok(()) }
    /// ```
    pub async fn list_users(&self, params: &UserListParams) -> Result<Vec<User>, ApiError> {
        self.get("users", &params.to_query(true)).await
    }

    /// `GET /v1/users/count`: how many users match the filters.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let total = api.count_users(&Default::default()).await?;
    /// println!("{total} users");
    /// # Ok(()) }
    /// ```
    pub async fn count_users(&self, params: &UserListParams) -> Result<u64, ApiError> {
        let count: TotalCount = self.get("users/count", &params.to_query(false)).await?;
        Ok(count.total_count)
    }

    /// `POST /v1/users`.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::CreateUserParams;
    ///
    /// let user = api
    ///     .create_user(&CreateUserParams { email_address: vec!["ada@example.com".into()], ..Default::default() })
    ///     .await?;
    /// println!("{}", user.id);
    /// # Ok(()) }
    /// ```
    pub async fn create_user(&self, params: &CreateUserParams) -> Result<User, ApiError> {
        let body = serde_json::to_value(params).map_err(|e| ApiError::Decode(e.to_string()))?;
        self.send(Method::POST, "users", &[], Some(body)).await
    }

    /// `PATCH /v1/users/{id}`.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// use concierge_sdk::client::UpdateUserParams;
    ///
    /// let user = api
    ///     .update_user("user_123", &UpdateUserParams { first_name: Some("Ada".into()), ..Default::default() })
    ///     .await?;
    /// println!("{:?}", user.primary_email_address());
    /// # Ok(()) }
    /// ```
    pub async fn update_user(
        &self,
        user_id: &str,
        params: &UpdateUserParams,
    ) -> Result<User, ApiError> {
        let body = serde_json::to_value(params).map_err(|e| ApiError::Decode(e.to_string()))?;
        self.send(Method::PATCH, &user_path(user_id)?, &[], Some(body))
            .await
    }

    /// `DELETE /v1/users/{id}`.
    ///
    /// ```
    /// # async fn run(api: concierge_sdk::client::BackendApi) -> Result<(), concierge_sdk::client::ApiError> {
    /// let deleted = api.delete_user("user_123").await?;
    /// assert!(deleted.deleted);
    /// # Ok(()) }
    /// ```
    pub async fn delete_user(&self, user_id: &str) -> Result<DeletedObject, ApiError> {
        self.send(Method::DELETE, &user_path(user_id)?, &[], None)
            .await
    }
}
