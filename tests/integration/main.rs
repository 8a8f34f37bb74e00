//! The integration suite: the REST API, the pages over HTTP, provisioning
//! against fake and real clusters, the deployment manifests, several
//! replicas, login through `oidc-provider` and a real Keycloak. One test
//! binary (linking one binary per file would cost minutes on every build).
//! Every test runs twice, against a fresh SQLite file and a fresh PostgreSQL
//! database; see `api_tests!` in `support`.
//!
//! `cargo test --test integration` runs all; add `sqlite` or `postgres` to pick a
//! backend, or a module name (`kontingent`, `tenants`, …) to pick a topic.

#[macro_use]
mod support;

mod api_account;
mod api_applications;
mod api_catalog;
mod api_contracts;
mod api_english;
mod api_forms;
mod api_twins;
mod architecture;
mod audit_chain;
mod bad_input;
#[cfg(feature = "bench-seed")]
mod bench_seed;
mod billing;
mod bookings;
mod cli_admin;
mod control_characters;
mod database_faults;
mod deploy;
mod english_domain;
mod english_refusals;
mod english_revision;
mod fake_kube_selftest;
mod hardening;
mod health;
mod idempotency;
mod identity;
mod identity_keycloak;
mod keycloak;
mod kontingent;
mod kontingent_pages;
mod kontingent_requests;
mod list_pages;
mod listing;
mod live_month;
mod metering;
mod migrations;
mod notifications;
mod oidc_provider;
mod openapi;
mod pages;
mod pages_billing;
mod pages_english;
mod pages_formats;
mod pages_help;
mod provisioning;
mod real_cluster;
mod releases;
mod replicas;
mod revision;
mod role_matrix;
mod schema_parity;
mod sessions;
mod tenants;
