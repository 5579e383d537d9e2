//! What every handler shares: the settings, the hosted domains' clients (by type, without this
//! module knowing any of them) and their watchers, the metrics, and the shutdown signal.
//!
//! A host registers each domain's client once:
//!
//! ```ignore
//! let state = AppState::builder(&temporal, config).with(provision_client).with(application_client).build();
//! ```
//!
//! and a domain's handlers read theirs back with `state.domain::<ProvisionClient>()?` (and a
//! watcher hub with `state.hub::<RunWatch>()?`).

use std::any::{type_name, Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use temporalio_client::{Client, NamespacedClient as _};

use crate::error::ApiError;
use crate::hub::{Hub, Watch, Watched};
use crate::metrics::ApiMetrics;
use crate::AppConfig;

/// A domain client the API can host. Registering it ([`AppStateBuilder::with`]) makes it
/// available to the domain's handlers and lets it set up what else they share (watchers).
pub trait Hosted: Send + Sync + 'static {
    /// Sets up what the domain's routes share besides the client (a watcher hub, say). Called
    /// once, when the state is built.
    fn wire(&self, _wiring: &mut Wiring<'_>) {}
}

/// What a domain may set up while its client is registered.
pub struct Wiring<'a> {
    config: &'a AppConfig,
    domains: &'a mut HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    watched: &'a mut Vec<Arc<dyn Watched>>,
}

impl Wiring<'_> {
    /// Starts a hub of per-item watchers reading items through `watch` (one hub per `W`), found
    /// later with [`AppState::hub`].
    pub(crate) fn hub<W: Watch>(&mut self, watch: W) {
        let hub = Arc::new(Hub::new(watch, self.config.watch_interval));
        self.watched.push(Arc::clone(&hub) as Arc<dyn Watched>);
        self.domains.insert(TypeId::of::<Arc<Hub<W>>>(), Box::new(hub));
    }

    /// Shares `value` (one per type) with the domain's handlers, found later with
    /// [`AppState::domain`].
    pub(crate) fn share<T: Any + Send + Sync>(&mut self, value: T) {
        self.domains.insert(TypeId::of::<T>(), Box::new(value));
    }
}

/// Builds an [`AppState`]: [`AppState::builder`], then one [`with`](Self::with) per domain.
pub struct AppStateBuilder {
    config: AppConfig,
    namespace: String,
    domains: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    watched: Vec<Arc<dyn Watched>>,
}

impl AppStateBuilder {
    /// Hosts the domain `client` belongs to.
    pub fn with<C: Hosted>(mut self, client: C) -> Self {
        let mut wiring = Wiring { config: &self.config, domains: &mut self.domains, watched: &mut self.watched };
        client.wire(&mut wiring);
        self.domains.insert(TypeId::of::<C>(), Box::new(client));
        self
    }

    /// The state, ready to serve.
    pub fn build(self) -> AppState {
        let (closing, _) = tokio::sync::watch::channel(false);
        AppState {
            inner: Arc::new(Inner {
                config: self.config,
                namespace: self.namespace,
                domains: self.domains,
                watched: self.watched,
                metrics: ApiMetrics::new(),
                sessions: crate::auth::Sessions::default(),
                closing,
            }),
        }
    }
}

/// What every handler shares: the settings, the domains' clients and watchers, the metrics.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: AppConfig,
    /// The Temporal namespace the domains' clients use (shown by `/api/info`).
    namespace: String,
    /// Domain clients and hubs, by type.
    domains: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    watched: Vec<Arc<dyn Watched>>,
    metrics: ApiMetrics,
    /// Signed-out cookies and recent failed sign-ins.
    sessions: crate::auth::Sessions,
    /// Becomes `true` when the server shuts down, so open event streams end.
    closing: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// A builder for the API over `temporal` (the connection the domain clients use) with these
    /// settings and no domain yet.
    pub fn builder(temporal: &Client, config: AppConfig) -> AppStateBuilder {
        AppStateBuilder { config, namespace: temporal.namespace(), domains: HashMap::new(), watched: Vec::new() }
    }

    /// How many items (runs, …) have a live watcher now, over every domain's hub (one per item,
    /// however many subscribers).
    pub fn active_watchers(&self) -> usize {
        self.inner.watched.iter().map(|hub| hub.active()).sum()
    }

    /// The registered `T` (a domain client, or what its [`Hosted::wire`] set up). A 500 when the
    /// host did not register it: its routes are served, its domain is not.
    pub(crate) fn domain<T: Any>(&self) -> Result<&T, ApiError> {
        self.inner
            .domains
            .get(&TypeId::of::<T>())
            .and_then(|entry| entry.downcast_ref::<T>())
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("{} is not registered with this API", type_name::<T>())))
    }

    /// The hub of watchers reading items through `W`.
    pub(crate) fn hub<W: Watch>(&self) -> Result<&Arc<Hub<W>>, ApiError> {
        self.domain::<Arc<Hub<W>>>()
    }

    pub(crate) fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    pub(crate) fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    pub(crate) fn sessions(&self) -> &crate::auth::Sessions {
        &self.inner.sessions
    }

    pub(crate) fn metrics(&self) -> &ApiMetrics {
        &self.inner.metrics
    }

    /// Marks the server as shutting down: open event streams end.
    pub(crate) fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Resolves when the server starts shutting down.
    pub(crate) fn closing(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.inner.closing.subscribe();
        async move {
            let _ = closing.wait_for(|c| *c).await;
        }
    }
}
