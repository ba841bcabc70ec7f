//! Notification emails, received by a real SMTP server in the test: mentions and DMs left unread
//! are emailed once, batched per person, with a working unsubscribe link; what is read before the
//! delay is not; a refused delivery is retried.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use echo_test_support::{Backend, TestApp, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

use crate::helpers::{id, join, post, workspace};

const WAIT: Duration = Duration::from_secs(10);

/// One email the server accepted.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    /// Headers and body as sent, dot-unstuffed.
    data: String,
}

impl Mail {
    fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.data.split_once("\r\n\r\n")?;
        // Unfold continuation lines first.
        let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        head.lines().find_map(|line| {
            line.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
    }

    /// The body, decoded when quoted-printable.
    fn body(&self) -> String {
        let (_, body) = self.data.split_once("\r\n\r\n").unwrap_or(("", ""));
        if self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"))
        {
            let decoded = quoted_printable::decode(body, quoted_printable::ParseMode::Robust).unwrap();
            String::from_utf8(decoded).unwrap()
        } else {
            body.to_owned()
        }
    }
}

/// A minimal SMTP server (RFC 5321: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no auth).
struct SmtpServer {
    port: u16,
    mails: Mutex<Vec<Mail>>,
    /// Refuse this many messages at the end of DATA with a transient 451.
    refuse_next: AtomicUsize,
}

impl SmtpServer {
    async fn start() -> Arc<SmtpServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Arc::new(SmtpServer {
            port: listener.local_addr().unwrap().port(),
            mails: Mutex::new(Vec::new()),
            refuse_next: AtomicUsize::new(0),
        });
        let accepting = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = accepting.clone();
                tokio::spawn(async move { server.session(stream).await });
            }
        });
        server
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 test-smtp ESMTP ready\r\n").await?;
        let mut to = Vec::new();
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if command.starts_with("EHLO") {
                b"250-test-smtp\r\n250 8BITMIME\r\n"
            } else if command.starts_with("HELO")
                || command.starts_with("NOOP")
                || command.starts_with("MAIL FROM:")
            {
                b"250 OK\r\n"
            } else if command.starts_with("RSET") {
                to.clear();
                b"250 OK\r\n"
            } else if command.starts_with("RCPT TO:") {
                to.push(line.trim_end()[8..].trim().trim_matches(['<', '>']).to_owned());
                b"250 OK\r\n"
            } else if command == "DATA" {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    let mut line = String::new();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let refused = self
                    .refuse_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if refused {
                    b"451 try again later\r\n"
                } else {
                    self.mails.lock().await.push(Mail {
                        to: std::mem::take(&mut to),
                        data,
                    });
                    b"250 queued\r\n"
                }
            } else if command.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                b"502 not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
    }

    async fn mails_to(&self, user: &TestUser) -> Vec<Mail> {
        self.mails
            .lock()
            .await
            .iter()
            .filter(|m| m.to.iter().any(|t| t == &user.email))
            .cloned()
            .collect()
    }

    async fn await_mail_to(&self, user: &TestUser) -> Mail {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(mail) = self.mails_to(user).await.pop() {
                return mail;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no email to {}",
                user.email
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn spawn(backend: Backend, smtp: &SmtpServer, delay_ms: u64) -> TestApp {
    let port = smtp.port;
    TestApp::spawn_with(backend, move |config| {
        let n = &mut config.messages.notifications;
        n.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        n.email_from = "Echo <echo@example.test>".into();
        n.email_delay_ms = delay_ms;
        n.delivery_poll_ms = 50;
        n.delivery_backoff_ms = 100;
        n.public_url = "http://echo.example.test".into();
    })
    .await
}

async fn team(app: &TestApp) -> (TestUser, TestUser, TestUser, String, String) {
    let alice = app.register("Alice").await;
    let bob = app.register("Bob").await;
    let carol = app.register("Carol").await;
    let (ws, general) = workspace(app, &alice, "Acme").await;
    join(app, &alice, &ws, &bob, "member").await;
    join(app, &alice, &ws, &carol, "member").await;
    (alice, bob, carol, ws, general)
}

/// Waits until the notifier decided a message (explain stops saying `pending`).
async fn decided(app: &TestApp, user: &TestUser, message: &serde_json::Value) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, body) = app
            .get(
                user,
                &format!("/api/v1/notifications/explain?message_id={}", id(message)),
            )
            .await;
        if body["reasons"] != json!(["pending"]) {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "never decided");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn mentions_and_dms_left_unread_are_emailed_once_batched_with_an_unsubscribe_link(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn(backend, &smtp, 1500).await;
    let (alice, bob, carol, ws, general) = team(&app).await;
    let (_, dm) = app
        .post(
            &alice,
            &format!("/api/v1/workspaces/{ws}/dms"),
            json!({"user_ids": [bob.id]}),
        )
        .await;

    let first = post(
        &app,
        &alice,
        &general,
        &format!("<@{}> the first question", bob.id),
    )
    .await;
    post(
        &app,
        &alice,
        &general,
        &format!("<@{}> the second question", bob.id),
    )
    .await;
    post(&app, &alice, &id(&dm), "a private word").await;
    post(&app, &alice, &general, "nothing for anyone").await;

    let mail = smtp.await_mail_to(&bob).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(smtp.mails_to(&bob).await.len(), 1, "one email for all three");
    assert!(smtp.mails_to(&carol).await.is_empty());
    assert!(smtp.mails_to(&alice).await.is_empty());
    let body = mail.body();
    for text in ["the first question", "the second question", "a private word"] {
        assert!(body.contains(text), "{text} in {body}");
    }
    assert!(!body.contains("nothing for anyone"));
    assert!(body.contains("#general"), "{body}");
    assert_eq!(mail.header("From").as_deref(), Some("Echo <echo@example.test>"));
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let link = mail.header("List-Unsubscribe").unwrap();
    let link = link.trim_matches(['<', '>']);
    assert!(body.contains(link), "the body carries the same link");
    let path = link
        .strip_prefix("http://echo.example.test")
        .expect("a link to the public URL");
    let explained = decided(&app, &bob, &first).await;
    assert_eq!(explained["via"], json!(["inbox", "email"]), "{explained}");

    // The link works without signing in; a forged one does not.
    let (status, page) = app.request(Method::GET, path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("<form method=post"), "{page}");
    let (status, _) = app
        .request(
            Method::POST,
            "/api/v1/notifications/unsubscribe?token=forged",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.request(Method::POST, path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, prefs) = app.get(&bob, "/api/v1/notification-preferences").await;
    assert_eq!(prefs["email"], false);

    let after = post(
        &app,
        &alice,
        &general,
        &format!("<@{}> after unsubscribing", bob.id),
    )
    .await;
    assert_eq!(
        decided(&app, &bob, &after).await["notified"],
        true,
        "still notified, just not by email"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(smtp.mails_to(&bob).await.len(), 1, "no email after unsubscribing");
}

async fn what_is_read_before_the_delay_is_not_emailed(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn(backend, &smtp, 1500).await;
    let (alice, bob, _carol, _ws, general) = team(&app).await;

    let read_in_inbox = post(
        &app,
        &alice,
        &general,
        &format!("<@{}> read in the inbox", bob.id),
    )
    .await;
    let read_in_channel = post(
        &app,
        &alice,
        &general,
        &format!("<@{}> read in the channel", bob.id),
    )
    .await;
    decided(&app, &bob, &read_in_channel).await;
    let (_, inbox) = app.get(&bob, "/api/v1/notifications").await;
    let oldest = inbox["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["message_id"] == read_in_inbox["id"])
        .unwrap()
        .clone();
    let (status, _) = app
        .post(&bob, "/api/v1/notifications/read", json!({"ids": [id(&oldest)]}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .post(
            &bob,
            &format!("/api/v1/channels/{general}/read"),
            json!({"message_id": id(&read_in_channel)}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let unread = post(&app, &alice, &general, &format!("<@{}> left unread", bob.id)).await;

    let mail = smtp.await_mail_to(&bob).await;
    let body = mail.body();
    assert!(body.contains("left unread"), "{body}");
    assert!(
        !body.contains("read in the inbox") && !body.contains("read in the channel"),
        "{body}"
    );
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Alice mentioned you in #general")
    );
    assert_eq!(decided(&app, &bob, &read_in_inbox).await["via"], json!(["inbox"]));
    assert_eq!(
        decided(&app, &bob, &unread).await["via"],
        json!(["inbox", "email"])
    );
}

async fn a_refused_email_is_retried_and_arrives_once(backend: Backend) {
    let smtp = SmtpServer::start().await;
    smtp.refuse_next.store(2, Ordering::SeqCst);
    let app = spawn(backend, &smtp, 100).await;
    let (alice, bob, _carol, _ws, general) = team(&app).await;

    post(&app, &alice, &general, &format!("<@{}> persistent", bob.id)).await;

    smtp.await_mail_to(&bob).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(smtp.mails_to(&bob).await.len(), 1);
    assert_eq!(
        smtp.refuse_next.load(Ordering::SeqCst),
        0,
        "both refusals were met with a retry"
    );
}

echo_test_support::each_backend!(
    mentions_and_dms_left_unread_are_emailed_once_batched_with_an_unsubscribe_link,
    what_is_read_before_the_delay_is_not_emailed,
    a_refused_email_is_retried_and_arrives_once,
);
