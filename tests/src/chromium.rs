//! A real browser for the end-to-end tests: Debian's headless Chromium driven through `chromedriver`
//! (WebDriver) with [fantoccini], in a profile of its own that is removed when the test ends. It follows
//! redirects, keeps cookies, sends `Origin` and `Sec-Fetch-*` headers and runs the pages' scripts as any
//! user's browser does, which the HTTP [`Browser`](crate::Browser) of the other tests only imitates.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};

/// How long a page may take to show what a step waits for.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// The flags Chromium needs in a container without a display, sandbox or network beyond loopback.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1100,760",
];

/// A headless Chromium and the `chromedriver` that drives it.
#[derive(Debug)]
pub struct Chromium {
    client: Client,
    driver: Child,
    profile: PathBuf,
    screenshots: PathBuf,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // `chromedriver` ends the browser it started when it exits (kill_on_drop).
        let _ = self.driver.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Chromium {
    /// Starts `chromedriver` on a free loopback port and a browser with a fresh profile. Screenshots go to
    /// `screenshots` (created if missing).
    pub async fn start(screenshots: &Path) -> Chromium {
        let mut problems = Vec::new();
        // A free port is not a reserved one: a driver that cannot bind it is tried again on another.
        for _ in 0..3 {
            match Self::launch(screenshots).await {
                Ok(browser) => return browser,
                Err(problem) => problems.push(problem),
            }
        }
        panic!("Chromium could not be started (is `chromium-driver` installed? `.ci/run` installs it): {problems:?}")
    }

    async fn launch(screenshots: &Path) -> Result<Chromium, String> {
        let port = free_port();
        let profile = std::env::temp_dir().join(format!("msal-chromium-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&profile).map_err(|error| format!("profile folder: {error}"))?;
        std::fs::create_dir_all(screenshots).map_err(|error| format!("screenshots folder: {error}"))?;
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("chromedriver: {error}"))?;

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|flag| (*flag).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium_binary(), "args": args },
        });
        let capabilities = capabilities.as_object().cloned().expect("an object");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connecting = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match connecting {
                Ok(client) => break client,
                Err(error) => {
                    if let Ok(Some(status)) = driver.try_wait() {
                        return Err(format!("chromedriver exited ({status}) on port {port}"));
                    }
                    if tokio::time::Instant::now() >= deadline {
                        let _ = driver.start_kill();
                        return Err(format!("no browser session on port {port}: {error}"));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Ok(Chromium { client, driver, profile, screenshots: screenshots.to_owned() })
    }

    /// Opens `url` and waits for the page to load.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|error| panic!("opening {url}: {error}"));
    }

    /// The address of the page shown.
    pub async fn url(&self) -> url::Url {
        self.client.current_url().await.expect("the current URL")
    }

    /// The element `css` selects, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(STEP_TIMEOUT).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => {
                panic!("no `{css}` on {} within {STEP_TIMEOUT:?}: {error}\n{}", self.url().await, self.text().await)
            }
        }
    }

    /// Whether the page shows an element `css` selects, without waiting.
    pub async fn shows(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Waits until `check` holds for the page shown, polling it.
    pub async fn wait_until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        while !check(self.client.clone()).await {
            if tokio::time::Instant::now() >= deadline {
                panic!("waited {STEP_TIMEOUT:?} for {what} on {}:\n{}", self.url().await, self.text().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's address starts with `prefix` (after redirects and form posts).
    pub async fn wait_for_url(&self, prefix: &str) {
        self.wait_until(&format!("an address starting with {prefix}"), |client| async move {
            client.current_url().await.is_ok_and(|url| url.as_str().starts_with(prefix))
        })
        .await;
    }

    /// Clicks the element `css` selects.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|error| panic!("clicking `{css}`: {error}"));
    }

    /// Types `text` into the field `css` selects, after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap_or_else(|error| panic!("clearing `{css}`: {error}"));
        field.send_keys(text).await.unwrap_or_else(|error| panic!("typing into `{css}`: {error}"));
    }

    /// The text of the element `css` selects.
    pub async fn text_of(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_else(|error| panic!("text of `{css}`: {error}"))
    }

    /// The page's visible text (for failure messages).
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Saves the page as `<screenshots>/<name>.png` and returns the file's path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap_or_else(|error| panic!("screenshot {name}: {error}"));
        let path = self.screenshots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        path
    }

    /// Ends the browser session (the driver and the profile go when this is dropped).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// Debian installs Chromium as `/usr/bin/chromium`; `CHROMIUM` names another.
fn chromium_binary() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}
