//! Composition root: logging, configuration and clients once per cold start, then the
//! router under Lambda's HTTP adapter.

use std::sync::Arc;

use hiresync_runtime::config::Env;
use hiresync_store::DynamoSubscriptionStore;
use webhook_intake::google_jwt::{GooglePushVerifier, GOOGLE_JWKS};
use webhook_intake::jobs::SyncJobs;
use webhook_intake::{router, Intake};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hiresync_runtime::telemetry::init();
    let mut env = Env::process();
    let tenancy = env.required("TENANCY_TABLE");
    let queue_url = env.required("SYNC_JOBS_QUEUE_URL");
    let audience = env.required("PUBSUB_PUSH_AUDIENCE");
    let account = env.required("PUBSUB_PUSH_SERVICE_ACCOUNT");
    let jwks = env
        .optional("GOOGLE_JWKS_URL")
        .unwrap_or_else(|| GOOGLE_JWKS.to_owned());
    env.finish(())?;
    let aws = hiresync_runtime::aws_config().await;
    let intake = Arc::new(Intake {
        subscriptions: DynamoSubscriptionStore::new(aws_sdk_dynamodb::Client::new(&aws), tenancy),
        jobs: SyncJobs {
            sqs: aws_sdk_sqs::Client::new(&aws),
            queue_url,
        },
        google: GooglePushVerifier::new(reqwest::Client::new(), jwks, audience, account),
        clock: Arc::new(jiff::Timestamp::now),
    });
    lambda_http::run(router(intake)).await
}
