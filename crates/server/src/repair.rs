//! `assiette-server repair-records`: finds the stored records whose body no longer reads back
//! (written by an older version: a device clock decades off stored a year the RFC 3339 reader
//! refuses) and repairs what can be: an unreadable or out-of-range timestamp becomes the time
//! the server applied that revision (the row's `server_updated_at`). Pushes of an unreadable
//! record are refused one by one until then (see `store.rs`); the tablet sends them again.

use assiette_domain::sync::RecordPayload;
use assiette_domain::time::{parse_rfc3339, timestamp_in_range};
use serde_json::Value;

use crate::db::Db;

/// One stored row that does not read back, and what the repair makes of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub id: String,
    pub site_id: String,
    /// The repaired body, or why it cannot be repaired automatically.
    pub repaired: Result<String, String>,
}

/// The body with its unreadable timestamps replaced by `applied_at`, if it then reads as a
/// record; otherwise why not (French).
pub fn repair_body(body: &str, applied_at: &str) -> Result<String, String> {
    let mut v: Value = serde_json::from_str(body).map_err(|_| "le contenu n'est pas du JSON".to_owned())?;
    let applied = parse_rfc3339(applied_at).filter(|t| timestamp_in_range(*t)).ok_or("date d'application illisible")?;
    if let Some(meta) = v.get_mut("meta").and_then(Value::as_object_mut) {
        for field in ["modified_at", "server_updated_at"] {
            let readable = match meta.get(field) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => parse_rfc3339(s).is_some_and(timestamp_in_range),
                Some(_) => false,
            };
            if !readable {
                meta.insert(field.to_owned(), serde_json::to_value(applied).expect("a date serialises"));
            }
        }
    }
    let record: RecordPayload =
        serde_json::from_value(v).map_err(|_| "illisible même après correction des dates : à corriger à la main".to_owned())?;
    Ok(serde_json::to_string(&record).expect("a record serialises"))
}

/// Every unreadable row, with its repair; `apply` writes the repaired bodies.
pub async fn repair_records(db: &Db, apply: bool) -> Result<Vec<Unreadable>, String> {
    let rows = db.raw_records().await.map_err(|e| format!("lecture des enregistrements : {e}"))?;
    let mut found = Vec::new();
    for (id, site_id, applied_at, body) in rows {
        if serde_json::from_str::<RecordPayload>(&body).is_ok() {
            continue;
        }
        let repaired = repair_body(&body, &applied_at);
        if let (true, Ok(fixed)) = (apply, &repaired) {
            db.rewrite_record_body(&id, &body, fixed).await.map_err(|e| format!("écriture de {id} : {e}"))?;
        }
        found.push(Unreadable { id, site_id, repaired });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_out_of_range_become_the_applied_time() {
        let body = r#"{"kind":"weighing","meta":{"id":"0190a000-0000-7000-8000-000000000001","revision":1,"modified_at":"-0001-12-31T23:00:00Z","server_updated_at":"+10000-01-01T23:58:59Z"},"site_id":"0190a000-0000-7000-8000-000000000002","service_date":"2026-03-02","stage":"leftovers","mass_grams":1000}"#;
        let fixed = repair_body(body, "2026-03-02T10:00:00.000000Z").unwrap();
        let r: RecordPayload = serde_json::from_str(&fixed).unwrap();
        assert_eq!(r.meta().modified_at.to_rfc3339(), "2026-03-02T10:00:00+00:00");
        assert_eq!(r.meta().server_updated_at, Some(r.meta().modified_at));
        assert!(repair_body("{", "2026-03-02T10:00:00Z").unwrap_err().contains("JSON"));
        assert!(repair_body(&body.replace("1000", "-1"), "2026-03-02T10:00:00Z").unwrap_err().contains("à la main"));
    }
}
