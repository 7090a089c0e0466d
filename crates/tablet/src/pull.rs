//! What the tablet keeps of a pull page.

use assiette_domain::sync::RecordPayload;

/// Latest date a pulled record may carry: the tablet's own clock is not the judge of "the
/// future" (the server accepts dates up to its today in UTC+14, and a tablet's clock may be
/// behind), only of what no server ever accepts.
const PULL_CHECK_TODAY: (i32, u32, u32) = (2100, 12, 31);

/// Whether a pulled record, already read as its type, may be stored: the domain's validation
/// (but for dates after the tablet's today), tombstones excepted as the server excepts them.
/// A record refused here is skipped and reported, never stored: every screen can read what is
/// stored. The French reason names the record.
pub fn check_pulled(record: &RecordPayload) -> Result<(), String> {
    if record.is_deleted() {
        return Ok(());
    }
    let (y, m, d) = PULL_CHECK_TODAY;
    let today = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a valid date");
    let v = record.validate(today);
    match v.errors.first() {
        None => Ok(()),
        Some(e) => Err(format!("{} {} : {}", record.describe_fr(), record.id(), e.message)),
    }
}
