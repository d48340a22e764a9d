//! A headless Chromium driven through its WebDriver (chromedriver, fantoccini), for the tests
//! that use the sandbox's web console as a person does: starting it, signing in with a
//! one-time link, clicking through pages, reading them, and saving screenshots under
//! `target/console-screenshots/`.
//!
//! # Panics
//! The helpers panic when the browser does not do what the test needs: a test cannot go on.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

/// Open a sign-in link and press its "Sign in" button, as a learner does; waits for the
/// console home.
pub async fn sign_in(b: &Browser, url: &str) {
    b.client.goto(url).await.expect("the link opens");
    b.client
        .find(fantoccini::Locator::Id("sign-in"))
        .await
        .expect("the Sign in button")
        .click()
        .await
        .expect("clicked");
    b.client
        .wait()
        .for_url(&url::Url::parse(&format!("{}/console/", origin(url))).expect("a URL"))
        .await
        .expect("the console home opens");
}

/// `http://host:port` of a URL.
pub fn origin(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let host = rest.split('/').next().unwrap_or(rest);
    format!("http://{host}")
}

/// A headless Chromium and the chromedriver that drives it; both stop when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

impl Browser {
    /// Start chromedriver and a headless Chromium with a fresh profile.
    ///
    /// # Panics
    /// When chromedriver or Chromium is not installed: `./scripts/test` installs both (Debian's
    /// `chromium` and `chromium-driver`).
    pub async fn start() -> Browser {
        let driver_bin = which(&["chromedriver"]).expect(
            "chromedriver not found: run the tests with ./scripts/test, which installs Debian's \
             chromium and chromium-driver",
        );
        let chromium = which(&["chromium", "chromium-browser", "google-chrome"])
            .expect("chromium not found: ./scripts/test installs Debian's chromium");
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile directory");
        // The flags keep Chromium off the network (this machine's is closed) and headless.
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("a TLS configuration")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("chromedriver at {url} did not start a session: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Save a screenshot of the page as `target/console-screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("the screenshot directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is written");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// `target/console-screenshots` of this workspace (or of `CARGO_TARGET_DIR`).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("console-screenshots")
}

/// The text of the first element `css` finds.
pub async fn text(b: &Browser, css: &str) -> String {
    b.client
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .text()
        .await
        .expect("its text")
}

/// Click what `at` finds and wait until the browser has left the page (the old page's root
/// element goes stale), so that what is read next is the new page.
pub async fn click_through(b: &Browser, at: fantoccini::Locator<'_>) {
    let old = b
        .client
        .find(fantoccini::Locator::Css("html"))
        .await
        .expect("a page");
    b.client
        .find(at)
        .await
        .unwrap_or_else(|e| panic!("nothing to click at {at:?}: {e}"))
        .click()
        .await
        .expect("clicked");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while old.tag_name().await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the click on {at:?} went nowhere"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Type `value` into the field with id `id` (emptied first).
pub async fn fill(b: &Browser, id: &str, value: &str) {
    let field = b
        .client
        .find(fantoccini::Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
    field.clear().await.expect("cleared");
    field.send_keys(value).await.expect("typed");
}
