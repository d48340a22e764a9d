use super::*;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU32, Ordering};

fn failure(code: &str, class: ErrorClass) -> AwsFailure {
    AwsFailure::new("Op", code, "injected", class)
}

/// A call that fails with `class` `failures` times, then answers how many attempts it took;
/// and the counter of attempts.
async fn attempts_until_ok(
    pace: &Pace,
    retry: Retry,
    failures: u32,
    class: ErrorClass,
) -> (Result<u32, AwsFailure>, u32) {
    let n = AtomicU32::new(0);
    let r = pace
        .call_with("Op", retry, || async {
            let i = n.fetch_add(1, Ordering::SeqCst) + 1;
            if i <= failures {
                Err(failure("Injected", class))
            } else {
                Ok(i)
            }
        })
        .await;
    (r, n.load(Ordering::SeqCst))
}

#[tokio::test]
async fn retries_throttling_but_not_access_denied() {
    let pace = Pace::new(2, 1000.0, 1000.0);
    let n = AtomicU32::new(0);
    let ok: Result<u32, _> = pace
        .call("Op", || async {
            let i = n.fetch_add(1, Ordering::SeqCst);
            if i < 3 {
                Err(failure("ThrottlingException", ErrorClass::Throttling))
            } else {
                Ok(i)
            }
        })
        .await;
    assert_eq!(ok.expect("succeeds after retries"), 3);

    let m = AtomicU32::new(0);
    let denied: Result<(), _> = pace
        .call("Op", || async {
            m.fetch_add(1, Ordering::SeqCst);
            Err(failure("AccessDenied", ErrorClass::AccessDenied))
        })
        .await;
    assert_eq!(denied.expect_err("denied").class, ErrorClass::AccessDenied);
    assert_eq!(
        m.load(Ordering::SeqCst),
        1,
        "access denied is never retried"
    );
}

#[tokio::test]
async fn not_found_and_conflicts_come_back_at_once_and_5xx_is_retried() {
    let pace = Pace::new(2, 1000.0, 1000.0);
    for class in [
        ErrorClass::NotFound,
        ErrorClass::Conflict,
        ErrorClass::InvalidInput,
    ] {
        let (r, n) = attempts_until_ok(&pace, pace.retry(), 1, class).await;
        assert_eq!(r.expect_err("not retried").class, class);
        assert_eq!(n, 1, "{class} is not retried");
    }
    let (r, n) = attempts_until_ok(&pace, pace.retry(), 2, ErrorClass::Transient).await;
    assert_eq!(r.expect("5xx is retried"), 3);
    assert_eq!(n, 3);
}

#[tokio::test]
async fn the_attempt_limit_holds() {
    let pace = Pace::new(2, 1000.0, 1000.0);
    let (r, n) = attempts_until_ok(&pace, Retry::failures(4), 100, ErrorClass::Throttling).await;
    assert_eq!(r.expect_err("gives up").class, ErrorClass::Throttling);
    assert_eq!(n, 4);
    let (_, n) = attempts_until_ok(&pace, Retry::ONCE, 100, ErrorClass::Throttling).await;
    assert_eq!(n, 1, "one attempt");
}

#[tokio::test]
async fn answers_are_retried_but_an_unreachable_endpoint_is_not() {
    let pace = Pace::new(1, 1000.0, 1000.0);
    let (r, n) = attempts_until_ok(&pace, Retry::answers(8), 1, ErrorClass::Network).await;
    assert_eq!(r.expect_err("network").class, ErrorClass::Network);
    assert_eq!(n, 1);
    let (r, _) = attempts_until_ok(&pace, Retry::answers(8), 3, ErrorClass::Transient).await;
    assert_eq!(r.expect("retried"), 4);
}

#[test]
fn backoff_stays_under_its_cap() {
    let pace = Pace::new(1, 1.0, 1.0);
    for attempt in 1..40 {
        let d = pace.backoff(attempt, Duration::from_millis(100), Duration::from_secs(5));
        assert!(d <= Duration::from_secs(5), "{d:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn calls_of_one_api_are_spaced_and_other_apis_are_not_held_up() {
    let spacing = Duration::from_millis(550);
    let pace = Pace::with_limits(Limits {
        spacing,
        ..Limits::default()
    });
    let t0 = Instant::now();
    for _ in 0..5 {
        pace.ready("LookupEvents").await;
    }
    // Four gaps on the paused clock.
    assert_eq!(Instant::now() - t0, spacing * 4);
    let t1 = Instant::now();
    pace.ready("DescribeTrails").await;
    assert_eq!(Instant::now(), t1, "another API has its own slots");
}

/// Pages of a listing: tokens "1", "2", then the last page; `fail_at` answers 5xx once when
/// asked for that token.
struct Listing {
    asked: std::sync::Mutex<Vec<Option<String>>>,
    fail_at: Option<&'static str>,
    failed: std::sync::atomic::AtomicBool,
}

struct Page {
    items: Vec<u32>,
    next: Option<String>,
}

#[derive(Debug)]
struct PageError;

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InternalFailure")
    }
}

impl StdError for PageError {}

impl ProvideErrorMetadata for PageError {
    fn meta(&self) -> &aws_smithy_types::error::ErrorMetadata {
        static META: std::sync::OnceLock<aws_smithy_types::error::ErrorMetadata> =
            std::sync::OnceLock::new();
        META.get_or_init(|| {
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("InternalFailure")
                .build()
        })
    }
}

impl Listing {
    fn new(fail_at: Option<&'static str>) -> Listing {
        Listing {
            asked: Default::default(),
            fail_at,
            failed: Default::default(),
        }
    }

    async fn ask(&self, token: Option<String>) -> paging::PageResult<Page, PageError> {
        if let Ok(mut asked) = self.asked.lock() {
            asked.push(token.clone());
        }
        if self.fail_at.is_some()
            && token.as_deref() == self.fail_at
            && !self.failed.swap(true, Ordering::SeqCst)
        {
            let raw = HttpResponse::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(500).expect("status"),
                aws_smithy_types::body::SdkBody::empty(),
            );
            return Err(SdkError::service_error(PageError, raw));
        }
        let n: u32 = token.as_deref().map_or(0, |t| t.parse().unwrap_or(0));
        Ok(Page {
            items: vec![n * 10, n * 10 + 1],
            next: (n < 2).then(|| (n + 1).to_string()),
        })
    }

    fn asked(&self) -> Vec<Option<String>> {
        self.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

fn tok(t: &str) -> Option<String> {
    Some(t.to_string())
}

#[tokio::test]
async fn every_page_is_listed_and_a_failed_page_is_asked_again_from_its_token() {
    let pace = Pace::new(2, 1000.0, 1000.0);
    let listing = Listing::new(Some("1"));
    let pages = pace
        .pages(
            "ListThings",
            |t| one_page(listing.ask(t)),
            |p: &Page| p.next.as_deref(),
        )
        .await
        .expect("retried");
    let items: Vec<u32> = pages.iter().flat_map(|p| p.items.clone()).collect();
    assert_eq!(items, [0, 1, 10, 11, 20, 21]);
    assert_eq!(listing.asked(), [None, tok("1"), tok("1"), tok("2")]);
}

#[tokio::test]
async fn a_listing_stops_when_its_visitor_says_so() {
    let pace = Pace::new(2, 1000.0, 1000.0);
    let listing = Listing::new(None);
    let mut seen = 0;
    pace.each_page(
        "ListThings",
        Retry::ONCE,
        |t| one_page(listing.ask(t)),
        |p: &Page| p.next.as_deref(),
        |_| {
            seen += 1;
            ControlFlow::Break(())
        },
    )
    .await
    .expect("listed");
    assert_eq!(seen, 1);
    assert_eq!(listing.asked(), [None]);
}

#[tokio::test]
async fn a_page_that_fails_without_retries_ends_the_listing() {
    let pace = Pace::new(2, 1000.0, 1000.0);
    let listing = Listing::new(Some("2"));
    let err = pace
        .each_page(
            "ListThings",
            Retry::ONCE,
            |t| one_page(listing.ask(t)),
            |p: &Page| p.next.as_deref(),
            |_| ControlFlow::Continue(()),
        )
        .await
        .expect_err("the 5xx comes back");
    assert_eq!(err.code, "InternalFailure");
    assert_eq!(err.operation, "ListThings");
    assert_eq!(err.class, ErrorClass::Transient);
}
