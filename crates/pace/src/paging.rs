//! Every page of a listing, each page one call through the [`Pace`]: its rate limit, its bound
//! on calls in flight and its retries.
//!
//! Pages come from the SDK's paginator where the SDK has one
//! (`client.list_keys().set_marker(token).into_paginator().send()`), or from [`one_page`]
//! around a single request where it has not. A page that fails is asked for again from the
//! token of the last page that arrived, so a retry never repeats or skips a page.

use std::error::Error as StdError;
use std::future::Future;
use std::ops::ControlFlow;

use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use kms_workshop_aws_errors::AwsFailure;

use crate::{Pace, Retry};

/// The answer to one page request.
pub type PageResult<P, E> = Result<P, SdkError<E, HttpResponse>>;

/// Where a listing's pages come from, one request per page.
pub trait PageSource: Send {
    type Page: Send;
    type Error: ProvideErrorMetadata + StdError + Send + 'static;
    /// The source gives one page only: the next page needs a new source from its token.
    const ONE_PAGE: bool;

    /// The next page, or `None` when the source has no more.
    fn next_page(
        &mut self,
    ) -> impl Future<Output = Option<PageResult<Self::Page, Self::Error>>> + Send;
}

/// The SDK's paginators.
impl<P, E> PageSource for PaginationStream<PageResult<P, E>>
where
    P: Send,
    E: ProvideErrorMetadata + StdError + Send + 'static,
{
    type Page = P;
    type Error = E;
    const ONE_PAGE: bool = false;

    fn next_page(&mut self) -> impl Future<Output = Option<PageResult<P, E>>> + Send {
        self.next()
    }
}

/// One page from one request, for listings the SDK has no paginator for.
pub struct OnePage<F>(Option<F>);

/// The page `request` (one sent SDK request) answers.
pub fn one_page<F>(request: F) -> OnePage<F> {
    OnePage(Some(request))
}

impl<F, P, E> PageSource for OnePage<F>
where
    F: Future<Output = PageResult<P, E>> + Send,
    P: Send,
    E: ProvideErrorMetadata + StdError + Send + 'static,
{
    type Page = P;
    type Error = E;
    const ONE_PAGE: bool = true;

    fn next_page(&mut self) -> impl Future<Output = Option<PageResult<P, E>>> + Send {
        let request = self.0.take();
        async move {
            match request {
                Some(r) => Some(r.await),
                None => None,
            }
        }
    }
}

impl Pace {
    /// Every page of the listing `api`, under the pace's own retry policy. `from(token)` starts
    /// the listing at `token` (`None`: the first page); `next_token(page)` is where the page
    /// after `page` starts (`None` or empty: `page` was the last).
    pub async fn pages<S, F>(
        &self,
        api: &'static str,
        from: F,
        next_token: impl Fn(&S::Page) -> Option<&str>,
    ) -> Result<Vec<S::Page>, AwsFailure>
    where
        S: PageSource,
        F: FnMut(Option<String>) -> S,
    {
        let mut out = Vec::new();
        self.each_page(api, self.retry(), from, next_token, |page| {
            out.push(page);
            ControlFlow::Continue(())
        })
        .await?;
        Ok(out)
    }

    /// [`Pace::pages`] handing each page to `visit` as it arrives, which may end the listing
    /// early; each page request is retried as `retry` says.
    pub async fn each_page<S, F>(
        &self,
        api: &'static str,
        retry: Retry,
        mut from: F,
        next_token: impl Fn(&S::Page) -> Option<&str>,
        mut visit: impl FnMut(S::Page) -> ControlFlow<()>,
    ) -> Result<(), AwsFailure>
    where
        S: PageSource,
        F: FnMut(Option<String>) -> S,
    {
        // The token the next page is asked for with, and the source that will ask (a failed
        // attempt drops its source: the retry starts a new one at `at`).
        let mut at: Option<String> = None;
        let mut source: Option<S> = None;
        loop {
            let (kept, page) = self
                .call_with(api, retry, || {
                    let mut s = source.take().unwrap_or_else(|| from(at.clone()));
                    async move {
                        match s.next_page().await {
                            None => Ok((s, None)),
                            Some(Ok(page)) => Ok((s, Some(page))),
                            Some(Err(e)) => Err(AwsFailure::from_sdk(api, e)),
                        }
                    }
                })
                .await?;
            let Some(page) = page else { return Ok(()) };
            let next = next_token(&page)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            // The same token again would list the same page forever.
            let more = next.is_some() && next != at;
            at = next;
            if visit(page).is_break() || !more {
                return Ok(());
            }
            if !S::ONE_PAGE {
                source = Some(kept);
            }
        }
    }
}
