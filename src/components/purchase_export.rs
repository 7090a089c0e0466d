//! « Exporter » of the purchases shown: the filtered lines as ma cantine's national CSV
//! (re-importable there and here) or as an Excel workbook with the same columns.

use assiette_domain::export::{purchases_csv, purchases_xlsx};
use assiette_domain::number::group_thousands;
use assiette_domain::purchase::Purchase;
use assiette_tablet::purchases::{self as rules, Filter, Scope};
use leptos::prelude::*;

use crate::components::field_error::FieldError;
use crate::download::{offer, FileKind};

/// The file's name: what was filtered, so two exports side by side are told apart.
fn file_name(filter: &Filter, extension: &str) -> String {
    let year = filter.year.map(|y| y.to_string()).unwrap_or_else(|| "toutes-annees".to_owned());
    match &filter.site {
        Some(siret) => format!("achats-{year}-{siret}.{extension}"),
        None => format!("achats-{year}.{extension}"),
    }
}

#[component]
pub fn PurchaseExport(
    purchases: ReadSignal<Option<Vec<Purchase>>, LocalStorage>,
    filter: RwSignal<Filter>,
    scope: Memo<Scope>,
) -> impl IntoView {
    let note = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let export = move |kind: FileKind| {
        note.set(None);
        error.set(None);
        let f = filter.get_untracked();
        let scope_now = scope.get_untracked();
        let (extension, written) = purchases.with_untracked(|all| {
            let listing = rules::list(all.as_deref().unwrap_or_default(), &f, &scope_now);
            let rows = listing.rows;
            if rows.is_empty() {
                return ("", Err("Aucun achat à exporter : changez les filtres, ou saisissez ou importez des achats.".to_owned()));
            }
            let count = rows.len();
            match kind {
                FileKind::Xlsx => ("xlsx", purchases_xlsx(rows.iter().copied()).map(|b| (b, count))),
                _ => ("csv", Ok((purchases_csv(rows.iter().copied()).into_bytes(), count))),
            }
        });
        match written {
            Ok((bytes, count)) => {
                let name = file_name(&f, extension);
                match offer(&name, kind, &bytes) {
                    Ok(()) => note.set(Some(format!(
                        "{} exportée{} dans « {name} ».",
                        if count == 1 { "1 ligne".to_owned() } else { format!("{} lignes", group_thousands(count as u64)) },
                        if count == 1 { "" } else { "s" }
                    ))),
                    Err(e) => error.set(Some(e)),
                }
            }
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <div class="button-row" role="group" aria-label="Exporter les achats affichés">
            <button type="button" data-testid="export-csv" on:click=move |_| export(FileKind::Csv)>"Exporter (CSV ma cantine)"</button>
            <button type="button" data-testid="export-xlsx" on:click=move |_| export(FileKind::Xlsx)>"Exporter (Excel)"</button>
        </div>
        <p class="saved" role="status" data-testid="purchases-export-note">{move || note.get().map(|m| format!("✓ {m}"))}</p>
        <FieldError message=Signal::derive(move || error.get()) testid="purchases-export-error" />
    }
}
