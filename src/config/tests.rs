//! The settings: defaults, the file, the environment, the checks.

use super::*;

fn refused(change: impl FnOnce(&mut Settings)) -> String {
    let mut settings = Settings::default();
    change(&mut settings);
    settings
        .check()
        .expect_err("the setting must be refused")
        .to_string()
}

#[test]
fn the_defaults_are_valid() {
    Settings::default().check().unwrap();
}

#[test]
fn an_invalid_setting_is_named_in_the_message() {
    assert!(refused(|s| s.database_url = Some("mysql://x".into())).contains("KONTOR_DATABASE_URL"));
    assert!(refused(|s| s.public_url = Some("kein url".into())).contains("KONTOR_PUBLIC_URL"));
    assert!(
        refused(|s| s.imprint_url = Some("javascript:alert(1)".into()))
            .contains("KONTOR_IMPRINT_URL")
    );
    assert!(
        refused(|s| s.privacy_url = Some("/datenschutz".into())).contains("KONTOR_PRIVACY_URL")
    );
    assert!(
        refused(|s| s.accessibility_contact = Some("Service Desk".into()))
            .contains("KONTOR_ACCESSIBILITY_CONTACT")
    );
    assert!(refused(|s| s.oidc_issuer = Some("nope".into())).contains("KONTOR_OIDC_ISSUER"));
    assert!(
        refused(|s| s.oidc_issuer = Some("https://sso.example".into()))
            .contains("KONTOR_OIDC_CLIENT_ID")
    );
    assert!(
        refused(|s| {
            s.oidc_issuer = Some("https://sso.example".into());
            s.oidc_client_id = Some("kontor".into());
            s.oidc_scopes = "profile".into();
        })
        .contains("KONTOR_OIDC_SCOPES")
    );
    assert!(
        refused(|s| {
            s.oidc_issuer = Some("https://sso.example".into());
            s.oidc_client_id = Some("kontor".into());
            s.listen = "0.0.0.0:8080".parse().unwrap();
        })
        .contains("KONTOR_PUBLIC_URL")
    );
    assert!(
        refused(|s| {
            s.stages.insert("produktion".into(), "zone_b".into());
        })
        .contains("zone_b")
    );
    assert!(
        refused(|s| {
            s.stages.insert("staging".into(), MANIFESTS.into());
        })
        .contains("staging")
    );
    assert!(refused(|s| s.retry_base_ms = 0).contains("KONTOR_RETRY_BASE_MS"));
    assert!(refused(|s| s.smtp_host = Some("mail.example".into())).contains("KONTOR_SMTP_FROM"));
    assert!(
        refused(|s| s.notify_lease_seconds = s.smtp_timeout_seconds)
            .contains("KONTOR_NOTIFY_LEASE_SECONDS")
    );
    assert!(refused(|s| s.audit_retention_days = Some(0)).contains("KONTOR_AUDIT_RETENTION_DAYS"));
}
