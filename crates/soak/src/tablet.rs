//! A simulated kitchen tablet that syncs as the app does (`src/sync/mod.rs` `run_once`,
//! `src/storage/mod.rs`): every save is one outbox entry with the next seq, a correction is the
//! next revision of the same id, a deletion is a tombstone revision; a push sends the outbox in
//! seq order by batches, and the reply is planned by the app's own `plan_outbox` (assiette-tablet) (acknowledged
//! entries deleted, refused or conflicting ones kept « à vérifier » and never sent again, a
//! partial reply stops the run); then every pull page is stored with its cursor, a pulled record
//! replacing the local copy unless a higher local revision waits. « Renvoyer ma version » and
//! « Abandonner » are [`Tablet::resend`] and [`Tablet::discard`].
//!
//! What the app keeps in IndexedDB is kept here in memory: `local` (the record stores),
//! `outbox` (pending entries) and `review` (the outbox entries marked `rejected`).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;

use assiette_domain::sync::{pulled_supersedes, EnrolResponse, Mutation, PullResponse, PushRequest, PushResponse, RecordPayload, SiteInfo};
use assiette_tablet::outbox::{plan_outbox, Review};
use assiette_domain::waste::Stage;
use chrono::{NaiveDate, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::client::{http, send};
use crate::records::{meal_count, weighing};

/// Mutations per push and changes per pull page: the app's values.
pub const PUSH_BATCH: usize = 500;
pub const PULL_PAGE: u32 = 500;

/// Outcome of one push as the tablet sees it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PushOutcome {
    pub http_status: u16,
    pub acknowledged: usize,
    pub review: usize,
    /// Sent but not answered (a partial reply): kept pending.
    pub retry: usize,
}

/// Why a sync stopped (the app's `SyncError`): nothing was lost, the rest waits for the next run.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncError {
    /// No whole reply (server unreachable, connection cut, reply lost).
    Unreachable,
    /// An HTTP error status, with its JSON body.
    Status(u16, Value),
    /// A 200 whose body is not the reply expected.
    BadReply(String),
    /// The server answered only part of a batch.
    Partial,
}

/// Progress of a run (the app's `Progress`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub sent: usize,
    pub pulled: usize,
}

/// A boxed future that may cross threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How a push reaches the server: [`Direct`] sends it; the soak's network loses, doubles and
/// replays some. Returns what the tablet receives (status 0: no reply).
pub trait Network: Send {
    fn push<'a>(&'a mut self, tablet: &'a Tablet, batch: &'a [Mutation]) -> BoxFuture<'a, (u16, Value)>;
}

/// The network as it should be.
pub struct Direct;

impl Network for Direct {
    fn push<'a>(&'a mut self, tablet: &'a Tablet, batch: &'a [Mutation]) -> BoxFuture<'a, (u16, Value)> {
        Box::pin(tablet.send_batch(batch))
    }
}

/// A simulated tablet: local store, outbox numbered by its own seq, pull cursor.
pub struct Tablet {
    pub base: String,
    pub client: reqwest::Client,
    pub device_id: Uuid,
    pub token: String,
    pub site: SiteInfo,
    pub next_seq: u64,
    pub outbox: BTreeMap<u64, RecordPayload>,
    pub review: BTreeMap<u64, (RecordPayload, Review)>,
    pub local: HashMap<Uuid, RecordPayload>,
    pub cursor: Option<String>,
    pub needs_enrolment: bool,
    /// Mutations per push ([`PUSH_BATCH`] unless a test wants smaller batches).
    pub push_batch: usize,
}

impl Tablet {
    pub async fn enrol(base: &str, code: &str) -> Tablet {
        Self::try_enrol(base, code).await.unwrap_or_else(|(s, b)| panic!("enrolment refused: {s} {b}"))
    }

    /// Enrols with a one-time code; the refusal's status and body otherwise.
    pub async fn try_enrol(base: &str, code: &str) -> Result<Tablet, (u16, Value)> {
        let client = http();
        let (s, b) = send(client.post(format!("{base}/api/v1/enrol")).json(&json!({"code": code, "label": "test"}))).await;
        if s != 200 {
            return Err((s, b));
        }
        let e: EnrolResponse = serde_json::from_value(b.clone()).map_err(|_| (s, b))?;
        Ok(Tablet {
            base: base.to_owned(),
            client,
            device_id: e.device_id,
            token: e.token,
            site: e.site,
            next_seq: 1,
            outbox: BTreeMap::new(),
            review: BTreeMap::new(),
            local: HashMap::new(),
            cursor: None,
            needs_enrolment: false,
            push_batch: PUSH_BATCH,
        })
    }

    /// Re-enrols with a new code; the outbox and local data stay (a new device id and token).
    pub async fn re_enrol(&mut self, code: &str) {
        let (s, b) = send(self.client.post(format!("{}/api/v1/enrol", self.base)).json(&json!({"code": code}))).await;
        assert_eq!(s, 200, "{b}");
        let e: EnrolResponse = serde_json::from_value(b).unwrap();
        assert_eq!(e.site, self.site);
        self.device_id = e.device_id;
        self.token = e.token;
        self.needs_enrolment = false;
    }

    /// Saves a record locally and queues it (one outbox entry, the next seq).
    pub fn save(&mut self, r: RecordPayload) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.local.insert(r.id(), r.clone());
        self.outbox.insert(seq, r);
        seq
    }

    pub fn weighing(&mut self, date: NaiveDate, stage: Stage, grams: u64) -> Uuid {
        let r = weighing(self.site.id, date, stage, grams);
        let id = r.id();
        self.save(r);
        id
    }

    pub fn meal_count(&mut self, date: NaiveDate, served: u32) -> Uuid {
        let r = meal_count(self.site.id, date, served);
        let id = r.id();
        self.save(r);
        id
    }

    /// A correction: the next revision of a local record, changed by `f`. Returns its seq.
    pub fn correct(&mut self, id: Uuid, f: impl FnOnce(&mut RecordPayload)) -> u64 {
        let mut r = self.local[&id].clone();
        let meta = r.meta().revised(Utc::now());
        *r.meta_mut() = meta;
        f(&mut r);
        self.save(r)
    }

    /// A deletion: the next revision of a local record, as a tombstone. Returns its seq.
    pub fn delete(&mut self, id: Uuid) -> u64 {
        let mut r = self.local[&id].clone();
        let meta = r.meta().deleted(Utc::now());
        *r.meta_mut() = meta;
        self.save(r)
    }

    /// « Renvoyer ma version » (the app's `Repository::requeue`): the entry's record as a new
    /// revision above both its own and the local copy's (maybe the server's, pulled since),
    /// queued under a new seq; the refused entry is removed. Returns the new seq.
    pub fn resend(&mut self, seq: u64) -> Option<u64> {
        let (mut r, _) = self.review.remove(&seq)?;
        let local = self.local.get(&r.id()).map_or(0, |l| l.revision());
        let meta = r.meta_mut();
        meta.revision = local.max(meta.revision) + 1;
        meta.modified_at = Utc::now();
        meta.server_updated_at = None;
        Some(self.save(r))
    }

    /// « Abandonner ma version »: the entry is removed; the local copy stays as it is.
    pub fn discard(&mut self, seq: u64) -> bool {
        self.review.remove(&seq).is_some()
    }

    /// The first `max` pending entries.
    pub fn batch(&self, max: usize) -> Vec<Mutation> {
        self.outbox.iter().take(max).map(|(seq, r)| Mutation { seq: *seq, record: r.clone() }).collect()
    }

    /// Sends a batch and returns the raw reply (the tablet's state is not touched: "response lost").
    pub fn send_batch<'a>(&'a self, batch: &'a [Mutation]) -> impl Future<Output = (u16, Value)> + Send + 'a {
        let req = PushRequest { device_id: self.device_id, mutations: batch.to_vec() };
        send(self.client.post(format!("{}/api/v1/sync/push", self.base)).bearer_auth(&self.token).json(&req))
    }

    /// Applies a push reply to the outbox with the domain's plan, as the app's `run_once`
    /// does (`acknowledge`): the one place where the tablet reacts to a reply.
    pub fn apply_reply(&mut self, batch: &[Mutation], reply: &PushResponse) -> PushOutcome {
        let sent: Vec<u64> = batch.iter().map(|m| m.seq).collect();
        let plan = plan_outbox(&sent, reply);
        for seq in &plan.delete {
            self.outbox.remove(seq);
        }
        for (seq, why) in &plan.review {
            if let Some(r) = self.outbox.remove(seq) {
                self.review.insert(*seq, (r, why.clone()));
            }
        }
        PushOutcome { http_status: 200, acknowledged: plan.delete.len(), review: plan.review.len(), retry: plan.retry.len() }
    }

    /// Reads a push reply: what the tablet can act on, or why not.
    fn read_reply(status: u16, body: Value) -> Result<PushResponse, SyncError> {
        match status {
            0 => Err(SyncError::Unreachable),
            200 => serde_json::from_value(body).map_err(|e| SyncError::BadReply(e.to_string())),
            s => Err(SyncError::Status(s, body)),
        }
    }

    /// One push of at most `max` entries; on 401 the outbox is kept and re-enrolment requested.
    pub async fn push_once(&mut self, max: usize) -> PushOutcome {
        let batch = self.batch(max);
        let (s, body) = self.send_batch(&batch).await;
        if s == 401 {
            self.needs_enrolment = true;
        }
        match Self::read_reply(s, body) {
            Ok(reply) => self.apply_reply(&batch, &reply),
            Err(_) => PushOutcome { http_status: s, ..Default::default() },
        }
    }

    /// Pushes the whole outbox in batches. Returns false if a push failed.
    pub async fn push_all(&mut self, max: usize) -> bool {
        while !self.outbox.is_empty() {
            let o = self.push_once(max).await;
            if o.http_status != 200 {
                return false;
            }
        }
        true
    }

    /// One pull page after the stored cursor.
    pub async fn pull_page(&self, cursor: Option<&str>, limit: u32) -> Result<PullResponse, SyncError> {
        let (s, b) = send(
            self.client
                .post(format!("{}/api/v1/sync/pull", self.base))
                .bearer_auth(&self.token)
                .json(&json!({"cursor": cursor, "limit": limit})),
        )
        .await;
        match s {
            0 => Err(SyncError::Unreachable),
            200 => serde_json::from_value(b).map_err(|e| SyncError::BadReply(e.to_string())),
            s => Err(SyncError::Status(s, b)),
        }
    }

    /// Stores a pulled page and its cursor together (the app's `apply_pull`): a pulled record
    /// replaces the local copy unless a higher local revision waits to be pushed.
    pub fn apply_pull(&mut self, page: &PullResponse) {
        for c in &page.changes {
            let id = c.record.id();
            if self.local.get(&id).is_none_or(|l| pulled_supersedes(l.meta(), c.record.meta())) {
                self.local.insert(id, c.record.clone());
            }
        }
        self.cursor = Some(page.next_cursor.clone());
    }

    /// Pulls every page after the cursor; returns the number of changes.
    pub async fn try_pull_all(&mut self, limit: u32) -> Result<usize, SyncError> {
        let mut n = 0;
        loop {
            let page = self.pull_page(self.cursor.as_deref(), limit).await?;
            let mut last = 0;
            for c in &page.changes {
                if c.server_seq <= last {
                    return Err(SyncError::BadReply(format!("server_seq {} after {last}: changes must be ascending", c.server_seq)));
                }
                last = c.server_seq;
            }
            self.apply_pull(&page);
            n += page.changes.len();
            if !page.has_more {
                return Ok(n);
            }
        }
    }

    /// Pulls every page; panics on a failed pull.
    pub async fn pull_all(&mut self, limit: u32) -> usize {
        self.try_pull_all(limit).await.unwrap_or_else(|e| panic!("pull failed: {e:?}"))
    }

    /// One full sync as the app's `run_once`: push every pending entry in seq order by
    /// batches (a failed push stops the run, a partial reply too), then pull every page.
    pub async fn run_once(&mut self, net: &mut dyn Network) -> Result<Progress, SyncError> {
        let mut progress = Progress::default();
        let mut after = 0;
        loop {
            let batch: Vec<Mutation> =
                self.outbox.range(after + 1..).take(self.push_batch).map(|(seq, r)| Mutation { seq: *seq, record: r.clone() }).collect();
            let Some(last) = batch.last() else { break };
            after = last.seq;
            let (s, body) = net.push(self, &batch).await;
            if s == 401 {
                self.needs_enrolment = true;
            }
            let reply = Self::read_reply(s, body)?;
            let outcome = self.apply_reply(&batch, &reply);
            progress.sent += outcome.acknowledged;
            if outcome.retry > 0 {
                return Err(SyncError::Partial);
            }
        }
        progress.pulled = self.try_pull_all(PULL_PAGE).await?;
        Ok(progress)
    }

    /// A full sync on a good network; panics if it fails.
    pub async fn sync(&mut self) {
        if let Err(e) = self.run_once(&mut Direct).await {
            panic!("sync failed: {e:?}");
        }
    }

    /// Local records as (id, revision, deleted), sorted: compared with the server's.
    pub fn state(&self) -> Vec<(Uuid, u64, bool)> {
        let mut v: Vec<_> = self.local.values().map(|r| (r.id(), r.revision(), r.is_deleted())).collect();
        v.sort();
        v
    }
}
