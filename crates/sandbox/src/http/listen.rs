//! Binding the listener and running the server with its periodic tick.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{Sandbox, SandboxError};

/// A sandbox listening for requests.
pub struct Running {
    pub addr: SocketAddr,
    pub sandbox: Arc<Sandbox>,
    shutdown: Option<oneshot::Sender<()>>,
    join: JoinHandle<()>,
}

impl Running {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting requests, finish the ones in flight, and flush state to disk.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.join).await;
        self.sandbox.sync();
    }

    /// Wait until the server stops (it runs until shut down).
    pub async fn wait(self) {
        let _ = self.join.await;
    }
}

/// Listen on `addr` and serve `sandbox` until [`Running::shutdown`].
pub async fn serve(sandbox: Arc<Sandbox>, addr: SocketAddr) -> Result<Running, SandboxError> {
    serve_with(sandbox, addr, axum::Router::new()).await
}

/// [`serve`], with `pages` served beside the control API (the web console, which lives in a
/// crate of its own above this one, is mounted so). They pass the same `Host` and `Origin`
/// checks as every other request.
pub async fn serve_with(
    sandbox: Arc<Sandbox>,
    addr: SocketAddr,
    pages: axum::Router<Arc<Sandbox>>,
) -> Result<Running, SandboxError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    sandbox.set_endpoint(format!("http://{addr}"));
    let app = super::admin::routes()
        .merge(pages)
        .fallback(super::aws::handle)
        .layer(axum::middleware::from_fn_with_state(
            sandbox.clone(),
            super::guard::front,
        ))
        .with_state(sandbox.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let ticker = sandbox.clone();
    let join = tokio::spawn(async move {
        // Periodic work on the sandbox clock (expiring imported key material) and fsync.
        let tick = tokio::spawn(async move {
            let mut iv = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                iv.tick().await;
                ticker.tick();
                ticker.sync();
            }
        });
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
        tick.abort();
    });
    tracing::info!(endpoint = %format!("http://{addr}"), "sandbox listening");
    Ok(Running {
        addr,
        sandbox,
        shutdown: Some(tx),
        join,
    })
}
