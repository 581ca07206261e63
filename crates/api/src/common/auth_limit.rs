//! Failed authentication limited per client address: a client that keeps presenting
//! unknown tokens is answered 429 for the rest of its window, so guessing tokens
//! through the API is slow and visible. Successful requests are never limited here.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts an address may make per window, by default.
pub const AUTH_FAILURES_PER_WINDOW: u32 = 20;
/// The window.
pub const AUTH_WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered before expired windows are swept.
const SWEEP_AT: usize = 10_000;

pub struct AuthLimiter {
    windows: Mutex<HashMap<IpAddr, Window>>,
    per_window: u32,
}

/// One address's failures in its current window.
struct Window {
    start: Instant,
    failures: u32,
    /// Fingerprints of the distinct tokens counted ([`AuthLimiter::failed_token`]).
    tokens: Vec<u64>,
}

impl Window {
    fn new(start: Instant) -> Window {
        Window {
            start,
            failures: 0,
            tokens: Vec::new(),
        }
    }
}

impl Default for AuthLimiter {
    fn default() -> Self {
        AuthLimiter::new(AUTH_FAILURES_PER_WINDOW)
    }
}

impl AuthLimiter {
    /// A limiter allowing `per_window` failed attempts per address and window (a
    /// schema fuzzer that sends wrong tokens on purpose needs more than a person).
    pub fn new(per_window: u32) -> AuthLimiter {
        AuthLimiter {
            windows: Mutex::default(),
            per_window,
        }
    }

    /// `Err(seconds to wait)` while `ip` has used up its failures in this window.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&ip) {
            Some(w) if w.failures >= self.per_window => {
                let left = AUTH_WINDOW.saturating_sub(w.start.elapsed());
                if left.is_zero() {
                    Ok(())
                } else {
                    Err(left.as_secs().max(1))
                }
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        self.count(ip, None);
    }

    /// Counts a failed attempt from `ip` unless the same token already failed from it
    /// in this window. A read replica learns tokens late, from the writer's log: a
    /// client polling with a token not replicated yet fails many times with one token,
    /// while guessing takes many tokens.
    pub fn failed_token(&self, ip: IpAddr, token: &str) {
        use std::hash::{Hash as _, Hasher as _};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        token.hash(&mut h);
        self.count(ip, Some(h.finish()));
    }

    fn count(&self, ip: IpAddr, token: Option<u64>) {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, w| w.start.elapsed() < AUTH_WINDOW);
        }
        let now = Instant::now();
        let w = map.entry(ip).or_insert_with(|| Window::new(now));
        if w.start.elapsed() >= AUTH_WINDOW {
            *w = Window::new(now);
        }
        if let Some(t) = token {
            // at most `per_window` fingerprints: past that the address is limited anyway
            if w.tokens.contains(&t) {
                return;
            }
            w.tokens.push(t);
        }
        w.failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_limited_after_its_failures_and_others_are_not() {
        let l = AuthLimiter::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..AUTH_FAILURES_PER_WINDOW {
            assert!(l.check(a).is_ok());
            l.failed(a);
        }
        let wait = l.check(a).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(l.check(b).is_ok());
    }

    #[test]
    fn one_token_retried_counts_once_many_tokens_count_each() {
        let l = AuthLimiter::new(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..50 {
            l.failed_token(a, "not-replicated-yet");
        }
        assert!(l.check(a).is_ok(), "a client polling with one token");
        l.failed_token(a, "guess-1");
        l.failed_token(a, "guess-2");
        assert!(l.check(a).is_err(), "three distinct tokens");
    }
}
