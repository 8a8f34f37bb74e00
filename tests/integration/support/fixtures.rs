//! Fixture builders: tenants, contracts, people and tokens, written
//! through the portal's own functions where one exists.

use kontor::{
    app::{self, applications::NewApplication, customers::NewCustomer},
    db::{self, users},
    domain::{
        Cents, Kontingent, Role, Slug,
        contract::{BillingModel, Terms, Validity},
        text::Text,
    },
    seed,
};

use super::{TestApp, unique};

/// Text of a fixture, known to be valid.
pub fn text(s: &str) -> Text {
    Text::parse(s, 200).expect("fixture text")
}

/// A contract's terms as the tests write them: German decimals for money,
/// `JJJJ-MM-TT` for dates.
#[allow(clippy::too_many_arguments)]
fn terms(
    number: String,
    title: &str,
    (valid_from, valid_until): (&str, &str),
    (kostenstelle, haushaltsstelle, leitweg_id): (&str, &str, &str),
    billing_model: &str,
    base_fee: &str,
    (max_vcpu, max_memory_gib, max_storage_gib): (i64, i64, i64),
    monthly_budget: &str,
) -> Terms {
    Terms {
        number: text(&number),
        title: text(title),
        validity: Validity {
            from: valid_from.parse().expect("fixture date"),
            until: valid_until.parse().expect("fixture date"),
        },
        kostenstelle: text(kostenstelle),
        haushaltsstelle: text(haushaltsstelle),
        leitweg_id: text(leitweg_id),
        billing_model: billing_model
            .parse::<BillingModel>()
            .expect("fixture model"),
        base_fee: if base_fee.is_empty() {
            Cents(0)
        } else {
            Cents::parse(base_fee).expect("fixture fee")
        },
        kontingent: Kontingent {
            millicpu: max_vcpu * 1000,
            memory_mib: max_memory_gib * 1024,
            storage_gib: max_storage_gib,
            monthly_budget: Cents::parse(monthly_budget).expect("fixture budget"),
        },
    }
}

impl TestApp {
    // ----- identities and fixtures ----------------------------------------

    /// A fresh API token of the user with this login.
    pub async fn token_for(&self, login: &str) -> String {
        kontor::cli::create_token(self.db(), login, None, "test")
            .await
            .unwrap_or_else(|e| panic!("token for {login}: {e}"))
    }

    /// A new customer with a contract that has room for `vcpu` vCPU (and
    /// plenty of everything else), one application, and a Systempfleger:in.
    pub async fn contract_with_room(&self, vcpu: i64) -> Tenant {
        self.tenant(ContractSpec {
            max_vcpu: vcpu,
            ..ContractSpec::default()
        })
        .await
    }

    /// A new customer whose only contract ended last year.
    pub async fn expired_contract(&self) -> Tenant {
        self.tenant(ContractSpec {
            valid_from: "2020-01-01".into(),
            valid_until: "2020-12-31".into(),
            ..ContractSpec::default()
        })
        .await
    }

    pub async fn tenant(&self, spec: ContractSpec) -> Tenant {
        let system = seed::system_user(self.db()).await.expect("system user");
        let tag = unique();
        let slug = format!("kunde{tag}");
        let now = db::now();
        let customer = NewCustomer {
            slug: Slug::parse(&slug).expect("fixture slug"),
            name: text(&format!("Testkunde {tag}")),
        };
        let customer_id = app::customers::create(self.db(), &system, &customer, now)
            .await
            .expect("customer");
        let contract = terms(
            format!("DLV-T-{tag}"),
            "Testvertrag",
            (&spec.valid_from, &spec.valid_until),
            ("4711-1", "0610.53100", "04011000-1234512345-06"),
            "nutzung",
            "",
            (spec.max_vcpu, spec.max_memory_gib, spec.max_storage_gib),
            &spec.monthly_budget,
        );
        let contract_id = app::contracts::create(self.db(), &system, customer_id, &contract, now)
            .await
            .expect("contract");
        let application = NewApplication {
            contract_id,
            slug: Slug::parse("fachverfahren").expect("fixture slug"),
            name: text("Testverfahren"),
        };
        let application_id =
            app::applications::create(self.db(), &system, customer_id, &application, now)
                .await
                .expect("application");
        let login = format!("sp-{slug}");
        let mut tx = self.db().begin_write().await.expect("transaction");
        users::create(
            &mut tx,
            &login,
            "Test Pfleger",
            Some(customer_id),
            &[Role::Systempfleger],
            false,
            db::now(),
        )
        .await
        .expect("user");
        tx.commit().await.expect("commit");
        let token = self.token_for(&login).await;
        Tenant {
            customer_id,
            contract_id,
            application_id,
            login,
            token,
        }
    }

    /// Ids of the demo data.
    pub async fn demo(&self) -> Demo {
        Demo {
            musterhausen: self.demo_customer("musterhausen").await,
            lastat: self.demo_customer("lastat").await,
            nordkreis: self.demo_customer("nordkreis").await,
        }
    }

    async fn demo_customer(&self, slug: &str) -> DemoCustomer {
        let pool = &self.db().pool;
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM customers WHERE slug = $1")
            .bind(slug)
            .fetch_one(pool)
            .await
            .expect("demo customer");
        let (contract_id,): (i64,) =
            sqlx::query_as("SELECT MIN(id) FROM contracts WHERE customer_id = $1")
                .bind(id)
                .fetch_one(pool)
                .await
                .expect("demo contract");
        let application_ids: Vec<i64> = sqlx::query_as::<_, (i64,)>(
            "SELECT id FROM applications WHERE customer_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(pool)
        .await
        .expect("demo applications")
        .into_iter()
        .map(|(id,)| id)
        .collect();
        let (booking_id,): (i64,) = sqlx::query_as(
            "SELECT MIN(id) FROM bookings WHERE customer_id = $1 AND state <> 'gekuendigt'",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("demo booking");
        DemoCustomer {
            id,
            contract_id,
            application_ids,
            booking_id,
        }
    }

    // ----- database state -------------------------------------------------

    /// Rows in the tables a booking call may write.
    pub async fn counts(&self) -> Counts {
        Counts {
            bookings: self
                .count("SELECT CAST(COUNT(*) AS BIGINT) FROM bookings")
                .await,
            periods: self
                .count("SELECT CAST(COUNT(*) AS BIGINT) FROM booking_periods")
                .await,
            // The provisioning layer's reports come whenever it is done;
            // what people did is what a refused request must not add to.
            audit: self
                .count(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log \
                     WHERE action NOT IN ('booking.provisioned', 'deployment.succeeded', \
                     'deployment.failed')",
                )
                .await,
            outbox: self
                .count(
                    "SELECT CAST(COALESCE(SUM(generation), 0) AS BIGINT) FROM provisioning_outbox",
                )
                .await,
            idempotency_keys: self
                .count("SELECT CAST(COUNT(*) AS BIGINT) FROM idempotency_keys")
                .await,
        }
    }

    async fn count(&self, sql: &'static str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(&self.db().pool)
            .await
            .expect("count");
        n
    }

    /// Open (not cancelled) bookings under a contract, from the database.
    pub async fn open_bookings(&self, contract_id: i64) -> i64 {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM bookings WHERE contract_id = $1 AND state <> 'gekuendigt'",
        )
        .bind(contract_id)
        .fetch_one(&self.db().pool)
        .await
        .expect("count");
        n
    }

    /// The environment a booking is in.
    pub async fn environment_of(&self, booking_id: i64) -> i64 {
        let (id,): (i64,) = sqlx::query_as("SELECT environment_id FROM bookings WHERE id = $1")
            .bind(booking_id)
            .fetch_one(&self.db().pool)
            .await
            .expect("environment of the booking");
        id
    }

    /// The open (not cancelled) bookings of an environment.
    pub async fn open_bookings_in(&self, environment_id: i64) -> Vec<i64> {
        sqlx::query_as::<_, (i64,)>(
            "SELECT id FROM bookings WHERE environment_id = $1 AND state <> 'gekuendigt' ORDER BY id",
        )
        .bind(environment_id)
        .fetch_all(&self.db().pool)
        .await
        .expect("open bookings")
        .into_iter()
        .map(|(id,)| id)
        .collect()
    }

    /// An environment's namespace name.
    pub async fn namespace_of(&self, environment_id: i64) -> String {
        db::environments::spec(&self.db().pool, environment_id)
            .await
            .expect("environment")
            .expect("it exists")
            .namespace()
    }

    /// Audit actions people took on a booking, oldest first (without the
    /// provisioning layer's reports, which come whenever it is done).
    pub async fn audit_actions(&self, booking_id: i64) -> Vec<String> {
        db::audit::for_object(&self.db().pool, "booking", booking_id)
            .await
            .expect("audit log")
            .into_iter()
            .filter(|row| row.action != "booking.provisioned")
            .map(|row| row.action)
            .collect()
    }

    // ----- billing fixtures -----------------------------------------------

    /// A new user with these roles, of `customer_id` or (with `None`) of the
    /// provider; returns the user's API token.
    pub async fn user_with_roles(&self, customer_id: Option<i64>, roles: &[Role]) -> String {
        self.person(customer_id, roles).await.token
    }

    /// Like [`TestApp::user_with_roles`], also naming the login (what the
    /// audit log shows as the actor, as `Test Nutzer (<login>)`).
    pub async fn person(&self, customer_id: Option<i64>, roles: &[Role]) -> Person {
        let login = format!("nutzer-{}", unique());
        let mut tx = self.db().begin_write().await.expect("transaction");
        users::create(
            &mut tx,
            &login,
            "Test Nutzer",
            customer_id,
            roles,
            false,
            db::now(),
        )
        .await
        .expect("user");
        tx.commit().await.expect("commit");
        let token = self.token_for(&login).await;
        Person { login, token }
    }

    /// A further contract of the tenant's customer with its own application
    /// (`Zweitverfahren`) and its own Kostenstelle, Haushaltsstelle and
    /// Leitweg-ID, valid from `valid_from` to `valid_until`; the tenant's
    /// Systempfleger:in books on it. `billing_model` is `nutzung` or
    /// `gemischt` (then with `base_fee`, a German decimal like `"150,00"`).
    pub async fn second_contract(
        &self,
        of: &Tenant,
        billing_model: &str,
        base_fee: &str,
        (valid_from, valid_until): (&str, &str),
    ) -> Tenant {
        let system = seed::system_user(self.db()).await.expect("system user");
        let now = db::now();
        let contract = terms(
            format!("DLV-Z-{}", unique()),
            "Zweitvertrag",
            (valid_from, valid_until),
            ("4711-2", "0610.53200", "04011000-99999-42"),
            billing_model,
            base_fee,
            (100, 10_000, 100_000),
            "100000,00",
        );
        let contract_id =
            app::contracts::create(self.db(), &system, of.customer_id, &contract, now)
                .await
                .expect("second contract");
        let application = NewApplication {
            contract_id,
            slug: Slug::parse(&format!("zweit-{}", unique())).expect("fixture slug"),
            name: text("Zweitverfahren"),
        };
        let application_id =
            app::applications::create(self.db(), &system, of.customer_id, &application, now)
                .await
                .expect("application of the second contract");
        Tenant {
            contract_id,
            application_id,
            ..of.clone()
        }
    }
}

/// What the contract of a test tenant allows.
pub struct ContractSpec {
    pub max_vcpu: i64,
    pub max_memory_gib: i64,
    pub max_storage_gib: i64,
    /// German decimal, e.g. `"100000,00"`.
    pub monthly_budget: String,
    pub valid_from: String,
    pub valid_until: String,
}

impl Default for ContractSpec {
    fn default() -> Self {
        ContractSpec {
            max_vcpu: 100,
            max_memory_gib: 10_000,
            max_storage_gib: 100_000,
            monthly_budget: "100000,00".into(),
            valid_from: "2020-01-01".into(),
            valid_until: "2099-12-31".into(),
        }
    }
}

/// A customer made for one test: its contract, one application, and the
/// API token of its Systempfleger:in.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub customer_id: i64,
    pub contract_id: i64,
    pub application_id: i64,
    pub login: String,
    pub token: String,
}

/// A user made for one test: the login and an API token.
#[derive(Debug, Clone)]
pub struct Person {
    pub login: String,
    pub token: String,
}

impl Person {
    /// How the audit log names this person as the actor.
    pub fn actor(&self) -> String {
        format!("Test Nutzer ({})", self.login)
    }
}

#[derive(Debug, Clone)]
pub struct Demo {
    pub musterhausen: DemoCustomer,
    pub lastat: DemoCustomer,
    pub nordkreis: DemoCustomer,
}

#[derive(Debug, Clone)]
pub struct DemoCustomer {
    pub id: i64,
    pub contract_id: i64,
    pub application_ids: Vec<i64>,
    /// The first open booking.
    pub booking_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub bookings: i64,
    pub periods: i64,
    pub audit: i64,
    pub idempotency_keys: i64,
    /// The sum of outbox generations: grows with every enqueued change.
    pub outbox: i64,
}
