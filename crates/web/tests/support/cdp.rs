//! A minimal Chrome DevTools Protocol client for the browser tests: launches Debian's
//! headless chromium with a fresh profile and drives one page over the browser's
//! websocket (a flattened session), synchronously.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Where Debian installs chromium; `CHROMIUM` overrides.
pub fn chromium_path() -> Option<PathBuf> {
    let p = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    p.exists().then_some(p)
}

/// A running headless chromium and its DevTools socket.
pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// One tab, attached through a flattened session.
pub struct Page<'b> {
    browser: &'b mut Browser,
    session: String,
}

impl Browser {
    /// Starts chromium (root-safe flags, fresh profile, no network of its own).
    pub fn launch(chromium: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                "--window-size=1600,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining stderr so that chromium never blocks on a full pipe.
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(url) = line.split("DevTools listening on ").nth(1) {
                        let _ = tx.send(url.trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("chromium printed its DevTools address within 30 s");
        let (ws, _) = tungstenite::connect(url.as_str()).expect("connect to DevTools");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(30)))
                .expect("read timeout");
        }
        Browser {
            child,
            ws,
            next_id: 0,
            _profile: profile,
        }
    }

    /// Sends one command (to a session, or the browser) and waits for its answer;
    /// events in between are dropped (the tests poll the page instead).
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to DevTools");
        loop {
            let raw = self.ws.read().expect("read from DevTools");
            let Message::Text(text) = raw else { continue };
            let v: Value = serde_json::from_str(&text).expect("DevTools JSON");
            if v["id"].as_u64() == Some(id) {
                if let Some(err) = v.get("error") {
                    panic!("{method} failed: {err}");
                }
                return v["result"].clone();
            }
        }
    }

    /// A new tab whose navigator languages and Accept-Language are `accept_language`.
    pub fn page(&mut self, accept_language: &str) -> Page<'_> {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        let session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        let ua = self.call(None, "Browser.getVersion", json!({}))["userAgent"]
            .as_str()
            .unwrap_or("Mozilla/5.0")
            .replace("HeadlessChrome", "Chrome");
        let mut page = Page {
            browser: self,
            session,
        };
        page.call("Page.enable", json!({}));
        page.call("Runtime.enable", json!({}));
        page.call(
            "Network.setUserAgentOverride",
            json!({ "userAgent": ua, "acceptLanguage": accept_language }),
        );
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1600, "height": 1000, "deviceScaleFactor": 1, "mobile": false }),
        );
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Page<'_> {
    fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.browser.call(Some(&session), method, params)
    }

    /// Loads `url` (a full navigation).
    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
    }

    /// Runs `script` in every document this tab loads from now on, before the page's
    /// own scripts (a probe that timestamps what the page does; `first_paint.rs`).
    #[allow(dead_code)]
    pub fn on_new_document(&mut self, script: &str) {
        self.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": script }),
        );
    }

    /// The value of a JavaScript expression (promises awaited); panics on a thrown error.
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("script {expr:?} threw: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Waits until `expr` is truthy; panics with `what` and the page's text after `secs`.
    #[track_caller]
    pub fn wait_for(&mut self, what: &str, expr: &str, secs: u64) -> Duration {
        let start = Instant::now();
        let guarded =
            format!("(() => {{ try {{ return !!({expr}); }} catch (e) {{ return false; }} }})()");
        loop {
            if self.eval(&guarded) == json!(true) {
                return start.elapsed();
            }
            if start.elapsed() > Duration::from_secs(secs) {
                let text = self.text();
                panic!("waited {secs} s for {what}; the page shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The page's visible text.
    pub fn text(&mut self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Clicks the element matching `selector` (as a person would: a trusted click at
    /// its centre).
    pub fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).expect("selector");
        let r = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); const b = e.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; }})()"
        ));
        let (x, y) = match r.as_array() {
            Some(p) => (p[0].as_f64().unwrap_or(0.0), p[1].as_f64().unwrap_or(0.0)),
            None => panic!(
                "nothing matches {selector}; the page shows:\n{}",
                self.text()
            ),
        };
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// Follows the link `selector` as a person would, until `opened` (a JS expression)
    /// holds. A page that redraws between the press and the release of a click (a
    /// pushed board update, a header filled in once the role is known), or a link
    /// whose middle falls outside its wrapped text, can swallow the click: then it is
    /// repeated once, and then the link is opened from the keyboard.
    pub fn open_link(&mut self, selector: &str, opened: &str) {
        let sel = serde_json::to_string(selector).expect("selector");
        for attempt in 0..3 {
            match attempt {
                2 => {
                    self.eval(&format!("document.querySelector({sel}).focus()"));
                    self.key("Enter");
                }
                _ => self.click(selector),
            }
            for _ in 0..5 {
                if self.eval(opened) == Value::Bool(true) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }

    /// Presses a key (e.g. "Home", "End", "ArrowRight") in the focused element.
    pub fn key(&mut self, key: &str) {
        let code = match key {
            "Home" => 36,
            "End" => 35,
            "ArrowLeft" => 37,
            "ArrowRight" => 39,
            "Enter" => 13,
            _ => 0,
        };
        // Enter carries its text so that it submits a form, as a real key does.
        let text = if key == "Enter" { "\r" } else { "" };
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({ "type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code,
                        "text": if kind == "keyDown" { text } else { "" } }),
            );
        }
    }

    /// Types text into the focused element.
    pub fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// Saves a PNG of the whole page (up to 2400 px tall) to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let width = size["width"].as_f64().unwrap_or(1600.0).max(1.0);
        let height = size["height"].as_f64().unwrap_or(1000.0).clamp(1.0, 2400.0);
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 } }),
        );
        let data = shot["data"].as_str().expect("screenshot data");
        let bytes = base64_decode(data);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, bytes).expect("write screenshot");
    }
}

/// Standard base64 (the screenshot's encoding); a dependency for one call is not worth it.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
