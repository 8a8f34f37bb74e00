//! Kontor: a self-service cloud portal for public-sector IT providers.
//! See `README.md` and `docs/` for the product and its architecture.

pub mod api;
pub mod app;
pub mod auth;
pub mod billing;
pub mod cli;
pub mod client;
pub mod config;
pub mod db;
pub mod domain;
pub mod i18n;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod provisioning;
pub mod ratelimit;
pub mod secret;
pub mod seed;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
