//! A running `echo-server up`, as the command-line tests start it: on a free port of 127.0.0.1
//! with a data directory of their choosing, stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_echo-server");

pub struct Up {
    child: Child,
    pub base: String,
    /// The first line it printed (where it listens, where its data lives).
    pub banner: String,
}

impl Up {
    pub fn start(data: &Path) -> Up {
        Self::start_with(data, &[])
    }

    /// With these environment variables as well.
    pub fn start_with(data: &Path, env: &[(&str, &str)]) -> Up {
        let mut child = Command::new(BIN)
            .args(["up", "--port", "0", "--data-dir", data.to_str().unwrap()])
            .env("ECHO_BIND", "127.0.0.1")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut banner = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut banner)
            .unwrap();
        let port = banner
            .split("localhost:")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .unwrap_or_else(|| panic!("no port in {banner:?}"))
            .to_owned();
        Up {
            child,
            base: format!("http://127.0.0.1:{port}"),
            banner,
        }
    }

    /// Sends SIGTERM and waits (15 s at most) for it to exit.
    pub fn stop(mut self) -> ExitStatus {
        self.terminate()
    }

    fn terminate(&mut self) -> ExitStatus {
        if let Some(status) = self.child.try_wait().unwrap() {
            return status;
        }
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// POSTs `body` to `path` (as `token`, if any) and returns the JSON answer, which must be a success.
    pub async fn post(&self, path: &str, token: Option<&str>, body: serde_json::Value) -> serde_json::Value {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "POST {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> serde_json::Value {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Registers Alice and gives her a workspace: (token, workspace id, its general channel's id).
    pub async fn alice_with_workspace(&self) -> (String, String, String) {
        let body = serde_json::json!({"email": "alice@example.test", "password": "correct horse battery staple 42", "display_name": "Alice"});
        let token = self.post("/api/v1/auth/register", None, body).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let ws = self
            .post(
                "/api/v1/workspaces",
                Some(&token),
                serde_json::json!({"name": "Acme"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let channels = self
            .get(&format!("/api/v1/workspaces/{ws}/channels"), &token)
            .await;
        let general = channels["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "general")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (token, ws, general)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.terminate();
        } else {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
