//! What the tablet does with its outbox once the server has answered a push.

use std::collections::{HashMap, HashSet};

use assiette_domain::sync::{MutationStatus, PushResponse, RecordPayload};
use assiette_domain::validation::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// Why an outbox entry waits for the manager ("à vérifier") instead of being sent again.
#[derive(Debug, Clone, PartialEq)]
pub enum Review {
    Rejected { reason: String, errors: Vec<FieldError> },
    /// The server kept another state: show both; to keep the tablet's version, save it again
    /// as a new revision on top of `current`; to give it up, write `current` locally.
    Conflict { current: RecordPayload },
}

impl Review {
    /// What the « à vérifier » list says about the entry, in French.
    pub fn reason_fr(&self) -> String {
        match self {
            Review::Rejected { reason, .. } => format!("Refusé par le serveur : {reason}"),
            Review::Conflict { current } => format!(
                "Conflit : une autre tablette (ou la métropole) a enregistré une autre version de cette {} : {} (révision {}).",
                current.describe_fr(),
                current.values_fr(),
                current.revision()
            ),
        }
    }

    /// The server's version of the record, when the server said which one it keeps.
    pub fn current(&self) -> Option<&RecordPayload> {
        match self {
            Review::Conflict { current } => Some(current),
            Review::Rejected { .. } => None,
        }
    }
}

/// What the tablet does with its outbox after a push reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxPlan {
    /// Acknowledged (applied or duplicate): delete from the outbox in the transaction that records it.
    pub delete: Vec<u64>,
    /// Applied now: the server's timestamp to stamp on the local record.
    pub stamped: Vec<(u64, DateTime<Utc>)>,
    /// Keep, mark « à vérifier », don't send again; never blocks the rest of the queue.
    pub review: Vec<(u64, Review)>,
    /// Sent but not answered: keep pending, send again.
    pub retry: Vec<u64>,
}

/// Applies a push reply to the seqs that were sent. Results for seqs not sent are ignored;
/// if a seq is answered twice, the first answer counts.
pub fn plan_outbox(sent: &[u64], response: &PushResponse) -> OutboxPlan {
    let mut first: HashMap<u64, &MutationStatus> = HashMap::new();
    for r in &response.results {
        first.entry(r.seq).or_insert(&r.status);
    }
    let mut plan = OutboxPlan::default();
    let mut seen = HashSet::new();
    for &seq in sent {
        if !seen.insert(seq) {
            continue;
        }
        match first.get(&seq) {
            None => plan.retry.push(seq),
            Some(MutationStatus::Applied { server_updated_at, .. }) => {
                plan.delete.push(seq);
                plan.stamped.push((seq, *server_updated_at));
            }
            Some(MutationStatus::Duplicate) => plan.delete.push(seq),
            Some(MutationStatus::Conflict { current }) => plan.review.push((seq, Review::Conflict { current: current.clone() })),
            Some(MutationStatus::Rejected { reason, errors }) => {
                plan.review.push((seq, Review::Rejected { reason: reason.clone(), errors: errors.clone() }))
            }
        }
    }
    plan
}

/// One queued change for the server: the full record revision, so the outbox alone is enough
/// to sync even if the record changes again meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Assigned by IndexedDB (auto-increment): the device's sequence number for the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub store: String,
    pub record_id: Uuid,
    pub revision: u64,
    pub record: RecordJson,
    /// Set when the server refused the change: kept on the device and listed "à vérifier".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    /// The server's version of the record (its JSON, without `kind`) when it answered with a
    /// conflict: written locally if the person gives up the tablet's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<RecordJson>,
}

/// A record's JSON text, kept as it was read: the outbox never needs it as a tree (the sync
/// reads it as its own type, the storage hands it to the browser as is). Equal when the texts are.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordJson(Box<RawValue>);

impl RecordJson {
    /// The JSON of any serialisable value.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Self> {
        serde_json::value::to_raw_value(value).map(RecordJson)
    }

    pub fn from_text(text: String) -> serde_json::Result<Self> {
        RawValue::from_string(text).map(RecordJson)
    }

    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for RecordJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}
