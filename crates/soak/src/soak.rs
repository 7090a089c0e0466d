//! The soak run: several sites, several tablets each, for N rounds. In a round every tablet
//! (concurrently) makes a few entries (weighings, meal counts, purchases), corrections and
//! deletions of what it holds (its own or pulled from the others: so two tablets sometimes
//! correct the same version), sometimes settles an entry « à vérifier » (« Renvoyer ma
//! version » or « Abandonner »), and syncs most rounds through a network that loses replies
//! (the server applied the push, the tablet never hears it), sends a batch twice at once, and
//! delivers old batches again late. On chosen rounds the server process is SIGKILLed while the
//! tablets sync, then restarted on the same database.
//!
//! Every choice comes from the seed (ChaCha8 streams: one for the run, one per tablet for its
//! edits, one per tablet for its network), so a seed replays the same decisions; what the
//! concurrent requests meet on the server, and the instant a kill lands, still vary.
//!
//! At the end the network is good again: every tablet settles what waits « à vérifier » and
//! syncs until nothing is left to send; then the audit compares, for every site, a full pull
//! (from an empty cursor) with every tablet's local records (equal, record for record), and
//! with the ledger of what the replies said: each record is the highest revision a tablet was
//! told `applied` or `duplicate` for (its content, its deletion), no record the tablets never
//! had acknowledged, no entry ever answered `applied` twice, no old batch applied when replayed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assiette_domain::sync::{Change, Mutation, MutationStatus, PushResponse, RecordPayload};
use assiette_domain::waste::Stage;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use uuid::Uuid;

use crate::client::Admin;
use crate::postgres::{fresh_database, is_postgres};
use crate::process::ServerProcess;
use crate::records::{day, live_grams, purchase, siret};
use crate::tablet::{BoxFuture, Network, Tablet};

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub rounds: u32,
    pub kills: u32,
    pub seed: u64,
    pub sites: usize,
    pub tablets_per_site: usize,
    /// Mutations per push (the app sends 500; smaller batches make a round's push several requests).
    pub push_batch: usize,
    pub server_bin: PathBuf,
    /// `None`: a new SQLite file in `work_dir`. A PostgreSQL URL: a new database on that server.
    /// A SQLite URL: that file.
    pub database: Option<String>,
    /// Scratch folder (SQLite file, the server's log and static folder).
    pub work_dir: PathBuf,
    /// A line on stderr every this many rounds (0: none).
    pub progress_every: u32,
}

/// Figures of a run.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub rounds: u32,
    pub sites: usize,
    pub tablets: usize,
    /// Entries saved on the tablets (each one outbox entry): creations, corrections, deletions, resends.
    pub mutations: u64,
    pub creations: u64,
    pub corrections: u64,
    pub deletions: u64,
    pub resends: u64,
    pub discards: u64,
    pub kills: u32,
    /// Push requests sent (lost, doubled and replayed ones included).
    pub pushes: u64,
    pub lost_replies: u64,
    pub duplicated_batches: u64,
    pub replays: u64,
    /// Pushes without a whole reply because the server was down or killed meanwhile.
    pub unreachable: u64,
    /// Other HTTP statuses answered to pushes, by status.
    pub push_errors: BTreeMap<u16, u64>,
    /// Conflicts the tablets received (two tablets corrected the same version).
    pub conflicts: u64,
    pub rejections: u64,
    /// Records on the server at the end, of which deleted, and the live weighings' grams.
    pub records: usize,
    pub deleted: usize,
    pub live_grams: u64,
    pub duration: Duration,
}

impl Figures {
    pub fn mutations_per_second(&self) -> f64 {
        self.mutations as f64 / self.duration.as_secs_f64().max(1e-9)
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub backend: &'static str,
    pub database_url: String,
    pub figures: Figures,
    /// Every difference found; empty when the run holds.
    pub discrepancies: Vec<String>,
}

/// Probabilities of the network's faults, per push.
const P_LOST: f64 = 0.12;
const P_DOUBLED: f64 = 0.06;
const P_REPLAY: f64 = 0.06;
/// A tablet syncs in this share of rounds (offline otherwise: its outbox grows).
const P_SYNC: f64 = 0.75;
/// A person settles one entry « à vérifier » in this share of rounds.
const P_SETTLE: f64 = 0.3;
/// A kill lands within this many milliseconds of the round's start.
const KILL_WINDOW_MS: u64 = 40;

/// What the replies said, for the audit. Shared by every tablet's network.
#[derive(Default)]
struct Ledger {
    /// (device, seq) → its record, once the tablet acted on `applied` or `duplicate` for it.
    acknowledged: HashMap<(Uuid, u64), RecordPayload>,
    /// How many times `applied` was answered for a (record id, revision), in any reply sent.
    applied_revisions: HashMap<(Uuid, u64), u32>,
    /// The same for a (device, seq).
    applied_seqs: HashMap<(Uuid, u64), u32>,
    violations: Vec<String>,
    pushes: u64,
    lost_replies: u64,
    duplicated_batches: u64,
    replays: u64,
    unreachable: u64,
    push_errors: BTreeMap<u16, u64>,
    conflicts: u64,
    rejections: u64,
}

impl Ledger {
    /// What the replies alone prove wrong: violations seen, entries applied twice.
    fn discrepancies(&self) -> Vec<String> {
        let mut found = self.violations.clone();
        for ((id, revision), n) in &self.applied_revisions {
            if *n > 1 {
                found.push(format!("enregistrement {id} révision {revision} appliqué {n} fois"));
            }
        }
        for ((device, seq), n) in &self.applied_seqs {
            if *n > 1 {
                found.push(format!("seq {seq} de l'appareil {device} appliqué {n} fois"));
            }
        }
        found.sort();
        found
    }
}

/// What became of one request's reply.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    /// The tablet acts on it.
    Delivered,
    /// Lost on the way back (or the other copy of a doubled batch was delivered).
    Dropped,
    /// An old batch delivered again: the tablet never sees the reply, and nothing may be applied.
    Replay,
}

impl Ledger {
    fn record(&mut self, device: Uuid, batch: &[Mutation], (status, body): &(u16, Value), fate: Fate) {
        self.pushes += 1;
        match status {
            0 => {
                self.unreachable += 1;
                return;
            }
            200 => {}
            s => {
                *self.push_errors.entry(*s).or_default() += 1;
                return;
            }
        }
        let reply: PushResponse = match serde_json::from_value(body.clone()) {
            Ok(r) => r,
            Err(e) => {
                self.violations.push(format!("réponse 200 illisible à un envoi de l'appareil {device} : {e}"));
                return;
            }
        };
        let by_seq: HashMap<u64, &RecordPayload> = batch.iter().map(|m| (m.seq, &m.record)).collect();
        let mut answered = HashSet::new();
        for r in &reply.results {
            let Some(record) = by_seq.get(&r.seq) else {
                self.violations.push(format!("réponse pour le seq {} que l'appareil {device} n'a pas envoyé", r.seq));
                continue;
            };
            if !answered.insert(r.seq) {
                self.violations.push(format!("seq {} de l'appareil {device} répondu deux fois dans une réponse", r.seq));
                continue;
            }
            match &r.status {
                MutationStatus::Applied { .. } => {
                    *self.applied_revisions.entry((record.id(), record.revision())).or_default() += 1;
                    *self.applied_seqs.entry((device, r.seq)).or_default() += 1;
                    if fate == Fate::Replay {
                        self.violations.push(format!(
                            "lot rejoué : seq {} de l'appareil {device} (enregistrement {} révision {}) appliqué de nouveau",
                            r.seq,
                            record.id(),
                            record.revision()
                        ));
                    }
                }
                MutationStatus::Duplicate => {}
                MutationStatus::Conflict { .. } if fate == Fate::Delivered => self.conflicts += 1,
                MutationStatus::Rejected { reason, .. } if fate == Fate::Delivered => {
                    self.rejections += 1;
                    self.violations.push(format!("seq {} de l'appareil {device} refusé : {reason}", r.seq));
                }
                _ => {}
            }
            if fate == Fate::Delivered && matches!(r.status, MutationStatus::Applied { .. } | MutationStatus::Duplicate) {
                self.acknowledged.insert((device, r.seq), (*record).clone());
            }
        }
        if answered.len() < batch.len() {
            self.violations.push(format!("réponse partielle : {} résultats pour {} envois de l'appareil {device}", answered.len(), batch.len()));
        }
    }
}

/// The soak's network for one tablet: loses, doubles and replays pushes by its own seeded
/// stream, and writes every reply in the ledger (those the tablet never sees included).
struct FaultyNetwork {
    rng: ChaCha8Rng,
    ledger: Arc<Mutex<Ledger>>,
    /// The last batches sent, for late replays.
    history: Vec<Vec<Mutation>>,
    /// No fault (the end of the run).
    calm: bool,
}

impl FaultyNetwork {
    fn note(&self, device: Uuid, batch: &[Mutation], reply: &(u16, Value), fate: Fate) {
        self.ledger.lock().unwrap().record(device, batch, reply, fate);
    }
}

impl Network for FaultyNetwork {
    fn push<'a>(&'a mut self, tablet: &'a Tablet, batch: &'a [Mutation]) -> BoxFuture<'a, (u16, Value)> {
        Box::pin(async move {
            let device = tablet.device_id;
            // The same draws for every push, whatever happens to it.
            let (replay, pick, fault) = (self.rng.gen_bool(P_REPLAY), self.rng.gen::<u64>() as usize, self.rng.gen::<f64>());
            if !self.calm && replay {
                // A batch whose every entry the tablet has settled since comes back late.
                let settled: Vec<usize> =
                    (0..self.history.len()).filter(|&i| self.history[i].iter().all(|m| !tablet.outbox.contains_key(&m.seq))).collect();
                if let Some(&i) = settled.get(pick % settled.len().max(1)) {
                    let old = self.history[i].clone();
                    let reply = tablet.send_batch(&old).await;
                    self.ledger.lock().unwrap().replays += 1;
                    self.note(device, &old, &reply, Fate::Replay);
                }
            }
            let fault = if self.calm { 1.0 } else { fault };
            let delivered = if fault < P_LOST {
                let reply = tablet.send_batch(batch).await;
                if reply.0 == 200 {
                    self.ledger.lock().unwrap().lost_replies += 1;
                }
                self.note(device, batch, &reply, Fate::Dropped);
                (0, Value::Null)
            } else if fault < P_LOST + P_DOUBLED {
                // The same request twice at once (a retry racing the original).
                let (first, second) = tokio::join!(tablet.send_batch(batch), tablet.send_batch(batch));
                self.ledger.lock().unwrap().duplicated_batches += 1;
                self.note(device, batch, &first, Fate::Dropped);
                self.note(device, batch, &second, Fate::Delivered);
                second
            } else {
                let reply = tablet.send_batch(batch).await;
                self.note(device, batch, &reply, Fate::Delivered);
                reply
            };
            self.history.push(batch.to_vec());
            if self.history.len() > 40 {
                self.history.remove(0);
            }
            delivered
        })
    }
}

/// One simulated tablet with its choices.
struct Sim {
    index: usize,
    site: usize,
    tablet: Tablet,
    rng: ChaCha8Rng,
    net: FaultyNetwork,
    created: Vec<Uuid>,
    corrections: u64,
    deletions: u64,
    resends: u64,
    discards: u64,
}

impl Sim {
    /// A few edits, maybe an entry settled, maybe a sync. Every round and every edit draws
    /// the same number of values whatever the tablet holds, so a seed makes the same choices
    /// even when the interleaving of the tablets' requests changed what each one holds.
    async fn round(mut self) -> Sim {
        let edits = self.rng.gen_range(0..=3);
        let (settle, sync, keep) = (self.rng.gen_bool(P_SETTLE), self.rng.gen_bool(P_SYNC), self.rng.gen_bool(0.5));
        for _ in 0..edits {
            self.edit();
        }
        if let Some(&seq) = self.tablet.review.keys().next().filter(|_| settle) {
            self.settle(seq, keep);
        }
        if sync {
            let _ = self.tablet.run_once(&mut self.net).await;
        }
        self
    }

    fn edit(&mut self) {
        let x: f64 = self.rng.gen();
        let date = day(self.rng.gen_range(0..60));
        let stage = [Stage::Preparation, Stage::Unserved, Stage::Leftovers][self.rng.gen_range(0..3)];
        let value = self.rng.gen_range(80..5_000u32);
        let pick = self.rng.gen::<u64>() as usize;
        let mut live: Vec<Uuid> = self.tablet.local.values().filter(|r| !r.is_deleted()).map(|r| r.id()).collect();
        live.sort();
        if x < 0.45 || live.is_empty() {
            let id = self.tablet.weighing(date, stage, u64::from(value));
            self.created.push(id);
        } else if x < 0.60 {
            let id = self.tablet.meal_count(date, 80 + value % 120);
            self.created.push(id);
        } else if x < 0.67 {
            let r = purchase(&self.tablet.site.siret, date, i64::from(value) * 25);
            self.created.push(r.id());
            self.tablet.save(r);
        } else if x < 0.90 {
            self.tablet.correct(live[pick % live.len()], |r| match r {
                RecordPayload::Weighing(w) => w.mass_grams = u64::from(value),
                RecordPayload::MealCount(c) => {
                    c.served_children = value / 25;
                    c.planned = c.served_children + 10;
                }
                RecordPayload::Purchase(p) => p.price_cents = i64::from(value) * 10,
            });
            self.corrections += 1;
        } else {
            self.tablet.delete(live[pick % live.len()]);
            self.deletions += 1;
        }
    }

    /// What a manager does with an entry « à vérifier »: sends it again or gives it up.
    fn settle(&mut self, seq: u64, keep: bool) {
        if keep {
            self.tablet.resend(seq);
            self.resends += 1;
        } else {
            self.tablet.discard(seq);
            self.discards += 1;
        }
    }
}

/// A ChaCha8 stream of the seed.
fn stream(seed: u64, n: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(n);
    rng
}

/// Runs the soak; `Err` when it could not run (server, database), the report otherwise.
pub async fn run(config: &Config) -> Result<Report, String> {
    std::fs::create_dir_all(&config.work_dir).map_err(|e| format!("{} : {e}", config.work_dir.display()))?;
    let (backend, database_url) = match &config.database {
        None => ("SQLite", format!("sqlite://{}/assiette.sqlite3", config.work_dir.display())),
        Some(url) if is_postgres(url) => ("PostgreSQL", fresh_database(url, "assiette_soak").await?),
        Some(url) => ("SQLite", url.clone()),
    };
    let static_dir = config.work_dir.join("static");
    std::fs::create_dir_all(&static_dir).map_err(|e| e.to_string())?;
    std::fs::write(static_dir.join("index.html"), "<!doctype html><title>Assiette</title>").map_err(|e| e.to_string())?;
    let log = config.work_dir.join("server.log");
    let start = || ServerProcess::start(&config.server_bin, &database_url, &static_dir, &log, &[]);

    let mut rng = stream(config.seed, 0);
    let mut server = Some(start()?);
    let base = || server.as_ref().map(|s| s.base.clone()).unwrap_or_default();
    let began = Instant::now();
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    // One administrator session, one site per canteen, one code per tablet.
    let admin = Admin::login(&base()).await;
    let mut sims = Vec::new();
    for s in 0..config.sites {
        // A SIRET no earlier run on the same database has used.
        let siret = siret(&format!("{:013}", Uuid::now_v7().as_u128() % 10_000_000_000_000));
        let site = admin.create_site("76447", "Le Havre", &siret, &format!("Cantine d'essai {}", s + 1)).await;
        for _ in 0..config.tablets_per_site {
            let index = sims.len();
            let code = admin.code(site).await;
            let mut tablet = Tablet::try_enrol(&base(), &code).await.map_err(|(s, b)| format!("enrôlement refusé : {s} {b}"))?;
            tablet.push_batch = config.push_batch;
            let net = FaultyNetwork { rng: stream(config.seed, 2_000 + index as u64), ledger: ledger.clone(), history: Vec::new(), calm: false };
            sims.push(Sim {
                index,
                site: s,
                tablet,
                rng: stream(config.seed, 1_000 + index as u64),
                net,
                created: Vec::new(),
                corrections: 0,
                deletions: 0,
                resends: 0,
                discards: 0,
            });
        }
    }

    // The rounds whose syncs a kill interrupts.
    let kills = config.kills.min(config.rounds);
    let mut rounds: Vec<u32> = (0..config.rounds).collect();
    rounds.shuffle(&mut rng);
    let kill_rounds: BTreeSet<u32> = rounds.into_iter().take(kills as usize).collect();
    let mut killed = 0;

    for round in 0..config.rounds {
        let mut set = tokio::task::JoinSet::new();
        for sim in sims.drain(..) {
            set.spawn(sim.round());
        }
        let killer = kill_rounds.contains(&round).then(|| {
            let delay = Duration::from_millis(rng.gen_range(0..=KILL_WINDOW_MS));
            let doomed = server.take().expect("the server runs");
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                doomed.kill();
            })
        });
        sims = set.join_all().await;
        sims.sort_by_key(|s| s.index);
        if let Some(k) = killer {
            k.await.map_err(|e| e.to_string())?;
            killed += 1;
            let restarted = start()?;
            for sim in &mut sims {
                sim.tablet.base = restarted.base.clone();
            }
            server = Some(restarted);
        }
        if config.progress_every > 0 && (round + 1) % config.progress_every == 0 {
            let l = ledger.lock().unwrap();
            eprintln!(
                "tour {} / {} : {} envois, {} réponses perdues, {} arrêts brutaux, {:.1} s",
                round + 1,
                config.rounds,
                l.pushes,
                l.lost_replies,
                killed,
                began.elapsed().as_secs_f64()
            );
        }
    }

    // The network is good again: settle everything « à vérifier » and sync until a whole pass
    // starts with nothing to send (then every pull of that pass saw the final state).
    for sim in &mut sims {
        sim.net.calm = true;
    }
    let mut settled = false;
    for pass in 0..40 {
        let quiet = sims.iter_mut().fold(true, |quiet, sim| {
            let seqs: Vec<u64> = sim.tablet.review.keys().copied().collect();
            for seq in &seqs {
                // After a few passes, give up rather than send again (a resend may meet a newer version).
                if pass < 4 {
                    let keep = sim.rng.gen_bool(0.5);
                    sim.settle(*seq, keep);
                } else {
                    sim.tablet.discard(*seq);
                    sim.discards += 1;
                }
            }
            quiet && seqs.is_empty() && sim.tablet.outbox.is_empty()
        });
        let mut set = tokio::task::JoinSet::new();
        for mut sim in sims.drain(..) {
            set.spawn(async move {
                let ok = sim.tablet.run_once(&mut sim.net).await.is_ok();
                (sim, ok)
            });
        }
        let mut all_ok = true;
        for (sim, ok) in set.join_all().await {
            all_ok &= ok;
            sims.push(sim);
        }
        sims.sort_by_key(|s| s.index);
        if quiet && all_ok {
            settled = true;
            break;
        }
    }
    let duration = began.elapsed();

    let mut discrepancies = Vec::new();
    if !settled {
        discrepancies.push("les tablettes n'ont pas fini de se synchroniser après 40 passes sans panne".to_owned());
    }
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    discrepancies.extend(ledger.discrepancies());

    // Audit, site by site.
    let mut figures = Figures { rounds: config.rounds, sites: config.sites, tablets: sims.len(), kills: killed, duration, ..Figures::default() };
    let device_site: HashMap<Uuid, usize> = sims.iter().map(|s| (s.tablet.device_id, s.site)).collect();
    for site in 0..config.sites {
        let tablets: Vec<&Sim> = sims.iter().filter(|s| s.site == site).collect();
        let name = &tablets[0].tablet.site.name;
        let on_server = match full_pull(&tablets[0].tablet).await {
            Ok(v) => v,
            Err(e) => {
                discrepancies.push(format!("{name} : lecture complète impossible : {e}"));
                continue;
            }
        };
        let acknowledged: Vec<&RecordPayload> =
            ledger.acknowledged.iter().filter(|((device, _), _)| device_site.get(device) == Some(&site)).map(|(_, r)| r).collect();
        let views: Vec<TabletView> = tablets
            .iter()
            .map(|sim| TabletView {
                index: sim.index,
                local: &sim.tablet.local,
                waiting: sim.tablet.outbox.len() + sim.tablet.review.len(),
                created: &sim.created,
            })
            .collect();
        let (server, found) = audit_site(name, on_server, &views, &acknowledged);
        discrepancies.extend(found);
        figures.records += server.len();
        figures.deleted += server.values().filter(|r| r.is_deleted()).count();
        figures.live_grams += live_grams(server.values());
    }

    for sim in &sims {
        figures.creations += sim.created.len() as u64;
        figures.corrections += sim.corrections;
        figures.deletions += sim.deletions;
        figures.resends += sim.resends;
        figures.discards += sim.discards;
    }
    figures.mutations = figures.creations + figures.corrections + figures.deletions + figures.resends;
    figures.pushes = ledger.pushes;
    figures.lost_replies = ledger.lost_replies;
    figures.duplicated_batches = ledger.duplicated_batches;
    figures.replays = ledger.replays;
    figures.unreachable = ledger.unreachable;
    figures.push_errors = ledger.push_errors.clone();
    figures.conflicts = ledger.conflicts;
    figures.rejections = ledger.rejections;

    let (stopped, _) = server.take().expect("the server runs").terminate();
    if !stopped {
        discrepancies.push("le serveur ne s'est pas arrêté proprement sur SIGTERM".to_owned());
    }
    Ok(Report { backend, database_url, figures, discrepancies })
}

/// A tablet as the audit sees it after the last sync.
pub struct TabletView<'a> {
    pub index: usize,
    pub local: &'a HashMap<Uuid, RecordPayload>,
    /// Entries still in the outbox or « à vérifier ».
    pub waiting: usize,
    /// Ids of the records it created.
    pub created: &'a [Uuid],
}

/// Audits one site: its full pull (`pulled`, from an empty cursor), its tablets, and the
/// records acknowledged (`applied` or `duplicate`) to them. Returns the server's records by id
/// and every discrepancy found.
pub fn audit_site(name: &str, pulled: Vec<Change>, tablets: &[TabletView], acknowledged: &[&RecordPayload]) -> (HashMap<Uuid, RecordPayload>, Vec<String>) {
    let mut found = Vec::new();
    let mut server: HashMap<Uuid, RecordPayload> = HashMap::new();
    let mut last = 0;
    for c in pulled {
        if c.server_seq <= last {
            found.push(format!("{name} : server_seq {} après {last}", c.server_seq));
        }
        last = c.server_seq;
        let id = c.record.id();
        if server.insert(id, c.record).is_some() {
            found.push(format!("{name} : l'enregistrement {id} figure deux fois dans la lecture complète"));
        }
    }

    // Every tablet holds exactly the server's records, and nothing waits.
    for t in tablets {
        let mut missing = 0;
        let mut differing = Vec::new();
        for (id, r) in &server {
            match t.local.get(id) {
                None => missing += 1,
                Some(l) if l != r => differing.push(format!("{id} (tablette : révision {}, serveur : révision {})", l.revision(), r.revision())),
                Some(_) => {}
            }
        }
        let extra = t.local.keys().filter(|id| !server.contains_key(id)).count();
        if missing + extra + differing.len() > 0 {
            differing.sort();
            differing.truncate(5);
            found.push(format!(
                "{name}, tablette {} : {missing} enregistrement(s) du serveur absent(s), {extra} en trop, {} différent(s) : {differing:?}",
                t.index,
                differing.len()
            ));
        }
        if t.waiting > 0 {
            found.push(format!("{name}, tablette {} : {} saisie(s) encore en attente ou à vérifier", t.index, t.waiting));
        }
        for id in t.created {
            if !server.contains_key(id) {
                found.push(format!("{name}, tablette {} : la saisie {id} manque au serveur", t.index));
            }
        }
    }

    // The server holds, for each record, the highest revision acknowledged to a tablet.
    let mut expected: HashMap<Uuid, &RecordPayload> = HashMap::new();
    for r in acknowledged {
        let slot = expected.entry(r.id()).or_insert(r);
        if r.revision() > slot.revision() {
            *slot = r;
        }
    }
    let mut wrong = Vec::new();
    for (id, want) in &expected {
        match server.get(id) {
            None => wrong.push(format!("{id} acquitté, absent du serveur")),
            Some(got) if got.revision() != want.revision() || got.is_deleted() != want.is_deleted() => wrong.push(format!(
                "{id} : serveur révision {} supprimé {}, acquitté révision {} supprimé {}",
                got.revision(),
                got.is_deleted(),
                want.revision(),
                want.is_deleted()
            )),
            // A tombstone keeps the content stored before it: only a live record's content counts.
            Some(got) if !got.is_deleted() && !got.same_content(want) => {
                wrong.push(format!("{id} révision {} : contenu différent de la version acquittée", got.revision()))
            }
            Some(_) => {}
        }
    }
    for id in server.keys().filter(|id| !expected.contains_key(id)) {
        wrong.push(format!("{id} sur le serveur, jamais acquitté à une tablette"));
    }
    if !wrong.is_empty() {
        let n = wrong.len();
        wrong.sort();
        wrong.truncate(10);
        found.push(format!("{name} : {n} écart(s) avec les acquittements : {wrong:?}"));
    }
    (server, found)
}

/// Every change of the tablet's site from an empty cursor, in small pages.
async fn full_pull(t: &Tablet) -> Result<Vec<Change>, String> {
    let mut cursor: Option<String> = None;
    let mut all = Vec::new();
    loop {
        let page = t.pull_page(cursor.as_deref(), 37).await.map_err(|e| format!("{e:?}"))?;
        all.extend(page.changes);
        cursor = Some(page.next_cursor);
        if !page.has_more {
            return Ok(all);
        }
    }
}

impl Report {
    /// One line: backend, seed, rounds, mutations, kills, duration, rate.
    pub fn summary(&self, seed: u64) -> String {
        let f = &self.figures;
        format!(
            "{}, graine {seed} : {} tours, {} sites × {} tablettes, {} saisies, {} arrêts brutaux (SIGKILL), {:.1} s, {:.0} saisies/s",
            self.backend,
            f.rounds,
            f.sites,
            f.tablets / f.sites.max(1),
            f.mutations,
            f.kills,
            f.duration.as_secs_f64(),
            f.mutations_per_second()
        )
    }

    /// The database's URL without its password.
    pub fn database_url_redacted(&self) -> String {
        let url = &self.database_url;
        let Some(start) = url.find("://").map(|i| i + 3) else { return url.clone() };
        let Some(at) = url[start..].find('@').map(|i| start + i) else { return url.clone() };
        match url[start..at].find(':') {
            Some(colon) => format!("{}***{}", &url[..start + colon + 1], &url[at..]),
            None => url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assiette_domain::sync::MutationResult;
    use chrono::{TimeZone, Utc};

    fn w(id: u128, revision: u64, grams: u64, deleted: bool) -> RecordPayload {
        let mut r = crate::records::weighing(Uuid::from_u128(9), day(1), Stage::Leftovers, grams);
        let m = r.meta_mut();
        m.id = Uuid::from_u128(id);
        m.revision = revision;
        m.deleted = deleted;
        m.modified_at = Utc.with_ymd_and_hms(2025, 9, 2, 10, 0, 0).unwrap();
        m.server_updated_at = Some(Utc.with_ymd_and_hms(2025, 9, 2, 10, 0, 1).unwrap());
        r
    }

    fn changes(records: &[RecordPayload]) -> Vec<Change> {
        records.iter().enumerate().map(|(i, r)| Change { server_seq: i as u64 + 1, record: r.clone() }).collect()
    }

    fn local(records: &[RecordPayload]) -> HashMap<Uuid, RecordPayload> {
        records.iter().map(|r| (r.id(), r.clone())).collect()
    }

    /// Audits one tablet holding `held` against `server`, with `acked` acknowledged.
    fn audit(server: &[RecordPayload], held: &[RecordPayload], acked: &[RecordPayload], waiting: usize, created: &[Uuid]) -> Vec<String> {
        let held = local(held);
        let view = TabletView { index: 0, local: &held, waiting, created };
        let acked: Vec<&RecordPayload> = acked.iter().collect();
        audit_site("Cantine", changes(server), &[view], &acked).1
    }

    #[test]
    fn a_site_that_holds_passes_and_each_kind_of_gap_is_found() {
        // Record 1: created, corrected, deleted; record 2: created and corrected.
        let (one, one_dead) = (w(1, 2, 500, false), w(1, 3, 500, true));
        let two = [w(2, 1, 100, false), w(2, 2, 150, false)];
        let server = [one_dead.clone(), two[1].clone()];
        let acked = [w(1, 1, 400, false), one.clone(), one_dead.clone(), two[0].clone(), two[1].clone()];
        let created = [Uuid::from_u128(1), Uuid::from_u128(2)];
        assert_eq!(audit(&server, &server, &acked, 0, &created), Vec::<String>::new());

        // A tablet without a record, with an older copy, with one the server lacks, still waiting.
        assert_eq!(audit(&server, &server[..1], &acked, 0, &created).len(), 1);
        assert_eq!(audit(&server, &[one_dead.clone(), two[0].clone()], &acked, 0, &created).len(), 1);
        assert_eq!(audit(&server, &[&server[..], &[w(3, 1, 1, false)]].concat(), &acked, 0, &created).len(), 1);
        assert_eq!(audit(&server, &server, &acked, 2, &created).len(), 1);
        // Lost: an acknowledged revision above the server's, a deletion not kept, a created record missing.
        let lost = audit(&[one_dead.clone(), two[0].clone()], &[one_dead.clone(), two[0].clone()], &acked, 0, &created);
        assert!(lost.len() == 1 && lost[0].contains("acquitté révision 2"), "{lost:?}");
        let resurrected = audit(&[one.clone(), two[1].clone()], &[one.clone(), two[1].clone()], &acked, 0, &created);
        assert!(resurrected.len() == 1 && resurrected[0].contains("supprimé false"), "{resurrected:?}");
        let missing = audit(&server[1..], &server[1..], &acked, 0, &created);
        assert_eq!(missing.len(), 2, "{missing:?}");
        // Another content under the acknowledged revision; a record nobody had acknowledged.
        let other = [one_dead.clone(), w(2, 2, 999, false)];
        assert_eq!(audit(&other, &other, &acked, 0, &created).len(), 1);
        let stray = [&server[..], &[w(3, 1, 1, false)]].concat();
        assert_eq!(audit(&stray, &stray, &acked, 0, &created).len(), 1);
        // A pull that repeats a record or goes backwards.
        let mut pulled = changes(&server);
        pulled.push(Change { server_seq: 1, record: server[0].clone() });
        let held = local(&server);
        let view = TabletView { index: 0, local: &held, waiting: 0, created: &created };
        assert_eq!(audit_site("Cantine", pulled, &[view], &acked.iter().collect::<Vec<_>>()).1.len(), 2);
    }

    fn reply(results: Vec<(u64, MutationStatus)>) -> (u16, Value) {
        let r = PushResponse { results: results.into_iter().map(|(seq, status)| MutationResult { seq, status }).collect() };
        (200, serde_json::to_value(r).unwrap())
    }

    #[test]
    fn the_ledger_finds_an_entry_applied_twice_or_a_replay_applied() {
        let device = Uuid::from_u128(77);
        let batch = [Mutation { seq: 1, record: w(1, 1, 5, false) }, Mutation { seq: 2, record: w(2, 1, 5, false) }];
        let applied = || MutationStatus::Applied { server_seq: 1, server_updated_at: Utc.with_ymd_and_hms(2025, 9, 2, 10, 0, 1).unwrap() };

        // Applied, the reply lost, then duplicate: as it should be.
        let mut l = Ledger::default();
        l.record(device, &batch, &reply(vec![(1, applied()), (2, applied())]), Fate::Dropped);
        l.record(device, &batch, &reply(vec![(1, MutationStatus::Duplicate), (2, MutationStatus::Duplicate)]), Fate::Delivered);
        l.record(device, &batch, &reply(vec![(1, MutationStatus::Duplicate), (2, MutationStatus::Duplicate)]), Fate::Replay);
        assert_eq!(l.discrepancies(), Vec::<String>::new());
        assert_eq!(l.acknowledged.len(), 2);

        // Applied again after a lost reply: each entry counted twice (by revision and by seq).
        let mut l = Ledger::default();
        l.record(device, &batch, &reply(vec![(1, applied()), (2, applied())]), Fate::Dropped);
        l.record(device, &batch[..1], &reply(vec![(1, applied())]), Fate::Delivered);
        assert_eq!(l.discrepancies().len(), 2, "{:?}", l.discrepancies());

        // A late replay applied; a reply missing a result; an unreadable 200.
        let mut l = Ledger::default();
        l.record(device, &batch[1..], &reply(vec![(2, applied())]), Fate::Replay);
        l.record(device, &batch, &reply(vec![(1, MutationStatus::Duplicate)]), Fate::Delivered);
        l.record(device, &batch, &(200, Value::Null), Fate::Delivered);
        assert_eq!(l.discrepancies().len(), 3, "{:?}", l.discrepancies());
        assert!(l.acknowledged.contains_key(&(device, 1)) && !l.acknowledged.contains_key(&(device, 2)));
    }
}
