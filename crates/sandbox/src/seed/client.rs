//! An HTTP client for the AWS SDK that reaches the sandbox without a network: each request the
//! SDK builds (signed, encoded in its service's protocol) goes through the sandbox's request
//! path ([`crate::http::in_process`]) and the answer comes back as the SDK's HTTP response.
//!
//! Written by hand because it is the sandbox's own entry point; the SDK's `HttpClient` trait is
//! the documented way to give it a transport.

use std::fmt;
use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body_util::BodyExt;

use crate::http::Seeding;
use crate::Sandbox;

/// The SDK's transport into `sandbox`, every call made as the seed ([`Seeding`]).
#[derive(Clone)]
pub(super) struct InProcess {
    pub sandbox: Arc<Sandbox>,
    pub seeding: Seeding,
}

impl fmt::Debug for InProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InProcess")
    }
}

impl HttpConnector for InProcess {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (sandbox, seeding) = (self.sandbox.clone(), self.seeding.clone());
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let (parts, body) = request.into_parts();
            let body = match body.bytes() {
                Some(b) => Bytes::copy_from_slice(b),
                None => body.collect().await.map_err(ConnectorError::io)?.to_bytes(),
            };
            let answer =
                crate::http::in_process(sandbox, http::Request::from_parts(parts, body), seeding)
                    .await;
            let (parts, body) = answer.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|e| ConnectorError::io(e.into()))?;
            HttpResponse::try_from(http::Response::from_parts(parts, SdkBody::from(body)))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

impl HttpClient for InProcess {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}
