//! The SQLite backend's synchronous read path for the hot reads ([`FastReads`]).
//!
//! sqlx-sqlite runs every connection on a thread of its own: each statement is sent there and
//! its rows sent back, two thread wake-ups per statement. For a request that is one indexed
//! lookup (`GET /v1/users/{id}`, every session token) those hand-offs cost more CPU than the
//! lookup itself (perf under `scripts/bench.sh`: a quarter of the server's CPU in futex wake-ups
//! and context switches); the Frontend API's client object (every `GET /v1/client`, every
//! sign-in answer) reads a client, its active sessions and their users' memberships, and a
//! password sign-in looks its identifier up, each of which cost about 50 microseconds of CPU
//! through sqlx's threads. These reads run instead on the calling thread, on rusqlite
//! connections to the same file (WAL: readers never wait for the writer), taking a few
//! microseconds of the runtime thread as a signature does.
//!
//! Only plain read handles ([`Store::read`](crate::Store::read)) use it: inside a write
//! transaction a read must see the transaction's own writes. A connection is taken from the
//! pool for one statement and given back before returning, never held across an `.await`; if
//! none is idle the statement goes through sqlx as before, so a busy pool never blocks a thread.
//! The SQL and the row mappers are the sqlx path's own (`crate::sql`).

use super::SqliteTx;
use crate::sql::{
    from_json, is_active_client_sessions, is_user_memberships, row_mappers, FastReads,
    ACTIVE_CLIENT_SESSIONS_SQL, BROWSER_TOKEN_CONTEXT_SQL, CLIENT_BY_TOKEN_SQL, CLIENT_SQL,
    EMAIL_BY_ADDRESS_SQL, TOKEN_CONTEXT_SQL, USER_MEMBERSHIPS_ASC_SQL, USER_MEMBERSHIPS_DESC_SQL,
    USER_SQL, USER_WITH_EMAILS_SQL,
};
use crate::{MembershipQuery, SessionQuery, StoreError};
use concierge_core::*;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::FromSql;
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

/// The pool of synchronous reader connections.
pub(crate) type Pool = r2d2::Pool<SqliteConnectionManager>;

/// A reader pool on the database file at `path` with `size` connections, opened read-only in
/// behaviour (`query_only`) with the same busy timeout as the sqlx pools.
pub(crate) fn open(path: &str, size: u32) -> Result<Pool, StoreError> {
    let manager = SqliteConnectionManager::file(path).with_init(|conn| {
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "query_only", true)?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(())
    });
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(size))
        .connection_timeout(Duration::from_secs(5))
        .build(manager)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {path} for reading: {e}")))
}

fn fast_err(err: rusqlite::Error) -> StoreError {
    StoreError::Other(err.to_string())
}

/// A statement's column names in order, read once per statement (rusqlite's own lookup by
/// name goes through the C API for every column). A few dozen names at most: a scan that
/// compares lengths first is cheaper than hashing the name.
struct Columns(Vec<String>);

/// One of the hot statements: its SQL (shared with the sqlx path) and its columns.
struct Query {
    sql: &'static LazyLock<String>,
    columns: OnceLock<Columns>,
}

impl Query {
    const fn new(sql: &'static LazyLock<String>) -> Self {
        Self {
            sql,
            columns: OnceLock::new(),
        }
    }
}

static USER: Query = Query::new(&USER_SQL);
static USER_WITH_EMAILS: Query = Query::new(&USER_WITH_EMAILS_SQL);
static CLIENT_BY_TOKEN: Query = Query::new(&CLIENT_BY_TOKEN_SQL);
static TOKEN_CONTEXT: Query = Query::new(&TOKEN_CONTEXT_SQL);
static BROWSER_TOKEN_CONTEXT: Query = Query::new(&BROWSER_TOKEN_CONTEXT_SQL);
static CLIENT: Query = Query::new(&CLIENT_SQL);
static EMAIL_BY_ADDRESS: Query = Query::new(&EMAIL_BY_ADDRESS_SQL);
static ACTIVE_CLIENT_SESSIONS: Query = Query::new(&ACTIVE_CLIENT_SESSIONS_SQL);
static USER_MEMBERSHIPS_ASC: Query = Query::new(&USER_MEMBERSHIPS_ASC_SQL);
static USER_MEMBERSHIPS_DESC: Query = Query::new(&USER_MEMBERSHIPS_DESC_SQL);

/// A result row whose columns are found by name through the statement's [`Columns`].
struct DbRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    columns: &'r Columns,
    /// Where the next lookup starts: the row mappers read columns mostly in `SELECT` order.
    next: std::cell::Cell<usize>,
}

fn col<T: FromSql>(row: &DbRow<'_, '_>, name: &str) -> Result<T, StoreError> {
    let names = &row.columns.0;
    let start = row.next.get().min(names.len());
    let index = names[start..]
        .iter()
        .position(|column| column == name)
        .map(|i| start + i)
        .or_else(|| names[..start].iter().position(|column| column == name))
        .ok_or_else(|| StoreError::Other(format!("no column {name}")))?;
    row.next.set(index + 1);
    row.row.get(index).map_err(fast_err)
}

row_mappers!();

/// Runs `query` with `params` and hands every row to `each`.
fn each_row(
    conn: &rusqlite::Connection,
    query: &Query,
    params: impl rusqlite::Params,
    mut each: impl FnMut(&DbRow<'_, '_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut statement = conn.prepare_cached(query.sql.as_str()).map_err(fast_err)?;
    let columns = query.columns.get_or_init(|| {
        Columns(
            statement
                .column_names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        )
    });
    let mut rows = statement.query(params).map_err(fast_err)?;
    while let Some(row) = rows.next().map_err(fast_err)? {
        each(&DbRow {
            row,
            columns,
            next: std::cell::Cell::new(0),
        })?;
    }
    Ok(())
}

/// Every row of `query`, mapped.
fn all_rows<T>(
    conn: &rusqlite::Connection,
    query: &Query,
    params: impl rusqlite::Params,
    map: impl Fn(&DbRow<'_, '_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut found = Vec::new();
    each_row(conn, query, params, |row| {
        found.push(map(row)?);
        Ok(())
    })?;
    Ok(found)
}

/// The first row of `query`, mapped.
fn first_row<T>(
    conn: &rusqlite::Connection,
    query: &Query,
    params: impl rusqlite::Params,
    map: impl Fn(&DbRow<'_, '_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut found = None;
    each_row(conn, query, params, |row| {
        if found.is_none() {
            found = Some(map(row)?);
        }
        Ok(())
    })?;
    Ok(found)
}

impl SqliteTx {
    /// An idle synchronous reader, for a plain read handle only.
    fn fast_conn(&self) -> Option<r2d2::PooledConnection<SqliteConnectionManager>> {
        match self {
            Self::Read(read) => read.fast.as_ref()?.try_get(),
            _ => None,
        }
    }

    /// The row of `query` for `(instance, id)`, mapped; `NotFound` when there is none. `None`
    /// when no synchronous reader is at hand.
    fn fast_row_by_id<T>(
        &self,
        query: &Query,
        instance: &InstanceId,
        id: &str,
        map: impl Fn(&DbRow<'_, '_>) -> Result<T, StoreError>,
    ) -> Option<Result<T, StoreError>> {
        let conn = self.fast_conn()?;
        let found = first_row(&conn, query, (instance.as_str(), id), map);
        Some(found.and_then(|row| row.ok_or(StoreError::NotFound)))
    }
}

impl FastReads for SqliteTx {
    fn fast_user(
        &mut self,
        instance: &InstanceId,
        id: &UserId,
    ) -> Option<Result<User, StoreError>> {
        self.fast_row_by_id(&USER, instance, id.as_str(), user_row)
    }

    fn fast_user_with_email_addresses(
        &mut self,
        instance: &InstanceId,
        id: &UserId,
    ) -> Option<Result<(User, Vec<EmailAddress>), StoreError>> {
        let conn = self.fast_conn()?;
        let mut user: Option<User> = None;
        let mut emails = Vec::new();
        let read = each_row(
            &conn,
            &USER_WITH_EMAILS,
            (instance.as_str(), id.as_str()),
            |row| {
                let user = match &user {
                    Some(user) => user,
                    None => user.insert(user_row(row)?),
                };
                emails.extend(joined_email_row(row, user)?);
                Ok(())
            },
        );
        Some(read.and_then(|()| Ok((user.ok_or(StoreError::NotFound)?, emails))))
    }

    fn fast_client_by_token_hash(
        &mut self,
        instance: &InstanceId,
        hash: &[u8],
    ) -> Option<Result<Option<Client>, StoreError>> {
        let conn = self.fast_conn()?;
        Some(first_row(
            &conn,
            &CLIENT_BY_TOKEN,
            (instance.as_str(), hash),
            client_row,
        ))
    }

    fn fast_session_token_context(
        &mut self,
        instance: &InstanceId,
        id: &SessionId,
    ) -> Option<Result<(Session, bool, Option<SigningKeyId>), StoreError>> {
        self.fast_row_by_id(&TOKEN_CONTEXT, instance, id.as_str(), token_context_row)
    }

    fn fast_browser_token_context(
        &mut self,
        instance: &InstanceId,
        id: &SessionId,
    ) -> Option<Result<crate::BrowserTokenContext, StoreError>> {
        self.fast_row_by_id(
            &BROWSER_TOKEN_CONTEXT,
            instance,
            id.as_str(),
            browser_token_context_row,
        )
    }

    fn fast_client(
        &mut self,
        instance: &InstanceId,
        id: &ClientId,
    ) -> Option<Result<Client, StoreError>> {
        self.fast_row_by_id(&CLIENT, instance, id.as_str(), client_row)
    }

    fn fast_email_by_address(
        &mut self,
        instance: &InstanceId,
        address: &str,
    ) -> Option<Result<Option<EmailAddress>, StoreError>> {
        let conn = self.fast_conn()?;
        Some(first_row(
            &conn,
            &EMAIL_BY_ADDRESS,
            (instance.as_str(), address.to_lowercase()),
            email_row,
        ))
    }

    fn fast_active_client_sessions(
        &mut self,
        instance: &InstanceId,
        query: &SessionQuery,
    ) -> Option<Result<Vec<Session>, StoreError>> {
        let client = is_active_client_sessions(query)?;
        let conn = self.fast_conn()?;
        let params = (
            instance.as_str(),
            client.as_str(),
            query.now,
            query.now,
            query.limit,
            query.offset,
        );
        Some(all_rows(
            &conn,
            &ACTIVE_CLIENT_SESSIONS,
            params,
            session_row,
        ))
    }

    fn fast_user_memberships(
        &mut self,
        instance: &InstanceId,
        query: &MembershipQuery,
    ) -> Option<Result<Vec<OrganizationMembership>, StoreError>> {
        let user = is_user_memberships(query)?;
        let conn = self.fast_conn()?;
        let statement = if query.ascending {
            &USER_MEMBERSHIPS_ASC
        } else {
            &USER_MEMBERSHIPS_DESC
        };
        let params = (instance.as_str(), user.as_str(), query.limit, query.offset);
        Some(all_rows(&conn, statement, params, membership_row))
    }
}
