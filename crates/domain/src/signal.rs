//! The collective signal to suppliers (issue 13, item 4): the territory's yearly purchases by
//! product family and label, the shares already EGalim, organic, French, short-chain or local,
//! and the euros that must move, family by family, for the territory to reach the targets.
//!
//! Input: one `egalim::YearTotals` for the whole territory (the server sums its per-site-year
//! rollup; a test sums `egalim::yearly_totals`). Nothing here has a formula of its own for a
//! share or for a missing amount: shares are `egalim::percent_hundredths`, and the territory's
//! missing euros are the dashboard's gauges (`dashboard::share_gauges`, i.e.
//! `egalim::missing_cents`), so the signal shows the figures the EGalim dashboard shows.
//!
//! Decisions:
//! - **Targets** are the dashboard's four gauges: organic ≥ 20 % and EGalim ≥ 50 % of all
//!   purchases (mainland; the region group's thresholds otherwise), and, from 2024, EGalim ≥ 60 %
//!   of meat and poultry (`VIANDES_VOLAILLES`, charcuterie excluded as on ma cantine) and ≥ 60 %
//!   of fish. Meat and fish each at 60 % also puts them together at 60 % (the objective
//!   `indicators` checks): a weighted mean of two shares of at least 59,995 % is at least that.
//! - **Moving, not adding**: like the gauges, the amounts are purchases switched from a
//!   non-qualifying product to a qualifying one, the yearly total staying as it is.
//! - **By family**: the territory's missing euros are split between families in proportion to
//!   what each family still buys outside the target (its non-EGalim spend for EGalim, its
//!   non-organic spend for organic). A family that buys more outside the target is asked for
//!   more, no family is asked for more than it buys outside the target, and a family already
//!   all EGalim is asked for nothing. Cents are split by largest remainders, so the families'
//!   amounts add up to the territory's to the cent.
//! - **Meat and fish first**: for EGalim, the euros the meat and fish families must move for
//!   their own 60 % count towards the 50 % too, so they are given to those families first; only
//!   the rest of the territory's gap is spread over every family's remaining non-EGalim spend.
//!   `to_move_cents` is then what a family must switch to EGalim for every target at once.
//! - **Organic apart**: the organic column is not added to the EGalim one: a non-EGalim product
//!   switched to organic counts for both.
//! - **French, short-chain, local** are shown apart: they are not EGalim labels (a frequent
//!   confusion), and one product may be organic and local at once, so these shares overlap the
//!   label columns and each other; their union cannot be known from the yearly totals, so each
//!   is given alone. « France » is ma cantine's detailed-table column: for 2025 it also counts
//!   short-chain and local products, except in the meat family (FRANCE code only).
//! - **Missing data is `None`, never 0**: no share without spend, no amount to move without a
//!   base or before a rule applies.

use serde::Serialize;

use crate::dashboard::{share_gauges, ShareGauge};
use crate::egalim::{indicators, percent_hundredths, DetailLabel, FamilyTotals, YearTotals};
use crate::purchase::Family;
use crate::site::RegionGroup;

/// Where the signal's figures come from, for the header of its exports.
pub const SOURCE_FR: &str = "Achats saisis ou importés dans Assiette par les communes, sommés sur le territoire \
(hors taxes) ; parts et montants manquants calculés comme ma cantine (arrondi à deux décimales) et comme le \
tableau de bord EGalim.";

/// How the missing euros are split between families, for the header of its exports.
pub const METHOD_FR: &str = "Montants à basculer : achats à remplacer par des produits qui comptent, à montant \
total égal. Le manque du territoire est réparti entre familles au prorata de ce que chacune achète encore hors \
de l'objectif (hors EGalim pour EGalim, hors bio pour le bio) ; pour EGalim, les viandes et les poissons \
reçoivent d'abord ce qui leur manque pour leur propre objectif de 60 %. Les colonnes bio et EGalim ne \
s'additionnent pas. France, circuit court et local ne sont pas des labels EGalim et peuvent se recouper.";

/// One family's line of the signal, or the territory's (every family).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignalRow {
    /// `None` for the territory's line.
    pub family: Option<Family>,
    /// Yearly spend excluding tax, in cents.
    pub total_cents: i64,
    /// Spend by label in `DetailLabel::ALL` order, each purchase in one column only (its first
    /// label in the national order); the columns add up to `total_cents`.
    pub labels_cents: [i64; 11],
    /// Organic and in conversion (`DetailLabel::Bio`).
    pub bio_cents: i64,
    /// Every EGalim column, organic included: `total_cents` minus `non_egalim`.
    pub egalim_cents: i64,
    pub france_cents: i64,
    pub circuit_court_cents: i64,
    pub local_cents: i64,
    /// This family's part of the territory's spend (100 % for the territory's line).
    pub spend_percent: Option<i64>,
    pub bio_percent: Option<i64>,
    pub egalim_percent: Option<i64>,
    pub france_percent: Option<i64>,
    pub circuit_court_percent: Option<i64>,
    pub local_percent: Option<i64>,
    /// This family's part of the territory's missing organic euros.
    pub to_bio_cents: Option<i64>,
    /// This family's part of the territory's missing EGalim euros (the 50 % gauge).
    pub to_egalim_cents: Option<i64>,
    /// What the family's own 60 % objective misses: meat and fish only, from 2024; on the
    /// territory's line, meat and fish together.
    pub to_family_target_cents: Option<i64>,
    /// What the family must switch to EGalim for every EGalim target at once: the larger of the
    /// two above. The families' amounts add up to the territory's line.
    pub to_move_cents: Option<i64>,
}

/// The signal for one year of the territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplierSignal {
    pub year: i32,
    pub region_group: RegionGroup,
    /// Purchase lines counted.
    pub purchase_count: u64,
    /// The dashboard's gauges for the territory (organic, EGalim, meat, fish).
    pub gauges: Vec<ShareGauge>,
    /// One line per family, in the national order (`Family::ALL`).
    pub families: Vec<SignalRow>,
    /// The territory: every family.
    pub territory: SignalRow,
}

impl SupplierSignal {
    pub fn gauge(&self, code: &str) -> Option<&ShareGauge> {
        self.gauges.iter().find(|g| g.code == code)
    }

    pub fn family(&self, f: Family) -> &SignalRow {
        &self.families[crate::egalim::family_index(f)]
    }
}

/// Splits `amount` cents in proportion to `weights` (negative weights count as 0), by largest
/// remainders: each part is ⌊amount × w ÷ Σw⌋, and the cents left go one by one to the largest
/// remainders (the earlier index first on a tie), so the parts add up to `amount` exactly. When
/// `amount ≤ Σw`, no part exceeds its weight. `Some` of zeros for a zero amount; `None` when a
/// positive amount has nothing to go to (every weight 0), rather than a division by zero.
pub fn allocate(amount: i64, weights: &[i64]) -> Option<Vec<i64>> {
    let amount = amount.max(0);
    let w: Vec<i128> = weights.iter().map(|w| i128::from((*w).max(0))).collect();
    let sum: i128 = w.iter().sum();
    if amount == 0 {
        return Some(vec![0; weights.len()]);
    }
    if sum == 0 {
        return None;
    }
    let amount = i128::from(amount);
    let mut parts: Vec<i128> = w.iter().map(|w| amount * w / sum).collect();
    let mut left = amount - parts.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..w.len()).collect();
    // Largest remainder first; a stable sort keeps the earlier index first on a tie.
    order.sort_by_key(|&i| std::cmp::Reverse(amount * w[i] % sum));
    for i in order {
        if left == 0 {
            break;
        }
        if w[i] > 0 {
            parts[i] += 1;
            left -= 1;
        }
    }
    Some(parts.into_iter().map(|p| p as i64).collect())
}

fn row(family: Option<Family>, f: &FamilyTotals, territory_total: i64) -> SignalRow {
    let total: i64 = f.labels.iter().sum();
    let bio = f.label(DetailLabel::Bio);
    let egalim = total - f.label(DetailLabel::NonEgalim);
    SignalRow {
        family,
        total_cents: total,
        labels_cents: f.labels,
        bio_cents: bio,
        egalim_cents: egalim,
        france_cents: f.france,
        circuit_court_cents: f.circuit_court,
        local_cents: f.local,
        spend_percent: percent_hundredths(total, territory_total),
        bio_percent: percent_hundredths(bio, total),
        egalim_percent: percent_hundredths(egalim, total),
        france_percent: percent_hundredths(f.france, total),
        circuit_court_percent: percent_hundredths(f.circuit_court, total),
        local_percent: percent_hundredths(f.local, total),
        to_bio_cents: None,
        to_egalim_cents: None,
        to_family_target_cents: None,
        to_move_cents: None,
    }
}

/// Sum of `Some` values; `None` when every value is `None`.
fn sum_some(values: impl IntoIterator<Item = Option<i64>>) -> Option<i64> {
    values.into_iter().flatten().fold(None, |acc, v| Some(acc.unwrap_or(0) + v))
}

/// The signal of a territory's yearly totals; `group` gives the organic and EGalim thresholds.
pub fn supplier_signal(totals: &YearTotals, group: RegionGroup) -> SupplierSignal {
    let ind = indicators(totals, group, None);
    let gauges = share_gauges(totals, &ind);
    let missing = |code: &str| gauges.iter().find(|g| g.code == code).and_then(|g| g.missing_cents);
    let (bio_missing, egalim_missing) = (missing("bio"), missing("egalim"));
    let meat_fish = [
        (crate::egalim::family_index(Family::ViandesVolailles), missing("viandes_volailles_egalim")),
        (crate::egalim::family_index(Family::ProduitsDeLaMer), missing("produits_de_la_mer_egalim")),
    ];

    // The territory line is the sum of the family lines, so that both read from one table.
    let mut all = FamilyTotals::default();
    for f in &totals.families {
        for (acc, v) in all.labels.iter_mut().zip(f.labels) {
            *acc += v;
        }
        all.france += f.france;
        all.circuit_court += f.circuit_court;
        all.local += f.local;
    }
    let territory_total: i64 = all.labels.iter().sum();
    let mut families: Vec<SignalRow> =
        Family::ALL.iter().zip(&totals.families).map(|(fam, f)| row(Some(*fam), f, territory_total)).collect();

    let non_bio: Vec<i64> = families.iter().map(|r| r.total_cents - r.bio_cents).collect();
    if let Some(parts) = bio_missing.and_then(|m| allocate(m, &non_bio)) {
        for (r, p) in families.iter_mut().zip(parts) {
            r.to_bio_cents = Some(p);
        }
    }

    for &(i, m) in &meat_fish {
        families[i].to_family_target_cents = m;
    }
    if let Some(m) = egalim_missing {
        // Meat and fish first, up to the territory's gap, in proportion to their own needs.
        let needs: Vec<i64> = meat_fish.iter().map(|(_, m)| m.unwrap_or(0)).collect();
        let first = m.min(needs.iter().sum());
        let mut parts = vec![0i64; families.len()];
        if let Some(split) = allocate(first, &needs) {
            for (&(i, _), p) in meat_fish.iter().zip(split) {
                parts[i] += p;
            }
        }
        let room: Vec<i64> =
            families.iter().zip(&parts).map(|(r, p)| r.total_cents - r.egalim_cents - p).collect();
        if let Some(rest) = allocate(m - first, &room) {
            for (r, (p, extra)) in families.iter_mut().zip(parts.into_iter().zip(rest)) {
                r.to_egalim_cents = Some(p + extra);
            }
        }
    }
    for r in &mut families {
        r.to_move_cents = match (r.to_egalim_cents, r.to_family_target_cents) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    let mut territory = row(None, &all, territory_total);
    territory.to_bio_cents = families.iter().all(|r| r.to_bio_cents.is_some()).then_some(bio_missing).flatten();
    territory.to_egalim_cents = families.iter().all(|r| r.to_egalim_cents.is_some()).then_some(egalim_missing).flatten();
    territory.to_family_target_cents = sum_some(meat_fish.iter().map(|(_, m)| *m));
    territory.to_move_cents = sum_some(families.iter().map(|r| r.to_move_cents));

    SupplierSignal {
        year: totals.year,
        region_group: group,
        purchase_count: totals.purchase_count,
        gauges,
        families,
        territory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egalim::{missing_cents, yearly_totals, Outcome};
    use crate::purchase::{Characteristic as C, CharacteristicSet, Purchase};
    use crate::record::RecordMeta;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn buy(year: i32, family: Family, labels: &[C], cents: i64) -> Purchase {
        Purchase {
            meta: RecordMeta::new(uuid::Uuid::nil(), chrono::DateTime::<chrono::Utc>::MIN_UTC),
            siret: "21010034300016".into(),
            description: "x".into(),
            supplier: String::new(),
            date: NaiveDate::from_ymd_opt(year, 3, 1).unwrap(),
            price_cents: cents,
            family,
            characteristics: labels.to_vec(),
            local_definition: None,
            local_km: None,
        }
    }

    fn totals(ps: &[Purchase]) -> YearTotals {
        let mut all = yearly_totals(ps);
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    #[test]
    fn allocate_by_largest_remainders() {
        // 10 over 1:1:1 is 3.33 each: the extra cent to the first (ties: earlier index).
        assert_eq!(allocate(10, &[1, 1, 1]), Some(vec![4, 3, 3]));
        // 7 over 1:2:4 is exact.
        assert_eq!(allocate(7, &[1, 2, 4]), Some(vec![1, 2, 4]));
        // 5 over 3:3:4 = 1.5, 1.5, 2.0: one cent left, to the first of the tied 0.5s.
        assert_eq!(allocate(5, &[3, 3, 4]), Some(vec![2, 1, 2]));
        // 2 over 1:0:5 = 0.33, 0, 1.67: the cent to the largest remainder (the last).
        assert_eq!(allocate(2, &[1, 0, 5]), Some(vec![0, 0, 2]));
        assert_eq!(allocate(0, &[0, 0]), Some(vec![0, 0]));
        assert_eq!(allocate(3, &[0, 0]), None);
        assert_eq!(allocate(3, &[-5, 1]), Some(vec![0, 3]));
    }

    /// A territory of 2024 worked out by hand:
    /// - meat 400 €: 100 € label rouge (French), 300 € plain, of which 200 € French;
    /// - fish 100 €: 70 € pêche durable, 30 € plain;
    /// - fruit and vegetables 300 €: 60 € organic (local), 240 € plain (short chain 50 €);
    /// - grocery (autres) 200 €: 200 € plain.
    ///
    /// Total 1 000 €: organic 60 € (6 %), EGalim 230 € (23 %). The platform rounds shares to
    /// two decimals half-even, so 19,995 % counts as 20 %: organic needs 199,95 €, 139,95 €
    /// missing; EGalim needs 499,95 €, 269,95 € missing; meat is 25 % EGalim and needs
    /// 59,995 % of 400 € = 239,98 €, 139,98 € missing; fish is at 70 %, nothing missing.
    #[test]
    fn hand_computed_territory() {
        let ps = [
            buy(2024, Family::ViandesVolailles, &[C::LabelRouge, C::France], 10_000),
            buy(2024, Family::ViandesVolailles, &[C::France], 20_000),
            buy(2024, Family::ViandesVolailles, &[], 10_000),
            buy(2024, Family::ProduitsDeLaMer, &[C::PecheDurable], 7_000),
            buy(2024, Family::ProduitsDeLaMer, &[], 3_000),
            buy(2024, Family::FruitsEtLegumes, &[C::Bio, C::Local], 6_000),
            buy(2024, Family::FruitsEtLegumes, &[C::CircuitCourt], 5_000),
            buy(2024, Family::FruitsEtLegumes, &[], 19_000),
            buy(2024, Family::Autres, &[], 20_000),
        ];
        let s = supplier_signal(&totals(&ps), RegionGroup::Mainland);
        assert_eq!(s.year, 2024);
        assert_eq!(s.purchase_count, 9);
        let t = &s.territory;
        assert_eq!((t.total_cents, t.bio_cents, t.egalim_cents), (100_000, 6_000, 23_000));
        assert_eq!((t.bio_percent, t.egalim_percent), (Some(600), Some(2300)));
        assert_eq!(t.to_bio_cents, Some(13_995));
        assert_eq!(t.to_egalim_cents, Some(26_995));
        assert_eq!(t.to_family_target_cents, Some(13_998));

        let meat = s.family(Family::ViandesVolailles);
        assert_eq!(meat.total_cents, 40_000);
        assert_eq!(meat.spend_percent, Some(4000));
        assert_eq!(meat.labels_cents[DetailLabel::LabelRouge as usize], 10_000);
        assert_eq!(meat.egalim_percent, Some(2500));
        assert_eq!(meat.france_percent, Some(7500));
        assert_eq!(meat.to_family_target_cents, Some(13_998));
        // Organic: 139,95 € over the non-organic spend 400 / 100 / 240 / 200 (940 €):
        // 59,553…, 14,888…, 35,731…, 29,776… € → 59,55 / 14,89 / 35,73 / 29,78 (the two cents
        // left go to the largest remainders: fish, then grocery).
        let bio: Vec<Option<i64>> = s.families.iter().map(|r| r.to_bio_cents).collect();
        assert_eq!(bio[0], Some(5_955));
        assert_eq!(bio[1], Some(1_489));
        assert_eq!(bio[2], Some(3_573));
        assert_eq!(bio[7], Some(2_978));
        assert_eq!(bio[3..7], [Some(0); 4]);
        // EGalim: meat's own 139,98 € first; the other 129,97 € over the non-EGalim spend left:
        // meat 300 − 139,98 = 160,02, fish 30, fruit 240, grocery 200 (630,02 €):
        // 33,011…, 6,188…, 49,510…, 41,259… € → 33,01 / 6,19 / 49,51 / 41,26.
        assert_eq!(meat.to_egalim_cents, Some(13_998 + 3_301));
        assert_eq!(s.family(Family::ProduitsDeLaMer).to_egalim_cents, Some(619));
        assert_eq!(s.family(Family::FruitsEtLegumes).to_egalim_cents, Some(4_951));
        assert_eq!(s.family(Family::Autres).to_egalim_cents, Some(4_126));
        assert_eq!(s.family(Family::ProduitsDeLaMer).to_family_target_cents, Some(0));
        assert_eq!(meat.to_move_cents, Some(17_299));
        assert_eq!(t.to_move_cents, Some(26_995));

        let fruit = s.family(Family::FruitsEtLegumes);
        assert_eq!((fruit.bio_percent, fruit.local_percent, fruit.circuit_court_percent), (Some(2000), Some(2000), Some(1667)));
        // Local is not EGalim: the local organic line counts in organic, the short-chain one nowhere.
        assert_eq!(fruit.egalim_cents, 6_000);
        // A family without purchases: no share, nothing to move, no division by zero.
        let bread = s.family(Family::Boulangerie);
        assert_eq!((bread.total_cents, bread.spend_percent, bread.bio_percent, bread.egalim_percent), (0, Some(0), None, None));
        assert_eq!((bread.to_bio_cents, bread.to_egalim_cents, bread.to_family_target_cents), (Some(0), Some(0), None));
    }

    /// Meat and fish needing more than the territory's 50 % gap: the gap goes to them alone,
    /// and what they must move for their own 60 % is larger than the gap.
    #[test]
    fn meat_and_fish_needs_above_the_egalim_gap() {
        let ps = [
            buy(2025, Family::ViandesVolailles, &[], 10_000),
            buy(2025, Family::ProduitsDeLaMer, &[], 10_000),
            buy(2025, Family::FruitsEtLegumes, &[C::Bio], 20_000),
        ];
        let s = supplier_signal(&totals(&ps), RegionGroup::Mainland);
        // EGalim 50 %: reached, nothing missing; meat and fish each 60 € missing.
        assert_eq!(s.territory.to_egalim_cents, Some(0));
        assert_eq!(s.family(Family::ViandesVolailles).to_move_cents, Some(6_000));
        assert_eq!(s.family(Family::ProduitsDeLaMer).to_move_cents, Some(6_000));
        assert_eq!(s.territory.to_move_cents, Some(12_000));
        assert_eq!(s.territory.to_family_target_cents, Some(12_000));

        // 45 % EGalim: 19,98 € missing for 50 % (49,995 % of 400 €); meat and fish get it
        // (9,99 € each, in proportion to their equal needs) and nothing goes to the others.
        let ps = [
            buy(2025, Family::ViandesVolailles, &[], 10_000),
            buy(2025, Family::ProduitsDeLaMer, &[], 10_000),
            buy(2025, Family::FruitsEtLegumes, &[C::Bio], 18_000),
            buy(2025, Family::Autres, &[], 2_000),
        ];
        let s = supplier_signal(&totals(&ps), RegionGroup::Mainland);
        assert_eq!(s.territory.to_egalim_cents, Some(1_998));
        let egalim: Vec<Option<i64>> = s.families.iter().map(|r| r.to_egalim_cents).collect();
        assert_eq!(egalim, [Some(999), Some(999), Some(0), Some(0), Some(0), Some(0), Some(0), Some(0)]);
    }

    #[test]
    fn before_2024_no_meat_target_and_overseas_thresholds() {
        let ps = [buy(2023, Family::ViandesVolailles, &[], 10_000), buy(2023, Family::Autres, &[C::Bio], 1_000)];
        let s = supplier_signal(&totals(&ps), RegionGroup::Mainland);
        assert_eq!(s.family(Family::ViandesVolailles).to_family_target_cents, None);
        assert_eq!(s.territory.to_family_target_cents, None);
        // 110 € total: 49,995 % of it is 54,9945 €, so 55,00 € of EGalim; 10 € there already.
        assert_eq!(s.territory.to_egalim_cents, Some(4_500));
        assert_eq!(s.family(Family::ViandesVolailles).to_move_cents, Some(4_500));
        // Mayotte: EGalim 5 % of 110 € = 5,50 €: organic 10 € already reaches it.
        let s = supplier_signal(&totals(&ps), RegionGroup::Mayotte);
        assert_eq!((s.territory.to_egalim_cents, s.territory.to_bio_cents), (Some(0), Some(0)));
    }

    #[test]
    fn no_purchases_no_figures() {
        let s = supplier_signal(&YearTotals::new("", 2025), RegionGroup::Mainland);
        let t = &s.territory;
        assert_eq!((t.total_cents, t.spend_percent, t.bio_percent, t.egalim_percent), (0, None, None, None));
        assert_eq!((t.to_bio_cents, t.to_egalim_cents, t.to_family_target_cents, t.to_move_cents), (None, None, None, None));
        assert!(s.families.iter().all(|r| r.to_move_cents.is_none() && r.to_bio_cents.is_none() && r.spend_percent.is_none()));
    }

    /// Moves `cents` of a family's non-qualifying purchases into `to` (the yearly total kept),
    /// through `add_lines`, which every total is linear in.
    fn switch(t: &mut YearTotals, family: Family, to: &[C], cents: i64) {
        t.add_lines(family, CharacteristicSet::of(&[]), -cents, 0);
        t.add_lines(family, CharacteristicSet::of(to), cents, 0);
    }

    /// Up to 40 lines of one year; each line has up to two codes, none half of the time for
    /// each, so that shares fall on both sides of every threshold.
    fn arbitrary_purchases() -> impl Strategy<Value = (i32, Vec<Purchase>)> {
        let line = (0usize..8, 0usize..32, 0usize..32, 0i64..2_000_000);
        (2022i32..2027, proptest::collection::vec(line, 0..40)).prop_map(|(year, lines)| {
            let ps = lines
                .into_iter()
                .map(|(f, a, b, cents)| {
                    // FRANCE and EUROPE are never together on a line: EUROPE is left out.
                    let labels: Vec<C> =
                        [a, b].iter().filter_map(|i| C::ALL.get(*i).copied()).filter(|c| *c != C::Europe).collect();
                    buy(year, Family::ALL[f], &labels, cents)
                })
                .collect();
            (year, ps)
        })
    }

    proptest! {
        /// The families add up to the territory's line, the territory's missing euros are the
        /// gauges', no family is asked for more than it buys outside the target, and switching
        /// the stated euros reaches every target.
        #[test]
        fn families_add_up_and_moving_reaches_the_targets((year, ps) in arbitrary_purchases(), group in 0usize..4) {
            let group = RegionGroup::ALL[group];
            let mut t = YearTotals::new("", year);
            for p in &ps { t.add(p); }
            let s = supplier_signal(&t, group);
            let sum = |f: fn(&SignalRow) -> i64| s.families.iter().map(f).sum::<i64>();
            prop_assert_eq!(sum(|r| r.total_cents), t.valeur_totale);
            prop_assert_eq!(sum(|r| r.egalim_cents), t.valeur_egalim());
            prop_assert_eq!(sum(|r| r.bio_cents), t.valeur_bio);
            prop_assert_eq!(s.territory.total_cents, t.valeur_totale);
            let th = group.thresholds();
            prop_assert_eq!(s.territory.to_bio_cents, missing_cents(t.valeur_bio, t.valeur_totale, th.bio_percent.into()));
            prop_assert_eq!(s.territory.to_egalim_cents, missing_cents(t.valeur_egalim(), t.valeur_totale, th.egalim_percent.into()));
            prop_assert_eq!(s.territory.to_bio_cents, s.gauge("bio").unwrap().missing_cents);
            prop_assert_eq!(s.territory.to_egalim_cents, s.gauge("egalim").unwrap().missing_cents);
            let opt_sum = |f: fn(&SignalRow) -> Option<i64>| sum_some(s.families.iter().map(f));
            if t.valeur_totale > 0 {
                prop_assert_eq!(opt_sum(|r| r.to_bio_cents), s.territory.to_bio_cents);
                prop_assert_eq!(opt_sum(|r| r.to_egalim_cents), s.territory.to_egalim_cents);
                prop_assert_eq!(opt_sum(|r| r.to_move_cents), s.territory.to_move_cents);
            } else {
                prop_assert!(s.families.iter().all(|r| r.to_bio_cents.is_none() && r.to_egalim_cents.is_none()));
            }
            for r in &s.families {
                prop_assert!(r.to_bio_cents.unwrap_or(0) <= r.total_cents - r.bio_cents);
                prop_assert!(r.to_move_cents.unwrap_or(0) <= r.total_cents - r.egalim_cents);
                prop_assert!(r.to_move_cents >= r.to_egalim_cents);
                prop_assert!(r.to_move_cents >= r.to_family_target_cents);
            }

            // Switching each family's organic euros to organic reaches the organic target.
            let mut organic = t.clone();
            for r in &s.families {
                switch(&mut organic, r.family.unwrap(), &[C::Bio], r.to_bio_cents.unwrap_or(0));
            }
            let i = indicators(&organic, group, None);
            prop_assert_eq!(organic.valeur_totale, t.valeur_totale);
            if t.valeur_totale > 0 {
                prop_assert_eq!(i.objectives[0].outcome, Outcome::Reached);
            }
            // Switching each family's `to_move` euros to an EGalim label reaches EGalim and
            // the meat and fish targets (each, and together).
            let mut egalim = t.clone();
            for r in &s.families {
                switch(&mut egalim, r.family.unwrap(), &[C::Hve], r.to_move_cents.unwrap_or(0));
            }
            let i = indicators(&egalim, group, None);
            if t.valeur_totale > 0 {
                prop_assert_eq!(i.objectives[1].outcome, Outcome::Reached);
            }
            let after = supplier_signal(&egalim, group);
            for code in ["egalim", "viandes_volailles_egalim", "produits_de_la_mer_egalim"] {
                let g = after.gauge(code).unwrap();
                prop_assert!(g.missing_cents.is_none_or(|m| m == 0), "{} still misses {:?}", code, g.missing_cents);
            }
            prop_assert!(i.objectives[2].outcome != Outcome::NotReached);
            // And the euros stated are the fewest: one cent less for EGalim and it is missed.
            if let Some(m) = s.territory.to_egalim_cents.filter(|m| *m > 0) {
                let mut short = t.clone();
                switch(&mut short, Family::Autres, &[C::Hve], m - 1);
                prop_assert_eq!(indicators(&short, group, None).objectives[1].outcome, Outcome::NotReached);
            }
        }

        /// Largest remainders: the parts add up, none exceeds its weight when the amount fits,
        /// and each is within one cent of the exact proportion.
        #[test]
        fn allocation_adds_up(amount in 0i64..10_000_000, weights in proptest::collection::vec(0i64..5_000_000, 1..9)) {
            let sum: i64 = weights.iter().sum();
            match allocate(amount, &weights) {
                None => prop_assert!(sum == 0 && amount > 0),
                Some(parts) => {
                    prop_assert_eq!(parts.iter().sum::<i64>(), amount);
                    for (p, w) in parts.iter().zip(&weights) {
                        if amount <= sum { prop_assert!(p <= w); }
                        let exact = amount as f64 * *w as f64 / sum.max(1) as f64;
                        prop_assert!((*p as f64 - exact).abs() < 1.0 + 1e-6, "{} vs {}", p, exact);
                    }
                }
            }
        }
    }
}
