//! Search latency at scale: bulk-loads N generated messages into a fresh store (SQLite file or a
//! new PostgreSQL database), then times a mix of queries through the same SQL the endpoint runs.
//!
//! ```text
//! cargo run --release -p message-service --example search_bench -- --messages 1000000 --backend sqlite
//! cargo run --release -p message-service --example search_bench -- --messages 1000000 --backend postgres
//! ```

use std::time::Instant;

use anyhow::Context;
use echo_db::Db;
use message_service::search::{index, query, sql};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

const CHANNELS: usize = 50;
const BATCH: usize = 1000;
const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

struct Args {
    messages: usize,
    backend: String,
    samples: usize,
    /// Keep the database afterwards, to look into a query.
    keep: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        messages: 100_000,
        backend: "sqlite".into(),
        samples: 100,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--messages" => out.messages = it.next().context("--messages N")?.parse()?,
            "--samples" => out.samples = it.next().context("--samples N")?.parse()?,
            "--keep" => out.keep = true,
            "--backend" => out.backend = it.next().context("--backend sqlite|postgres")?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    Ok(out)
}

/// A vocabulary of made-up words spelled with English letter frequencies, 3 to 10 letters long.
/// Its trigrams are about as varied as a real language's; words built from a handful of syllables
/// would share a few dozen trigrams and make every term look common to a trigram index.
fn vocabulary(rng: &mut StdRng) -> Vec<String> {
    const LETTERS: &[u8] = b"etaoinshrdlcumwfgypbvkjxqz";
    const WEIGHTS: [u32; 26] = [
        127, 91, 82, 75, 70, 67, 63, 61, 60, 43, 40, 28, 28, 24, 24, 22, 20, 20, 19, 15, 10, 8, 2, 2, 1, 1,
    ];
    let total: u32 = WEIGHTS.iter().sum();
    let letter = |rng: &mut StdRng| {
        let mut x = rng.random_range(0..total);
        for (i, w) in WEIGHTS.iter().enumerate() {
            if x < *w {
                return LETTERS[i] as char;
            }
            x -= w;
        }
        'e'
    };
    (0..20_000)
        .map(|_| (0..rng.random_range(3..=10)).map(|_| letter(rng)).collect())
        .collect()
}

fn pick<'a>(rng: &mut StdRng, words: &'a [String]) -> &'a str {
    // Squaring a uniform variable skews towards the start: a few common words, a long tail.
    let x: f64 = rng.random();
    &words[((x * x) * words.len() as f64) as usize % words.len()]
}

fn text(rng: &mut StdRng, words: &[String]) -> String {
    let n = rng.random_range(6..24);
    let mut parts: Vec<String> = (0..n).map(|_| pick(rng, words).to_owned()).collect();
    if rng.random_ratio(1, 50) {
        parts.push("東京で会議".to_owned());
    }
    if rng.random_ratio(1, 30) {
        parts.push("https://example.test/doc".to_owned());
    }
    parts.join(" ")
}

async fn open(backend: &str) -> anyhow::Result<(String, Option<String>, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    match backend {
        "sqlite" => Ok((
            format!("sqlite://{}", dir.path().join("bench.db").display()),
            None,
            dir,
        )),
        "postgres" => {
            use sqlx::Connection;
            let name = format!("echo_bench_{}", Uuid::now_v7().simple());
            let mut admin = sqlx::PgConnection::connect(&format!("{PG_SERVER}/postgres")).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut admin)
                .await?;
            Ok((format!("{PG_SERVER}/{name}"), Some(name), dir))
        }
        other => anyhow::bail!("unknown backend {other}"),
    }
}

macro_rules! load {
    ($pool:expr, $db:ty, $dialect:expr, $n:expr, $ws:expr, $me:expr, $others:expr, $channels:expr, $words:expr, $rng:expr) => {{
        let pool = $pool;
        let now = chrono::Utc::now().timestamp_millis();
        sqlx::query("INSERT INTO workspaces (id, name, created_by, created_at) VALUES ($1, 'bench', $2, $3)")
            .bind($ws).bind($me).bind(now).execute(pool).await?;
        sqlx::query("INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)")
            .bind($ws).bind($me).bind(now).execute(pool).await?;
        sqlx::query("INSERT INTO user_directory (user_id, display_name, name_key) VALUES ($1, 'Bench Me', 'bench me')")
            .bind($me).execute(pool).await?;
        for (i, ch) in $channels.iter().enumerate() {
            // Every fifth channel is private and the searcher is in half of those.
            let kind = if i % 5 == 4 { "private" } else { "public" };
            sqlx::query("INSERT INTO channels (id, workspace_id, name, kind, topic, created_by, created_at) VALUES ($1, $2, $3, $4, '', $5, $6)")
                .bind(ch).bind($ws).bind(format!("channel-{i}")).bind(kind).bind($me).bind(now).execute(pool).await?;
            if kind == "public" || i % 10 == 4 {
                sqlx::query("INSERT INTO channel_members (channel_id, user_id, joined_at) VALUES ($1, $2, $3)")
                    .bind(ch).bind($me).bind(now).execute(pool).await?;
            }
        }
        let started = Instant::now();
        let span_ms: i64 = 365 * 86_400_000;
        let mut done = 0usize;
        while done < $n {
            let mut tx = pool.begin().await?;
            for _ in 0..10 {
                if done >= $n {
                    break;
                }
                let count = BATCH.min($n - done);
                let rows: Vec<(Uuid, Uuid, Uuid, String, i64)> = (0..count)
                    .map(|k| {
                        let at = now - span_ms + (span_ms * (done + k) as i64) / $n as i64;
                        let author = if $rng.random_ratio(1, 10) { $me } else { $others[$rng.random_range(0..$others.len())] };
                        (Uuid::now_v7(), $channels[$rng.random_range(0..$channels.len())], author, text(&mut $rng, &$words), at)
                    })
                    .collect();
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO messages (id, channel_id, workspace_id, author_id, text, created_at) ");
                q.push_values(&rows, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind($ws).push_bind(r.2).push_bind(r.3.clone()).push_bind(r.4);
                });
                q.build().execute(&mut *tx).await?;
                let entries: Vec<index::Entry> = rows.iter().map(|r| index::entry($dialect, &r.3)).collect();
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO message_search (message_id, body, words, scope) ");
                q.push_values(rows.iter().zip(&entries), |mut b, (r, e)| {
                    let facts = index::Facts { channel_id: r.1, author_id: r.2, text: &r.3, has_file: false, mentioned: &[], mentions_everyone: false };
                    b.push_bind(r.0).push_bind(r.3.clone()).push_bind(e.words.clone()).push_bind(index::scope($dialect, &facts));
                });
                q.build().execute(&mut *tx).await?;
                let mut terms: Vec<String> = entries.into_iter().flat_map(|e| e.terms).collect();
                terms.sort_unstable();
                terms.dedup();
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO search_terms (term) ");
                q.push_values(&terms, |mut b, t| {
                    b.push_bind(t.clone());
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *tx).await?;
                done += count;
            }
            tx.commit().await?;
            if done % 100_000 == 0 {
                eprintln!("  {done} messages loaded ({:.0} s)", started.elapsed().as_secs_f64());
            }
        }
        started.elapsed()
    }};
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let (url, pg_name, dir) = open(&args.backend).await?;
    let (db, store) = message_service::store::open(&url).await?;
    let mut rng = StdRng::seed_from_u64(7);
    let words = vocabulary(&mut rng);
    let ws = Uuid::now_v7();
    let me = Uuid::now_v7();
    let others: Vec<Uuid> = (0..200).map(|_| Uuid::now_v7()).collect();
    let channels: Vec<Uuid> = (0..CHANNELS).map(|_| Uuid::now_v7()).collect();
    eprintln!("loading {} messages into {}", args.messages, args.backend);
    let load_time = match &db {
        Db::Sqlite(pool) => load!(
            pool,
            sqlx::Sqlite,
            sql::Dialect::Sqlite,
            args.messages,
            ws,
            me,
            others,
            channels,
            words,
            rng
        ),
        Db::Postgres(pool) => {
            let took = load!(
                pool,
                sqlx::Postgres,
                sql::Dialect::Postgres,
                args.messages,
                ws,
                me,
                others,
                channels,
                words,
                rng
            );
            // As autovacuum would leave a live database: visibility map set, statistics fresh
            // (otherwise the first queries race the vacuum of a million new rows).
            sqlx::query("VACUUM ANALYZE").execute(pool).await?;
            took
        }
    };
    eprintln!("loaded in {:.1} s", load_time.as_secs_f64());

    let common = words[10].clone();
    let mid = words[2000].clone();
    let rare = words[15_000].clone();
    // Four letters from inside a longer word.
    let partial: String = words[500..]
        .iter()
        .find(|w| w.len() >= 6)
        .map(|w| w[1..5].to_owned())
        .unwrap_or_default();
    let mixes: Vec<(&str, String)> = vec![
        ("common word", common.clone()),
        ("mid word", mid.clone()),
        ("rare word", rare.clone()),
        ("two words", format!("{mid} {common}")),
        ("phrase", format!("\"{} {}\"", words[30], words[31])),
        ("start of a word", mid[..mid.len().min(4)].to_owned()),
        ("inside a word", partial),
        ("exclusion", format!("{mid} -{common}")),
        ("from:@me", format!("{mid} from:@me")),
        ("in:#channel", format!("{common} in:#channel-3")),
        ("CJK (2 chars)", "東京".to_owned()),
        ("CJK (1 char)", "議".to_owned()),
        ("filters only", "from:@me in:#channel-3".to_owned()),
        ("has:link alone", "has:link".to_owned()),
        ("mentions:me alone (none in the corpus)", "mentions:me".to_owned()),
        ("has:link", format!("{mid} has:link")),
    ];
    let mut all = Vec::new();
    println!("| query | median ms | p99 ms | results |");
    println!("|---|---|---|---|");
    for (label, q) in &mixes {
        let parsed = query::parse(q).map_err(|e| anyhow::anyhow!(e.0))?;
        let mut times = Vec::with_capacity(args.samples);
        let mut results = 0;
        // One untimed run first, which brings the pages this query reads into memory: the
        // figures are for a server that has been answering searches, not one just started.
        for sample in 0..=args.samples {
            let scope = sql::Scope {
                workspace_id: ws,
                user_id: me,
                guest: false,
                now: chrono::Utc::now().timestamp_millis(),
                offset: 0,
                limit: 21,
            };
            let started = Instant::now();
            let resolved = store.resolve_search(ws, me, &parsed).await?;
            let plan = sql::build(store.dialect(), &parsed, &scope, &resolved);
            results = store.search(&plan).await?.len();
            if sample > 0 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {label} (`{q}`) | {:.1} | {:.1} | {results} |",
            times[args.samples / 2],
            times[args.samples * 99 / 100]
        );
        all.extend(times);
    }
    all.sort_by(f64::total_cmp);
    println!(
        "\n{} backend, {} messages: load {:.0} s; all queries median {:.1} ms, p99 {:.1} ms",
        args.backend,
        args.messages,
        load_time.as_secs_f64(),
        all[all.len() / 2],
        all[all.len() * 99 / 100]
    );
    db.close().await;
    if args.keep {
        eprintln!("kept {url}");
        let _ = dir.keep();
        return Ok(());
    }
    if let Some(name) = pg_name {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&format!("{PG_SERVER}/postgres")).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await?;
    }
    Ok(())
}
