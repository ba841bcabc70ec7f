//! A generated workspace for the read benchmarks, up to tens of millions of messages: 50 channels
//! of skewed sizes (a few busy ones, a long tail; every fifth private), 200 authors besides the
//! reader, and a year of messages with thread replies, mentions, reactions, links and some CJK.
//! The messages are written straight into message-service's database, with the search entries
//! the service itself writes (posting millions through the API would take hours).

use std::collections::BTreeSet;

use indicatif::{ProgressBar, ProgressStyle};
use message_service::search::index;
use message_service::search::sql::Dialect;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{PgPool, SqlitePool};
use uuid::Uuid;

pub const CHANNELS: usize = 50;
const AUTHORS: usize = 200;
/// Rows per insert statement, and statements per transaction.
const ROWS: usize = 1_000;
const STATEMENTS_PER_COMMIT: usize = 10;
const EMOJI: [&str; 6] = ["thumbsup", "tada", "eyes", "heart", "rocket", "white_check_mark"];

/// Who reads the corpus and where: an account and workspace made through the API, whose
/// `general` channel becomes the busiest one.
pub struct Reader {
    pub user: Uuid,
    pub workspace: Uuid,
    pub general: Uuid,
}

/// What the reads need to know of a loaded corpus.
pub struct Corpus {
    /// The vocabulary, most common words first.
    pub words: Vec<String>,
    /// Messages in `general`, spread over it, each with hundreds of older ones behind it: the
    /// cursors of deep history pages.
    pub cursors: Vec<Uuid>,
}

/// One batch of generated rows.
#[derive(Default)]
struct Batch {
    messages: Vec<NewRow>,
    mentions: Vec<(Uuid, Uuid)>,
    reactions: Vec<(Uuid, &'static str, Uuid, i64)>,
}

struct NewRow {
    id: Uuid,
    channel: Uuid,
    author: Uuid,
    text: String,
    root: Option<Uuid>,
    at: i64,
    mentioned: Option<Uuid>,
}

struct Generator {
    rng: StdRng,
    words: Vec<String>,
    reader: Uuid,
    authors: Vec<Uuid>,
    channels: Vec<Uuid>,
    /// The latest roots of each channel, which replies go to.
    roots: Vec<Vec<Uuid>>,
    total: u64,
    made: u64,
    start_ms: i64,
    span_ms: i64,
    cursors: Vec<Uuid>,
    general_roots: u64,
}

impl Generator {
    fn any_author(&mut self) -> Uuid {
        self.authors[self.rng.random_range(0..self.authors.len())]
    }

    fn row(&mut self, batch: &mut Batch) {
        let at = self.start_ms + (self.span_ms * self.made as i64) / self.total.max(1) as i64;
        self.made += 1;
        let c = skewed(&mut self.rng, self.channels.len());
        let channel = self.channels[c];
        let author = if self.rng.random_ratio(1, 10) {
            self.reader
        } else {
            self.any_author()
        };
        let root = if !self.roots[c].is_empty() && self.rng.random_ratio(1, 10) {
            Some(self.roots[c][self.rng.random_range(0..self.roots[c].len())])
        } else {
            None
        };
        let id = Uuid::now_v7();
        if root.is_none() {
            let recent = &mut self.roots[c];
            if recent.len() == 20 {
                recent.remove(0);
            }
            recent.push(id);
            if c == 0 {
                self.general_roots += 1;
                if self.general_roots % 1_000 == 999 {
                    self.cursors.push(id);
                }
            }
        }
        let mentioned = self.rng.random_ratio(1, 30).then(|| self.any_author());
        let mut text = text(&mut self.rng, &self.words);
        if let Some(user) = mentioned {
            text = format!("<@{user}> {text}");
            batch.mentions.push((id, user));
        }
        if self.rng.random_ratio(1, 20) {
            for emoji in EMOJI.iter().take(self.rng.random_range(1..=3)) {
                let by = self.any_author();
                batch.reactions.push((id, emoji, by, at));
            }
        }
        batch.messages.push(NewRow {
            id,
            channel,
            author,
            text,
            root,
            at,
            mentioned,
        });
    }
}

/// The workspace's people and channels, then the messages in batches, for one backend.
macro_rules! insert_corpus {
    ($pool:expr, $db:ty, $dialect:expr, $reader:expr, $generator:expr, $now:expr, $bar:expr) => {{
        let (pool, reader, generator, now) = ($pool, $reader, $generator, $now);
        let mut tx = pool.begin().await?;
        for (i, author) in generator.authors.iter().enumerate() {
            sqlx::query("INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)")
                .bind(reader.workspace).bind(author).bind(now).execute(&mut *tx).await?;
            let name = format!("Author {i}");
            sqlx::query("INSERT INTO user_directory (user_id, display_name, name_key) VALUES ($1, $2, $3)")
                .bind(author).bind(&name).bind(name.to_lowercase()).execute(&mut *tx).await?;
        }
        for (i, channel) in generator.channels.iter().enumerate().skip(1) {
            // Every fifth channel is private, and the reader is in half of those.
            let kind = if i % 5 == 4 { "private" } else { "public" };
            sqlx::query("INSERT INTO channels (id, workspace_id, name, kind, topic, created_by, created_at) VALUES ($1, $2, $3, $4, '', $5, $6)")
                .bind(channel).bind(reader.workspace).bind(format!("channel-{i}")).bind(kind).bind(generator.authors[0]).bind(now)
                .execute(&mut *tx).await?;
            if kind == "public" || i % 10 == 4 {
                sqlx::query("INSERT INTO channel_members (channel_id, user_id, joined_at) VALUES ($1, $2, $3)")
                    .bind(channel).bind(reader.user).bind(now).execute(&mut *tx).await?;
            }
        }
        for channel in &generator.channels {
            let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO channel_members (channel_id, user_id, joined_at) ");
            q.push_values(&generator.authors, |mut row, author| {
                row.push_bind(*channel).push_bind(*author).push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;

        while generator.made < generator.total {
            let mut tx = pool.begin().await?;
            for _ in 0..STATEMENTS_PER_COMMIT {
                let count = (generator.total - generator.made).min(ROWS as u64);
                if count == 0 {
                    break;
                }
                let mut batch = Batch::default();
                for _ in 0..count {
                    generator.row(&mut batch);
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO messages (id, channel_id, workspace_id, author_id, text, thread_root_id, created_at) ",
                );
                q.push_values(&batch.messages, |mut row, m| {
                    row.push_bind(m.id).push_bind(m.channel).push_bind(reader.workspace).push_bind(m.author)
                        .push_bind(m.text.clone()).push_bind(m.root).push_bind(m.at);
                });
                q.build().execute(&mut *tx).await?;

                let mut terms = BTreeSet::new();
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO message_search (message_id, body, words, scope) ");
                q.push_values(&batch.messages, |mut row, m| {
                    let entry = index::entry($dialect, &m.text);
                    let mentioned: Vec<Uuid> = m.mentioned.into_iter().collect();
                    let facts = index::Facts {
                        channel_id: m.channel,
                        author_id: m.author,
                        text: &m.text,
                        has_file: false,
                        mentioned: &mentioned,
                        mentions_everyone: false,
                    };
                    row.push_bind(m.id).push_bind(m.text.clone()).push_bind(entry.words)
                        .push_bind(index::scope($dialect, &facts));
                    terms.extend(entry.terms);
                });
                q.build().execute(&mut *tx).await?;
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO search_terms (term) ");
                q.push_values(&terms, |mut row, term| {
                    row.push_bind(term.clone());
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *tx).await?;

                if !batch.mentions.is_empty() {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO message_mentions (message_id, user_id) ");
                    q.push_values(&batch.mentions, |mut row, (message, user)| {
                        row.push_bind(*message).push_bind(*user);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                if !batch.reactions.is_empty() {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO reactions (message_id, emoji, user_id, created_at) ");
                    q.push_values(&batch.reactions, |mut row, (message, emoji, user, at)| {
                        row.push_bind(*message).push_bind(*emoji).push_bind(*user).push_bind(*at);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                $bar.inc(count);
            }
            tx.commit().await?;
        }
    }};
}

/// Loads `total` messages into the workspace of `reader`, in message-service's database at `url`
/// (an embedded server's SQLite file or a cluster's PostgreSQL database; the server may be running).
pub async fn load(url: &str, reader: &Reader, total: u64) -> anyhow::Result<Corpus> {
    let mut rng = StdRng::seed_from_u64(7);
    let words = vocabulary(&mut rng);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let span_ms = 365 * 86_400_000;
    let mut channels = vec![reader.general];
    channels.extend((1..CHANNELS).map(|_| Uuid::now_v7()));
    let mut generator = Generator {
        rng,
        words,
        reader: reader.user,
        authors: (0..AUTHORS).map(|_| Uuid::now_v7()).collect(),
        roots: vec![Vec::new(); channels.len()],
        channels,
        total,
        made: 0,
        start_ms: now - span_ms,
        span_ms,
        cursors: Vec::new(),
        general_roots: 0,
    };
    let bar = ProgressBar::new(total).with_style(ProgressStyle::with_template(
        "loading [{bar:40}] {human_pos}/{human_len} messages, {per_sec}, {eta} left",
    )?);
    if url.starts_with("sqlite:") {
        let pool = SqlitePool::connect(url).await?;
        insert_corpus!(
            &pool,
            sqlx::Sqlite,
            Dialect::Sqlite,
            reader,
            &mut generator,
            now,
            &bar
        );
        pool.close().await;
    } else {
        let pool = PgPool::connect(url).await?;
        insert_corpus!(
            &pool,
            sqlx::Postgres,
            Dialect::Postgres,
            reader,
            &mut generator,
            now,
            &bar
        );
        // As autovacuum would leave a live database: visibility map set, statistics fresh.
        sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
        pool.close().await;
    }
    bar.finish_and_clear();
    Ok(Corpus {
        words: generator.words,
        cursors: generator.cursors,
    })
}

/// An index in `0..n`, skewed towards 0: squaring a uniform variable gives a few busy channels
/// (or common words) and a long tail.
fn skewed(rng: &mut StdRng, n: usize) -> usize {
    let x: f64 = rng.random();
    ((x * x) * n as f64) as usize % n
}

/// 20,000 made-up words spelled with English letter frequencies, 3 to 10 letters long: their
/// letter sequences are about as varied as a real language's.
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

/// 6 to 24 words, now and then a CJK phrase or a link.
fn text(rng: &mut StdRng, words: &[String]) -> String {
    let n = rng.random_range(6..24);
    let mut parts: Vec<&str> = (0..n).map(|_| words[skewed(rng, words.len())].as_str()).collect();
    if rng.random_ratio(1, 50) {
        parts.push("東京で会議");
    }
    if rng.random_ratio(1, 30) {
        parts.push("https://example.test/doc");
    }
    parts.join(" ")
}
