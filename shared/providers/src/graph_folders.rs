//! Microsoft Graph mail folders: which folders a mailbox has, and which of them hold mail
//! that is never a conversation (protocols-additions.md §3).
//!
//! Message delta works per folder only, so following mail wherever it is filed means one
//! delta stream per folder. `GET /me/mailFolders` lists the root's direct children (ten
//! per page by default); a folder with children is read again through its `childFolders`.
//! Graph v1.0 does not say which folder is which well-known one, so the ids of the
//! well-known folders the sync leaves out (and of Inbox and Sent Items, whose cursors
//! keep their names) are read by name, once per connection.

use reqwest::{RequestBuilder, Url};
use serde::Deserialize;

use crate::graph::{GraphClient, PREFER_IMMUTABLE_ID};
use crate::http::{ApiError, Repeat};

/// Well-known folders that hold no conversation mail: the bin, junk, drafts, what is
/// waiting to be sent or scheduled, Teams' conversation history, synchronization
/// conflicts and failures, and search folders (views over other folders). Their
/// descendants are left out with them.
pub const SKIPPED_WELL_KNOWN: [&str; 8] = [
    "deleteditems",
    "junkemail",
    "drafts",
    "outbox",
    "scheduled",
    "conversationhistory",
    "syncissues",
    "searchfolders",
];

/// The most folders read in one listing; a mailbox with more is followed in its first
/// `MAX_FOLDERS` (Inbox and Sent Items always among them), and the rest is logged by the
/// caller. Each folder costs a delta call per sync job.
pub const MAX_FOLDERS: usize = 200;

/// One mail folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailFolder {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub child_folder_count: u32,
}

#[derive(Deserialize)]
struct FolderPage {
    value: Vec<MailFolder>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

const FOLDER_SELECT: &str = "$select=id,displayName,childFolderCount&$top=100";

impl GraphClient {
    /// The id of a well-known folder (`inbox`, `deleteditems`, ...); `None` when the
    /// mailbox has no such folder.
    pub async fn well_known_folder_id(&self, name: &str) -> Result<Option<String>, ApiError> {
        const OPERATION: &str = "graph.well_known_folder";
        #[derive(Deserialize)]
        struct FolderWire {
            id: String,
        }
        let url = self
            .base
            .join(&["me", "mailFolders", name], Some("$select=id"));
        match self
            .api
            .send(OPERATION, Repeat::Safe, |h| immutable_get(h, &url))
            .await
        {
            Ok(answer) => Ok(Some(answer.json::<FolderWire>(OPERATION)?.id)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every folder of the mailbox except those in `skip` and their descendants, in the
    /// order Graph lists them (parents before their children), at most [`MAX_FOLDERS`].
    pub async fn mail_folders(
        &self,
        skip: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<MailFolder>, ApiError> {
        let mut found = Vec::new();
        let root = self.base.join(&["me", "mailFolders"], Some(FOLDER_SELECT));
        let mut parents = std::collections::VecDeque::from([root]);
        while let Some(url) = parents.pop_front() {
            for folder in self.folder_pages(url).await? {
                if skip.contains(&folder.id) || found.len() >= MAX_FOLDERS {
                    continue;
                }
                if folder.child_folder_count > 0 {
                    parents.push_back(self.base.join(
                        &["me", "mailFolders", &folder.id, "childFolders"],
                        Some(FOLDER_SELECT),
                    ));
                }
                found.push(folder);
            }
        }
        Ok(found)
    }

    /// Every page of one folder listing, following `@odata.nextLink` on the same origin.
    async fn folder_pages(&self, first: Url) -> Result<Vec<MailFolder>, ApiError> {
        const OPERATION: &str = "graph.mail_folders";
        let mut folders = Vec::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let page: FolderPage = self
                .api
                .send(OPERATION, Repeat::Safe, |h| immutable_get(h, &url))
                .await?
                .json(OPERATION)?;
            folders.extend(page.value);
            next = match page.next_link {
                Some(link) => match Url::parse(&link) {
                    Ok(url) if url.origin() == self.base.0.origin() => Some(url),
                    _ => return Err(foreign_link(OPERATION)),
                },
                None => None,
            };
        }
        Ok(folders)
    }
}

/// Folder ids in the same format as message ids and `parentFolderId`.
fn immutable_get(http: &reqwest::Client, url: &Url) -> RequestBuilder {
    http.get(url.clone()).header("Prefer", PREFER_IMMUTABLE_ID)
}

fn foreign_link(operation: &'static str) -> ApiError {
    ApiError::Decode {
        operation,
        source: <serde_json::Error as serde::de::Error>::custom(
            "a next link points outside the configured Graph origin",
        ),
    }
}
