//! The Revision's tamper evidence (issue 15, part 3): `kontor audit verify`
//! passes on a clean database and fails, naming the entry, after an
//! UPDATE, a DELETE and an INSERT made behind Kontor's back (the tests
//! switch the append-only triggers off to make them); the triggers still
//! refuse every other change; concurrent writers keep the chain valid;
//! retention deletes behind a checkpoint and verification still passes;
//! entries of a database from before the chain are chained on the first
//! start.

use kontor::{
    app::revision::chain,
    config::Settings,
    db::{
        self, Backend as DbBackend, Db,
        audit::{self, Entry, Pending},
    },
    domain::audit::chain::{Content, entry_hash},
};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Connection as _, Executor as _};

use crate::migrations::migrations;
use crate::support::{Backend, TestApp, postgres_admin_url, postgres_url_for, unique};

api_tests! {
    verify_passes_on_a_clean_database_and_names_an_entry_updated_behind_kontors_back,
    verify_names_an_entry_deleted_behind_kontors_back,
    verify_names_an_entry_inserted_behind_kontors_back,
    the_triggers_still_refuse_every_other_update_and_delete,
    fifty_simultaneous_bookings_keep_the_chain_valid,
    a_head_noted_outside_the_database_reveals_a_chain_computed_anew,
}

cluster_tests! {
    retention_deletes_behind_a_checkpoint_and_verification_still_passes,
    entries_of_a_database_from_before_the_chain_are_chained_on_the_first_start,
}

/// `kontor <args>` as its own process on the app's database; its exit
/// code and output.
fn kontor(settings: &Settings, args: &[&str]) -> (i32, String) {
    std::fs::create_dir_all(&settings.data_dir).expect("data directory");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kontor"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KONTOR_") {
            command.env_remove(key);
        }
    }
    let out = command
        .args(args)
        .current_dir(&settings.data_dir)
        .env("KONTOR_DATABASE_URL", settings.database_url())
        .env("KONTOR_DATA_DIR", &settings.data_dir)
        .env("KONTOR_LOG", "warn")
        .output()
        .expect("kontor runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Runs `kontor audit verify`; insists on `intact` and returns the output.
fn verify(app: &TestApp, intact: bool) -> String {
    let (code, text) = kontor(&app.settings, &["audit", "verify"]);
    assert_eq!(
        code,
        if intact { 0 } else { 1 },
        "kontor audit verify: {text}"
    );
    text
}

/// Runs `sql` with the append-only triggers switched off, as someone with
/// the database's keys could.
async fn behind_kontors_back(db: &Db, sql: &str) {
    let mut conn = db.pool.acquire().await.expect("connection");
    match db.backend {
        DbBackend::Postgres => {
            conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
                .await
                .expect("disable");
            conn.execute(sqlx::AssertSqlSafe(sql.to_owned()))
                .await
                .expect(sql);
            conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
                .await
                .expect("enable");
        }
        DbBackend::Sqlite => {
            conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
                .await
                .expect("drop");
            conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
                .await
                .expect("drop");
            conn.execute(sqlx::AssertSqlSafe(sql.to_owned()))
                .await
                .expect(sql);
        }
    }
}

/// Books, resizes and cancels one booking of a new tenant; returns the
/// booking.
async fn some_history(app: &TestApp) -> i64 {
    crate::revision::history(app).await.1
}

async fn entry_of(app: &TestApp, booking: i64, action: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "SELECT id FROM audit_log WHERE object_type = 'booking' AND object_id = $1 AND action = $2",
    )
    .bind(booking)
    .bind(action)
    .fetch_one(&app.db().pool)
    .await
    .expect("the entry");
    id
}

/// The chain columns and content of an entry, for forging.
async fn row(app: &TestApp, id: i64) -> audit::AuditRow {
    sqlx::query_as(
        "SELECT id, at, actor_user_id, actor, actor_subject, via, customer_id, NULL AS customer_name, \
         action, object_type, object_id, before_json, after_json, chain_seq, prev_hash, entry_hash \
         FROM audit_log WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.db().pool)
    .await
    .expect("row")
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

async fn verify_passes_on_a_clean_database_and_names_an_entry_updated_behind_kontors_back(
    app: TestApp,
) {
    let booking = some_history(&app).await;
    let out = verify(&app, true);
    assert!(out.contains("Kette unversehrt"), "{out}");

    // The content changed: the entry's hash no longer fits.
    let resized = entry_of(&app, booking, "booking.resized").await;
    behind_kontors_back(
        app.db(),
        &format!("UPDATE audit_log SET after_json = '{{\"size\":\"XL\"}}' WHERE id = {resized}"),
    )
    .await;
    let out = verify(&app, false);
    assert!(
        out.contains(&format!("Eintrag {resized} wurde verändert")),
        "{out}"
    );
    // Put back, it verifies again.
    behind_kontors_back(
        app.db(),
        &format!("UPDATE audit_log SET after_json = '{{\"size\":\"M\"}}' WHERE id = {resized}"),
    )
    .await;
    verify(&app, true);

    // Changed and hashed anew: the next entry no longer points to it.
    let r = row(&app, resized).await;
    let forged = entry_hash(
        r.chain_seq.unwrap(),
        r.prev_hash.as_deref().unwrap(),
        &Content {
            after_json: Some(r#"{"size":"XL"}"#),
            ..r.content()
        },
    );
    behind_kontors_back(
        app.db(),
        &format!(
            "UPDATE audit_log SET after_json = '{{\"size\":\"XL\"}}', entry_hash = '{forged}' WHERE id = {resized}"
        ),
    )
    .await;
    let out = verify(&app, false);
    assert!(
        out.contains(&format!("Eintrag {resized} wurde verändert")) && out.contains("neu gehasht"),
        "{out}"
    );

    // The whole chain from there on computed anew, head included: the
    // verification before had seen another hash at its head.
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM audit_log WHERE chain_seq >= $1 ORDER BY chain_seq")
            .bind(r.chain_seq.unwrap())
            .fetch_all(&app.db().pool)
            .await
            .unwrap();
    let mut prev = r.prev_hash.clone().unwrap();
    let mut updates = Vec::new();
    for (id,) in rows {
        let x = row(&app, id).await;
        let h = entry_hash(x.chain_seq.unwrap(), &prev, &x.content());
        updates.push(format!(
            "UPDATE audit_log SET prev_hash = {}, entry_hash = {} WHERE id = {id}",
            quoted(&prev),
            quoted(&h)
        ));
        prev = h;
    }
    for sql in updates {
        behind_kontors_back(app.db(), &sql).await;
    }
    sqlx::query("UPDATE audit_chain SET head_hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let out = verify(&app, false);
    assert!(out.contains("neu berechnet"), "{out}");

    // Every outcome was stored, the first problem with the entry it names.
    let stored: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT intact, problem_audit_id FROM audit_verifications ORDER BY id")
            .fetch_all(&app.db().pool)
            .await
            .unwrap();
    assert_eq!(
        stored[..4],
        [(1, None), (0, Some(resized)), (1, None), (0, Some(resized))]
    );
}

async fn a_head_noted_outside_the_database_reveals_a_chain_computed_anew(app: TestApp) {
    let booking = some_history(&app).await;
    let out = verify(&app, true);
    // The head as `kontor audit verify` prints it for noting down.
    let noted = out
        .lines()
        .find_map(|l| l.strip_prefix("Zum Notieren: --expect "))
        .unwrap_or_else(|| panic!("no head to note in {out}"))
        .trim()
        .to_owned();
    let (code, out) = kontor(&app.settings, &["audit", "verify", "--expect", &noted]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Hash wie notiert"), "{out}");

    // Someone with the database's keys changes an entry, computes the chain
    // anew from there (head included) and removes the verifications that
    // saw the old one: Kontor alone can no longer tell.
    let resized = entry_of(&app, booking, "booking.resized").await;
    let r = row(&app, resized).await;
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM audit_log WHERE chain_seq >= $1 ORDER BY chain_seq")
            .bind(r.chain_seq.unwrap())
            .fetch_all(&app.db().pool)
            .await
            .unwrap();
    let mut prev = r.prev_hash.clone().unwrap();
    let mut updates = Vec::new();
    for (id,) in rows {
        let x = row(&app, id).await;
        let after = match id == resized {
            true => Some(r#"{"size":"XL"}"#),
            false => x.after_json.as_deref(),
        };
        let h = entry_hash(
            x.chain_seq.unwrap(),
            &prev,
            &Content {
                after_json: after,
                ..x.content()
            },
        );
        updates.push(format!(
            "UPDATE audit_log SET after_json = {}, prev_hash = {}, entry_hash = {} WHERE id = {id}",
            after.map_or("NULL".into(), quoted),
            quoted(&prev),
            quoted(&h)
        ));
        prev = h;
    }
    for sql in updates {
        behind_kontors_back(app.db(), &sql).await;
    }
    for sql in [
        format!(
            "UPDATE audit_chain SET head_hash = {} WHERE id = 1",
            quoted(&prev)
        ),
        "DELETE FROM audit_verifications".to_owned(),
    ] {
        app.db()
            .pool
            .execute(sqlx::AssertSqlSafe(sql))
            .await
            .unwrap();
    }
    verify(&app, true);

    // The head noted elsewhere gives it away.
    let (code, out) = kontor(&app.settings, &["audit", "verify", "--expect", &noted]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("trägt nicht mehr den notierten Hash") && out.contains("neu berechnet"),
        "{out}"
    );
    // A position beyond the head: the chain was cut short.
    let (seq, hash) = noted.split_once(':').unwrap();
    let beyond = format!("{}:{hash}", seq.parse::<i64>().unwrap() + 5);
    let (code, out) = kontor(&app.settings, &["audit", "verify", "--expect", &beyond]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Die Kette endet bei Position"), "{out}");
    // What is not POSITION:HASH is refused, naming the form.
    let (code, out) = kontor(&app.settings, &["audit", "verify", "--expect", "12:xyz"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("POSITION:HASH"), "{out}");
}

async fn verify_names_an_entry_deleted_behind_kontors_back(app: TestApp) {
    let booking = some_history(&app).await;
    verify(&app, true);
    let resized = entry_of(&app, booking, "booking.resized").await;
    let kept = row(&app, resized).await;
    behind_kontors_back(
        app.db(),
        &format!("DELETE FROM audit_log WHERE id = {resized}"),
    )
    .await;
    let out = verify(&app, false);
    assert!(
        out.contains(&format!("Eintrag {resized} wurde gelöscht")),
        "{out}"
    );

    // Back as it was (same id, same values), it verifies again.
    let opt = |v: Option<i64>| v.map_or("NULL".into(), |v| v.to_string());
    let text = |v: Option<&str>| v.map_or("NULL".into(), quoted);
    behind_kontors_back(
        app.db(),
        &format!(
            "INSERT INTO audit_log (id, at, actor_user_id, actor, actor_subject, via, customer_id, action, \
             object_type, object_id, before_json, after_json, chain_seq, prev_hash, entry_hash) VALUES \
             ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
            kept.id, kept.at, opt(kept.actor_user_id), quoted(&kept.actor),
            text(kept.actor_subject.as_deref()), quoted(kept.via.as_str()), opt(kept.customer_id),
            quoted(&kept.action), quoted(&kept.object_type), kept.object_id,
            text(kept.before_json.as_deref()), text(kept.after_json.as_deref()), opt(kept.chain_seq),
            text(kept.prev_hash.as_deref()), text(kept.entry_hash.as_deref())
        ),
    )
    .await;
    verify(&app, true);

    // The newest entry deleted: the chain ends before its head.
    let (last,): (i64,) =
        sqlx::query_as("SELECT id FROM audit_log ORDER BY chain_seq DESC LIMIT 1")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    behind_kontors_back(
        app.db(),
        &format!("DELETE FROM audit_log WHERE id = {last}"),
    )
    .await;
    let out = verify(&app, false);
    assert!(
        out.contains(&format!("Eintrag {last} wurde gelöscht"))
            || out.contains("am Ende der Kette"),
        "{out}"
    );
}

async fn verify_names_an_entry_inserted_behind_kontors_back(app: TestApp) {
    some_history(&app).await;
    verify(&app, true);
    // A plain INSERT, as anyone with write access to the table could.
    let (inserted,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_log (at, actor, via, customer_id, action, object_type, object_id, after_json) \
         VALUES (1700000000, 'Erika Eingeschoben (erika)', 'sitzung', 1, 'booking.cancelled', 'booking', 1, \
         '{\"state\":\"gekuendigt\"}') RETURNING id",
    )
    .fetch_one(&app.db().pool)
    .await
    .expect("inserting needs no trigger to be switched off");
    let out = verify(&app, false);
    assert!(
        out.contains(&format!(
            "Eintrag {inserted} wurde an Kontor vorbei eingefügt"
        )),
        "{out}"
    );
    behind_kontors_back(
        app.db(),
        &format!("DELETE FROM audit_log WHERE id = {inserted}"),
    )
    .await;
    verify(&app, true);

    // Forged with a correct hash after the head: the chain's head does not
    // know it.
    let mut conn = app.db().pool.acquire().await.unwrap();
    let head = db::audit_chain::head(&mut conn).await.unwrap();
    drop(conn);
    let content = Content {
        at: db::now(),
        actor_user_id: None,
        actor: "Kontor (Bereitstellung)",
        actor_subject: None,
        via: "system",
        customer_id: None,
        action: "price.updated",
        object_type: "price",
        object_id: 1,
        before_json: Some(r#"{"rate":1000}"#),
        after_json: Some(r#"{"rate":1}"#),
    };
    let seq = head.head_seq + 1;
    let hash = entry_hash(seq, &head.head_hash, &content);
    let (forged,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_log (at, actor, via, action, object_type, object_id, before_json, after_json, \
         chain_seq, prev_hash, entry_hash) VALUES ($1, $2, 'system', 'price.updated', 'price', 1, $3, $4, $5, $6, $7) \
         RETURNING id",
    )
    .bind(content.at)
    .bind(content.actor)
    .bind(content.before_json)
    .bind(content.after_json)
    .bind(seq)
    .bind(&head.head_hash)
    .bind(&hash)
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    let out = verify(&app, false);
    assert!(
        out.contains(&format!(
            "Eintrag {forged} wurde an Kontor vorbei eingefügt"
        )),
        "{out}"
    );
}

async fn refused(db: &Db, sql: &str) {
    let err = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&db.pool)
        .await
        .expect_err(sql);
    assert!(err.to_string().contains("append-only"), "{sql}: {err}");
}

async fn the_triggers_still_refuse_every_other_update_and_delete(app: TestApp) {
    let booking = some_history(&app).await;
    let resized = entry_of(&app, booking, "booking.resized").await;
    let db = app.db();
    refused(
        db,
        &format!("UPDATE audit_log SET action = 'booking.created' WHERE id = {resized}"),
    )
    .await;
    refused(db, &format!("UPDATE audit_log SET entry_hash = NULL, chain_seq = NULL, prev_hash = NULL WHERE id = {resized}")).await;
    refused(db, &format!("DELETE FROM audit_log WHERE id = {resized}")).await;
    refused(db, "DELETE FROM audit_log").await;
    // An entry outside the chain cannot be chained or deleted afterwards
    // either: only those from before the chain existed could, once.
    let (loose,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_log (at, actor, via, action, object_type, object_id) \
         VALUES (1, 'x', 'system', 'x.y', 'x', 1) RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    refused(db, &format!("UPDATE audit_log SET chain_seq = 999999, prev_hash = 'a', entry_hash = 'b' WHERE id = {loose}")).await;
    refused(db, &format!("DELETE FROM audit_log WHERE id = {loose}")).await;
    if db.backend == DbBackend::Postgres {
        refused(db, "TRUNCATE audit_log").await;
    }
    // The checkpoint cannot pass the head.
    assert!(
        sqlx::query("UPDATE audit_chain SET checkpoint_seq = head_seq + 1 WHERE id = 1")
            .execute(&db.pool)
            .await
            .is_err()
    );
}

async fn fifty_simultaneous_bookings_keep_the_chain_valid(app: TestApp) {
    // Five customers, so that the contracts' locks do not put the writers
    // in a row already: only the chain does.
    let mut tenants = Vec::new();
    for _ in 0..5 {
        tenants.push(app.contract_with_room(100).await);
    }
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (app, t) = (app.clone(), tenants[i % 5].clone());
            tokio::spawn(async move {
                app.book(
                    &t.token,
                    t.application_id,
                    "vorpruefung",
                    "container-namespace",
                    "S",
                )
                .await
                .status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    app.settle().await;
    let verdict = chain::walk(app.db()).await.expect("walk");
    assert!(verdict.intact(), "{verdict:?}");
    // One chain without gaps over every entry, ids rising with it.
    let rows: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, chain_seq FROM audit_log ORDER BY chain_seq")
            .fetch_all(&app.db().pool)
            .await
            .unwrap();
    assert_eq!(verdict.entries, rows.len() as i64);
    for (i, (id, seq)) in rows.iter().enumerate() {
        assert_eq!(*seq, Some(i as i64 + 1), "entry {id}");
        if i > 0 {
            assert!(*id > rows[i - 1].0, "ids follow the chain: {rows:?}");
        }
    }
    let mut created = 0;
    for t in &tenants {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'booking.created' AND customer_id = $1",
        )
        .bind(t.customer_id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
        created += n;
    }
    assert_eq!(created, 50);
    verify(&app, true);
}

/// Appends an entry of Kontor itself at `at`, as the use cases do.
async fn append_at(db: &Db, at: i64, object_id: i64) {
    let mut tx = db.begin_write().await.unwrap();
    audit::append(
        &mut tx,
        &[Pending::new(
            None,
            at,
            Entry {
                customer_id: None,
                action: "price.updated",
                object_type: "price",
                object_id,
                before: Some(json!({"rate": 1000})),
                after: Some(json!({"rate": 1100})),
            },
        )],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn retention_deletes_behind_a_checkpoint_and_verification_still_passes(backend: Backend) {
    let app = TestApp::spawn_with(backend, false).await;
    let now = db::now();
    let year = 365 * 86_400;
    for i in 0..5 {
        append_at(app.db(), now - 2 * year + i, i).await;
    }
    append_at(app.db(), now - year / 2, 5).await;
    kontor::seed::catalogue(app.db(), 0)
        .await
        .expect("the catalogue goes into an empty database");
    some_history(&app).await;
    // An old entry after a newer one stays: only a prefix of the chain goes.
    append_at(app.db(), now - 2 * year, 6).await;
    verify(&app, true);
    let before: (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();

    let (code, out) = kontor(&app.settings, &["audit", "prune", "--days", "365"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("5 Einträge gelöscht") && out.contains("Position 5"),
        "{out}"
    );
    let mut conn = app.db().pool.acquire().await.unwrap();
    let head = db::audit_chain::head(&mut conn).await.unwrap();
    drop(conn);
    assert_eq!(head.checkpoint_seq, 5);
    let (first_kept, prev): (i64, String) =
        sqlx::query_as("SELECT chain_seq, prev_hash FROM audit_log ORDER BY chain_seq LIMIT 1")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    assert_eq!((first_kept, prev), (6, head.checkpoint_hash.clone()));
    let after: (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(
        after.0,
        before.0 - 5 + 1,
        "five gone, the deletion recorded"
    );
    let pruned: (String,) =
        sqlx::query_as("SELECT after_json FROM audit_log WHERE action = 'audit.pruned'")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    assert!(pruned.0.contains("\"entries\":5"), "{}", pruned.0);
    verify(&app, true);

    // Nothing more is due; the entries kept are still append-only.
    let (code, out) = kontor(&app.settings, &["audit", "prune", "--days", "365"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 Einträge gelöscht"), "{out}");
    refused(app.db(), "DELETE FROM audit_log WHERE chain_seq = 6").await;
    some_history(&app).await;
    verify(&app, true);

    // Retention does not delete across a break in the chain.
    append_at(app.db(), now, 7).await;
    let (code, out) = kontor(&app.settings, &["audit", "prune", "--days", "1"]);
    assert_eq!(code, 0, "{out}");
    verify(&app, true);
    let (victim,): (i64,) = sqlx::query_as("SELECT id FROM audit_log ORDER BY chain_seq LIMIT 1")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    append_at(app.db(), now, 8).await;
    behind_kontors_back(
        app.db(),
        &format!("UPDATE audit_log SET object_id = 99 WHERE id = {victim}"),
    )
    .await;
    let count = |app: &TestApp| {
        let pool = app.db().pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log")
                .fetch_one(&pool)
                .await
                .unwrap();
            n
        }
    };
    let n = count(&app).await;
    let err = chain::prune(app.db(), 1, now + 2 * 86_400)
        .await
        .expect_err("a broken chain");
    assert!(
        err.to_string()
            .contains(&format!("Eintrag {victim} wurde verändert")),
        "{err}"
    );
    assert_eq!(count(&app).await, n, "nothing deleted");
}

async fn entries_of_a_database_from_before_the_chain_are_chained_on_the_first_start(
    backend: Backend,
) {
    sqlx::any::install_default_drivers();
    let name = format!("kontor_test_chain_{}", unique());
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).expect("dir");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("old.db").display()),
        Backend::Postgres => {
            let mut admin = sqlx::postgres::PgConnection::connect(&postgres_admin_url())
                .await
                .expect("admin");
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("create database");
            postgres_url_for(&name)
        }
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
    for sql in migrations(backend, "0008_approvals.sql") {
        conn.execute(sqlx::AssertSqlSafe(sql))
            .await
            .expect("old migration");
    }
    conn.execute(
        "INSERT INTO audit_log (at, actor, via, customer_id, action, object_type, object_id, after_json) VALUES \
         (100, 'Anna (a)', 'sitzung', 1, 'booking.created', 'booking', 1, '{\"size\":\"S\"}'), \
         (200, 'Anna (a)', 'sitzung', 1, 'booking.resized', 'booking', 1, '{\"size\":\"M\"}'), \
         (300, 'Kontor (Bereitstellung)', 'system', NULL, 'price.updated', 'price', 1, NULL)",
    )
    .await
    .expect("older entries");
    for sql in migrations(backend, "0009_revision.sql").iter().skip(8) {
        conn.execute(sqlx::AssertSqlSafe(sql.clone()))
            .await
            .expect("0009");
    }
    conn.close().await.unwrap();

    let db = Db::connect(&url, 2).await.expect("connect");
    assert_eq!(chain::seal_backlog(&db).await.expect("sealed"), 3);
    assert_eq!(chain::seal_backlog(&db).await.expect("once"), 0);
    let seqs: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, chain_seq FROM audit_log ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        seqs.iter().map(|r| r.1).collect::<Vec<_>>(),
        [Some(1), Some(2), Some(3)]
    );
    let verdict = chain::walk(&db).await.unwrap();
    assert!(verdict.intact() && verdict.entries == 3, "{verdict:?}");
    // A new entry chains on; an entry written without the chain afterwards
    // (a replica of the older release still running, or someone behind
    // Kontor's back) is named.
    append_at(&db, 400, 2).await;
    assert!(chain::walk(&db).await.unwrap().intact());
    let (late,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_log (at, actor, via, action, object_type, object_id) \
         VALUES (500, 'Alt (a)', 'sitzung', 'booking.cancelled', 'booking', 1) RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let verdict = chain::walk(&db).await.unwrap();
    assert_eq!(verdict.problem.and_then(|p| p.audit_id()), Some(late));
    db.pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    if backend == Backend::Postgres {
        let mut admin = sqlx::postgres::PgConnection::connect(&postgres_admin_url())
            .await
            .expect("admin");
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
    }
}
