//! Parsed signing keys, cached per `kid` so that RSA keys are parsed once per process.
//!
//! Which key is current is always read from the database, so a rotation made by any node
//! (or by the CLI) takes effect on the next token.

use crate::{Result, Service, ServiceError};
use concierge_core::InstanceId;
use concierge_tokens::Signer;
use std::collections::HashMap;
use std::sync::Mutex;

/// Signers by `kid`. Keys never change once written, so entries never go stale.
#[derive(Default)]
pub(crate) struct KeyCache {
    signers: Mutex<HashMap<String, Signer>>,
}

impl Service {
    /// The signer for key `kid`, parsed once per process; the key is read only on a cache miss.
    pub(crate) async fn signer_for(
        &self,
        conn: &mut dyn concierge_store::Tx,
        instance: &InstanceId,
        kid: &concierge_core::SigningKeyId,
    ) -> Result<Signer> {
        if let Ok(cache) = self.inner.keys.signers.lock() {
            if let Some(signer) = cache.get(kid.as_str()) {
                return Ok(signer.clone());
            }
        }
        let key = conn
            .list_signing_keys(instance)
            .await?
            .into_iter()
            .find(|k| &k.id == kid)
            .ok_or_else(|| ServiceError::Internal("current signing key vanished".into()))?;
        let signer = Signer::new(&key)?;
        if let Ok(mut cache) = self.inner.keys.signers.lock() {
            cache.insert(key.id.to_string(), signer.clone());
        }
        Ok(signer)
    }

    /// The signer of the instance's current key (the newest one not retired).
    pub(crate) async fn current_signer(
        &self,
        conn: &mut dyn concierge_store::Tx,
        instance: &InstanceId,
    ) -> Result<Signer> {
        let kid = conn
            .list_signing_keys(instance)
            .await?
            .into_iter()
            .filter(|k| k.retired_at.is_none())
            .max_by_key(|k| k.created_at)
            .map(|k| k.id)
            .ok_or_else(|| ServiceError::Internal("instance has no current signing key".into()))?;
        self.signer_for(conn, instance, &kid).await
    }
}
