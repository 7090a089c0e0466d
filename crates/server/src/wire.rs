//! The sync replies written straight into bytes, exactly as serde would write the domain's
//! `PushResponse` and `PullResponse` (tests compare both), without the per-item detours:
//! - a pull page copies every record's stored JSON as it is (it was written by
//!   `serde_json::to_string(&RecordPayload)` when the revision was applied) instead of parsing
//!   it into a `RecordPayload` and serialising it back: the database joins the page's elements;
//! - a push reply formats the batch's one server timestamp once, not once per applied mutation.

use assiette_domain::sync::{MutationResult, MutationStatus};
use chrono::{DateTime, Utc};

/// One page of a pull as the store reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullPage {
    /// The `changes` array's elements, comma-joined in change order, each
    /// `{"server_seq":N,"record":<the record's stored JSON>}` (see [`change_element`]); the
    /// record JSON is `serde_json::to_string(&RecordPayload)`, written by the push that applied it.
    pub changes_json: String,
    /// Elements in the page.
    pub count: usize,
    /// The page's last change sequence (the next cursor), if the page is not empty.
    pub last_seq: Option<u64>,
    /// More changes wait after this page.
    pub has_more: bool,
}

fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Start of every element of `changes`. It cannot occur inside a record's JSON: a string
/// escapes its quotes, and no record has a `server_seq` field (bodies are serde's output).
const ELEMENT_HEAD: &str = "{\"server_seq\":";

/// One element of `changes`, as the store's SQL writes it (`string_agg`).
pub fn change_element(server_seq: u64, record_json: &str) -> String {
    format!("{ELEMENT_HEAD}{server_seq},\"record\":{record_json}}}")
}

impl PullPage {
    /// A page from the comma-joined elements the database wrote for up to `limit + 1` changes,
    /// in any order: puts them in change order if they are not, keeps the first `limit` and says
    /// whether there were more (the one extra change read is how the store knows). Refuses text
    /// that is not a run of elements.
    pub fn from_joined(joined: String, limit: usize) -> Result<PullPage, String> {
        Self::from_joined_within(joined, limit, usize::MAX)
    }

    /// [`from_joined`](Self::from_joined), the page also ending before the first element that
    /// would take it past `max_bytes` (its first element is always kept, however big).
    pub fn from_joined_within(joined: String, limit: usize, max_bytes: usize) -> Result<PullPage, String> {
        // (sequence, start) of every element; each ends where the next one starts, minus the comma.
        let mut heads: Vec<(u64, usize)> = Vec::new();
        for at in memchr::memmem::find_iter(joined.as_bytes(), ELEMENT_HEAD.as_bytes()) {
            let digits_at = at + ELEMENT_HEAD.len();
            let digits = joined[digits_at..].bytes().take_while(u8::is_ascii_digit).count();
            let seq = joined[digits_at..digits_at + digits].parse::<u64>().map_err(|e| format!("page de changements : {e}"))?;
            heads.push((seq, at));
        }
        if heads.first().is_some_and(|(_, at)| *at != 0) || (heads.is_empty() && !joined.is_empty()) {
            return Err("page de changements : élément inattendu".into());
        }
        let ascending = heads.windows(2).all(|w| w[0].0 < w[1].0);
        let mut changes_json = if ascending {
            joined
        } else {
            let mut elements: Vec<(u64, &str)> = heads
                .iter()
                .enumerate()
                .map(|(i, &(seq, at))| {
                    let end = heads.get(i + 1).map(|&(_, next)| next - 1).unwrap_or(joined.len());
                    (seq, &joined[at..end])
                })
                .collect();
            elements.sort_by_key(|(seq, _)| *seq);
            heads = elements.iter().scan(0, |at, (seq, e)| {
                let head = (*seq, *at);
                *at += e.len() + 1;
                Some(head)
            }).collect();
            elements.iter().map(|(_, e)| *e).collect::<Vec<_>>().join(",")
        };
        // Elements kept: at most `limit`, and only while the page stays within `max_bytes`.
        let end = |i: usize| heads.get(i + 1).map_or(changes_json.len(), |&(_, next)| next - 1);
        let mut keep = heads.len().min(limit);
        if let Some(i) = (1..keep).find(|&i| end(i) > max_bytes) {
            keep = i;
        }
        let has_more = heads.len() > keep;
        if has_more {
            // Cut before the comma that precedes the first element left out.
            changes_json.truncate(heads[keep].1.saturating_sub(1));
            heads.truncate(keep);
        }
        Ok(PullPage { changes_json, count: heads.len(), last_seq: heads.last().map(|(seq, _)| *seq), has_more })
    }
}

/// `{"changes":[...],"next_cursor":"...","has_more":bool}` around the joined elements.
pub fn pull_reply(changes_json: &str, next_cursor: &str, has_more: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(changes_json.len() + next_cursor.len() + 64);
    out.extend_from_slice(b"{\"changes\":[");
    out.extend_from_slice(changes_json.as_bytes());
    out.extend_from_slice(b"],\"next_cursor\":");
    // The cursor is ours (`v1.<digits>`), but escape it the standard way all the same.
    serde_json::to_writer(&mut out, next_cursor).expect("writing to a Vec cannot fail");
    out.extend_from_slice(if has_more { b",\"has_more\":true}" } else { b",\"has_more\":false}" });
    out
}

/// `{"results":[...]}` for a push, byte for byte what `serde_json::to_vec(&PushResponse)` gives.
pub fn push_reply(results: &[MutationResult]) -> Vec<u8> {
    let mut out = Vec::with_capacity(results.len() * 96 + 16);
    // One batch has one server time: format it once (serde's own format, quotes included).
    let mut stamp: Option<(DateTime<Utc>, Vec<u8>)> = None;
    out.extend_from_slice(b"{\"results\":[");
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match &r.status {
            MutationStatus::Applied { server_seq, server_updated_at } => {
                out.extend_from_slice(b"{\"seq\":");
                push_u64(&mut out, r.seq);
                out.extend_from_slice(b",\"status\":\"applied\",\"server_seq\":");
                push_u64(&mut out, *server_seq);
                out.extend_from_slice(b",\"server_updated_at\":");
                let text = match &stamp {
                    Some((at, text)) if at == server_updated_at => text,
                    _ => {
                        let text = serde_json::to_vec(server_updated_at).expect("a date always serialises");
                        &stamp.insert((*server_updated_at, text)).1
                    }
                };
                out.extend_from_slice(text);
                out.push(b'}');
            }
            MutationStatus::Duplicate => {
                out.extend_from_slice(b"{\"seq\":");
                push_u64(&mut out, r.seq);
                out.extend_from_slice(b",\"status\":\"duplicate\"}");
            }
            // Rare (a refusal, a conflict with the stored record): serde writes them.
            MutationStatus::Conflict { .. } | MutationStatus::Rejected { .. } => {
                serde_json::to_writer(&mut out, r).expect("a result always serialises")
            }
        }
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use assiette_domain::record::RecordMeta;
    use assiette_domain::sync::{Change, PullResponse, PushResponse, RecordPayload};
    use assiette_domain::validation::FieldError;
    use assiette_domain::waste::{Stage, Weighing};
    use chrono::NaiveDate;
    use uuid::Uuid;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn weighing(id: u128, grams: u64, at: DateTime<Utc>) -> RecordPayload {
        let mut meta = RecordMeta::new(Uuid::from_u128(id), t("2026-03-02T10:00:00Z"));
        meta.server_updated_at = Some(at);
        RecordPayload::Weighing(Weighing {
            meta,
            site_id: Uuid::from_u128(9),
            service_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            stage: Stage::Leftovers,
            component: None,
            mass_grams: grams,
            sorted: None,
            destination: None,
        })
    }

    #[test]
    fn push_reply_is_what_serde_writes() {
        // Sub-second digits vary (serde writes 0, 3, 6 or 9 of them): two stamps in one reply.
        let a = t("2026-03-02T10:00:00.123456789Z");
        let b = t("2026-03-02T10:00:01Z");
        let results = vec![
            MutationResult { seq: 1, status: MutationStatus::Applied { server_seq: 41, server_updated_at: a } },
            MutationResult { seq: 2, status: MutationStatus::Duplicate },
            MutationResult { seq: 3, status: MutationStatus::Applied { server_seq: 42, server_updated_at: a } },
            MutationResult { seq: u64::MAX, status: MutationStatus::Applied { server_seq: 0, server_updated_at: b } },
            MutationResult {
                seq: 5,
                status: MutationStatus::Rejected {
                    reason: "Pesée « x » refusée : \"masse\"\n".into(),
                    errors: vec![FieldError { field: "mass_grams".into(), message: "Saisissez la masse".into() }],
                },
            },
            MutationResult { seq: 6, status: MutationStatus::Rejected { reason: "non".into(), errors: vec![] } },
            MutationResult { seq: 7, status: MutationStatus::Conflict { current: weighing(3, 250, a) } },
            MutationResult { seq: 8, status: MutationStatus::Applied { server_seq: 43, server_updated_at: a } },
        ];
        let resp = PushResponse { results };
        assert_eq!(String::from_utf8(push_reply(&resp.results)).unwrap(), serde_json::to_string(&resp).unwrap());
        let empty = PushResponse { results: vec![] };
        assert_eq!(push_reply(&empty.results), serde_json::to_vec(&empty).unwrap());
    }

    #[test]
    fn pull_reply_is_what_serde_writes() {
        let at = t("2026-03-02T10:00:00.5Z");
        let records: Vec<RecordPayload> = (1..=3).map(|i| weighing(i, 100 * i as u64, at)).collect();
        let joined: Vec<String> =
            records.iter().enumerate().map(|(i, r)| change_element(10 + i as u64, &serde_json::to_string(r).unwrap())).collect();
        for has_more in [true, false] {
            let typed = PullResponse {
                changes: records.iter().enumerate().map(|(i, r)| Change { server_seq: 10 + i as u64, record: r.clone() }).collect(),
                next_cursor: "v1.12".into(),
                has_more,
            };
            let bytes = pull_reply(&joined.join(","), "v1.12", has_more);
            assert_eq!(String::from_utf8(bytes.clone()).unwrap(), serde_json::to_string(&typed).unwrap());
            assert_eq!(serde_json::from_slice::<PullResponse>(&bytes).unwrap(), typed);
        }
        // The store's page, from the elements in the database's order (here shuffled).
        let shuffled = [joined[2].clone(), joined[0].clone(), joined[1].clone()].join(",");
        let page = PullPage::from_joined(shuffled.clone(), 3).unwrap();
        assert_eq!((page.count, page.last_seq, page.has_more), (3, Some(12), false));
        assert_eq!(page.changes_json, joined.join(","));
        let page = PullPage::from_joined(joined.join(","), 5).unwrap();
        assert_eq!((page.count, page.last_seq, page.has_more), (3, Some(12), false));
        assert_eq!(page.changes_json, joined.join(","));
        // One more than the limit was read: the page stops at the limit and says more wait.
        for text in [joined.join(","), shuffled] {
            let page = PullPage::from_joined(text, 2).unwrap();
            assert_eq!((page.count, page.last_seq, page.has_more), (2, Some(11), true));
            assert_eq!(page.changes_json, joined[..2].join(","));
        }
        let page = PullPage::from_joined(joined.join(","), 0).unwrap();
        assert_eq!((page.count, page.last_seq, page.has_more, page.changes_json.as_str()), (0, None, true, ""));
        let empty = PullResponse { changes: vec![], next_cursor: "v1.0".into(), has_more: false };
        assert_eq!(pull_reply("", "v1.0", false), serde_json::to_vec(&empty).unwrap());
        assert_eq!(PullPage::from_joined(String::new(), 10).unwrap(), PullPage::default());
    }

    /// Pages stop before the element that would pass the byte budget, never before the first.
    #[test]
    fn pages_are_bounded_by_bytes() {
        let at = t("2026-03-02T10:00:00.5Z");
        let joined: Vec<String> =
            (1..=4).map(|i| change_element(i, &serde_json::to_string(&weighing(i as u128, 100, at)).unwrap())).collect();
        let one = joined[0].len();
        let all = joined.join(",");
        let page = PullPage::from_joined_within(all.clone(), 10, 2 * one + 1).unwrap();
        assert_eq!((page.count, page.last_seq, page.has_more), (2, Some(2), true));
        assert_eq!(page.changes_json, joined[..2].join(","));
        let page = PullPage::from_joined_within(all.clone(), 10, 1).unwrap();
        assert_eq!((page.count, page.last_seq, page.has_more), (1, Some(1), true), "the first element always goes");
        let page = PullPage::from_joined_within(all.clone(), 10, all.len()).unwrap();
        assert_eq!((page.count, page.has_more), (4, false));
        let page = PullPage::from_joined_within(all, 3, usize::MAX).unwrap();
        assert_eq!((page.count, page.has_more), (3, true));
    }

    /// A record whose text holds the element's head (escaped, as serde writes it) is one element.
    #[test]
    fn page_elements_are_found_by_their_head_only() {
        use assiette_domain::purchase::Purchase;
        let purchase: Purchase = serde_json::from_value(serde_json::json!({
            "meta": {"id": Uuid::from_u128(5), "revision": 1, "modified_at": "2026-03-02T10:00:00Z"},
            "siret": "21760351500008", "description": "{\"server_seq\":1,\"record\":", "fournisseur": "Ferme",
            "date": "2026-03-02", "prix_ht_cents": 1250, "famille_produits": "FRUITS_ET_LEGUMES", "caracteristiques": []
        }))
        .unwrap();
        let json = serde_json::to_string(&RecordPayload::Purchase(purchase)).unwrap();
        let joined = [change_element(8, &json), change_element(7, &json)].join(",");
        let page = PullPage::from_joined(joined.clone(), 2).unwrap();
        assert_eq!((page.count, page.last_seq), (2, Some(8)));
        assert_eq!(page.changes_json, [change_element(7, &json), change_element(8, &json)].join(","));
        let page = PullPage::from_joined(joined, 1).unwrap();
        assert_eq!((page.count, page.last_seq, page.has_more), (1, Some(7), true));
        assert_eq!(page.changes_json, change_element(7, &json));
        assert!(PullPage::from_joined("garbage".into(), 5).is_err());
        assert!(PullPage::from_joined(format!("x{}", change_element(1, &json)), 5).is_err());
    }
}
