//! The dashboard at `/_mock/` in a real browser: headless Chromium driven through ChromeDriver
//! (Debian's `chromium` and `chromium-driver`, which `cargo xtask ci` installs). A webhook made
//! through the API shows; the page's form triggers an event; the attempt appears, opens to its
//! headers and body, and is resent as attempt 2; a body holding markup shows as text and runs
//! nothing. The test fails when Chromium is missing; it never skips.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Api, SECRET, SPACE, fast_mock, start_receiver, valid_body};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The key W3C WebDriver names an element reference by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session through a ChromeDriver of its own (the W3C WebDriver protocol,
/// spoken over HTTP on 127.0.0.1).
struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    async fn start() -> Browser {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: install Debian's chromium and chromium-driver (`cargo xtask \
                 ci` does)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "ChromeDriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = TempDir(std::env::temp_dir().join(format!("monime-chromium-{port}")));
        // Root needs --no-sandbox; the rest keeps Chromium off the network but for the page.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
            &format!("--user-data-dir={}", profile.0.display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        }}});
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        Browser {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            _profile: profile,
        }
    }

    /// One WebDriver command; `Err` with WebDriver's error when it fails.
    async fn command(&self, post: Option<Value>, path: &str) -> Result<Value, String> {
        let url = format!("{}{path}", self.session);
        let request = match post {
            Some(body) => self.http.post(url).json(&body),
            None => self.http.get(url),
        };
        let answer: Value = request
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match answer["value"].get("error") {
            Some(error) => Err(format!("{error}: {}", answer["value"]["message"])),
            None => Ok(answer["value"].clone()),
        }
    }

    async fn goto(&self, url: &str) {
        self.command(Some(json!({ "url": url })), "/url")
            .await
            .unwrap();
    }

    async fn script(&self, script: &str) -> Value {
        let body = json!({ "script": script, "args": [] });
        self.command(Some(body), "/execute/sync").await.unwrap()
    }

    /// The text of the first element matching `css`, or "" when there is none.
    async fn text(&self, css: &str) -> String {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.textContent : '';",
            json!(css)
        );
        self.script(&script).await.as_str().unwrap_or("").to_owned()
    }

    /// Clicks the first element matching `css` like a user (WebDriver's element click),
    /// trying again while the page re-renders under it.
    async fn click(&self, css: &str) {
        let mut last = String::new();
        for _ in 0..50 {
            let found = self
                .command(
                    Some(json!({ "using": "css selector", "value": css })),
                    "/element",
                )
                .await;
            if let Ok(element) = found {
                let id = element[ELEMENT].as_str().unwrap().to_owned();
                match self
                    .command(Some(json!({})), &format!("/element/{id}/click"))
                    .await
                {
                    Ok(_) => return,
                    Err(error) => last = error,
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not click {css}: {last}");
    }

    /// Waits until the text of `css` satisfies `done`.
    async fn wait_for_text(&self, css: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.text(css).await;
            if done(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never matched; last: {text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, path: &Path) {
        let png = self.command(None, "/screenshot").await.unwrap();
        let bytes = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            png.as_str().unwrap(),
        )
        .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(path, bytes).unwrap();
    }

    async fn quit(mut self) {
        let _ = self.http.delete(&self.session).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where the screenshot goes: the target folder, which CI keeps.
fn screenshot_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    std::fs::create_dir_all(&target).unwrap();
    target.join("dashboard.png")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_triggers_shows_and_resends_deliveries_in_a_real_browser() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let (mock, api) = fast_mock().await;
        let (receiver_url, receiver) = start_receiver(vec![]).await;
        let url = format!("{receiver_url}/hook");
        let mut body = valid_body();
        // A name holding markup is shown as text too.
        body["name"] = json!("dashboard test <img src=x onerror=\"window.pwned = 3\">");
        body["url"] = json!(url);
        body["events"] = json!(["payment.completed"]);
        body["verificationMethod"] = json!({ "type": "HS256", "secret": SECRET });
        body["headers"] = json!({ "X-Shop": "main" });
        api.create_id(&body).await;

        let browser = Browser::start().await;
        browser
            .goto(&format!("{}/_mock/?space={SPACE}", mock.base_url()))
            .await;
        browser
            .wait_for_text("#webhooks tbody", |t| t.contains("dashboard test"))
            .await;

        // The form triggers an event; its attempt appears without a reload.
        browser
            .click("#event-name option[value='payment.completed']")
            .await;
        browser.click("#trigger-button").await;
        browser
            .wait_for_text("#trigger-result", |t| t == "sent to 1 webhook(s)")
            .await;
        browser
            .wait_for_text("#attempts tbody tr.attempt td.ok", |t| t == "200")
            .await;
        let row = browser.text("#attempts tbody tr.attempt").await;
        assert!(row.contains("payment.completed"), "{row}");

        // Opening it shows its headers and its body, pretty-printed.
        browser.click("#attempts tbody tr.attempt td").await;
        let headers = browser
            .wait_for_text("#details-headers", |t| !t.is_empty())
            .await;
        assert!(headers.contains("monime-signature: t="), "{headers}");
        assert!(
            headers.contains("x-shop: ********"),
            "custom values masked: {headers}"
        );
        let shown = browser.text("#details-body").await;
        let sent: Value = serde_json::from_slice(&receiver.received.lock().unwrap()[0].2).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&shown).unwrap(), sent);
        assert!(
            shown.contains("\n  \"apiVersion\""),
            "pretty-printed: {shown}"
        );

        // Resent: attempt 2, the same body.
        browser
            .click("#attempts tbody tr.attempt button.resend")
            .await;
        browser
            .wait_for_text("#attempts tbody tr.attempt td.number", |t| t == "2")
            .await;
        {
            let received = receiver.received.lock().unwrap();
            assert_eq!(received.len(), 2);
            assert_eq!(received[0].2, received[1].2);
        }

        // A body holding markup is shown as text and runs nothing.
        let hostile = "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">";
        let trigger = api
            .request(reqwest::Method::POST, "/_mock/events")
            .json(&json!({
                "name": "payment.completed",
                "object": { "id": "pay-xss", "type": "payment" },
                "data": { "id": "pay-xss", "description": hostile },
            }));
        assert_eq!(Api::send(trigger).await.status, 200);
        let rows = "return document.querySelectorAll('#attempts tbody tr.attempt').length";
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser.script(rows).await != json!(3) {
            assert!(Instant::now() < deadline, "the third attempt never showed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            browser.click("#attempts tbody tr.attempt td").await;
            if browser.text("#details-body").await.contains("pay-xss") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the hostile attempt never showed"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let shown = browser.text("#details-body").await;
        assert!(
            shown.contains("<script>window.pwned = 1</script>"),
            "{shown}"
        );
        assert_eq!(
            browser.script("return window.pwned === undefined").await,
            json!(true)
        );
        let images = browser
            .script("return document.querySelectorAll('img, #details-body *').length")
            .await;
        assert_eq!(images, json!(0), "no element made from the body");

        // The page's own script only: the policy names it by hash.
        let page = reqwest::get(format!("{}/_mock/", mock.base_url()))
            .await
            .unwrap();
        let policy = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            policy.starts_with("default-src 'none'; script-src 'sha256-"),
            "{policy}"
        );
        // The controls answer only to this machine's names and their own page.
        let rebound = reqwest::Client::new()
            .get(format!("{}/_mock/deliveries", mock.base_url()))
            .header("host", "attacker.example")
            .send()
            .await
            .unwrap();
        assert_eq!(rebound.status(), 403);
        let cross_site = reqwest::Client::new()
            .post(format!("{}/_mock/events", mock.base_url()))
            .header("origin", "https://attacker.example")
            .header("monime-space-id", SPACE)
            .json(
                &json!({ "name": "payment.completed", "object": { "id": "p", "type": "payment" } }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), 403);

        browser.screenshot(&screenshot_path()).await;
        browser.quit().await;
        mock.shutdown().await;
    })
    .await
    .expect("the browser test finished within 120 s");
}
