//! The notifier's settings from the command line and environment (issue 20): SMTP,
//! the webhook, the chat robots, secrets read from env or a file.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use reception_notify::{ChannelsConfig, NotifyConfig, SmtpConfig, SmtpSecurity, WebhookConfig};

use crate::cli::NotifyArgs;

/// A secret given directly (env) or in a file (trimmed); the file wins.
fn secret(
    direct: &Option<String>,
    file: &Option<std::path::PathBuf>,
) -> anyhow::Result<Option<String>> {
    match file {
        Some(f) => read_secret(f).map(Some),
        None => Ok(direct.clone()),
    }
}

fn read_secret(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the secret file {}", path.display()))?;
    Ok(text.trim().to_string())
}

/// The notifier's configuration from the flags.
pub fn config(args: &NotifyArgs) -> anyhow::Result<NotifyConfig> {
    let smtp = match &args.smtp_host {
        None => None,
        Some(host) => {
            let password = secret(&args.smtp_password, &args.smtp_password_file)?;
            let credentials = match (&args.smtp_user, password) {
                (Some(u), Some(p)) => Some((u.clone(), p)),
                (Some(_), None) => anyhow::bail!(
                    "--smtp-user needs a password: RECEPTION_SMTP_PASSWORD or --smtp-password-file"
                ),
                _ => None,
            };
            Some(SmtpConfig {
                host: host.clone(),
                port: args.smtp_port,
                security: if args.smtp_security == "none" {
                    SmtpSecurity::None
                } else {
                    SmtpSecurity::StartTls
                },
                credentials,
                from: args.smtp_from.clone(),
            })
        }
    };
    let webhook = match &args.notify_webhook_url {
        None => None,
        Some(url) => Some(WebhookConfig {
            url: url.clone(),
            secret: secret(
                &args.notify_webhook_secret,
                &args.notify_webhook_secret_file,
            )?,
        }),
    };
    let robot = |url: &Option<String>| {
        url.as_ref().map(|u| WebhookConfig {
            url: u.clone(),
            secret: None,
        })
    };
    Ok(NotifyConfig {
        channels: ChannelsConfig {
            smtp,
            webhook,
            wecom: robot(&args.wecom_robot_url),
            dingtalk: robot(&args.dingtalk_robot_url),
            feishu: robot(&args.feishu_robot_url),
            dashboard_url: args.dashboard_url.clone(),
            timeout: Duration::from_secs(10),
        },
        reminder_interval: Duration::from_secs(args.reminder_interval.max(1)),
        max_attempts: args.notify_max_attempts.max(1),
        backoff: Duration::from_millis(args.notify_backoff_ms.max(1)),
        ..NotifyConfig::default()
    })
}
