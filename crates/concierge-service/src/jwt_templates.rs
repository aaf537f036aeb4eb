//! JWT templates: named claim recipes for tokens minted with `getToken({ template })`.

use crate::{Result, Service, ServiceError};
use concierge_core::metadata::check_metadata;
use concierge_core::*;
use concierge_store::StoreError;
use serde_json::Value;
use tracing::instrument;

/// Fields of a template create or update; `None` leaves a field as it is (or takes the default on create).
#[derive(Debug, Clone, Default)]
pub struct JwtTemplateParams {
    /// Unique name.
    pub name: Option<String>,
    /// Claims object with shortcodes.
    pub claims: Option<Value>,
    /// Lifetime in seconds (30 to 315360000; default 60).
    pub lifetime: Option<i64>,
    /// Allowed clock skew in seconds (0 to 300; default 5).
    pub allowed_clock_skew: Option<i64>,
    /// Use `signing_key` with HS256 instead of the instance key.
    pub custom_signing_key: Option<bool>,
    /// `RS256` or `HS256`.
    pub signing_algorithm: Option<String>,
    /// Custom key.
    pub signing_key: Option<String>,
}

fn map_conflict(err: StoreError) -> ServiceError {
    match err {
        StoreError::Conflict { .. } => CoreError::IdentifierExists { param: "name" }.into(),
        other => other.into(),
    }
}

fn apply(template: &mut JwtTemplate, params: JwtTemplateParams) -> Result<()> {
    if let Some(name) = params.name {
        let name = name.trim().to_owned();
        if name.is_empty() || name.len() > 100 || name.contains('/') {
            return Err(CoreError::FormatInvalid { param: "name" }.into());
        }
        template.name = name;
    }
    if let Some(claims) = params.claims {
        check_metadata(&claims, "claims")?;
        template.claims = claims;
    }
    if let Some(lifetime) = params.lifetime {
        if !(30..=315_360_000).contains(&lifetime) {
            return Err(CoreError::OutOfRange { param: "lifetime" }.into());
        }
        template.lifetime = lifetime;
    }
    if let Some(skew) = params.allowed_clock_skew {
        if !(0..=300).contains(&skew) {
            return Err(CoreError::OutOfRange {
                param: "allowed_clock_skew",
            }
            .into());
        }
        template.allowed_clock_skew = skew;
    }
    if let Some(custom) = params.custom_signing_key {
        template.custom_signing_key = custom;
    }
    if let Some(key) = params.signing_key {
        template.signing_key = Some(key);
    }
    if let Some(alg) = params.signing_algorithm {
        template.signing_algorithm = alg;
    }
    if template.custom_signing_key {
        if template.signing_algorithm != "HS256" {
            return Err(CoreError::FormatInvalid {
                param: "signing_algorithm",
            }
            .into());
        }
        if template.signing_key.as_deref().is_none_or(|k| k.len() < 32) {
            return Err(CoreError::FormatInvalid {
                param: "signing_key",
            }
            .into());
        }
    } else {
        template.signing_algorithm = "RS256".into();
        template.signing_key = None;
    }
    Ok(())
}

impl Service {
    /// Creates a template.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn create_jwt_template(
        &self,
        instance: &InstanceId,
        params: JwtTemplateParams,
    ) -> Result<JwtTemplate> {
        if params.name.is_none() {
            return Err(CoreError::ParamMissing { param: "name" }.into());
        }
        if params.claims.is_none() {
            return Err(CoreError::ParamMissing { param: "claims" }.into());
        }
        let now = self.now();
        let mut template = JwtTemplate {
            id: JwtTemplateId::generate(&mut Self::rng()),
            instance_id: instance.clone(),
            name: String::new(),
            claims: Value::Null,
            lifetime: 60,
            allowed_clock_skew: 5,
            custom_signing_key: false,
            signing_algorithm: "RS256".into(),
            signing_key: None,
            created_at: now,
            updated_at: now,
        };
        apply(&mut template, params)?;
        let mut tx = self.inner.store.begin().await?;
        tx.insert_jwt_template(&template)
            .await
            .map_err(map_conflict)?;
        tx.commit().await?;
        Ok(template)
    }

    /// One template.
    pub async fn get_jwt_template(
        &self,
        instance: &InstanceId,
        id: &JwtTemplateId,
    ) -> Result<JwtTemplate> {
        let mut conn = self.inner.store.read().await?;
        Ok(conn.get_jwt_template(instance, id).await?)
    }

    /// A page of templates and the total.
    pub async fn list_jwt_templates(
        &self,
        instance: &InstanceId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<JwtTemplate>, i64)> {
        let mut conn = self.inner.store.read().await?;
        Ok((
            conn.list_jwt_templates(instance, limit, offset).await?,
            conn.count_jwt_templates(instance).await?,
        ))
    }

    /// Updates a template.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn update_jwt_template(
        &self,
        instance: &InstanceId,
        id: &JwtTemplateId,
        params: JwtTemplateParams,
    ) -> Result<JwtTemplate> {
        let mut tx = self.inner.store.begin().await?;
        let mut template = tx.get_jwt_template(instance, id).await?;
        apply(&mut template, params)?;
        template.updated_at = self.now();
        tx.update_jwt_template(&template)
            .await
            .map_err(map_conflict)?;
        tx.commit().await?;
        Ok(template)
    }

    /// Deletes a template.
    #[instrument(skip_all, fields(instance.id = %instance))]
    pub async fn delete_jwt_template(
        &self,
        instance: &InstanceId,
        id: &JwtTemplateId,
    ) -> Result<()> {
        let mut tx = self.inner.store.begin().await?;
        tx.delete_jwt_template(instance, id).await?;
        tx.commit().await?;
        Ok(())
    }
}
