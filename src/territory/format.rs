//! The territory pages' French texts of figures: the domain's number formats, « non renseigné »
//! for anything missing (never 0), and the flags in words with a symbol (never colour alone).

use assiette_domain::egalim::CostFlag;
use assiette_domain::number::{format_euros, format_fr_date, format_grams_per_meal, format_kg_rounded, format_percent, format_percent_hundredths};
use assiette_domain::territory::{Flag, PurchaseFigures, WastePeriod};
use assiette_domain::waste::{DateRange, Stage};

/// What a missing figure reads as.
pub const MISSING: &str = "non renseigné";

pub fn or_missing<T>(v: Option<T>, f: impl FnOnce(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| MISSING.to_owned())
}

pub fn period_fr(r: DateRange) -> String {
    format!("du {} au {}", format_fr_date(r.start), format_fr_date(r.end))
}

pub fn grams_per_meal(v: Option<f64>) -> String {
    or_missing(v, format_grams_per_meal)
}

pub fn stage_grams_per_meal(w: &WastePeriod, stage: Stage) -> String {
    grams_per_meal(w.stage_grams_per_meal(stage))
}

/// A reduction (1 − value ÷ reference) in words: « 12,3 % de moins », « 4 % de plus ».
pub fn change(reduction: Option<f64>) -> String {
    or_missing(reduction, |r| {
        if r >= 0.0 {
            format!("▼ {} de moins", format_percent(r * 100.0))
        } else {
            format!("▲ {} de plus", format_percent(-r * 100.0))
        }
    })
}

pub fn share(p: Option<&PurchaseFigures>, code: &str) -> String {
    or_missing(p.and_then(|p| p.gauge(code)).and_then(|g| g.percent_hundredths), format_percent_hundredths)
}

/// Euros still missing to a share's threshold; « atteint » when nothing is missing.
pub fn missing(p: Option<&PurchaseFigures>, code: &str) -> String {
    or_missing(p.and_then(|p| p.gauge(code)).and_then(|g| g.missing_cents), |c| {
        if c == 0 {
            "✓ objectif atteint".to_owned()
        } else {
            format_euros(c)
        }
    })
}

pub fn euros(c: Option<i64>) -> String {
    or_missing(c, format_euros)
}

pub fn kg(g: Option<u64>) -> String {
    or_missing(g, format_kg_rounded)
}

pub fn flag_fr(f: &Flag) -> String {
    match f {
        Flag::StoppedEntering { last_entry: None, .. } => "⚠ Aucune saisie à ce jour".to_owned(),
        Flag::StoppedEntering { last_entry: Some(d), school_days } => format!(
            "⚠ Plus de saisie depuis le {} ({} jours d'école)",
            format_fr_date(*d),
            school_days.map(|n| n.to_string()).unwrap_or_else(|| "?".into())
        ),
        Flag::ImplausibleWaste { days, first } => {
            format!("⚠ {days} jour(s) invraisemblable(s) : {}", first.message)
        }
        Flag::ImplausibleCost { flag: CostFlag::AboveTwentyEuros } => "⚠ Coût denrées par repas au-dessus de 20 € : à vérifier".to_owned(),
        Flag::ImplausibleCost { flag: CostFlag::BelowTenCents } => "⚠ Coût denrées par repas sous 0,10 € : à vérifier".to_owned(),
    }
}

pub fn yes_no(b: bool) -> &'static str {
    if b {
        "oui"
    } else {
        "non"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn missing_figures_read_as_missing_never_zero() {
        assert_eq!(grams_per_meal(None), "non renseigné");
        assert_eq!(change(None), "non renseigné");
        assert_eq!(share(None, "egalim"), "non renseigné");
        assert_eq!(euros(None), "non renseigné");
        assert_eq!(change(Some(0.123)), "▼ 12,3\u{202F}% de moins");
        assert_eq!(change(Some(-0.04)), "▲ 4\u{202F}% de plus");
        assert_eq!(grams_per_meal(Some(104.4)), "104\u{202F}g/repas");
    }
}
