//! The suite's secrets as a function reads them: where the suite says each one is (its ARN
//! in moto, from `GET /suite/secrets`), and its value read from moto's Secrets Manager. For
//! a test that must sign something as the deployment does, e.g. a scheduling link that has
//! already expired, which no API mints.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_scheduling::LinkSigner;

use crate::{Result, Running};

/// The template's secret that holds the key of scheduling links (base64, as scheduler-api
/// reads it).
const LINK_KEY: &str = "SchedulerLinkKeyValue";

impl Running {
    /// The value of the template's secret `logical_id`, read from moto as the functions do.
    pub async fn secret(&self, logical_id: &str) -> Result<String> {
        let (status, arns) = self
            .send(
                reqwest::Method::GET,
                format!("{}/suite/secrets", self.api),
                None,
                None,
            )
            .await?;
        if status != 200 {
            return Err(format!("GET /suite/secrets: {status}").into());
        }
        let arn = arns[logical_id]
            .as_str()
            .ok_or_else(|| format!("the suite made no secret {logical_id}: {arns}"))?;
        let aws = hiresync_localstack::aws_config().await;
        let value = aws_sdk_secretsmanager::Client::new(&aws)
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "reading secret {logical_id}: {}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                )
            })?;
        Ok(value
            .secret_string
            .ok_or_else(|| format!("secret {logical_id} has no string value"))?)
    }

    /// The suite's real link signer, with the key scheduler-api signs links with.
    pub async fn link_signer(&self) -> Result<LinkSigner> {
        let key = B64.decode(self.secret(LINK_KEY).await?)?;
        Ok(LinkSigner::new(key).ok_or("the link key is shorter than 32 bytes")?)
    }

    /// The URL of a link for `seat` of `contract` valid until `expires_at` (which may be
    /// past), signed with the suite's key. Only the token: no link is stored for it.
    pub async fn signed_link(
        &self,
        contract: &str,
        seat: &str,
        expires_at: jiff::Timestamp,
    ) -> Result<String> {
        let token = self.link_signer().await?.mint(
            &ContractId::parse(contract)?,
            &SeatId::parse(seat)?,
            expires_at,
        );
        Ok(format!("{}/s/{token}", self.api))
    }
}
