//! Tickets: short-lived, single-use credentials for the WebSocket upgrade, kept (hashed) in the
//! service's database so any replica can redeem a ticket another replica issued.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use echo_db::Db;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long a ticket can wait before being redeemed.
pub const TICKET_TTL_SECS: i64 = 30;

fn hash(ticket: &str) -> Vec<u8> {
    Sha256::digest(ticket.as_bytes()).to_vec()
}

/// Issues a ticket for `user_id`.
pub async fn issue(db: &Db, user_id: Uuid, now: i64) -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let ticket = URL_SAFE_NO_PAD.encode(bytes);
    let expires_at = now + TICKET_TTL_SECS * 1000;
    let (insert, sweep) = (
        "INSERT INTO realtime_tickets (ticket_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        "DELETE FROM realtime_tickets WHERE expires_at < $1",
    );
    match db {
        Db::Sqlite(pool) => {
            sqlx::query(insert)
                .bind(hash(&ticket))
                .bind(user_id)
                .bind(expires_at)
                .execute(pool)
                .await?;
            sqlx::query(sweep).bind(now).execute(pool).await?;
        }
        Db::Postgres(pool) => {
            sqlx::query(insert)
                .bind(hash(&ticket))
                .bind(user_id)
                .bind(expires_at)
                .execute(pool)
                .await?;
            sqlx::query(sweep).bind(now).execute(pool).await?;
        }
    }
    Ok(ticket)
}

/// Redeems a ticket: the user it was issued to, once, if it has not expired.
pub async fn redeem(db: &Db, ticket: &str, now: i64) -> anyhow::Result<Option<Uuid>> {
    let sql = "DELETE FROM realtime_tickets WHERE ticket_hash = $1 AND expires_at >= $2 RETURNING user_id";
    let user = match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(sql)
                .bind(hash(ticket))
                .bind(now)
                .fetch_optional(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(sql)
                .bind(hash(ticket))
                .bind(now)
                .fetch_optional(pool)
                .await?
        }
    };
    Ok(user)
}
