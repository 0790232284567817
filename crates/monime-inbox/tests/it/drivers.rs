//! The two drivers behind one test interface, so each scenario runs on both: tokio-postgres
//! and sqlx call the same SQL through their own methods, and must behave the same.

use std::time::Duration;

use monime_inbox::{
    Accepted, Delivery, Job, Outcome, PgInbox, PgProcessError, PgQueue, RetryPolicy, Status,
    Stored, Worked,
};
use sqlx::Connection;

use crate::server::PgServer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    TokioPostgres,
    Sqlx,
}

/// Runs `scenario` once per driver, each as its own test.
macro_rules! on_both_drivers {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn tokio_postgres() {
                super::$scenario(crate::drivers::Driver::TokioPostgres)
            }
            #[test]
            fn sqlx() {
                super::$scenario(crate::drivers::Driver::Sqlx)
            }
        }
    )*};
}
pub(crate) use on_both_drivers;

pub enum Conn {
    TokioPostgres(tokio_postgres::Client),
    Sqlx(sqlx::PgConnection),
}

/// What a scripted handler does inside the inbox's transaction.
#[derive(Debug, Clone, Copy)]
pub enum Script {
    /// Writes its effect (event id, `worker`).
    Effect(i32),
    /// Writes its effect, then holds the transaction open for a while.
    EffectThenPause(i32, Duration),
    /// Writes its effect, then an audit row that hits a unique key, and returns `Ok` anyway.
    SwallowFailedStatement,
    /// Writes its effect, rolls the transaction back itself and returns `Ok`.
    EndTransaction,
}

/// A [`PgProcessError`] with the driver's error reduced to what the tests compare.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    Handler,
    /// Aborted, with the SQLSTATE of the error PostgreSQL gave, if any.
    Aborted(Option<String>),
    Database,
    OutcomeUnknown,
}

fn failure<E, D>(error: &PgProcessError<E, D>, sqlstate: impl Fn(&D) -> Option<String>) -> Failure {
    match error {
        PgProcessError::Handler(_) => Failure::Handler,
        PgProcessError::Aborted(error) => Failure::Aborted(error.as_ref().and_then(sqlstate)),
        PgProcessError::Database(_) => Failure::Database,
        PgProcessError::OutcomeUnknown(_) => Failure::OutcomeUnknown,
    }
}

fn tokio_sqlstate(error: &tokio_postgres::Error) -> Option<String> {
    error.code().map(|code| code.code().to_owned())
}

fn sqlx_sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
}

/// A report reduced to (key, attempt, outcome text, processed).
pub type Report = (String, u32, String, bool);

fn report<E: std::fmt::Display, D: std::fmt::Display>(
    r: monime_inbox::JobReport<(), E, D>,
) -> Report {
    let processed = matches!(r.outcome, Worked::Processed(()));
    (r.key, r.attempt, r.outcome.to_string(), processed)
}

impl Driver {
    /// A connection to the test server listening on `port` (or a proxy in front of it).
    pub async fn connect_on(self, port: u16) -> Conn {
        match self {
            Driver::TokioPostgres => {
                let (client, connection) = PgServer::config_for(port)
                    .connect(tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                Conn::TokioPostgres(client)
            }
            Driver::Sqlx => Conn::Sqlx(
                sqlx::PgConnection::connect(&format!(
                    "postgres://postgres@127.0.0.1:{port}/postgres"
                ))
                .await
                .unwrap(),
            ),
        }
    }

    pub async fn connect(self, server: &PgServer) -> Conn {
        self.connect_on(server.port).await
    }
}

impl Conn {
    pub async fn execute(&mut self, sql: &str) {
        match self {
            Conn::TokioPostgres(c) => c.batch_execute(sql).await.unwrap(),
            Conn::Sqlx(c) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(c)
                    .await
                    .unwrap();
            }
        }
    }

    pub async fn count(&mut self, sql: &str) -> i64 {
        match self {
            Conn::TokioPostgres(c) => c.query_one(sql, &[]).await.unwrap().get(0),
            Conn::Sqlx(c) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(c)
                .await
                .unwrap(),
        }
    }

    pub async fn create_queue(&mut self, queue: &PgQueue) {
        match self {
            Conn::TokioPostgres(c) => queue.create_table(&*c).await.unwrap(),
            Conn::Sqlx(c) => queue.create_table_sqlx(c).await.unwrap(),
        }
    }

    pub async fn accept(&mut self, queue: &PgQueue, id: &str) -> Accepted {
        let body = body(id);
        let delivery = Delivery {
            key: id,
            event_id: id,
            event_name: "payment.completed",
            body: &body,
            signature: "t=1771803194,v1=AAAA",
        };
        match self {
            Conn::TokioPostgres(c) => queue.accept(&*c, &delivery).await.unwrap(),
            Conn::Sqlx(c) => queue.accept_sqlx(c, &delivery).await.unwrap(),
        }
    }

    /// `accept_many`: each delivery's fate, or the SQLSTATE of the server's refusal.
    pub async fn accept_many(
        &mut self,
        queue: &PgQueue,
        deliveries: &[Delivery<'_>],
    ) -> Result<Vec<Accepted>, Option<String>> {
        match self {
            Conn::TokioPostgres(c) => queue
                .accept_many(&*c, deliveries)
                .await
                .map_err(|e| tokio_sqlstate(&e)),
            Conn::Sqlx(c) => queue
                .accept_many_sqlx(c, deliveries)
                .await
                .map_err(|e| sqlx_sqlstate(&e)),
        }
    }

    /// One `work` call whose handler writes its effect (event id, `worker`), waits `pause`,
    /// then fails with `fail`'s message if it gives one.
    pub async fn work(
        &mut self,
        queue: &PgQueue,
        policy: &RetryPolicy,
        worker: i32,
        pause: Duration,
        fail: impl Fn(&Job) -> Option<String>,
    ) -> Vec<Report> {
        // `fail` is asked first, when the handler starts (it may record that), and its answer
        // applied at the end.
        let outcome = |failure: Option<String>| match failure {
            Some(message) => Err(message),
            None => Ok(()),
        };
        match self {
            Conn::TokioPostgres(c) => queue
                .work(c, policy, async |tx, job| {
                    let failure = fail(job);
                    tx.execute(
                        "INSERT INTO effects VALUES ($1, $2)",
                        &[&job.event_id, &worker],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    assert_eq!(job.event().unwrap().id, job.event_id);
                    tokio::time::sleep(pause).await;
                    outcome(failure)
                })
                .await
                .unwrap()
                .into_iter()
                .map(report)
                .collect(),
            Conn::Sqlx(c) => queue
                .work_sqlx(c, policy, async |tx, job| {
                    let failure = fail(job);
                    sqlx::query("INSERT INTO effects VALUES ($1, $2)")
                        .bind(&job.event_id)
                        .bind(worker)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| e.to_string())?;
                    assert_eq!(job.event().unwrap().id, job.event_id);
                    tokio::time::sleep(pause).await;
                    outcome(failure)
                })
                .await
                .unwrap()
                .into_iter()
                .map(report)
                .collect(),
        }
    }

    pub async fn list(&mut self, queue: &PgQueue, status: Option<Status>) -> Vec<Stored> {
        match self {
            Conn::TokioPostgres(c) => queue.list(&*c, status, 100).await.unwrap(),
            Conn::Sqlx(c) => queue.list_sqlx(c, status, 100).await.unwrap(),
        }
    }

    pub async fn show(&mut self, queue: &PgQueue, key: &str) -> Option<(Stored, Vec<u8>)> {
        match self {
            Conn::TokioPostgres(c) => queue.show(&*c, key).await.unwrap(),
            Conn::Sqlx(c) => queue.show_sqlx(c, key).await.unwrap(),
        }
    }

    pub async fn retry(&mut self, queue: &PgQueue, key: &str) -> bool {
        match self {
            Conn::TokioPostgres(c) => queue.retry(&*c, key).await.unwrap(),
            Conn::Sqlx(c) => queue.retry_sqlx(c, key).await.unwrap(),
        }
    }

    /// The number pruned, or the error's message.
    pub async fn prune(&mut self, queue: &PgQueue, older_than: Duration) -> Result<u64, String> {
        match self {
            Conn::TokioPostgres(c) => queue
                .prune(&*c, older_than)
                .await
                .map_err(|e| e.to_string()),
            Conn::Sqlx(c) => queue
                .prune_sqlx(c, older_than)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    pub async fn prune_inbox(
        &mut self,
        inbox: &PgInbox,
        older_than: Duration,
    ) -> Result<u64, String> {
        match self {
            Conn::TokioPostgres(c) => inbox
                .prune(&*c, older_than)
                .await
                .map_err(|e| e.to_string()),
            Conn::Sqlx(c) => inbox
                .prune_sqlx(c, older_than)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    pub async fn create_inbox(&mut self, inbox: &PgInbox) {
        match self {
            Conn::TokioPostgres(c) => inbox.create_table(&*c).await.unwrap(),
            Conn::Sqlx(c) => inbox.create_table_sqlx(c).await.unwrap(),
        }
    }

    /// `PgInbox::process` with a scripted handler, and the error's message when it fails.
    pub async fn process(
        &mut self,
        inbox: &PgInbox,
        id: &str,
        script: Script,
    ) -> Result<Outcome<()>, (Failure, String)> {
        match self {
            Conn::TokioPostgres(c) => inbox
                .process(c, id, async |tx| play_tokio(tx, id, script).await)
                .await
                .map_err(|e| (failure(&e, tokio_sqlstate), e.to_string())),
            Conn::Sqlx(c) => inbox
                .process_sqlx(c, id, async |tx| play_sqlx(tx, id, script).await)
                .await
                .map_err(|e| (failure(&e, sqlx_sqlstate), e.to_string())),
        }
    }

    /// `PgQueue::work` with every job's handler playing `script` on its event id.
    pub async fn work_scripted(
        &mut self,
        queue: &PgQueue,
        policy: &RetryPolicy,
        script: Script,
    ) -> Vec<Report> {
        match self {
            Conn::TokioPostgres(c) => queue
                .work(c, policy, async |tx, job| {
                    play_tokio(tx, &job.event_id, script).await
                })
                .await
                .unwrap()
                .into_iter()
                .map(report)
                .collect(),
            Conn::Sqlx(c) => queue
                .work_sqlx(c, policy, async |tx, job| {
                    play_sqlx(tx, &job.event_id, script).await
                })
                .await
                .unwrap()
                .into_iter()
                .map(report)
                .collect(),
        }
    }
}

async fn play_tokio(
    tx: &tokio_postgres::Transaction<'_>,
    id: &str,
    script: Script,
) -> Result<(), tokio_postgres::Error> {
    match script {
        Script::Effect(worker) | Script::EffectThenPause(worker, _) => {
            tx.execute("INSERT INTO effects VALUES ($1, $2)", &[&id, &worker])
                .await?;
            if let Script::EffectThenPause(_, pause) = script {
                tokio::time::sleep(pause).await;
            }
        }
        Script::SwallowFailedStatement => {
            tx.execute("INSERT INTO effects VALUES ($1, 0)", &[&id])
                .await?;
            let audit = tx.execute("INSERT INTO audit VALUES ($1)", &[&id]).await;
            assert!(
                audit.is_err(),
                "the audit insert fails, the handler goes on"
            );
        }
        Script::EndTransaction => {
            tx.execute("INSERT INTO effects VALUES ($1, 0)", &[&id])
                .await?;
            tx.batch_execute("ROLLBACK").await?;
        }
    }
    Ok(())
}

async fn play_sqlx(
    tx: &mut sqlx::PgConnection,
    id: &str,
    script: Script,
) -> Result<(), sqlx::Error> {
    match script {
        Script::Effect(worker) | Script::EffectThenPause(worker, _) => {
            sqlx::query("INSERT INTO effects VALUES ($1, $2)")
                .bind(id)
                .bind(worker)
                .execute(&mut *tx)
                .await?;
            if let Script::EffectThenPause(_, pause) = script {
                tokio::time::sleep(pause).await;
            }
        }
        Script::SwallowFailedStatement => {
            sqlx::query("INSERT INTO effects VALUES ($1, 0)")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let audit = sqlx::query("INSERT INTO audit VALUES ($1)")
                .bind(id)
                .execute(&mut *tx)
                .await;
            assert!(
                audit.is_err(),
                "the audit insert fails, the handler goes on"
            );
        }
        Script::EndTransaction => {
            sqlx::query("INSERT INTO effects VALUES ($1, 0)")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::raw_sql("ROLLBACK").execute(&mut *tx).await?;
        }
    }
    Ok(())
}

/// A delivery body for event `id`.
pub fn body(id: &str) -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"caph.2025-08-23","event":{{"id":"{id}","name":"payment.completed","timestamp":"1771803194"}},"object":{{"id":"pay-{id}","type":"payment"}},"data":{{"id":"pay-{id}"}}}}"#
    )
    .into_bytes()
}
