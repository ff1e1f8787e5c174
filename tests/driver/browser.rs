//! A real browser for the tests of server-rendered pages: Debian's headless chromium driven
//! through its chromedriver with the W3C WebDriver protocol (JSON over HTTP, spoken here with
//! `reqwest`). Each [`Browser`] starts a chromedriver of its own on a free loopback port and
//! one session in it; dropping it ends the session and stops the driver and the browser.
//!
//! The browser is installed on first use by `infra/scripts/browser.sh` (apt-get, as root),
//! so `make test` needs nothing else; a browser that cannot be installed or started fails
//! the test, it is not skipped.
//!
//! ```ignore
//! let browser = Browser::start().await?;
//! browser.goto(&format!("{base}/book")).await?;
//! browser.select("select[name=tz]", "Europe/Berlin").await?;
//! browser.submit("form#times button").await?;
//! assert_eq!(browser.text("#tz").await?, "Times in Europe/Berlin");
//! ```

use std::fmt;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::Result;

/// The script that installs the browser and prints its paths.
const INSTALLER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/scripts/browser.sh");
/// How W3C WebDriver names an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// What every session runs chromium with: no display, and as root in a container.
const CHROMIUM_ARGS: [&str; 5] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];
/// Seconds chromedriver gets to answer `/status` after its launch.
const DRIVER_READY_SECS: u64 = 20;
/// A free port can be taken between our check and chromedriver's bind; it then exits and
/// is launched again on a new port.
const DRIVER_START_ATTEMPTS: usize = 3;
/// Seconds a page gets to load before a navigation command fails.
const PAGE_LOAD_SECS: u64 = 30;
/// How long [`Browser::submit`] waits for the next page.
const NAVIGATION_SECS: u64 = 30;

/// What the browser was asked and what chromedriver answered: the HTTP status and the W3C
/// error code (`no such element`, `stale element reference`, ...) with its message. A failure
/// to reach chromedriver at all has no status and the code `transport`.
#[derive(Debug, Clone)]
pub struct WebDriverError {
    /// The command, e.g. `find css "select[name=tz]"` or `POST /session/…/url {"url":…}`.
    pub asked: String,
    pub status: Option<u16>,
    pub code: String,
    pub message: String,
}

impl fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(
                f,
                "{}: chromedriver answered {status} {}: {}",
                self.asked, self.code, self.message
            ),
            None => write!(
                f,
                "{}: chromedriver did not answer ({}): {}",
                self.asked, self.code, self.message
            ),
        }
    }
}

impl std::error::Error for WebDriverError {}

/// How a session is set up. [`Options::default`] is what [`Browser::start`] uses.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The `Accept-Language` the browser sends (chromium's `intl.accept_languages`), fixed
    /// so that a page's language does not follow the machine's locale.
    pub accept_language: &'a str,
    /// Arguments added to chromium's own (`--headless=new --no-sandbox --disable-gpu
    /// --disable-dev-shm-usage --window-size=1280,900`).
    pub extra_args: &'a [&'a str],
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            accept_language: "en-US,en",
            extra_args: &[],
        }
    }
}

/// Where `infra/scripts/browser.sh` says chromium and chromedriver are.
#[derive(Debug, Clone)]
struct Installed {
    chromium: String,
    chromedriver: String,
}

/// Runs the installer once per test process (the script itself serialises processes).
fn installed() -> Result<Installed> {
    static INSTALLED: OnceLock<std::result::Result<Installed, String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let out = Command::new("bash")
                .arg(INSTALLER)
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| format!("could not run {INSTALLER}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "{INSTALLER} failed ({}); its reason is printed above",
                    out.status
                ));
            }
            let stdout = String::from_utf8_lossy(&out.stdout);
            let path = |name: &str| {
                stdout
                    .lines()
                    .filter_map(|l| l.strip_prefix("export "))
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{INSTALLER} printed no {name}=: {stdout}"))
            };
            Ok(Installed {
                chromium: path("CHROMIUM")?,
                chromedriver: path("CHROMEDRIVER")?,
            })
        })
        .clone()
        .map_err(Into::into)
}

/// A free TCP port on the loopback interface (free when asked; see `DRIVER_START_ATTEMPTS`).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// One headless chromium session, with the chromedriver that runs it.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    /// False until the session is created, and again once [`Browser::close`] ended it.
    open: bool,
    /// The chromium version the session runs.
    version: String,
    dir: PathBuf,
    http: reqwest::Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        if self.open && std::thread::panicking() {
            // Where the page was and what it showed is usually the reason.
            let url = blocking_call(self.port, "GET", &format!("{path}/url"));
            let source = blocking_call(self.port, "GET", &format!("{path}/source"));
            let source: String = source.unwrap_or_default().chars().take(6000).collect();
            eprintln!(
                "---- the browser was at {} ----\n{source}",
                url.unwrap_or_default()
            );
            let log = std::fs::read_to_string(self.dir.join("chromedriver.log"));
            let log = log.unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("---- end of chromedriver's log ----\n{}", tail.join("\n"));
        }
        // Ending the session makes chromedriver close chromium.
        if self.open {
            let _ = blocking_call(self.port, "DELETE", &path);
        }
        // Whatever of chromium is left (the session could not be ended), then the driver.
        kill_descendants(self.driver.id());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Browser {
    /// Installs the browser when missing (see `infra/scripts/browser.sh`), starts a
    /// chromedriver of its own and opens a headless chromium session in it.
    pub async fn start() -> Result<Browser> {
        Browser::start_with(Options::default()).await
    }

    /// [`Browser::start`] with other [`Options`].
    pub async fn start_with(options: Options<'_>) -> Result<Browser> {
        let installed = installed()?;
        let dir = std::env::temp_dir().join(format!(
            "hiresync-browser-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        std::fs::create_dir_all(&dir)?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(PAGE_LOAD_SECS + 30))
            .build()?;
        let (driver, port) = match launch_driver(&installed.chromedriver, &dir, &http).await {
            Ok(started) => started,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            open: false,
            version: String::new(),
            dir,
            http,
        };
        let mut args: Vec<&str> = CHROMIUM_ARGS.to_vec();
        args.extend_from_slice(options.extra_args);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"implicit": 0, "pageLoad": PAGE_LOAD_SECS * 1000, "script": 10_000},
            "goog:chromeOptions": {
                "binary": installed.chromium,
                "args": args,
                "prefs": {"intl.accept_languages": options.accept_language},
            },
        }}});
        let created = match browser
            .call(reqwest::Method::POST, "/session", Some(capabilities))
            .await
        {
            Ok(created) => created,
            // Chromium's own complaint, when it would not start, is in the driver's log.
            Err(e) => {
                let log = std::fs::read_to_string(browser.dir.join("chromedriver.log"));
                return Err(format!(
                    "no browser session: {e}\nchromedriver's output:\n{}",
                    log.unwrap_or_default()
                )
                .into());
            }
        };
        browser.session = created["sessionId"]
            .as_str()
            .ok_or_else(|| format!("POST /session answered no sessionId: {created}"))?
            .to_owned();
        browser.open = true;
        browser.version = created["capabilities"]["browserVersion"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok(browser)
    }

    /// The chromium version the session runs, e.g. `148.0.7778.167`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await?;
        Ok(())
    }

    /// The URL of the page shown (after any redirect).
    pub async fn url(&self) -> Result<String> {
        string(self.command(reqwest::Method::GET, "/url", None).await?)
    }

    /// The page's `<title>`.
    pub async fn title(&self) -> Result<String> {
        string(self.command(reqwest::Method::GET, "/title", None).await?)
    }

    /// The page's current DOM, serialised.
    pub async fn source(&self) -> Result<String> {
        string(self.command(reqwest::Method::GET, "/source", None).await?)
    }

    /// The `lang` attribute of the page's `<html>`, if any.
    pub async fn lang(&self) -> Result<Option<String>> {
        self.find("html").await?.attr("lang").await
    }

    /// The first element matching the CSS selector; an error when none does.
    pub async fn find(&self, css: &str) -> Result<Element<'_>> {
        let found = self
            .command(reqwest::Method::POST, "/element", Some(by_css(css)))
            .await
            .map_err(|e| renamed(e, format!("find css {css:?}")))?;
        self.element(&found, format!("css {css:?}"))
    }

    /// Every element matching the CSS selector, in document order (none is no error).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let found = self
            .command(reqwest::Method::POST, "/elements", Some(by_css(css)))
            .await
            .map_err(|e| renamed(e, format!("find all css {css:?}")))?;
        self.elements(&found, &format!("css {css:?}"))
    }

    /// Waits up to `timeout` for an element matching the CSS selector to be in the page.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element<'_>> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.find(css).await {
                Ok(element) => return Ok(element),
                Err(e) if is_code(&*e, "no such element") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) if is_code(&*e, "no such element") => {
                    let url = self.url().await.unwrap_or_default();
                    return Err(format!(
                        "waited {timeout:?} for css {css:?} on {url}; still none: {e}"
                    )
                    .into());
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The visible text of the first element matching the selector.
    pub async fn text(&self, css: &str) -> Result<String> {
        self.find(css).await?.text().await
    }

    /// An attribute of the first element matching the selector, as written in the page.
    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        self.find(css).await?.attr(name).await
    }

    /// Clicks the first element matching the selector.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.find(css).await?.click().await
    }

    /// Replaces the content of the input matching the selector with `text`, typed as keys.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        self.find(css).await?.type_text(text).await
    }

    /// Chooses the `<option>` whose value is `value` in the `<select>` matching the selector.
    pub async fn select(&self, css: &str, value: &str) -> Result<()> {
        self.find(css).await?.select(value).await
    }

    /// Submits a form as a person does, by clicking its button (matched by the selector), and
    /// waits until the browser shows the next page (the answer, or where it redirected to).
    /// Fails when no new page came within 30 s, e.g. when the browser's own validation
    /// stopped the form.
    pub async fn submit(&self, button_css: &str) -> Result<()> {
        let before = self.find("html").await?;
        let button = self.find(button_css).await?;
        button.click().await?;
        let deadline = Instant::now() + Duration::from_secs(NAVIGATION_SECS);
        // The old document's root goes stale once the next page has replaced it.
        loop {
            match before.tag().await {
                Err(e) if is_gone(&*e) => break,
                // Asked while the old document is being replaced, chromedriver can pass on
                // an inspector error; asking again settles it.
                Err(e) if is_code(&*e, "unknown error") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e),
                Ok(_) if Instant::now() > deadline => {
                    let url = self.url().await.unwrap_or_default();
                    return Err(format!(
                        "clicked {button_css:?}, but no new page came within {NAVIGATION_SECS} s (still {url})"
                    )
                    .into());
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        // Navigation commands wait for the load; asking the URL waits for the new page's.
        self.url().await?;
        Ok(())
    }

    /// Ends the session now, reporting a failure ([`Drop`] does the same silently).
    pub async fn close(mut self) -> Result<()> {
        let path = format!("/session/{}", self.session);
        let ended = self.call(reqwest::Method::DELETE, &path, None).await;
        // Drop has nothing left to end; it still stops the driver.
        self.open = false;
        ended.map(|_| ())
    }

    fn element(&self, found: &Value, what: String) -> Result<Element<'_>> {
        let id = found[ELEMENT_KEY].as_str().ok_or_else(|| {
            format!("{what}: chromedriver answered no element reference: {found}")
        })?;
        Ok(Element {
            browser: self,
            id: id.to_owned(),
            what,
        })
    }

    fn elements(&self, found: &Value, what: &str) -> Result<Vec<Element<'_>>> {
        let list = found
            .as_array()
            .ok_or_else(|| format!("{what}: chromedriver answered no list: {found}"))?;
        list.iter()
            .enumerate()
            .map(|(i, f)| self.element(f, format!("{what} [{i}]")))
            .collect()
    }

    /// A command of this session: `path` is relative to `/session/{id}`.
    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body).await
    }

    /// One WebDriver exchange; answers the response's `value`.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        call(&self.http, self.port, method, path, body).await
    }
}

/// One element of the page, found by a selector. It goes stale when the page changes.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
    /// How it was found, for errors.
    what: String,
}

impl Element<'_> {
    /// Its visible text (as rendered: hidden parts left out, whitespace collapsed).
    pub async fn text(&self) -> Result<String> {
        string(self.get("text", "/text").await?)
    }

    /// An attribute as written in the page (`href="/files/a.ics"` reads `/files/a.ics`);
    /// `None` when absent.
    pub async fn attr(&self, name: &str) -> Result<Option<String>> {
        let value = self
            .get(
                &format!("attribute {name:?}"),
                &format!("/attribute/{name}"),
            )
            .await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// A DOM property (`href` reads the absolute URL, `value` what an input holds now).
    pub async fn property(&self, name: &str) -> Result<Value> {
        self.get(&format!("property {name:?}"), &format!("/property/{name}"))
            .await
    }

    /// Its tag name, lower case.
    pub async fn tag(&self) -> Result<String> {
        string(self.get("tag name", "/name").await?)
    }

    /// Whether it is selected (an `<option>`, a checkbox, a radio button).
    pub async fn is_selected(&self) -> Result<bool> {
        Ok(self.get("selected", "/selected").await?.as_bool() == Some(true))
    }

    /// Whether it is enabled (not `disabled`).
    pub async fn is_enabled(&self) -> Result<bool> {
        Ok(self.get("enabled", "/enabled").await?.as_bool() == Some(true))
    }

    /// Its role as assistive technology sees it (`combobox`, `button`, `link`, ...).
    pub async fn role(&self) -> Result<String> {
        string(self.get("computed role", "/computedrole").await?)
    }

    /// Its accessible name (from its `<label>`, `aria-label`, text, ...).
    pub async fn label(&self) -> Result<String> {
        string(self.get("computed label", "/computedlabel").await?)
    }

    /// The first element inside it matching the CSS selector.
    pub async fn find(&self, css: &str) -> Result<Element<'_>> {
        let found = self
            .post(&format!("find css {css:?}"), "/element", by_css(css))
            .await?;
        self.browser
            .element(&found, format!("{} > css {css:?}", self.what))
    }

    /// Every element inside it matching the CSS selector.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let found = self
            .post(&format!("find all css {css:?}"), "/elements", by_css(css))
            .await?;
        self.browser
            .elements(&found, &format!("{} > css {css:?}", self.what))
    }

    /// Clicks it (scrolled into view first, as a person would).
    pub async fn click(&self) -> Result<()> {
        self.post("click", "/click", json!({})).await?;
        Ok(())
    }

    /// Empties an input or textarea.
    pub async fn clear(&self) -> Result<()> {
        self.post("clear", "/clear", json!({})).await?;
        Ok(())
    }

    /// Replaces its content with `text`, typed key by key.
    pub async fn type_text(&self, text: &str) -> Result<()> {
        self.clear().await?;
        self.post(&format!("type {text:?}"), "/value", json!({ "text": text }))
            .await?;
        Ok(())
    }

    /// Chooses the option whose value is `value`, this being a `<select>`, as a person does
    /// (by clicking the option); checks that the select then holds it.
    pub async fn select(&self, value: &str) -> Result<()> {
        let mut values = Vec::new();
        let mut chosen = None;
        for option in self.find_all("option").await? {
            let v = option.property("value").await?;
            let v = v.as_str().unwrap_or_default().to_owned();
            if v == value && chosen.is_none() {
                chosen = Some(option);
            }
            values.push(v);
        }
        let Some(option) = chosen else {
            return Err(format!(
                "{}: no option with value {value:?}; its values: {values:?}",
                self.what
            )
            .into());
        };
        option.click().await?;
        let now = self.property("value").await?;
        if now.as_str() != Some(value) {
            return Err(format!(
                "{}: clicked the option {value:?}, but the select holds {now}",
                self.what
            )
            .into());
        }
        Ok(())
    }

    async fn get(&self, asked: &str, path: &str) -> Result<Value> {
        self.browser
            .command(
                reqwest::Method::GET,
                &format!("/element/{}{path}", self.id),
                None,
            )
            .await
            .map_err(|e| renamed(e, format!("{} of {}", asked, self.what)))
    }

    async fn post(&self, asked: &str, path: &str, body: Value) -> Result<Value> {
        self.browser
            .command(
                reqwest::Method::POST,
                &format!("/element/{}{path}", self.id),
                Some(body),
            )
            .await
            .map_err(|e| renamed(e, format!("{} on {}", asked, self.what)))
    }
}

/// Starts chromedriver on a free loopback port, its output to `dir/chromedriver.log`, and
/// waits until it says it is ready; launches it again on another port when it exits at once.
async fn launch_driver(
    chromedriver: &str,
    dir: &std::path::Path,
    http: &reqwest::Client,
) -> Result<(Child, u16)> {
    let log_path = dir.join("chromedriver.log");
    for attempt in 1..=DRIVER_START_ATTEMPTS {
        let port = free_port()?;
        let log = std::fs::File::create(&log_path)?;
        let mut child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("could not start {chromedriver}: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(DRIVER_READY_SECS);
        let exited = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            let status = call(http, port, reqwest::Method::GET, "/status", None).await;
            if status.is_ok_and(|s| s["ready"] == true) {
                return Ok((child, port));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!(
                    "{chromedriver} did not answer on 127.0.0.1:{port} within {DRIVER_READY_SECS} s; its output:\n{log}"
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if attempt == DRIVER_START_ATTEMPTS {
            return Err(format!(
                "{chromedriver} exited at start ({exited}) {attempt} times; its output:\n{log}"
            )
            .into());
        }
        eprintln!(
            "chromedriver exited at start ({exited}), trying another port; its output:\n{log}"
        );
    }
    Err("chromedriver did not start".into())
}

/// One WebDriver exchange with the chromedriver on `port`; answers the response's `value`,
/// or a [`WebDriverError`] with what was asked and what was answered.
async fn call(
    http: &reqwest::Client,
    port: u16,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value> {
    let asked = match &body {
        Some(b) => format!("{method} {path} {b}"),
        None => format!("{method} {path}"),
    };
    let transport = |code: &str, e: reqwest::Error| WebDriverError {
        asked: asked.clone(),
        status: None,
        code: code.to_owned(),
        message: e.to_string(),
    };
    let mut request = http.request(method.clone(), format!("http://127.0.0.1:{port}{path}"));
    if let Some(b) = &body {
        request = request.json(b);
    }
    let response = request
        .send()
        .await
        .map_err(|e| transport("transport", e))?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| transport("transport", e))?;
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let value = answer["value"].clone();
    if (200..300).contains(&status) && !answer.is_null() {
        return Ok(value);
    }
    Err(WebDriverError {
        asked,
        status: Some(status),
        code: value["error"]
            .as_str()
            .unwrap_or("unreadable answer")
            .to_owned(),
        message: match value["message"].as_str() {
            Some(m) => m.to_owned(),
            None => text,
        },
    }
    .into())
}

/// The body of a CSS-selector search.
fn by_css(css: &str) -> Value {
    json!({"using": "css selector", "value": css})
}

/// The value as a string; an error names what it was instead.
fn string(value: Value) -> Result<String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(format!("expected a string from chromedriver, got {other}").into()),
    }
}

/// True when `e` is a [`WebDriverError`] with the W3C error code `code`.
fn is_code(e: &(dyn std::error::Error + Send + Sync + 'static), code: &str) -> bool {
    e.downcast_ref::<WebDriverError>()
        .is_some_and(|w| w.code == code)
}

/// True when `e` says the element's document is no longer the page's: `stale element
/// reference` as the standard has it, `no such element` from older chromedrivers, or the
/// inspector's "does not belong to the document" caught mid-navigation.
fn is_gone(e: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    e.downcast_ref::<WebDriverError>().is_some_and(|w| {
        matches!(
            w.code.as_str(),
            "stale element reference" | "no such element"
        ) || (w.code == "unknown error" && w.message.contains("does not belong to the document"))
    })
}

/// The error with `asked` replaced by a description a test reads more easily, keeping the
/// raw request after it.
fn renamed(
    e: Box<dyn std::error::Error + Send + Sync>,
    asked: String,
) -> Box<dyn std::error::Error + Send + Sync> {
    match e.downcast::<WebDriverError>() {
        Ok(mut w) => {
            w.asked = format!("{asked} ({})", w.asked);
            w as Box<dyn std::error::Error + Send + Sync>
        }
        Err(other) => other,
    }
}

/// A WebDriver exchange without async, for [`Drop`]: plain HTTP/1.1 over a socket with
/// short time-outs. Answers the response's `value` when it is a string.
fn blocking_call(port: u16, method: &str, path: &str) -> Option<String> {
    let mut socket = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok()?;
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    socket
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    write!(
        socket,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    // Read up to the end of the body: chromedriver keeps the connection open regardless.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    let body = loop {
        let n = socket.read(&mut chunk).ok()?;
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            if n == 0 || length.is_some_and(|l| body.len() >= l) {
                break body.to_owned();
            }
        }
        if n == 0 {
            return None;
        }
    };
    let value: Value = serde_json::from_str(&body).ok()?;
    Some(value["value"].as_str().unwrap_or_default().to_owned())
}

/// Kills (SIGKILL) every process below `pid`, read from /proc: the chromium processes of a
/// session that could not be ended. Only ever our own driver's children.
fn kill_descendants(pid: u32) {
    let parent_of = |p: &str| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        // pid (comm) state ppid ...: comm may hold spaces and parentheses.
        let after = &stat[stat.rfind(')')? + 1..];
        after.split_whitespace().nth(1)?.parse().ok()
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some((name.parse().ok()?, parent_of(&name)?))
        })
        .collect();
    let mut below = vec![pid];
    let mut i = 0;
    while i < below.len() {
        let p = below[i];
        below.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    let children: Vec<String> = below[1..].iter().map(u32::to_string).collect();
    if !children.is_empty() {
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(&children)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
