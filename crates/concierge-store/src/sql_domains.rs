//! The SQL of every [`crate::DomainTx`] method, written once and instantiated for each backend
//! by [`impl_domain_tx!`] next to `impl_tx!` (whose row helpers, imports and `map_err` it uses).
//! Same rules as `sql.rs`: `$N` placeholders and portable SQL only.

/// Portable `LIKE` pattern matching addresses at exactly `domain` (`%`, `_` and `\` escaped).
pub(crate) fn at_domain_pattern(domain: &str) -> String {
    let escaped = domain
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%@{escaped}")
}

pub(crate) const DOMAIN_COLUMNS: &str = "id, instance_id, organization_id, name, enrollment_mode, verified, verification_strategy, verified_at, affiliation_email_address, created_at, updated_at";
pub(crate) const SUGGESTION_COLUMNS: &str =
    "id, instance_id, organization_id, user_id, domain_id, status, created_at, updated_at";
pub(crate) const REQUEST_COLUMNS: &str =
    "id, instance_id, organization_id, user_id, status, created_at, updated_at";

/// Implements [`crate::DomainTx`] for `$tx` over database `$db`; expects the module to have
/// invoked `impl_tx!` for the same types first.
macro_rules! impl_domain_tx {
    ($tx:ty, $db:ty) => {
        use $crate::sql_domains::{at_domain_pattern, DOMAIN_COLUMNS, REQUEST_COLUMNS, SUGGESTION_COLUMNS};
        use $crate::{DomainQuery, MembershipRequestQuery, SuggestionQuery};

        fn domain_row(row: &DbRow) -> Result<OrganizationDomain, StoreError> {
            let mode: String = col(row, "enrollment_mode")?;
            Ok(OrganizationDomain {
                id: OrganizationDomainId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                organization_id: OrganizationId::from_trusted(col(row, "organization_id")?),
                name: col(row, "name")?,
                enrollment_mode: EnrollmentMode::parse(&mode).ok_or_else(|| StoreError::Other(format!("unknown enrollment mode {mode}")))?,
                verified: col(row, "verified")?,
                verification_strategy: col(row, "verification_strategy")?,
                verified_at: col(row, "verified_at")?,
                affiliation_email_address: col(row, "affiliation_email_address")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn suggestion_row(row: &DbRow) -> Result<OrganizationSuggestion, StoreError> {
            let status: String = col(row, "status")?;
            Ok(OrganizationSuggestion {
                id: OrganizationSuggestionId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                organization_id: OrganizationId::from_trusted(col(row, "organization_id")?),
                user_id: UserId::from_trusted(col(row, "user_id")?),
                domain_id: col::<Option<String>>(row, "domain_id")?.map(OrganizationDomainId::from_trusted),
                status: SuggestionStatus::parse(&status).ok_or_else(|| StoreError::Other(format!("unknown suggestion status {status}")))?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn request_row(row: &DbRow) -> Result<MembershipRequest, StoreError> {
            let status: String = col(row, "status")?;
            Ok(MembershipRequest {
                id: OrganizationMembershipRequestId::from_trusted(col(row, "id")?),
                instance_id: InstanceId::from_trusted(col(row, "instance_id")?),
                organization_id: OrganizationId::from_trusted(col(row, "organization_id")?),
                user_id: UserId::from_trusted(col(row, "user_id")?),
                status: MembershipRequestStatus::parse(&status).ok_or_else(|| StoreError::Other(format!("unknown membership request status {status}")))?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn push_domain_filters<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a DomainQuery) {
            if let Some(org) = &query.organization_id {
                qb.push(" AND organization_id = ");
                qb.push_bind(org.as_str());
            }
            if let Some(mode) = query.enrollment_mode {
                qb.push(" AND enrollment_mode = ");
                qb.push_bind(mode.as_str());
            }
            if let Some(verified) = query.verified {
                qb.push(" AND verified = ");
                qb.push_bind(verified);
            }
        }

        fn push_status_list<'a>(qb: &mut QueryBuilder<'a, $db>, statuses: Vec<&'static str>) {
            if statuses.is_empty() {
                return;
            }
            qb.push(" AND status IN (");
            let mut list = qb.separated(", ");
            for status in statuses {
                list.push_bind(status);
            }
            qb.push(")");
        }

        fn push_suggestion_filters<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a SuggestionQuery) {
            if let Some(user) = &query.user_id {
                qb.push(" AND user_id = ");
                qb.push_bind(user.as_str());
            }
            push_status_list(qb, query.statuses.iter().map(|s| s.as_str()).collect());
            if query.exclude_joined {
                qb.push(" AND NOT EXISTS (SELECT 1 FROM organization_memberships m WHERE m.organization_id = organization_suggestions.organization_id AND m.user_id = organization_suggestions.user_id)");
            }
        }

        fn push_request_filters<'a>(qb: &mut QueryBuilder<'a, $db>, query: &'a MembershipRequestQuery) {
            if let Some(org) = &query.organization_id {
                qb.push(" AND organization_id = ");
                qb.push_bind(org.as_str());
            }
            push_status_list(qb, query.statuses.iter().map(|s| s.as_str()).collect());
        }

        #[async_trait::async_trait]
        impl $crate::DomainTx for $tx {
            async fn insert_domain(&mut self, d: &OrganizationDomain) -> Result<(), StoreError> {
                sqlx::query(&format!("INSERT INTO organization_domains ({DOMAIN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                    .bind(d.id.as_str()).bind(d.instance_id.as_str()).bind(d.organization_id.as_str()).bind(&d.name)
                    .bind(d.enrollment_mode.as_str()).bind(d.verified).bind(&d.verification_strategy).bind(d.verified_at)
                    .bind(&d.affiliation_email_address).bind(d.created_at).bind(d.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_domain(&mut self, instance: &InstanceId, id: &OrganizationDomainId) -> Result<OrganizationDomain, StoreError> {
                let row = sqlx::query(&format!("SELECT {DOMAIN_COLUMNS} FROM organization_domains WHERE instance_id = $1 AND id = $2"))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(domain_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn find_domain_by_name(&mut self, instance: &InstanceId, name: &str) -> Result<Option<OrganizationDomain>, StoreError> {
                let row = sqlx::query(&format!("SELECT {DOMAIN_COLUMNS} FROM organization_domains WHERE instance_id = $1 AND name = $2"))
                    .bind(instance.as_str()).bind(name).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(domain_row).transpose()
            }

            async fn update_domain(&mut self, d: &OrganizationDomain) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE organization_domains SET enrollment_mode = $1, verified = $2, verification_strategy = $3, verified_at = $4, affiliation_email_address = $5, updated_at = $6 WHERE instance_id = $7 AND id = $8")
                    .bind(d.enrollment_mode.as_str()).bind(d.verified).bind(&d.verification_strategy).bind(d.verified_at)
                    .bind(&d.affiliation_email_address).bind(d.updated_at).bind(d.instance_id.as_str()).bind(d.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn delete_domain(&mut self, instance: &InstanceId, id: &OrganizationDomainId) -> Result<(), StoreError> {
                let result = sqlx::query("DELETE FROM organization_domains WHERE instance_id = $1 AND id = $2")
                    .bind(instance.as_str()).bind(id.as_str()).execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_domains(&mut self, instance: &InstanceId, query: &DomainQuery) -> Result<Vec<OrganizationDomain>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {DOMAIN_COLUMNS} FROM organization_domains WHERE instance_id = "));
                qb.push_bind(instance.as_str());
                push_domain_filters(&mut qb, query);
                qb.push(" ORDER BY created_at DESC, id DESC LIMIT ");
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(domain_row).collect()
            }

            async fn count_domains(&mut self, instance: &InstanceId, query: &DomainQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM organization_domains WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_domain_filters(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn count_domain_pending(&mut self, instance: &InstanceId, domain: &OrganizationDomainId, now: Millis) -> Result<(i64, i64), StoreError> {
                let row = sqlx::query("SELECT (SELECT COUNT(*) FROM organization_invitations WHERE instance_id = $1 AND domain_id = $2 AND status = 'pending' AND expires_at > $3) AS invitations, (SELECT COUNT(*) FROM organization_suggestions WHERE instance_id = $1 AND domain_id = $2 AND status = 'pending') AS suggestions")
                    .bind(instance.as_str()).bind(domain.as_str()).bind(now)
                    .fetch_one(self.conn().await?).await.map_err(map_err)?;
                Ok((col(&row, "invitations")?, col(&row, "suggestions")?))
            }

            async fn link_invitation_to_domain(&mut self, instance: &InstanceId, invitation: &OrganizationInvitationId, domain: &OrganizationDomainId) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE organization_invitations SET domain_id = $1 WHERE instance_id = $2 AND id = $3")
                    .bind(domain.as_str()).bind(instance.as_str()).bind(invitation.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn revoke_domain_invitations(&mut self, instance: &InstanceId, domain: &OrganizationDomainId, now: Millis) -> Result<u64, StoreError> {
                let result = sqlx::query("UPDATE organization_invitations SET status = 'revoked', updated_at = $1 WHERE instance_id = $2 AND domain_id = $3 AND status = 'pending'")
                    .bind(now).bind(instance.as_str()).bind(domain.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(result.rows_affected())
            }

            async fn delete_domain_suggestions(&mut self, instance: &InstanceId, domain: &OrganizationDomainId) -> Result<u64, StoreError> {
                let result = sqlx::query("DELETE FROM organization_suggestions WHERE instance_id = $1 AND domain_id = $2 AND status = 'pending'")
                    .bind(instance.as_str()).bind(domain.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(result.rows_affected())
            }

            async fn list_verified_emails_at_domain(&mut self, instance: &InstanceId, name: &str) -> Result<Vec<EmailAddress>, StoreError> {
                let rows = sqlx::query(&format!("SELECT {EMAIL_COLUMNS} FROM email_addresses WHERE instance_id = $1 AND verified = $2 AND LOWER(email_address) LIKE $3 ESCAPE '\\' ORDER BY created_at, id"))
                    .bind(instance.as_str()).bind(true).bind(at_domain_pattern(name))
                    .fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(email_row).collect()
            }

            async fn insert_suggestion(&mut self, s: &OrganizationSuggestion) -> Result<(), StoreError> {
                sqlx::query(&format!("INSERT INTO organization_suggestions ({SUGGESTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
                    .bind(s.id.as_str()).bind(s.instance_id.as_str()).bind(s.organization_id.as_str()).bind(s.user_id.as_str())
                    .bind(s.domain_id.as_ref().map(|d| d.to_string())).bind(s.status.as_str()).bind(s.created_at).bind(s.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_suggestion(&mut self, instance: &InstanceId, id: &OrganizationSuggestionId) -> Result<OrganizationSuggestion, StoreError> {
                let row = sqlx::query(&format!("SELECT {SUGGESTION_COLUMNS} FROM organization_suggestions WHERE instance_id = $1 AND id = $2"))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(suggestion_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn find_suggestion(&mut self, instance: &InstanceId, org: &OrganizationId, user: &UserId) -> Result<Option<OrganizationSuggestion>, StoreError> {
                let row = sqlx::query(&format!("SELECT {SUGGESTION_COLUMNS} FROM organization_suggestions WHERE instance_id = $1 AND organization_id = $2 AND user_id = $3"))
                    .bind(instance.as_str()).bind(org.as_str()).bind(user.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(suggestion_row).transpose()
            }

            async fn update_suggestion(&mut self, s: &OrganizationSuggestion) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE organization_suggestions SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4")
                    .bind(s.status.as_str()).bind(s.updated_at).bind(s.instance_id.as_str()).bind(s.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_suggestions(&mut self, instance: &InstanceId, query: &SuggestionQuery) -> Result<Vec<OrganizationSuggestion>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {SUGGESTION_COLUMNS} FROM organization_suggestions WHERE instance_id = "));
                qb.push_bind(instance.as_str());
                push_suggestion_filters(&mut qb, query);
                qb.push(" ORDER BY created_at DESC, id DESC LIMIT ");
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(suggestion_row).collect()
            }

            async fn count_suggestions(&mut self, instance: &InstanceId, query: &SuggestionQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM organization_suggestions WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_suggestion_filters(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }

            async fn insert_membership_request(&mut self, r: &MembershipRequest) -> Result<(), StoreError> {
                sqlx::query(&format!("INSERT INTO organization_membership_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
                    .bind(r.id.as_str()).bind(r.instance_id.as_str()).bind(r.organization_id.as_str()).bind(r.user_id.as_str())
                    .bind(r.status.as_str()).bind(r.created_at).bind(r.updated_at)
                    .execute(self.conn().await?).await.map_err(map_err)?;
                Ok(())
            }

            async fn get_membership_request(&mut self, instance: &InstanceId, id: &OrganizationMembershipRequestId) -> Result<MembershipRequest, StoreError> {
                let row = sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM organization_membership_requests WHERE instance_id = $1 AND id = $2"))
                    .bind(instance.as_str()).bind(id.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(request_row).transpose()?.ok_or(StoreError::NotFound)
            }

            async fn find_membership_request(&mut self, instance: &InstanceId, org: &OrganizationId, user: &UserId) -> Result<Option<MembershipRequest>, StoreError> {
                let row = sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM organization_membership_requests WHERE instance_id = $1 AND organization_id = $2 AND user_id = $3"))
                    .bind(instance.as_str()).bind(org.as_str()).bind(user.as_str()).fetch_optional(self.conn().await?).await.map_err(map_err)?;
                row.as_ref().map(request_row).transpose()
            }

            async fn update_membership_request(&mut self, r: &MembershipRequest) -> Result<(), StoreError> {
                let result = sqlx::query("UPDATE organization_membership_requests SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4")
                    .bind(r.status.as_str()).bind(r.updated_at).bind(r.instance_id.as_str()).bind(r.id.as_str())
                    .execute(self.conn().await?).await.map_err(map_err)?;
                affected(result.rows_affected())
            }

            async fn list_membership_requests(&mut self, instance: &InstanceId, query: &MembershipRequestQuery) -> Result<Vec<MembershipRequest>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {REQUEST_COLUMNS} FROM organization_membership_requests WHERE instance_id = "));
                qb.push_bind(instance.as_str());
                push_request_filters(&mut qb, query);
                qb.push(" ORDER BY created_at DESC, id DESC LIMIT ");
                qb.push_bind(query.limit);
                qb.push(" OFFSET ");
                qb.push_bind(query.offset);
                let rows = qb.build().fetch_all(self.conn().await?).await.map_err(map_err)?;
                rows.iter().map(request_row).collect()
            }

            async fn count_membership_requests(&mut self, instance: &InstanceId, query: &MembershipRequestQuery) -> Result<i64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM organization_membership_requests WHERE instance_id = ");
                qb.push_bind(instance.as_str());
                push_request_filters(&mut qb, query);
                let row = qb.build().fetch_one(self.conn().await?).await.map_err(map_err)?;
                col(&row, "n")
            }
        }
    };
}

pub(crate) use impl_domain_tx;
