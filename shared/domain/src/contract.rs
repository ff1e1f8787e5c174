//! A customer's contract and the settings its admin controls.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::access::{self, Effect};
use crate::ids::ContractId;

/// The mail and calendar provider an admin selects for the whole contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Microsoft365,
    GoogleWorkspace,
}

/// The email access level. The order of the variants is the order of the levels:
/// `Off < ViewOnly < SendAndView`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailAccess {
    Off,
    ViewOnly,
    SendAndView,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    Active,
    Suspended,
}

/// What the admin has chosen. A new contract has no provider, email off and calendar off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractSettings {
    pub provider: Option<Provider>,
    pub email_access: EmailAccess,
    pub calendar_enabled: bool,
    /// Video meetings for scheduled interviews, from the contract's provider: Teams for
    /// Microsoft 365, Google Meet for Google Workspace.
    #[serde(default)]
    pub video_meetings: bool,
}

impl Default for ContractSettings {
    fn default() -> Self {
        Self {
            provider: None,
            email_access: EmailAccess::Off,
            calendar_enabled: false,
            video_meetings: false,
        }
    }
}

/// An admin's change of settings; `None` leaves a setting as it is. A provider, once chosen,
/// can be changed but not cleared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsUpdate {
    pub provider: Option<Provider>,
    pub email_access: Option<EmailAccess>,
    pub calendar_enabled: Option<bool>,
    #[serde(default)]
    pub video_meetings: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    #[error("contract {0} is suspended; its settings cannot change until it is reactivated")]
    Suspended(ContractId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub id: ContractId,
    pub status: ContractStatus,
    pub settings: ContractSettings,
    /// The organizations (Microsoft tenant ids, Google Workspace domains, lowercase) whose
    /// accounts alone may connect; empty: any account, personal ones included.
    #[serde(default)]
    pub organizations: BTreeSet<String>,
    /// The instant of the last suspension or reactivation applied (the product's, from its
    /// event); `None` until the first. An older event than this changes nothing.
    #[serde(default)]
    pub lifecycle_at: Option<jiff::Timestamp>,
}

/// What a suspension or reactivation event did to the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// The contract changed status.
    Applied,
    /// The same event again: the contract already is what it says, as of that instant.
    Repeated,
    /// An event older than the last one applied (delivered out of order): ignored.
    Stale,
}

/// How many organizations a contract can be pinned to.
pub const MAX_ORGANIZATIONS: usize = 50;

/// Why a list of organizations cannot be pinned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OrganizationsError {
    #[error("at most {MAX_ORGANIZATIONS} organizations can be pinned, {0} were given")]
    TooMany(usize),
    #[error("{0:?} is not an organization: a Microsoft tenant id or a Google Workspace domain is expected")]
    Invalid(String),
    #[error("contract {0} is suspended; its settings cannot change until it is reactivated")]
    Suspended(ContractId),
}

/// An organization as compared: trimmed and lowercase; letters, digits, `-` and `.` only
/// (a tenant id is a GUID, a Workspace domain a host name), at most 253 characters.
pub fn organization(raw: &str) -> Result<String, OrganizationsError> {
    let org = raw.trim().to_ascii_lowercase();
    let valid = !org.is_empty()
        && org.len() <= 253
        && org
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if valid {
        Ok(org)
    } else {
        Err(OrganizationsError::Invalid(raw.chars().take(80).collect()))
    }
}

impl Contract {
    /// A new, active contract with nothing enabled.
    pub fn new(id: ContractId) -> Self {
        Self {
            id,
            status: ContractStatus::Active,
            settings: ContractSettings::default(),
            organizations: BTreeSet::new(),
            lifecycle_at: None,
        }
    }

    /// Pins the contract to `organizations` (empty: unpins it). A list that lets fewer
    /// accounts in than before yields [`Effect::EnforceOrganizations`]; the same list twice,
    /// or one that only widens, yields nothing to carry out.
    pub fn pin_organizations(
        &mut self,
        organizations: &[String],
    ) -> Result<Vec<Effect>, OrganizationsError> {
        if !self.is_active() {
            return Err(OrganizationsError::Suspended(self.id.clone()));
        }
        if organizations.len() > MAX_ORGANIZATIONS {
            return Err(OrganizationsError::TooMany(organizations.len()));
        }
        let after = organizations
            .iter()
            .map(|o| organization(o))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let narrows = !after.is_empty()
            && (self.organizations.is_empty() || !self.organizations.is_subset(&after));
        self.organizations = after;
        Ok(if narrows {
            vec![Effect::EnforceOrganizations]
        } else {
            vec![]
        })
    }

    pub fn is_active(&self) -> bool {
        self.status == ContractStatus::Active
    }

    /// Applies an admin's change and returns the effects to carry out, in order.
    /// Applying the same update twice yields no effects the second time.
    pub fn change_settings(
        &mut self,
        update: SettingsUpdate,
    ) -> Result<Vec<Effect>, SettingsError> {
        if !self.is_active() {
            return Err(SettingsError::Suspended(self.id.clone()));
        }
        let before = self.settings;
        let after = ContractSettings {
            provider: update.provider.or(before.provider),
            email_access: update.email_access.unwrap_or(before.email_access),
            calendar_enabled: update.calendar_enabled.unwrap_or(before.calendar_enabled),
            video_meetings: update.video_meetings.unwrap_or(before.video_meetings),
        };
        let mut effects = access::provider_change(before.provider, after.provider);
        effects.extend(access::email_access_change(
            before.email_access,
            after.email_access,
        ));
        effects.extend(access::calendar_change(
            before.calendar_enabled,
            after.calendar_enabled,
        ));
        // Video meetings change no connection: a seat that offers them and loses them is
        // told when a candidate books (the scheduler refuses a video meeting it cannot make).
        self.settings = after;
        Ok(effects)
    }

    /// Suspends the contract as of `at` (the product's instant); the caller purges all
    /// third-party data. The same suspension again is [`Lifecycle::Repeated`]; one older than
    /// the last suspension or reactivation applied is [`Lifecycle::Stale`].
    pub fn suspend(&mut self, at: jiff::Timestamp) -> Lifecycle {
        self.move_to(ContractStatus::Suspended, at)
    }

    /// Reactivates a suspended contract as of `at`. Nothing purged comes back: every seat
    /// authorizes again. A reactivation at the very instant of the suspension it follows is
    /// [`Lifecycle::Stale`]: the suspension wins a tie.
    pub fn reactivate(&mut self, at: jiff::Timestamp) -> Lifecycle {
        self.move_to(ContractStatus::Active, at)
    }

    fn move_to(&mut self, status: ContractStatus, at: jiff::Timestamp) -> Lifecycle {
        match self.lifecycle_at {
            Some(last) if last > at => Lifecycle::Stale,
            Some(last) if last == at && self.status == status => Lifecycle::Repeated,
            Some(last) if last == at && status == ContractStatus::Active => Lifecycle::Stale,
            None if self.status == status && status == ContractStatus::Active => {
                // Never suspended: a reactivation has nothing to undo.
                Lifecycle::Stale
            }
            _ => {
                self.status = status;
                self.lifecycle_at = Some(at);
                Lifecycle::Applied
            }
        }
    }
}
