//! How the relay and replicas prove who they are to NATS, and whether they insist on
//! TLS. Secrets live only here and in the connection: `Debug` and [`NatsAuth::method`]
//! name the method, never the secret, so that no log line or `/readyz` answer carries one.

use std::path::PathBuf;

use async_nats::ConnectOptions;

use crate::NatsError;

/// Credentials for NATS: at most one method is used, in this order: a `.creds` file
/// (JWT + nkey seed), an nkey seed, a token, a user and password. None: an
/// unauthenticated connection (a development server on localhost).
#[derive(Clone, Default)]
pub struct NatsAuth {
    pub creds_file: Option<PathBuf>,
    pub nkey_seed: Option<String>,
    pub token: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub tls: NatsTls,
}

/// TLS towards NATS. A `tls://` URL, or `required`, makes the client refuse a server
/// that does not offer TLS.
#[derive(Debug, Clone, Default)]
pub struct NatsTls {
    pub required: bool,
    /// A CA certificate (PEM) to trust besides the system's roots.
    pub ca_file: Option<PathBuf>,
    /// A client certificate and key (PEM), for servers that verify clients.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

impl std::fmt::Debug for NatsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsAuth")
            .field("method", &self.method())
            .field("user", &self.user)
            .field("tls", &self.tls)
            .finish()
    }
}

impl NatsAuth {
    /// The method used, for logs: never a secret.
    pub fn method(&self) -> &'static str {
        if self.creds_file.is_some() {
            "creds file"
        } else if self.nkey_seed.is_some() {
            "nkey"
        } else if self.token.is_some() {
            "token"
        } else if self.user.is_some() {
            "user and password"
        } else {
            "none"
        }
    }

    /// The connect options carrying these credentials and TLS settings.
    pub(crate) async fn options(&self, url: &str) -> Result<ConnectOptions, NatsError> {
        let refused = |reason: String| NatsError::Connect {
            url: crate::redact_url(url),
            reason,
        };
        let mut o = if let Some(path) = &self.creds_file {
            ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|e| refused(format!("reading the creds file {}: {e}", path.display())))?
        } else if let Some(seed) = &self.nkey_seed {
            ConnectOptions::with_nkey(seed.clone())
        } else if let Some(token) = &self.token {
            ConnectOptions::with_token(token.clone())
        } else if let Some(user) = &self.user {
            let password = self.password.clone().unwrap_or_default();
            ConnectOptions::with_user_and_password(user.clone(), password)
        } else {
            ConnectOptions::new()
        };
        if self.tls.required {
            o = o.require_tls(true);
        }
        if let Some(ca) = &self.tls.ca_file {
            o = o.add_root_certificates(ca.clone());
        }
        match (&self.tls.cert_file, &self.tls.key_file) {
            (Some(cert), Some(key)) => o = o.add_client_certificate(cert.clone(), key.clone()),
            (None, None) => {}
            _ => {
                return Err(refused(
                    "a TLS client certificate needs both its certificate and its key".into(),
                ))
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_the_method_never_the_secret() {
        let auth = NatsAuth {
            user: Some("writer".into()),
            password: Some("s3cr3t-pw".into()),
            ..NatsAuth::default()
        };
        let shown = format!("{auth:?}");
        assert!(shown.contains("user and password") && shown.contains("writer"));
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        let token = NatsAuth {
            token: Some("t0ken-value".into()),
            ..NatsAuth::default()
        };
        assert!(!format!("{token:?}").contains("t0ken-value"));
        assert_eq!(token.method(), "token");
        assert_eq!(NatsAuth::default().method(), "none");
    }
}
