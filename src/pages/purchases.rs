//! « Achats »: the manager's purchases (office bundle). The list of a site (or every site of
//! the scope) and a year, with search, filters and the sum of what is shown; entry and
//! correction with the national fields; « Dupliquer »; deletion (one line or a selection)
//! with undo; import of a national file. Every write goes through the repository with its
//! outbox entry (kind `purchase`), so sync carries it. The rules are `assiette_tablet::purchases`.

use std::collections::HashSet;

use assiette_domain::number::{format_euros, format_fr_date, group_thousands};
use assiette_domain::purchase::{Characteristic, Family, LocalDefinition, Purchase};
use assiette_domain::validation::FieldError;
use assiette_tablet::purchases::{self as rules, Filter, Preview, PurchaseForm, Scope, ScopeSite, ERRORS_SHOWN};
use chrono::{Datelike, Utc};
use leptos::prelude::*;
use uuid::Uuid;
use wasm_bindgen::JsCast;

use crate::components::field_error::FieldError as FieldErrorLine;
use crate::components::purchase_export::PurchaseExport;
use crate::context::{stored, today, AppContext};
use crate::purchase_import::{self, Outcome};
use crate::session::SessionState;
use crate::storage::ImportWrite;

/// The sites this person may see and change: the one seam for the scope. When a person is
/// signed in (office bundle), the session's sites (kept when the session has expired: the lines
/// on the device stay workable offline); otherwise the site this device stores (its profile,
/// once its SIRET is set in « Réglages »). Reactive: read inside a view or an effect.
pub fn current_scope(ctx: &AppContext) -> Scope {
    if let Some(s) = use_context::<SessionState>().and_then(|state| state.session.get()) {
        return Scope { sites: s.sites.into_iter().map(|site| ScopeSite { siret: site.siret, name: site.name }).collect() };
    }
    let sites = ctx
        .profile
        .get()
        .filter(|p| !p.siret.is_empty())
        .map(|p| vec![ScopeSite { siret: p.siret, name: p.name }])
        .unwrap_or_default();
    Scope { sites }
}

/// A deletion that can still be undone: the versions before it and the tombstones written.
#[derive(Clone)]
struct Deleted {
    before: Vec<Purchase>,
    tombstones: Vec<Purchase>,
}

/// What the form is doing: a new purchase, or the correction of a stored one.
#[derive(Clone)]
struct Editing {
    base: Option<Purchase>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", group_thousands(n as u64))
    }
}

#[component]
pub fn PurchasesPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let purchases = stored(move || {
        let _ = ctx.data_version.get();
        let repo = ctx.repo.get();
        async move {
            match repo?.all::<Purchase>().await {
                Ok(list) => {
                    ctx.note_unreadable(list.unreadable);
                    Some(list.rows)
                }
                Err(e) => {
                    ctx.report(e);
                    None
                }
            }
        }
    });
    let scope = Memo::new(move |_| current_scope(&ctx));
    let filter = RwSignal::new(Filter { year: Some(today().year()), ..Default::default() });
    let selected = RwSignal::new(HashSet::<Uuid>::new());
    let editing = RwSignal::new(None::<Editing>);
    let deleted = RwSignal::new(None::<Deleted>);
    let note = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let importing = RwSignal::new(false);

    let delete = move |lines: Vec<Purchase>| {
        let Some(repo) = ctx.repo() else { return };
        let now = Utc::now();
        let tombstones: Vec<Purchase> = lines.iter().map(|p| rules::tombstone(p, now)).collect();
        leptos::task::spawn_local(async move {
            match repo.save_many(&tombstones, |_| true).await {
                Ok(_) => {
                    selected.set(HashSet::new());
                    note.set(None);
                    failure.set(None);
                    deleted.set(Some(Deleted { before: lines, tombstones }));
                    ctx.after_write();
                }
                Err(e) => failure.set(Some(e.message_fr())),
            }
        });
    };
    let undo = move || {
        let Some(d) = deleted.get_untracked() else { return };
        let Some(repo) = ctx.repo() else { return };
        let now = Utc::now();
        let restored: Vec<Purchase> = d.before.iter().zip(&d.tombstones).map(|(b, t)| rules::restore(b, t, now)).collect();
        leptos::task::spawn_local(async move {
            match repo.save_many(&restored, |_| true).await {
                Ok(_) => {
                    deleted.set(None);
                    note.set(Some(format!("{}.", plural(restored.len(), "achat rétabli", "achats rétablis"))));
                    ctx.after_write();
                }
                Err(e) => failure.set(Some(e.message_fr())),
            }
        });
    };

    view! {
        <h1>"Achats"</h1>
        {move || scope.get().sites.is_empty().then(|| view! {
            <p class="card warnings" data-testid="no-scope">
                "Aucun établissement pour cet appareil : connectez-vous (« Se connecter » ci-dessus) ou renseignez le SIRET du restaurant dans « Réglages » pour saisir ou importer ses achats."
            </p>
        })}
        <Filters filter=filter scope=scope purchases=purchases />
        <div class="button-row">
            <button type="button" class="primary" data-testid="new-purchase" disabled=move || scope.get().sites.is_empty()
                on:click=move |_| { note.set(None); editing.set(Some(Editing { base: None })); }>"Nouvel achat"</button>
            <button type="button" data-testid="open-import" disabled=move || scope.get().sites.is_empty()
                aria-expanded=move || importing.get().to_string()
                on:click=move |_| importing.update(|i| *i = !*i)>"Importer un fichier national"</button>
            {move || {
                let n = selected.get().len();
                (n > 0).then(|| view! {
                    <button type="button" class="danger" data-testid="delete-selected"
                        on:click=move |_| {
                            let chosen = selected.get_untracked();
                            let lines: Vec<Purchase> = purchases.with_untracked(|all| {
                                all.iter().flatten().filter(|p| chosen.contains(&p.meta.id)).cloned().collect()
                            });
                            delete(lines);
                        }>{format!("Supprimer la sélection ({n})")}</button>
                })
            }}
        </div>
        <PurchaseExport purchases=purchases filter=filter scope=scope />
        {move || deleted.get().map(|d| view! {
            <div class="undo-banner" role="status" data-testid="undo-banner">
                <span>{format!("🗑 {}.", plural(d.tombstones.len(), "achat supprimé", "achats supprimés"))}</span>
                <button type="button" data-testid="undo" on:click=move |_| undo()>"Annuler la suppression"</button>
            </div>
        })}
        <p class="saved" role="status" data-testid="purchases-note">{move || note.get().map(|m| format!("✓ {m}"))}</p>
        <FieldErrorLine message=Signal::derive(move || failure.get()) testid="purchases-error" />
        {move || importing.get().then(|| view! { <ImportPanel scope=scope /> })}
        {move || editing.get().map(|e| view! { <PurchaseFormView editing=e scope=scope purchases=purchases close=editing note=note /> })}
        <PurchaseTable purchases=purchases filter=filter scope=scope selected=selected editing=editing note=note delete=delete />
    }
}

#[component]
fn Filters(filter: RwSignal<Filter>, scope: Memo<Scope>, purchases: ReadSignal<Option<Vec<Purchase>>, LocalStorage>) -> impl IntoView {
    let years = move || {
        let mut y = purchases.with(|p| p.as_deref().map(|p| rules::years(p, &scope.get())).unwrap_or_default());
        let this = today().year();
        if !y.contains(&this) {
            y.insert(0, this);
        }
        y
    };
    let date_error = RwSignal::new(None::<String>);
    let set_date = move |value: String, from: bool| {
        let parsed = if value.trim().is_empty() { Ok(None) } else { rules::parse_date(&value).map(Some) };
        match parsed {
            Ok(d) => {
                date_error.set(None);
                filter.update(|f| if from { f.from = d } else { f.to = d });
            }
            Err(e) => date_error.set(Some(e)),
        }
    };
    view! {
        <section class="card filters" aria-label="Filtres">
            <div class="field">
                <label for="f-site">"Site"</label>
                <select id="f-site" data-testid="filter-site" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    filter.update(|f| f.site = (!v.is_empty()).then_some(v));
                }>
                    <option value="">"Tous les sites"</option>
                    {move || scope.get().sites.into_iter().map(|s| view! { <option value=s.siret.clone()>{format!("{} ({})", s.name, s.siret)}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-year">"Année"</label>
                <select id="f-year" data-testid="filter-year" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    filter.update(|f| f.year = v.parse().ok());
                }>
                    <option value="" selected=move || filter.get().year.is_none()>"Toutes"</option>
                    {move || years().into_iter().map(|y| view! { <option value=y.to_string() selected=move || filter.get().year == Some(y)>{y.to_string()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-search">"Rechercher (produit ou fournisseur)"</label>
                <input id="f-search" type="search" data-testid="filter-search" autocomplete="off"
                    on:input=move |ev| { let v = event_target_value(&ev); filter.update(|f| f.query = v); } />
            </div>
            <div class="field">
                <label for="f-family">"Famille"</label>
                <select id="f-family" data-testid="filter-family" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    filter.update(|f| f.family = Family::from_code(&v));
                }>
                    <option value="">"Toutes les familles"</option>
                    {Family::ALL.into_iter().map(|f| view! { <option value=f.code()>{f.label_fr()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-label">"Label ou caractéristique"</label>
                <select id="f-label" data-testid="filter-label" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    filter.update(|f| f.label = Characteristic::from_code(&v));
                }>
                    <option value="">"Tous"</option>
                    {Characteristic::ALL.into_iter().map(|c| view! { <option value=c.code()>{c.label_fr()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-from">"Du (jj/mm/aaaa)"</label>
                <input id="f-from" type="text" inputmode="numeric" autocomplete="off" data-testid="filter-from"
                    on:change=move |ev| set_date(event_target_value(&ev), true) />
            </div>
            <div class="field">
                <label for="f-to">"Au (jj/mm/aaaa)"</label>
                <input id="f-to" type="text" inputmode="numeric" autocomplete="off" data-testid="filter-to"
                    on:change=move |ev| set_date(event_target_value(&ev), false) />
            </div>
            <FieldErrorLine message=Signal::derive(move || date_error.get()) />
        </section>
    }
}

#[component]
fn PurchaseTable(
    purchases: ReadSignal<Option<Vec<Purchase>>, LocalStorage>,
    filter: RwSignal<Filter>,
    scope: Memo<Scope>,
    selected: RwSignal<HashSet<Uuid>>,
    editing: RwSignal<Option<Editing>>,
    note: RwSignal<Option<String>>,
    delete: impl Fn(Vec<Purchase>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let duplicate = move |p: Purchase| {
        let Some(repo) = ctx.repo() else { return };
        let copy = rules::duplicate(&p, Uuid::now_v7(), Utc::now());
        leptos::task::spawn_local(async move {
            match repo.save(&copy).await {
                Ok(_) => {
                    note.set(Some(format!("Achat « {} » dupliqué : corrigez ce qui diffère.", copy.description)));
                    editing.set(Some(Editing { base: Some(copy) }));
                    ctx.after_write();
                }
                Err(e) => note.set(Some(e.message_fr())),
            }
        });
    };
    move || {
        // A large list shows its first lines; the sum is always of every filtered line.
        const SHOWN: usize = 500;
        let scope_now = scope.get();
        let f = filter.get();
        // Read in place: only the lines shown are copied.
        let listed = purchases.with(|all| {
            all.as_deref().map(|all| {
                let listing = rules::list(all, &f, &scope_now);
                let shown: Vec<Purchase> = listing.rows.iter().take(SHOWN).map(|p| (*p).clone()).collect();
                (shown, listing.rows.len(), listing.total_cents)
            })
        });
        let Some((rows, count, total_cents)) = listed else { return view! { <p>"Chargement…"</p> }.into_any() };
        let total = format!("{} — total HT : {}", plural(count, "ligne", "lignes"), format_euros(total_cents));
        let several_sites = scope_now.sites.len() > 1;
        let hidden = count.saturating_sub(SHOWN);
        view! {
            <p class="total-line" role="status" data-testid="purchases-total" data-total-cents=total_cents.to_string()>{total}</p>
            {(hidden > 0).then(|| view! { <p class="muted">{format!("Les {SHOWN} premières lignes sont affichées ({} de plus) : affinez la recherche ou les filtres pour voir les autres.", group_thousands(hidden as u64))}</p> })}
            {if rows.is_empty() {
                view! { <p class="card" data-testid="purchases-empty">"Aucun achat ne correspond : changez les filtres, saisissez un achat ou importez un fichier."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll purchases-scroll">
                        <table class="purchases" data-testid="purchases">
                            <caption class="visually-hidden">"Achats filtrés"</caption>
                            <thead><tr>
                                <th scope="col">"Choisir"</th>
                                <th scope="col">"Date"</th>
                                {several_sites.then(|| view! { <th scope="col">"Site"</th> })}
                                <th scope="col">"Produit"</th>
                                <th scope="col">"Fournisseur"</th>
                                <th scope="col">"Famille"</th>
                                <th scope="col">"Labels et caractéristiques"</th>
                                <th scope="col" class="num">"Prix HT"</th>
                                <th scope="col">"Actions"</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|p| {
                                    let id = p.meta.id;
                                    let site = scope_now.name_of(&p.siret).to_owned();
                                    let labels = p.characteristics.iter().map(|c| c.label_fr()).collect::<Vec<_>>().join(", ");
                                    let (for_edit, for_copy, for_delete) = (p.clone(), p.clone(), p.clone());
                                    let check_id = format!("sel-{id}");
                                    let label_for = check_id.clone();
                                    view! {
                                        <tr data-testid="purchase-row" data-id=id.to_string()>
                                            <td>
                                                <label class="check" for=label_for>
                                                    <input type="checkbox" id=check_id
                                                        prop:checked=move || selected.with(|s| s.contains(&id))
                                                        on:change=move |ev| {
                                                            let on = event_target::<web_sys::HtmlInputElement>(&ev).checked();
                                                            selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                                                        } />
                                                    <span class="visually-hidden">{format!("Choisir « {} »", p.description)}</span>
                                                </label>
                                            </td>
                                            <td>{format_fr_date(p.date)}</td>
                                            {several_sites.then(|| view! { <td>{site}</td> })}
                                            <td>{p.description.clone()}</td>
                                            <td>{p.supplier.clone()}</td>
                                            <td>{p.family.label_fr()}</td>
                                            <td>{labels}</td>
                                            <td class="num">{format_euros(p.price_cents)}</td>
                                            <td class="row-actions">
                                                <button type="button" on:click=move |_| { note.set(None); editing.set(Some(Editing { base: Some(for_edit.clone()) })); }>"Modifier"</button>
                                                <button type="button" on:click=move |_| duplicate(for_copy.clone())>"Dupliquer"</button>
                                                <button type="button" class="danger" on:click=move |_| delete(vec![for_delete.clone()])>"Supprimer"</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        }
        .into_any()
    }
}

#[component]
fn PurchaseFormView(
    editing: Editing,
    scope: Memo<Scope>,
    purchases: ReadSignal<Option<Vec<Purchase>>, LocalStorage>,
    close: RwSignal<Option<Editing>>,
    note: RwSignal<Option<String>>,
) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let first_site = scope.get_untracked().sites.first().map(|s| s.siret.clone()).unwrap_or_default();
    let start = match &editing.base {
        Some(p) => PurchaseForm::from_purchase(p),
        None => PurchaseForm::new(&first_site, today()),
    };
    let form = RwSignal::new(start);
    let base = RwSignal::new(editing.base.clone());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let busy = RwSignal::new(false);
    let error_of = move |field: &'static str| Signal::derive(move || errors.with(|e| e.iter().find(|e| e.field == field).map(|e| e.message.clone())));
    let suggestions = move |description: bool| {
        purchases.with(|p| {
            p.as_deref()
                .map(|p| if description { rules::suggestions(p, |x| x.description.as_str(), 300) } else { rules::suggestions(p, |x| x.supplier.as_str(), 300) })
                .unwrap_or_default()
        })
    };
    let text = move |field: &'static str| {
        move || {
            form.with(|f| match field {
                "date" => f.date.clone(),
                "description" => f.description.clone(),
                "supplier" => f.supplier.clone(),
                "price" => f.price.clone(),
                "local_km" => f.local_km.clone(),
                _ => String::new(),
            })
        }
    };
    let set_text = move |field: &'static str| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            form.update(|f| match field {
                "date" => f.date = v,
                "description" => f.description = v,
                "supplier" => f.supplier = v,
                "price" => f.price = v,
                "local_km" => f.local_km = v,
                "family" => f.family = v,
                "origin" => f.origin = v,
                "local_definition" => f.local_definition = v,
                "siret" => f.siret = v,
                _ => {}
            })
        }
    };
    let save = move || {
        let Some(repo) = ctx.repo() else { return };
        let current = base.get_untracked();
        let result = form.get_untracked().to_purchase(current.as_ref(), Uuid::now_v7(), Utc::now(), today());
        match result {
            Err(list) => errors.set(list),
            Ok(purchase) => {
                errors.set(Vec::new());
                busy.set(true);
                leptos::task::spawn_local(async move {
                    let outcome = repo.save(&purchase).await;
                    busy.set(false);
                    match outcome {
                        Ok(_) => {
                            let what = if current.is_some() { "corrigé" } else { "enregistré" };
                            note.set(Some(format!("Achat « {} » {what} ({}).", purchase.description, format_euros(purchase.price_cents))));
                            ctx.after_write();
                            if current.is_some() {
                                close.set(None);
                            } else {
                                // Ready for the next line of the same invoice: same site, date, supplier.
                                let kept = form.get_untracked();
                                form.set(PurchaseForm { siret: kept.siret, date: kept.date, supplier: kept.supplier, ..Default::default() });
                                focus("p-description");
                            }
                        }
                        Err(e) => errors.set(vec![FieldError { field: "form".into(), message: e.message_fr() }]),
                    }
                });
            }
        }
    };
    let title = if editing.base.is_some() { "Corriger un achat" } else { "Nouvel achat" };
    let several_sites = scope.get_untracked().sites.len() > 1;
    view! {
        <form class="card purchase-form" aria-labelledby="purchase-form-title" data-testid="purchase-form" novalidate
            on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h2 id="purchase-form-title">{title}</h2>
            {several_sites.then(|| view! {
                <div class="field">
                    <label for="p-siret">"Site"</label>
                    <select id="p-siret" on:change=set_text("siret")>
                        {scope.get_untracked().sites.into_iter().map(|s| {
                            let v = s.siret.clone();
                            view! { <option value=s.siret.clone() selected=move || form.with(|f| f.siret == v)>{s.name}</option> }
                        }).collect_view()}
                    </select>
                    <FieldErrorLine message=error_of("siret") />
                </div>
            })}
            {(!several_sites).then(|| view! { <FieldErrorLine message=error_of("siret") /> })}
            <div class="field">
                <label for="p-date">"Date d'achat (jj/mm/aaaa)"</label>
                <input id="p-date" type="text" inputmode="numeric" autocomplete="off" aria-invalid=move || error_of("date").get().is_some().to_string()
                    aria-describedby="p-date-error" prop:value=text("date") on:input=set_text("date") />
                <FieldErrorLine message=error_of("date") id="p-date-error" />
            </div>
            <div class="field">
                <label for="p-description">"Produit (description)"</label>
                <input id="p-description" type="text" list="descriptions" autocomplete="off" aria-invalid=move || error_of("description").get().is_some().to_string()
                    aria-describedby="p-description-error" prop:value=text("description") on:input=set_text("description") />
                <datalist id="descriptions">{move || suggestions(true).into_iter().map(|s| view! { <option value=s></option> }).collect_view()}</datalist>
                <FieldErrorLine message=error_of("description") id="p-description-error" />
            </div>
            <div class="field">
                <label for="p-supplier">"Fournisseur"</label>
                <input id="p-supplier" type="text" list="suppliers" autocomplete="off" aria-invalid=move || error_of("supplier").get().is_some().to_string()
                    aria-describedby="p-supplier-error" prop:value=text("supplier") on:input=set_text("supplier") />
                <datalist id="suppliers">{move || suggestions(false).into_iter().map(|s| view! { <option value=s></option> }).collect_view()}</datalist>
                <FieldErrorLine message=error_of("supplier") id="p-supplier-error" />
            </div>
            <div class="field">
                <label for="p-family">"Famille de produits"</label>
                <select id="p-family" aria-invalid=move || error_of("family").get().is_some().to_string() aria-describedby="p-family-error" on:change=set_text("family")>
                    <option value="" selected=move || form.with(|f| f.family.is_empty())>"— Choisir —"</option>
                    {Family::ALL.into_iter().map(|fam| view! {
                        <option value=fam.code() selected=move || form.with(|f| f.family == fam.code())>{fam.label_fr()}</option>
                    }).collect_view()}
                </select>
                <FieldErrorLine message=error_of("family") id="p-family-error" />
            </div>
            <div class="field">
                <label for="p-price">"Prix HT en euros (par exemple 12,50)"</label>
                <input id="p-price" type="text" inputmode="decimal" autocomplete="off" aria-invalid=move || error_of("price").get().is_some().to_string()
                    aria-describedby="p-price-error" prop:value=text("price") on:input=set_text("price") />
                <FieldErrorLine message=error_of("price") id="p-price-error" />
            </div>
            <fieldset class="labels">
                <legend>"Labels EGalim"</legend>
                <div class="checks">
                    {Characteristic::EGALIM.into_iter().map(|c| {
                        let id = format!("p-label-{}", c.code());
                        let label_for = id.clone();
                        view! {
                            <label class="check" for=label_for>
                                <input type="checkbox" id=id data-label=c.code()
                                    prop:checked=move || form.with(|f| f.labels.contains(&c))
                                    on:change=move |ev| {
                                        let on = event_target::<web_sys::HtmlInputElement>(&ev).checked();
                                        form.update(|f| { f.labels.retain(|x| *x != c); if on { f.labels.push(c); } });
                                    } />
                                <span>{c.label_fr()}</span>
                            </label>
                        }
                    }).collect_view()}
                </div>
                <FieldErrorLine message=error_of("labels") />
            </fieldset>
            <div class="field">
                <label for="p-origin">"Origine"</label>
                <select id="p-origin" on:change=set_text("origin")>
                    <option value="" selected=move || form.with(|f| f.origin.is_empty())>"Non précisée"</option>
                    <option value="FRANCE" selected=move || form.with(|f| f.origin == "FRANCE")>"France"</option>
                    <option value="EUROPE" selected=move || form.with(|f| f.origin == "EUROPE")>"Europe (hors France)"</option>
                </select>
                <FieldErrorLine message=error_of("origin") />
            </div>
            <div class="checks">
                <label class="check" for="p-short-chain">
                    <input type="checkbox" id="p-short-chain" prop:checked=move || form.with(|f| f.short_chain)
                        on:change=move |ev| { let on = event_target::<web_sys::HtmlInputElement>(&ev).checked(); form.update(|f| f.short_chain = on); } />
                    <span>"Circuit court (un intermédiaire au plus)"</span>
                </label>
                <label class="check" for="p-local">
                    <input type="checkbox" id="p-local" prop:checked=move || form.with(|f| f.local)
                        on:change=move |ev| { let on = event_target::<web_sys::HtmlInputElement>(&ev).checked(); form.update(|f| f.local = on); } />
                    <span>"Produit local"</span>
                </label>
            </div>
            <div class="field">
                <label for="p-local-definition">"Définition de « local »"</label>
                <select id="p-local-definition" aria-describedby="p-local-definition-error" on:change=set_text("local_definition")>
                    <option value="" selected=move || form.with(|f| f.local_definition.is_empty())>"Non précisée"</option>
                    {LocalDefinition::ALL.into_iter().map(|d| view! {
                        <option value=d.code() selected=move || form.with(|f| f.local_definition == d.code())>{local_definition_fr(d)}</option>
                    }).collect_view()}
                </select>
                <FieldErrorLine message=error_of("local_definition") id="p-local-definition-error" />
            </div>
            {move || form.with(|f| f.local_definition == "KM").then(|| view! {
                <div class="field">
                    <label for="p-local-km">"Distance maximale (km)"</label>
                    <input id="p-local-km" type="text" inputmode="numeric" autocomplete="off" aria-describedby="p-local-km-error"
                        prop:value=text("local_km") on:input=set_text("local_km") />
                    <FieldErrorLine message=error_of("local_km") id="p-local-km-error" />
                </div>
            })}
            {move || (form.with(|f| f.local_definition != "KM") && errors.with(|e| e.iter().any(|e| e.field == "local_km"))).then(|| view! {
                <FieldErrorLine message=error_of("local_km") />
            })}
            <FieldErrorLine message=error_of("form") testid="purchase-form-error" />
            {move || (!errors.with(Vec::is_empty)).then(|| view! {
                <p class="warnings" role="alert" data-testid="purchase-form-refused">
                    {move || format!("⚠ Achat non enregistré : {} à corriger (indiqué sous chaque champ). Votre saisie est conservée.", plural(errors.with(Vec::len), "point", "points"))}
                </p>
            })}
            <div class="button-row">
                <button type="submit" class="primary" data-testid="save-purchase" disabled=move || busy.get()>"Enregistrer l'achat"</button>
                <button type="button" on:click=move |_| close.set(None)>"Fermer le formulaire"</button>
            </div>
        </form>
    }
}

fn local_definition_fr(d: LocalDefinition) -> &'static str {
    match d {
        LocalDefinition::Pat => "Projet alimentaire territorial (PAT)",
        LocalDefinition::Commune => "Commune",
        LocalDefinition::Departement => "Département",
        LocalDefinition::Region => "Région",
        LocalDefinition::Km => "Distance en km",
    }
}

fn focus(id: &str) {
    if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) {
        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
}

/// Where an import stands.
#[derive(Clone)]
enum ImportState {
    Idle,
    Reading { name: String, percent: u32 },
    Refused { name: String, lines: Vec<String>, more: Option<String>, duplicate: bool },
    Ready { name: String, preview: Preview, oversize: bool },
    Writing { name: String, percent: u32 },
    Written { name: String, count: u32 },
}

#[component]
fn ImportPanel(scope: Memo<Scope>) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let state = RwSignal::new(ImportState::Idle);
    // The checked file's purchases and digest, until written or given up.
    let ready = StoredValue::new_local(None::<purchase_import::Ready>);
    let failure = RwSignal::new(None::<String>);

    let choose = move |file: web_sys::File| {
        let Some(repo) = ctx.repo() else { return };
        let name = file.name();
        ready.set_value(None);
        failure.set(None);
        state.set(ImportState::Reading { name: name.clone(), percent: 0 });
        let sc = scope.get_untracked();
        leptos::task::spawn_local(async move {
            let known = match repo.import_digests().await {
                Ok(k) => k,
                Err(e) => {
                    state.set(ImportState::Idle);
                    failure.set(Some(e.message_fr()));
                    return;
                }
            };
            let progress_name = name.clone();
            let on_progress = move |read: u64, total: u64| {
                state.set(ImportState::Reading { name: progress_name.clone(), percent: rules::percent(read, total) });
            };
            let outcome = purchase_import::read_file(&file, &sc, &known, today(), Utc::now(), &on_progress).await;
            match outcome {
                Err(e) => {
                    state.set(ImportState::Idle);
                    failure.set(Some(e.message_fr()));
                }
                Ok(Outcome::Refused(r)) => {
                    let (lines, more) = rules::error_lines(&r.errors, ERRORS_SHOWN);
                    state.set(ImportState::Refused { name, lines, more, duplicate: r.duplicate });
                }
                Ok(Outcome::Ready(r)) => {
                    let preview = r.preview.clone();
                    let oversize = r.bytes > assiette_domain::import::MAX_FILE_BYTES;
                    ready.set_value(Some(r));
                    state.set(ImportState::Ready { name, preview, oversize });
                }
            }
        });
    };

    let write = move || {
        let Some(repo) = ctx.repo() else { return };
        let Some(r) = ready.try_update_value(|r| r.take()).flatten() else { return };
        let ImportState::Ready { name, preview, .. } = state.get_untracked() else { return };
        let total = preview.lines;
        state.set(ImportState::Writing { name: name.clone(), percent: 0 });
        leptos::task::spawn_local(async move {
            let progress_name = name.clone();
            let on_progress = move |n: u32| {
                state.set(ImportState::Writing { name: progress_name.clone(), percent: rules::percent(u64::from(n), total) });
            };
            // 1,000 records a batch (one packed outbox entry): the bar moves every tenth of a
            // second or so, well within half a second on a busy tablet too.
            let outcome = repo.write_purchase_import(&r.records, &r.digest, 1000, &on_progress).await;
            match outcome {
                Ok(ImportWrite::Written(count)) => {
                    state.set(ImportState::Written { name, count });
                    ctx.after_write();
                }
                Ok(ImportWrite::AlreadyImported) => state.set(ImportState::Refused {
                    name,
                    lines: vec!["Ce fichier a déjà été importé (contenu identique) : ses achats sont déjà enregistrés, rien n'a été ajouté.".to_owned()],
                    more: None,
                    duplicate: true,
                }),
                Err(e) => {
                    state.set(ImportState::Idle);
                    failure.set(Some(format!("{} Le fichier n'a pas été importé (aucun achat écrit) : réessayez.", e.message_fr())));
                }
            }
        });
    };

    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            choose(file);
        }
    };

    view! {
        <section class="card import-panel" aria-labelledby="import-title" data-testid="import-panel">
            <h2 id="import-title">"Importer un fichier national d'achats"</h2>
            <p class="muted">"Fichier CSV, TSV ou Excel (.xlsx) aux colonnes de « ma cantine » : siret, description, fournisseur, date, prix_ht, famille_produits, categories_egalim, origine, est_circuit_court, est_local, definition_local, definition_local_km. Un fichier qui contient une erreur est refusé en entier : rien n'est écrit."</p>
            <div class="dropzone" data-testid="import-drop"
                on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
                on:drop=on_drop>
                <label for="purchase-file">"Choisir le fichier, ou le déposer ici"</label>
                <input id="purchase-file" type="file" data-testid="purchase-file"
                    accept=".csv,.tsv,.txt,.xlsx,text/csv,text/tab-separated-values,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    on:change=move |ev| {
                        let input: web_sys::HtmlInputElement = event_target(&ev);
                        if let Some(file) = input.files().and_then(|f| f.get(0)) {
                            choose(file);
                        }
                        // Choosing the same file again must fire "change" again.
                        input.set_value("");
                    } />
            </div>
            <FieldErrorLine message=Signal::derive(move || failure.get()) testid="import-failure" />
            {move || match state.get() {
                ImportState::Idle => ().into_any(),
                ImportState::Reading { name, percent } => view! {
                    <div class="import-progress" data-testid="import-progress">
                        <label for="import-bar">{format!("Lecture et vérification de « {name} » : {percent} %")}</label>
                        <progress id="import-bar" max="100" value=percent.to_string()>{format!("{percent} %")}</progress>
                    </div>
                }.into_any(),
                ImportState::Writing { name, percent } => view! {
                    <div class="import-progress" data-testid="import-progress">
                        <label for="import-bar">{format!("Enregistrement des achats de « {name} » : {percent} %")}</label>
                        <progress id="import-bar" max="100" value=percent.to_string()>{format!("{percent} %")}</progress>
                    </div>
                }.into_any(),
                ImportState::Refused { name, lines, more, duplicate } => view! {
                    <div class="import-refused" role="alert" data-testid=if duplicate { "import-duplicate" } else { "import-refused" }>
                        <p><strong>{if duplicate {
                            format!("⚠ « {name} » a déjà été importé : rien n'a été ajouté.")
                        } else {
                            format!("⚠ « {name} » est refusé, aucun achat importé. Corrigez le fichier puis importez-le de nouveau :")
                        }}</strong></p>
                        <ul data-testid="import-errors">{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                        {more.map(|m| view! { <p data-testid="import-more">{m}</p> })}
                    </div>
                }.into_any(),
                ImportState::Ready { name, preview, oversize } => {
                    let sites = preview.sites.iter().map(|s| scope.get_untracked().name_of(s).to_owned()).collect::<Vec<_>>().join(", ");
                    let years = preview.years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", ");
                    view! {
                        <div class="import-confirm" role="group" aria-label="Confirmer l'import" data-testid="import-preview"
                            data-lines=preview.lines.to_string() data-total-cents=preview.total_cents.to_string()>
                            <p><strong>{format!("« {name} » est correct.")}</strong></p>
                            <ul>
                                <li>{format!("{} d'achat", plural(preview.lines as usize, "ligne", "lignes"))}</li>
                                <li>{format!("Site(s) : {sites}")}</li>
                                <li>{format!("Année(s) : {years}")}</li>
                                <li>{format!("Total HT : {}", format_euros(preview.total_cents))}</li>
                            </ul>
                            {oversize.then(|| view! { <p class="warnings">"⚠ Ce fichier dépasse 10 Mo : la plateforme ma cantine ne l'acceptera pas tel quel (découpez-le pour l'y déposer). Ici, il est lu entier."</p> })}
                            <div class="button-row">
                                <button type="button" class="primary" data-testid="import-write" on:click=move |_| write()>
                                    {format!("Importer ces {}", plural(preview.lines as usize, "achat", "achats"))}
                                </button>
                                <button type="button" on:click=move |_| { ready.set_value(None); state.set(ImportState::Idle); }>"Annuler"</button>
                            </div>
                        </div>
                    }.into_any()
                }
                ImportState::Written { name, count } => view! {
                    <p class="saved" role="status" data-testid="import-written">
                        {format!("✓ {} depuis « {name} » : enregistrés sur l'appareil, en attente d'envoi.", plural(count as usize, "achat importé", "achats importés"))}
                    </p>
                }.into_any(),
            }}
        </section>
    }
}
