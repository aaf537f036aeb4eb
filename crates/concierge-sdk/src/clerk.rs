//! The configured SDK: [`Config`] (keys, URLs, authorized parties, clock) validated once into a
//! [`Clerk`] handle that verifies tokens with a PEM key or the cached Backend API JWKS.
//! Cheap to clone; share one per application.

use crate::client::{BackendApi, DEFAULT_API_URL};
use crate::jwks::{JwksCache, KeyError, VerificationKey};
use crate::publishable_key::{PublishableKey, PublishableKeyError};
use crate::verify::{self, VerifyOptions, DEFAULT_CLOCK_SKEW_MS};
use crate::{Clock, OrganizationSyncOptions, SessionClaims, SystemClock, VerifyError};
use std::sync::Arc;
use std::time::Duration;

/// A secret key (`sk_live_…`/`sk_test_…`) whose `Debug` output is redacted.
///
/// ```
/// use concierge_sdk::SecretKey;
///
/// let key = SecretKey::from("sk_live_abc".to_owned());
/// assert_eq!(format!("{key:?}"), "[redacted]");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// The key itself, for the `Authorization` header.
    ///
    /// ```
    /// let key = concierge_sdk::SecretKey::from("sk_live_abc".to_owned());
    /// assert_eq!(key.expose(), "sk_live_abc");
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretKey {
    fn from(key: String) -> Self {
        Self(key)
    }
}

impl From<&str> for SecretKey {
    fn from(key: &str) -> Self {
        Self(key.to_owned())
    }
}

/// Why a configuration was refused.
///
/// ```
/// use concierge_sdk::{Clerk, Config, ConfigError};
///
/// let error = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?).unwrap_err();
/// assert!(matches!(error, ConfigError::NoVerificationKey));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The publishable key does not parse.
    #[error(transparent)]
    PublishableKey(#[from] PublishableKeyError),
    /// The PEM key does not parse.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Neither `jwt_key` nor `secret_key` was given, so no token could ever be verified.
    #[error("set a secret key (JWKS from the Backend API) or a PEM jwt_key")]
    NoVerificationKey,
    /// The proxy URL is neither an absolute http(s) URL nor a path starting with `/`.
    #[error("invalid proxy URL {0:?}")]
    InvalidProxyUrl(String),
    /// The Backend API URL does not parse.
    #[error("invalid Backend API URL: {0}")]
    InvalidApiUrl(String),
}

/// Everything the SDK needs to know about an instance, built with chained setters.
///
/// ```
/// use concierge_sdk::{Clerk, Config};
/// use std::time::Duration;
///
/// let config = Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
///     .secret_key("sk_live_…")
///     .api_url("http://127.0.0.1:4001")
///     .authorized_parties(["https://app.example.test"])
///     .proxy_url("/__clerk")
///     .jwks_cache_ttl(Duration::from_secs(600));
/// let clerk = Clerk::new(config)?;
/// assert_eq!(clerk.publishable_key().frontend_api(), "clerk.example.test");
/// # Ok::<(), concierge_sdk::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) publishable_key: PublishableKey,
    pub(crate) secret_key: Option<SecretKey>,
    pub(crate) api_url: String,
    pub(crate) jwt_key: Option<String>,
    pub(crate) authorized_parties: Vec<String>,
    pub(crate) proxy_url: Option<String>,
    pub(crate) extra_issuers: Vec<String>,
    pub(crate) audience: Vec<String>,
    pub(crate) clock_skew: Duration,
    pub(crate) jwks_cache_ttl: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) treat_pending_as_signed_out: bool,
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) retries: u32,
    pub(crate) retry_backoff: Duration,
    pub(crate) organization_sync: OrganizationSyncOptions,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("publishable_key", &self.publishable_key.as_str())
            .field("secret_key", &self.secret_key)
            .field("api_url", &self.api_url)
            .field("jwt_key", &self.jwt_key.is_some())
            .field("authorized_parties", &self.authorized_parties)
            .field("proxy_url", &self.proxy_url)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Starts a configuration from the instance's publishable key.
    ///
    /// ```
    /// use concierge_sdk::Config;
    ///
    /// assert!(Config::new("pk_test_Y2xlcmsuZXhhbXBsZS50ZXN0JA").is_ok());
    /// assert!(Config::new("pk_test_bm90LWEta2V5").is_err());
    /// ```
    pub fn new(publishable_key: &str) -> Result<Self, PublishableKeyError> {
        Ok(Self {
            publishable_key: PublishableKey::parse(publishable_key)?,
            secret_key: None,
            api_url: DEFAULT_API_URL.to_owned(),
            jwt_key: None,
            authorized_parties: Vec::new(),
            proxy_url: None,
            extra_issuers: Vec::new(),
            audience: Vec::new(),
            clock_skew: Duration::from_millis(DEFAULT_CLOCK_SKEW_MS.unsigned_abs()),
            jwks_cache_ttl: Duration::from_secs(3600),
            clock: Arc::new(SystemClock),
            treat_pending_as_signed_out: true,
            http_client: None,
            retries: 2,
            retry_backoff: Duration::from_millis(250),
            organization_sync: OrganizationSyncOptions::default(),
        })
    }

    /// The secret key: authenticates Backend API calls (JWKS, handshake nonces, the client).
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// assert!(clerk.api().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn secret_key(mut self, secret_key: impl Into<SecretKey>) -> Self {
        self.secret_key = Some(secret_key.into());
        self
    }

    /// The Backend API base URL (default `https://api.clerk.com`; Concierge's BAPI listener).
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// // Concierge's Backend API listener instead of Clerk's hosted one.
    /// let config = Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///     .secret_key("sk_live_…")
    ///     .api_url("http://127.0.0.1:4001");
    /// assert!(Clerk::new(config).is_ok());
    /// let config = Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///     .secret_key("sk_live_…")
    ///     .api_url("not a url");
    /// assert!(Clerk::new(config).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn api_url(mut self, api_url: impl Into<String>) -> Self {
        self.api_url = api_url.into();
        self
    }

    /// A PEM public key for networkless verification: the JWKS is then never fetched.
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config, ConfigError};
    ///
    /// // Networkless: with the instance's PEM public key no JWKS is fetched (and no secret key is needed).
    /// let config = Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.jwt_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----");
    /// assert!(matches!(Clerk::new(config), Err(ConfigError::Key(_))), "this key does not parse");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jwt_key(mut self, pem: impl Into<String>) -> Self {
        self.jwt_key = Some(pem.into());
        self
    }

    /// Origins allowed in the `azp` claim (`https://app.example.com`).
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(
    ///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///         .secret_key("sk_live_…")
    ///         .authorized_parties(["https://app.example.test", "https://admin.example.test"]),
    /// )?;
    /// # let _ = clerk;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authorized_parties<I, S>(mut self, parties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.authorized_parties = parties.into_iter().map(Into::into).collect();
        self
    }

    /// The Frontend API proxy (`https://app.example.com/__clerk` or `/__clerk`, resolved
    /// against the request's origin): handshakes redirect there (wire §1.3).
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config, ConfigError};
    ///
    /// let config = Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…");
    /// assert!(Clerk::new(config.clone().proxy_url("/__clerk")).is_ok());
    /// assert!(matches!(
    ///     Clerk::new(config.proxy_url("__clerk")),
    ///     Err(ConfigError::InvalidProxyUrl(_))
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn proxy_url(mut self, proxy_url: impl Into<String>) -> Self {
        self.proxy_url = Some(proxy_url.into());
        self
    }

    /// Accepts another `iss` host besides the publishable key's (scheme optional).
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(
    ///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///         .secret_key("sk_live_…")
    ///         .accept_issuer("clerk.old-domain.example.test"),
    /// )?;
    /// # let _ = clerk;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accept_issuer(mut self, issuer: impl Into<String>) -> Self {
        let issuer: String = issuer.into();
        self.extra_issuers.push(
            issuer
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
        );
        self
    }

    /// Accepted `aud` values (checked only for tokens that carry `aud`).
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(
    ///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///         .secret_key("sk_live_…")
    ///         .audience(["https://api.example.test"]),
    /// )?;
    /// # let _ = clerk;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = audience.into_iter().map(Into::into).collect();
        self
    }

    /// Tolerance for `exp`/`nbf`/`iat` (default 5 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(
    ///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///         .secret_key("sk_live_…")
    ///         .clock_skew(Duration::from_secs(2)),
    /// )?;
    /// # let _ = clerk;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// How long fetched JWKS keys are trusted before a refetch (default 1 h).
    ///
    /// ```
    /// use std::time::Duration;
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(
    ///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///         .secret_key("sk_live_…")
    ///         .jwks_cache_ttl(Duration::from_secs(600)),
    /// )?;
    /// # let _ = clerk;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jwks_cache_ttl(mut self, ttl: Duration) -> Self {
        self.jwks_cache_ttl = ttl;
        self
    }

    /// The time source (default the system clock).
    ///
    /// ```
    /// use concierge_sdk::SystemClock;
    /// use std::sync::Arc;
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(
    ///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///         .secret_key("sk_live_…")
    ///         .clock(Arc::new(SystemClock)),
    /// )?;
    /// # let _ = clerk;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Whether a session with `sts: pending` counts as signed out (default `true`, as Clerk).
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(
    ///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///         .secret_key("sk_live_…")
    ///         .treat_pending_as_signed_out(false),
    /// )?;
    /// # let _ = clerk;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn treat_pending_as_signed_out(mut self, pending_is_signed_out: bool) -> Self {
        self.treat_pending_as_signed_out = pending_is_signed_out;
        self
    }

    /// The HTTP client for Backend API calls (timeouts, proxies, extra roots).
    ///
    /// ```
    /// use std::time::Duration;
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(
    ///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///         .secret_key("sk_live_…")
    ///         .http_client(reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?),
    /// )?;
    /// # let _ = clerk;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Organization sync (`organizationSyncOptions`): URL patterns naming an organization or
    /// the personal account; a signed-in document request whose URL disagrees with the
    /// session's active organization goes through the handshake with `organization_id`.
    ///
    /// ```
    /// use concierge_sdk::{Config, OrganizationSyncOptions};
    ///
    /// let config = Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///     .secret_key("sk_live_…")
    ///     .organization_sync(
    ///         OrganizationSyncOptions::new()
    ///             .organization_patterns(["/orgs/:slug", "/orgs/:slug/(.*)"])?
    ///             .personal_account_patterns(["/me", "/me/(.*)"])?,
    ///     );
    /// # let _ = config;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn organization_sync(mut self, options: OrganizationSyncOptions) -> Self {
        self.organization_sync = options;
        self
    }

    /// How Backend API GETs (JWKS, handshake payloads) are retried on network errors and 5xx:
    /// `retries` extra attempts (default 2), waiting `backoff` (default 250 ms), then double.
    ///
    /// ```
    /// use std::time::Duration;
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(
    ///     Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?
    ///         .secret_key("sk_live_…")
    ///         .backend_api_retries(4, Duration::from_millis(100)),
    /// )?;
    /// # let _ = clerk;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backend_api_retries(mut self, retries: u32, backoff: Duration) -> Self {
        self.retries = retries;
        self.retry_backoff = backoff;
        self
    }
}

/// Where verification keys come from.
enum Keys {
    Pem(VerificationKey),
    Jwks(JwksCache),
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) api: Option<BackendApi>,
    pub(crate) options: VerifyOptions,
    keys: Keys,
}

/// A configured SDK: verifies tokens and authenticates requests. Clones share keys and caches.
///
/// ```
/// use concierge_sdk::{Clerk, Config};
///
/// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
/// let shared = clerk.clone(); // same JWKS cache
/// assert!(shared.api().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Clerk {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Clerk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clerk")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Clerk {
    /// Validates a configuration: the PEM key parses, the proxy URL is usable, and there is a
    /// way to get keys (a PEM key, or a secret key for the JWKS).
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// assert_eq!(clerk.publishable_key().frontend_api(), "clerk.example.test");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        if let Some(proxy) = &config.proxy_url {
            let absolute = url::Url::parse(proxy)
                .ok()
                .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
            if !absolute && !proxy.starts_with('/') {
                return Err(ConfigError::InvalidProxyUrl(proxy.clone()));
            }
        }
        let api = match &config.secret_key {
            Some(secret_key) => Some(
                BackendApi::with_options(
                    &config.api_url,
                    secret_key.clone(),
                    config.http_client.clone().unwrap_or_default(),
                    config.retries,
                    config.retry_backoff,
                )
                .map_err(|e| ConfigError::InvalidApiUrl(e.to_string()))?,
            ),
            None => None,
        };
        let keys = match (&config.jwt_key, &api) {
            (Some(pem), _) => Keys::Pem(VerificationKey::from_pem(pem)?),
            (None, Some(api)) => Keys::Jwks(JwksCache::new(
                api.clone(),
                millis(config.jwks_cache_ttl),
                config.clock.clone(),
            )),
            (None, None) => return Err(ConfigError::NoVerificationKey),
        };
        let mut issuers = vec![config.publishable_key.frontend_api().to_owned()];
        issuers.extend(config.extra_issuers.iter().cloned());
        let options = VerifyOptions {
            authorized_parties: config.authorized_parties.clone(),
            issuers,
            audience: config.audience.clone(),
            clock_skew_ms: millis(config.clock_skew),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                api,
                options,
                keys,
            }),
        })
    }

    /// The instance's publishable key.
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// assert_eq!(clerk.publishable_key().frontend_api(), "clerk.example.test");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publishable_key(&self) -> &PublishableKey {
        &self.inner.config.publishable_key
    }

    /// The Backend API client, when a secret key is configured.
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// assert!(clerk.api().is_some(), "a secret key gives a Backend API client");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn api(&self) -> Option<&BackendApi> {
        self.inner.api.as_ref()
    }

    /// The configured time source's "now" in milliseconds.
    ///
    /// ```
    /// use concierge_sdk::{Clerk, Config};
    ///
    /// let clerk = Clerk::new(Config::new("pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA")?.secret_key("sk_live_…"))?;
    /// assert!(clerk.now_ms() > 1_700_000_000_000, "the system clock by default");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn now_ms(&self) -> i64 {
        self.inner.config.clock.now_ms()
    }

    /// The key for a token's `kid` when no network call is needed to know it: the PEM key,
    /// or the JWKS cache's while it is fresh. `None`: [`Clerk::key_for`] must fetch.
    pub(crate) fn key_now(&self, kid: Option<&str>) -> Option<VerificationKey> {
        match &self.inner.keys {
            Keys::Pem(key) => Some(key.clone()),
            Keys::Jwks(cache) => cache.cached_key(kid),
        }
    }

    /// The key for a `kid`: the PEM key (shared, not copied) or the JWKS's, fetched when the
    /// cache cannot answer.
    pub(crate) async fn key_for(&self, kid: Option<&str>) -> Result<VerificationKey, VerifyError> {
        match &self.inner.keys {
            Keys::Pem(key) => Ok(key.clone()),
            Keys::Jwks(cache) => cache.key_for(kid).await,
        }
    }

    /// Verifies a session token (wire §2.3). Networkless with a PEM key; otherwise the JWKS is
    /// fetched once, cached for the TTL, and refetched once when a `kid` is unknown.
    ///
    /// ```no_run
    /// # async fn run(clerk: concierge_sdk::Clerk, token: &str) {
    /// match clerk.verify_token(token).await {
    ///     Ok(claims) => println!("signed in as {}", claims.sub),
    ///     Err(error) => println!("refused: {}", error.reason()),
    /// }
    /// # }
    /// ```
    pub async fn verify_token(&self, token: &str) -> Result<SessionClaims, VerifyError> {
        let (claims, _) = self
            .verify_token_with_skew(token, self.inner.options.clock_skew_ms)
            .await?;
        Ok(claims)
    }

    /// Decodes and verifies a token; the claims and the token (owned) come back together.
    pub(crate) async fn verify_token_with_skew(
        &self,
        token: &str,
        clock_skew_ms: i64,
    ) -> Result<(SessionClaims, String), VerifyError> {
        self.verify_decoded(crate::jwt::decode(token)?, clock_skew_ms)
            .await
    }

    /// [`Clerk::verify_token`] for a token already decoded: the claims and the token move
    /// into the result.
    pub(crate) async fn verify_decoded(
        &self,
        jwt: crate::jwt::DecodedJwt,
        clock_skew_ms: i64,
    ) -> Result<(SessionClaims, String), VerifyError> {
        verify::check_token_type(&jwt)?;
        let kid = jwt.header.kid.as_str();
        let key = match self.key_now(kid) {
            Some(key) => key,
            None => self.key_for(kid).await?,
        };
        self.verify_with_key(jwt, &key, clock_skew_ms)
    }

    /// Signature and claim rules of a decoded token whose type was checked, with its key.
    pub(crate) fn verify_with_key(
        &self,
        jwt: crate::jwt::DecodedJwt,
        key: &VerificationKey,
        clock_skew_ms: i64,
    ) -> Result<(SessionClaims, String), VerifyError> {
        verify::check_signature(&jwt, key)?;
        verify::check_claim_rules(&jwt, &self.inner.options, clock_skew_ms, self.now_ms())?;
        verify::typed_claims(jwt)
    }

    /// Verifies a `__clerk_handshake` token and returns its `Set-Cookie` directives
    /// (wire §5.3: signature only, no time claims).
    ///
    /// ```
    /// # async fn run(clerk: concierge_sdk::Clerk, token: &str) {
    /// match clerk.verify_handshake_token(token).await {
    ///     Ok(directives) => directives.iter().for_each(|cookie| println!("Set-Cookie: {cookie}")),
    ///     Err(error) => println!("refused: {}", error.reason()),
    /// }
    /// # }
    /// ```
    pub async fn verify_handshake_token(&self, token: &str) -> Result<Vec<String>, VerifyError> {
        let jwt = crate::jwt::decode(token)?;
        let key = self.key_for(jwt.header.kid.as_str()).await?;
        verify::handshake_directives(&jwt, &key)
    }
}
