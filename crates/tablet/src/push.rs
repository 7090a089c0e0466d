//! How the outbox goes to the server: the push body written around each record's stored JSON,
//! batches that fit the server's limits, and what to do with a batch the server refuses whole.
//!
//! A batch answered 413 (too large for the server or a proxy in front of it) is split in two
//! halves, sent one after the other, down to single entries; a single entry still too large is
//! set aside « à vérifier ». A batch answered 422 (the server cannot read one of its records) is
//! bisected the same way until the unreadable entry is alone, and that entry is set aside while
//! the rest goes through. Halves keep the outbox order, so a record's revisions still reach the
//! server in the order they were made.

use std::collections::VecDeque;

use assiette_domain::sync::RecordKind;
use uuid::Uuid;

/// One outbox entry as it is sent: its seq (the device's sequence number), its kind and its
/// record's stored JSON (without `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing<'a> {
    pub seq: u64,
    pub kind: RecordKind,
    pub record: &'a str,
}

/// Bytes of a push body around its mutations: `{"device_id":"<uuid>","mutations":[` and `]}`.
pub const BODY_OVERHEAD: usize = r#"{"device_id":""#.len() + 36 + r#"","mutations":["#.len() + "]}".len();

/// The record's fields after its opening brace, and the comma `kind` needs before them.
fn record_fields(record: &str) -> (&str, &str) {
    let fields = record.trim();
    let fields = fields.strip_prefix('{').unwrap_or(fields);
    let comma = if fields.trim_start().starts_with('}') { "" } else { "," };
    (comma, fields)
}

/// Bytes one mutation adds to a push body (without the comma between mutations).
pub fn mutation_len(m: &Outgoing) -> usize {
    let (comma, fields) = record_fields(m.record);
    let digits = m.seq.checked_ilog10().map_or(1, |d| d as usize + 1);
    r#"{"seq":"#.len() + digits + r#","record":{"kind":""#.len() + m.kind.code().len() + 1 + comma.len() + fields.len() + 1
}

/// The JSON of the domain's `PushRequest` for these mutations: each record goes as it is
/// stored, its `kind` put first as serde writes it, instead of being serialised again.
pub fn push_body(device_id: Uuid, mutations: &[Outgoing]) -> String {
    let mut body = String::with_capacity(BODY_OVERHEAD + mutations.iter().map(|m| mutation_len(m) + 1).sum::<usize>());
    body.push_str(r#"{"device_id":""#);
    body.push_str(&device_id.to_string());
    body.push_str(r#"","mutations":["#);
    for (i, m) in mutations.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let (comma, fields) = record_fields(m.record);
        body.push_str(r#"{"seq":"#);
        body.push_str(&m.seq.to_string());
        body.push_str(r#","record":{"kind":""#);
        body.push_str(m.kind.code());
        body.push('"');
        body.push_str(comma);
        body.push_str(fields);
        body.push('}');
    }
    body.push_str("]}");
    body
}

/// Cuts the outbox (seq and [`mutation_len`] of each entry, in order) into consecutive batches
/// of at most `max_count` mutations whose push body stays within `max_bytes`. An entry too large
/// for any body goes alone (the server's answer decides what becomes of it).
pub fn plan_batches(entries: &[(u64, usize)], max_count: usize, max_bytes: usize) -> Vec<Vec<u64>> {
    let mut batches: Vec<Vec<u64>> = Vec::new();
    let mut current: Vec<u64> = Vec::new();
    let mut bytes = BODY_OVERHEAD;
    for &(seq, len) in entries {
        let cost = len + usize::from(!current.is_empty());
        if !current.is_empty() && (current.len() >= max_count.max(1) || bytes + cost > max_bytes) {
            batches.push(std::mem::take(&mut current));
            bytes = BODY_OVERHEAD;
        }
        bytes += len + usize::from(!current.is_empty());
        current.push(seq);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Why the server refused a whole batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 413: the body (or the number of mutations) is over a limit.
    TooLarge,
    /// 422: the server could not read the body's data; its French message.
    Unreadable(String),
}

impl Refusal {
    /// The « à vérifier » reason of a single entry refused this way, in French.
    pub fn reason_fr(&self) -> String {
        match self {
            Refusal::TooLarge => "Trop volumineuse : le serveur refuse de la recevoir. Elle reste sur la tablette ; \
                                  modifiez-la pour raccourcir ses textes, puis abandonnez cette version."
                .to_owned(),
            Refusal::Unreadable(message) => format!("Refusée par le serveur, qui ne peut pas la lire : {message}"),
        }
    }
}

/// The batches still to send in one sync run, in outbox order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushQueue {
    pending: VecDeque<Vec<u64>>,
}

impl PushQueue {
    pub fn new(batches: Vec<Vec<u64>>) -> Self {
        PushQueue { pending: batches.into_iter().filter(|b| !b.is_empty()).collect() }
    }

    /// The next batch to send.
    pub fn next_batch(&mut self) -> Option<Vec<u64>> {
        self.pending.pop_front()
    }

    /// The server refused `batch` whole. Two or more entries: its halves are sent next, the
    /// first half first. One entry: it is set aside, and this returns it with its reason.
    pub fn refused(&mut self, mut batch: Vec<u64>, refusal: &Refusal) -> Option<(u64, String)> {
        match batch.len() {
            0 => None,
            1 => Some((batch[0], refusal.reason_fr())),
            n => {
                let second = batch.split_off(n / 2);
                self.pending.push_front(second);
                self.pending.push_front(batch);
                None
            }
        }
    }
}
