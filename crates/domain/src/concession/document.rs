//! The checklist of clauses for the next call for tenders, as a document the commune edits:
//! plain HTML (UTF-8, no script, no external file) that a word processor opens and saves as
//! its own format. The clauses are the guide's checkpoints marked `clause` that apply to the
//! contract's type and size, grouped by step, each with a box to tick and its sources.

use super::guide::{guide, Source};
use super::{CateringContract, ContractType};
use crate::number::format_fr_date;

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// « titre (2021, mis à jour en 2024), articles L. 230-5-1 ».
pub fn source_label(s: &Source) -> String {
    let mut out = format!("{} ({}", s.title, s.year);
    if let Some(u) = s.updated {
        out.push_str(&format!(", mis à jour en {u}"));
    }
    out.push(')');
    if !s.articles.is_empty() {
        out.push_str(&format!(", article{} {}", if s.articles.len() > 1 { "s" } else { "" }, s.articles.join(", ")));
    }
    out
}

/// The clause checklist for the commune's next call for tenders. `contract`: the current one
/// (its type and dates are recalled); without it, a public services contract is assumed.
pub fn clauses_document(commune_name: &str, contract: Option<&CateringContract>, meals_per_day: u32) -> String {
    let contract_type = contract.map_or(ContractType::ServicesContract, |c| c.contract_type);
    let clauses = guide().tender_clauses(contract_type, meals_per_day);
    let e = escape_html;
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str(&format!("<title>Clauses pour le prochain appel d'offres – {}</title>\n", e(commune_name)));
    html.push_str("</head>\n<body>\n");
    html.push_str(&format!("<h1>Clauses à prévoir dans le prochain appel d'offres de restauration scolaire – {}</h1>\n", e(commune_name)));
    if let Some(c) = contract {
        html.push_str(&format!(
            "<p>Contrat actuel : {} avec {} (SIREN {}), du {} au {}.</p>\n",
            e(c.contract_type.label()),
            e(&c.caterer_name),
            e(&c.caterer_siren),
            format_fr_date(c.start_date),
            format_fr_date(c.end_date)
        ));
    }
    html.push_str(&format!(
        "<p>Liste tirée du « {} ». Cochez chaque clause une fois écrite dans le cahier des charges ; ajoutez, retirez ou précisez librement : ce document est à vous.</p>\n",
        e(&guide().title)
    ));
    let mut current_step = "";
    for (step, checkpoint) in &clauses {
        if step.id != current_step {
            if !current_step.is_empty() {
                html.push_str("</ul>\n");
                let prev = guide().step(current_step).expect("a step of the guide");
                html.push_str(&sources_html(&prev.sources));
            }
            current_step = &step.id;
            html.push_str(&format!("<h2>{}. {}</h2>\n<ul>\n", step.number, e(&step.title)));
        }
        html.push_str(&format!("<li>☐ {}</li>\n", e(&checkpoint.text)));
    }
    if let Some(step) = guide().step(current_step) {
        html.push_str("</ul>\n");
        html.push_str(&sources_html(&step.sources));
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn sources_html(sources: &[Source]) -> String {
    let list: Vec<String> = sources.iter().map(|s| escape_html(&source_label(s))).collect();
    format!("<p><small>Sources : {}.</small></p>\n", list.join(" ; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concession::tests::contract;

    #[test]
    fn the_document_lists_the_applicable_clauses_escaped_with_their_sources() {
        let mut c = contract();
        c.caterer_name = "Dupont & Fils <SAS>".into();
        let doc = clauses_document("Montivilliers", Some(&c), 150);
        assert!(doc.starts_with("<!DOCTYPE html>") && doc.contains("<meta charset=\"utf-8\">"));
        assert!(doc.contains("Dupont &amp; Fils &lt;SAS&gt;"), "names are escaped");
        assert!(doc.contains("du 01/09/2024 au 31/08/2028"));
        let clauses = guide().tender_clauses(c.contract_type, 150);
        assert!(!clauses.is_empty());
        assert_eq!(doc.matches("<li>☐ ").count(), clauses.len(), "one box per applicable clause");
        for (_, cp) in &clauses {
            assert!(doc.contains(&escape_html(&cp.text)), "{}", cp.id);
        }
        assert_eq!(doc.matches("<ul>").count(), doc.matches("</ul>").count());
        assert!(doc.contains("Sources : "));
        assert!(!doc.contains("<script") && !doc.contains("style="), "nothing a word processor would refuse or run");
        // A bigger commune gets the clauses that apply above a size, if the guide has any.
        let big = guide().tender_clauses(c.contract_type, 5_000).len();
        assert_eq!(clauses_document("Le Havre", Some(&c), 5_000).matches("<li>☐ ").count(), big);
        assert!(clauses_document("X", None, 0).contains("<h1>"));
    }
}
