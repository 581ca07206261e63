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
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    per_window: u32,
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
            Some((start, n)) if *n >= self.per_window => {
                let left = AUTH_WINDOW.saturating_sub(start.elapsed());
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
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (start, _)| start.elapsed() < AUTH_WINDOW);
        }
        let now = Instant::now();
        let w = map.entry(ip).or_insert((now, 0));
        if w.0.elapsed() >= AUTH_WINDOW {
            *w = (now, 0);
        }
        w.1 += 1;
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
}
