//! Rate limits on login and on the API, shared by every replica: fixed
//! one-minute windows counted in the database (`rate_limits`), so that N
//! replicas do not allow N times the limit. Once a bucket is over its limit
//! this replica remembers it until the window ends and refuses without
//! asking the database, so a flood costs no database writes.

use std::{collections::HashMap, sync::Mutex};

use sqlx::AnyPool;

const WINDOW_SECS: i64 = 60;
/// Remembered blocks beyond this many are pruned of expired ones.
const MAX_REMEMBERED: usize = 10_000;

/// Refused: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub i64);

pub struct RateLimiter {
    pool: AnyPool,
    /// Bucket → end of the window in which it is over its limit.
    blocked: Mutex<HashMap<String, i64>>,
}

impl RateLimiter {
    pub fn new(pool: AnyPool) -> Self {
        RateLimiter {
            pool,
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one hit on `bucket`; refuses once more than `per_minute` came in
    /// this window. `per_minute == 0` means no limit. A database that does not
    /// answer lets the request through: the limit protects the service, and
    /// refusing everyone because the counter is down would be the outage.
    pub async fn hit(&self, bucket: &str, per_minute: u32, now: i64) -> Result<(), RetryAfter> {
        if per_minute == 0 {
            return Ok(());
        }
        let window_start = now - now.rem_euclid(WINDOW_SECS);
        let window_end = window_start + WINDOW_SECS;
        if let Some(until) = self.remembered(bucket, now) {
            return Err(RetryAfter((until - now).max(1)));
        }
        let hits = match crate::db::rate_limits::hit(&self.pool, bucket, window_start).await {
            Ok(hits) => hits,
            Err(e) => {
                tracing::warn!(error = %e, bucket, "rate limit counter not available");
                return Ok(());
            }
        };
        if hits > i64::from(per_minute) {
            self.remember(bucket, window_end, now);
            return Err(RetryAfter((window_end - now).max(1)));
        }
        Ok(())
    }

    fn remembered(&self, bucket: &str, now: i64) -> Option<i64> {
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        blocked.get(bucket).copied().filter(|until| *until > now)
    }

    fn remember(&self, bucket: &str, until: i64, now: i64) {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        if blocked.len() >= MAX_REMEMBERED {
            blocked.retain(|_, u| *u > now);
        }
        blocked.insert(bucket.to_owned(), until);
    }

    /// Removes the counters of windows long past; a scheduled job does it
    /// for all buckets at once, so a request never deletes.
    pub async fn prune(&self, now: i64) -> sqlx::Result<u64> {
        crate::db::rate_limits::prune(&self.pool, now - 10 * WINDOW_SECS).await
    }
}

/// The address a limit counts by: the peer's, or with `hops` trusted
/// proxies in front the `X-Forwarded-For` entry the outermost trusted one
/// added. Entries further left are the client's own claims and not trusted.
pub fn client_ip(
    headers: &axum::http::HeaderMap,
    peer: Option<std::net::IpAddr>,
    hops: usize,
) -> String {
    if hops > 0 {
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if let Some(ip) = forwarded.iter().rev().nth(hops - 1) {
            return (*ip).to_owned();
        }
    }
    peer.map(|p| p.to_string())
        .unwrap_or_else(|| "unbekannt".into())
}

/// The client address of a request, as [`client_ip`] decides it from the
/// peer address axum recorded and the headers.
pub fn client_of(parts: &axum::http::request::Parts, hops: usize) -> String {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    client_ip(&parts.headers, peer, hops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_as_far_as_proxies_are_trusted() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 10.0.0.7".parse().unwrap());
        let peer = Some("10.1.1.1".parse().unwrap());
        assert_eq!(client_ip(&headers, peer, 0), "10.1.1.1");
        assert_eq!(client_ip(&headers, peer, 1), "10.0.0.7");
        assert_eq!(client_ip(&headers, peer, 2), "6.6.6.6");
        // More hops configured than entries present: the peer.
        assert_eq!(client_ip(&headers, peer, 3), "10.1.1.1");
    }
}
