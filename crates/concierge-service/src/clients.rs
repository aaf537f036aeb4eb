//! Clients as the Backend API exposes them.

use crate::{Result, Service, ServiceError};
use concierge_core::*;
use concierge_store::SessionQuery;
use concierge_tokens as tokens;

/// A client with its sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientView {
    /// The client.
    pub client: Client,
    /// Its sessions, newest first.
    pub sessions: Vec<Session>,
}

impl Service {
    async fn client_view(&self, instance: &InstanceId, client: Client) -> Result<ClientView> {
        let mut conn = self.inner.store.read().await?;
        let query = SessionQuery {
            client_id: Some(client.id.clone()),
            limit: 500,
            now: self.now(),
            ..SessionQuery::default()
        };
        let sessions = conn.list_sessions(instance, &query).await?;
        Ok(ClientView { client, sessions })
    }

    /// One client with its sessions.
    pub async fn get_client(&self, instance: &InstanceId, id: &ClientId) -> Result<ClientView> {
        let client = {
            let mut conn = self.inner.store.read().await?;
            conn.get_client(instance, id).await?
        };
        self.client_view(instance, client).await
    }

    /// A page of clients with the total count.
    pub async fn list_clients(
        &self,
        instance: &InstanceId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ClientView>, i64)> {
        let (clients, total) = {
            let mut conn = self.inner.store.read().await?;
            (
                conn.list_clients(instance, limit, offset).await?,
                conn.count_clients(instance).await?,
            )
        };
        let mut views = Vec::with_capacity(clients.len());
        for client in clients {
            views.push(self.client_view(instance, client).await?);
        }
        Ok((views, total))
    }

    /// Resolves a client token (the `__client` cookie value) to its client (`POST /v1/clients/verify`).
    pub async fn verify_client_token(
        &self,
        instance: &InstanceId,
        token: &str,
    ) -> Result<ClientView> {
        let hash = tokens::sha256(token.as_bytes());
        let client = {
            let mut conn = self.inner.store.read().await?;
            conn.find_client_by_token_hash(instance, &hash).await?
        };
        let client = client.ok_or(ServiceError::NotFound)?;
        self.client_view(instance, client).await
    }
}
