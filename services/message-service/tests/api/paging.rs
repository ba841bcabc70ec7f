use std::collections::HashSet;

use echo_test_support::{Backend, TestApp, TestUser, on_both_backends};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::helpers::*;

/// Walks a channel's history backwards with `before` cursors, then forwards with `after`.
async fn walk(app: &TestApp, user: &TestUser, ch: &str, limit: usize, forwards: bool) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    if forwards {
        // Forwards starts from the oldest message.
        let oldest = walk_oldest(app, user, ch).await;
        seen.push(oldest.clone());
        cursor = Some(oldest);
    }
    loop {
        let query = match (&cursor, forwards) {
            (None, _) => format!("?limit={limit}"),
            (Some(c), false) => format!("?limit={limit}&before={c}"),
            (Some(c), true) => format!("?limit={limit}&after={c}"),
        };
        let page = history(app, user, ch, &query).await;
        let page_ids = ids(&page);
        assert!(page_ids.len() <= limit);
        if page_ids.is_empty() {
            assert_eq!(page["has_more"], false);
            return seen;
        }
        cursor = Some(if forwards {
            page_ids[0].clone()
        } else {
            page_ids[page_ids.len() - 1].clone()
        });
        seen.extend(if forwards {
            page_ids.into_iter().rev().collect::<Vec<_>>()
        } else {
            page_ids
        });
        if page["has_more"] == false {
            return seen;
        }
    }
}

async fn walk_oldest(app: &TestApp, user: &TestUser, ch: &str) -> String {
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor
            .as_ref()
            .map(|c| format!("?limit=200&before={c}"))
            .unwrap_or_else(|| "?limit=200".into());
        let page = history(app, user, ch, &query).await;
        let page_ids = ids(&page);
        let last = page_ids.last().cloned().or(cursor.clone()).expect("a message");
        if page["has_more"] == false {
            return last;
        }
        cursor = Some(last);
    }
}

on_both_backends! {
    async fn history_pages_newest_first_with_cursors_both_ways(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (_, general) = workspace(&app, &alice, "Acme").await;
        let mut posted = Vec::new();
        for i in 0..7 {
            posted.push(id(&post(&app, &alice, &general, &format!("m{i}")).await));
        }
        // Act
        let newest = history(&app, &alice, &general, "?limit=3").await;
        let older = history(&app, &alice, &general, &format!("?limit=3&before={}", posted[4])).await;
        let after = history(&app, &alice, &general, &format!("?limit=2&after={}", posted[1])).await;
        let tail = history(&app, &alice, &general, &format!("?limit=5&before={}", posted[2])).await;
        // Assert
        assert_eq!(ids(&newest), vec![posted[6].clone(), posted[5].clone(), posted[4].clone()]);
        assert_eq!(newest["has_more"], true);
        assert_eq!(ids(&older), vec![posted[3].clone(), posted[2].clone(), posted[1].clone()]);
        assert_eq!(ids(&after), vec![posted[3].clone(), posted[2].clone()], "the messages right after, listed newest first");
        assert_eq!(after["has_more"], true);
        assert_eq!(ids(&tail), vec![posted[1].clone(), posted[0].clone()]);
        assert_eq!(tail["has_more"], false);
    }
}

/// While others keep posting, walking the history by cursor (either way) sees every message that
/// existed when the walk began exactly once, in strict order.
fn paging_survives_concurrent_posts(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = runtime.block_on(TestApp::spawn(backend));
    let (alice, general) = runtime.block_on(async {
        let alice = app.register("Alice").await;
        let (_, general) = workspace(&app, &alice, "Acme").await;
        (alice, general)
    });
    let mut runner = TestRunner::new(Config {
        cases: 8,
        ..Config::default()
    });
    let strategy = (1usize..25, 1usize..8, any::<bool>());
    runner
        .run(&strategy, |(extra, limit, forwards)| {
            runtime.block_on(async {
                for i in 0..extra {
                    post(&app, &alice, &general, &format!("seed {i}")).await;
                }
                let before_walk: Vec<String> = ids(&history(&app, &alice, &general, "?limit=200").await);
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let noise = {
                    let (stop, app_http, url, token, general) = (
                        stop.clone(),
                        app.http.clone(),
                        app.url(&format!("/api/v1/channels/{general}/messages")),
                        alice.token.clone(),
                        general.clone(),
                    );
                    let _ = general;
                    tokio::spawn(async move {
                        let mut n = 0;
                        // Bounded, so a forward walk can catch up with the newest message.
                        while n < 20 && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                            let _ = app_http
                                .post(&url)
                                .bearer_auth(&token)
                                .json(&serde_json::json!({"text": format!("noise {n}")}))
                                .send()
                                .await;
                            n += 1;
                        }
                    })
                };
                let walked = walk(&app, &alice, &general, limit, forwards).await;
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                let _ = noise.await;
                let unique: HashSet<&String> = walked.iter().collect();
                prop_assert_eq!(unique.len(), walked.len(), "no message twice");
                for id in &before_walk {
                    prop_assert!(unique.contains(id), "message {} missed", id);
                }
                let mut sorted = walked.clone();
                sorted.sort();
                if !forwards {
                    sorted.reverse();
                }
                prop_assert_eq!(sorted, walked, "strictly ordered");
                Ok(())
            })
        })
        .expect("paging property");
}

#[test]
fn paging_survives_concurrent_posts_on_sqlite() {
    paging_survives_concurrent_posts(Backend::Sqlite);
}

#[test]
fn paging_survives_concurrent_posts_on_postgres() {
    paging_survives_concurrent_posts(Backend::Postgres);
}
