//! French number and date handling: what kitchen staff type and what the app shows.
//!
//! Parsing is exact decimal arithmetic on the typed digits (no floats), so "12,5" kg is
//! exactly 12 500 g. Masses are integer grams, amounts integer cents.
//!
//! Spaces: every formatted value uses the narrow no-break space U+202F ([`NNBSP`]) both as the
//! thousands separator and between the number and its unit ("1 234,56 €", "12,5 kg",
//! "52,3 %"), as French typography asks; it never lets a line break split a figure from its
//! unit on a tablet. [`plain_spaces`] turns it into ordinary spaces for files and logs.
//! Parsing accepts ordinary spaces, U+00A0 and U+202F alike.

use chrono::{Datelike, NaiveDate};
use std::fmt;

/// Narrow no-break space, used for thousands grouping and before units.
pub const NNBSP: char = '\u{202F}';

/// Why a typed number was refused. `Display` gives the French message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// Nothing typed.
    Empty,
    /// A minus sign: masses and prices cannot be negative.
    Negative,
    /// Several decimal separators, e.g. "1.234,5" or "1,2,3".
    SeveralSeparators,
    /// Letters, misplaced spaces or other characters.
    NotANumber,
    /// Beyond what the integer type can hold.
    TooLarge,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumberError::Empty => "Saisissez un nombre, par exemple 12,5.",
            NumberError::Negative => "Le nombre ne peut pas être négatif : retirez le signe moins.",
            NumberError::SeveralSeparators => {
                "Utilisez une seule virgule décimale, sans point des milliers (par exemple 1234,5)."
            }
            NumberError::NotANumber => {
                "Ce n'est pas un nombre : utilisez uniquement des chiffres et une virgule, par exemple 12,5."
            }
            NumberError::TooLarge => "Nombre trop grand : vérifiez la saisie.",
        })
    }
}

impl std::error::Error for NumberError {}

/// How digits beyond the kept scale are rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// 0,5 goes up (masses: 12,3455 kg → 12 346 g).
    HalfUp,
    /// 0,5 goes down, above it goes up (prices, as the national purchase import does).
    HalfDown,
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\u{00A0}' || c == NNBSP || c == '\t'
}

/// Parses a non-negative French or English decimal ("12,5", "12.5", " 0,75 ", "3", ",5",
/// "1 234,5") into an integer scaled by 10^`scale`, rounding extra digits with `rounding`.
///
/// Rules: one decimal separator at most (comma or point); spaces are allowed only as
/// thousands separators in the integer part (groups of exactly 3 digits); no sign, no
/// exponent. A leading or trailing separator is accepted (",5" = 0,5; "5," = 5).
pub fn parse_fr_decimal(input: &str, scale: u32, rounding: Rounding) -> Result<u64, NumberError> {
    let s = input.trim_matches(is_space);
    if s.is_empty() {
        return Err(NumberError::Empty);
    }
    if s.starts_with('-') || s.starts_with('\u{2212}') {
        return Err(NumberError::Negative);
    }
    let separators = s.chars().filter(|c| *c == ',' || *c == '.').count();
    if separators > 1 {
        return Err(NumberError::SeveralSeparators);
    }
    let (int_part, frac_part) = match s.find([',', '.']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    // Integer part: digits, optionally grouped by 3 with spaces.
    let groups: Vec<&str> = int_part.split(is_space).collect();
    if groups.len() > 1 {
        let first_ok = !groups[0].is_empty() && groups[0].len() <= 3;
        let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
        if !first_ok || !rest_ok {
            return Err(NumberError::NotANumber);
        }
    }
    let int_digits: String = groups.concat();
    if !int_digits.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(NumberError::NotANumber);
    }
    if int_digits.is_empty() && frac_part.is_empty() {
        return Err(NumberError::NotANumber);
    }
    let mut value: u64 = 0;
    for b in int_digits.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(NumberError::TooLarge)?;
    }
    let frac = frac_part.as_bytes();
    for i in 0..scale as usize {
        let d = frac.get(i).map_or(0, |b| u64::from(b - b'0'));
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(d))
            .ok_or(NumberError::TooLarge)?;
    }
    let rest = frac.get(scale as usize..).unwrap_or(&[]);
    let round_up = match rest.split_first() {
        None => false,
        Some((first, tail)) => match rounding {
            Rounding::HalfUp => *first >= b'5',
            Rounding::HalfDown => {
                *first > b'5' || (*first == b'5' && tail.iter().any(|b| *b != b'0'))
            }
        },
    };
    if round_up {
        value = value.checked_add(1).ok_or(NumberError::TooLarge)?;
    }
    Ok(value)
}

/// Removes a trailing unit (case-insensitive) typed after the number, e.g. "12,5 kg".
fn strip_unit<'a>(input: &'a str, unit: &str) -> &'a str {
    let t = input.trim_matches(is_space);
    let n = t.len();
    if n >= unit.len()
        && t.is_char_boundary(n - unit.len())
        && t[n - unit.len()..].eq_ignore_ascii_case(unit)
    {
        &t[..n - unit.len()]
    } else {
        t
    }
}

/// Parses a mass typed in kg ("12,5", "12.5", " 0,75 ", "3", "12,5 kg") into grams, rounded
/// half-up to the gram (a scale's 0,0005 kg is 1 g). Zero is accepted here; whether zero is
/// allowed is the record's validation to decide. Errors are French, about a mass in kg.
pub fn parse_kg_to_grams(input: &str) -> Result<u64, String> {
    parse_fr_decimal(strip_unit(input, "kg"), 3, Rounding::HalfUp).map_err(|e| match e {
        NumberError::Empty => "Saisissez la masse en kg, par exemple 12,5.".to_owned(),
        NumberError::Negative => "La masse ne peut pas être négative.".to_owned(),
        NumberError::SeveralSeparators => {
            "Masse illisible : une seule virgule décimale, par exemple 1234,5 kg.".to_owned()
        }
        NumberError::NotANumber => {
            format!(
                "« {} » n'est pas une masse : saisissez des kg avec une virgule, par exemple 12,5.",
                input.trim()
            )
        }
        NumberError::TooLarge => {
            "Masse trop grande : vérifiez qu'elle est saisie en kg.".to_owned()
        }
    })
}

/// Parses an amount typed in euros ("1 234,56", "12.5", "3 €") into cents, rounded half-down
/// as the national purchase import does (0,125 € → 12 cents, 0,1251 € → 13 cents).
pub fn parse_euros_to_cents(input: &str) -> Result<u64, String> {
    parse_fr_decimal(strip_unit(input, "€"), 2, Rounding::HalfDown).map_err(|e| match e {
        NumberError::Empty => "Saisissez un montant en euros, par exemple 12,50.".to_owned(),
        NumberError::Negative => "Le montant ne peut pas être négatif.".to_owned(),
        NumberError::SeveralSeparators => {
            "Montant illisible : une seule virgule décimale, par exemple 1234,56.".to_owned()
        }
        NumberError::NotANumber => {
            format!("« {} » n'est pas un montant : saisissez des euros avec une virgule, par exemple 12,50.", input.trim())
        }
        NumberError::TooLarge => "Montant trop grand : vérifiez la saisie.".to_owned(),
    })
}

/// Groups the digits of `n` by three with [`NNBSP`]: 1234567 → "1 234 567".
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(NNBSP);
        }
        out.push(c);
    }
    out
}

/// Grams as kg with a decimal comma, trailing zeros trimmed: 12 500 → "12,5 kg",
/// 3 000 → "3 kg", 5 → "0,005 kg", 1 234 500 → "1 234,5 kg".
pub fn format_kg(grams: u64) -> String {
    format!("{}{NNBSP}kg", format_kg_number(grams))
}

/// The number part of [`format_kg`], without unit ("12,5"), for an input field's value.
pub fn format_kg_number(grams: u64) -> String {
    let int = group_thousands(grams / 1000);
    let frac = grams % 1000;
    if frac == 0 {
        int
    } else {
        let f = format!("{frac:03}");
        format!("{int},{}", f.trim_end_matches('0'))
    }
}

/// Grams per meal, rounded to the gram (half away from zero): 104.4 → "104 g/repas".
/// A value that cannot be computed (no meals) shows as "—".
pub fn format_grams_per_meal(grams_per_meal: f64) -> String {
    if !grams_per_meal.is_finite() {
        return "—".to_owned();
    }
    let r = grams_per_meal.round();
    let sign = if r < 0.0 { "-" } else { "" };
    format!("{sign}{}{NNBSP}g/repas", group_thousands(r.abs() as u64))
}

/// A factor or baseline as typed back into a form: the shortest exact decimal with a comma,
/// no grouping (2.4 → "2,4", 100.0 → "100", 0.125 → "0,125").
pub fn format_decimal_fr(v: f64) -> String {
    format!("{v}").replace('.', ",")
}

/// A percentage with one decimal, ",0" trimmed: 52.34 → "52,3 %", 20.0 → "20 %",
/// -12.5 → "-12,5 %". Rounded half away from zero on the tenth.
pub fn format_percent(percent: f64) -> String {
    if !percent.is_finite() {
        return "—".to_owned();
    }
    let tenths = (percent * 10.0).round();
    let sign = if tenths < 0.0 { "-" } else { "" };
    format!("{sign}{}", format_per_mille(tenths.abs() as u64))
}

/// Per-mille (tenths of a percent) as a percentage: 523 → "52,3 %", 1000 → "100 %".
pub fn format_per_mille(per_mille: u64) -> String {
    let int = group_thousands(per_mille / 10);
    match per_mille % 10 {
        0 => format!("{int}{NNBSP}%"),
        d => format!("{int},{d}{NNBSP}%"),
    }
}

/// A share in hundredths of a percent with two decimals: 1999 → "19,99 %", 5000 → "50,00 %".
/// Two decimals as the platform rounds shares: 19,99 % must not read as 20 %.
pub fn format_percent_hundredths(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let a = hundredths.unsigned_abs();
    format!("{sign}{},{:02}{NNBSP}%", group_thousands(a / 100), a % 100)
}

/// French month names, January first.
pub const MONTHS_FR: [&str; 12] = [
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
    "décembre",
];

/// Cents as euros with two decimals: 123456 → "1 234,56 €", -5 → "-0,05 €".
pub fn format_euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!(
        "{sign}{},{:02}{NNBSP}€",
        group_thousands(abs / 100),
        abs % 100
    )
}

/// Written before an estimate (a figure computed from factors or extrapolated): "≈ 250 kg".
pub const APPROX: &str = "≈\u{202F}";

/// `n` rounded half-up to `figures` significant digits: 253 788 → 250 000 (2 figures),
/// 995 → 1 000. Values with no more digits than `figures` (and `figures` 0) are unchanged;
/// a result beyond `u64::MAX` saturates.
pub fn round_significant(n: u64, figures: u32) -> u64 {
    let digits = n.checked_ilog10().map_or(1, |l| l + 1);
    if figures == 0 || digits <= figures {
        return n;
    }
    // A power of ten from 10 on: half of it is exact. No u128 (its division costs the wasm).
    let unit = 10u64.pow(digits - figures);
    (n / unit + u64::from(n % unit >= unit / 2)).saturating_mul(unit)
}

/// A weighed mass as precise as the weighings support: kg with one decimal under 100 kg,
/// whole kg from 100 kg, ",0" trimmed, half-up. 12 345 g → "12,3 kg", 4 516 566 g →
/// "4 517 kg", 99 950 g → "100 kg". Under 50 g, "< 0,1 kg": a small mass never reads as zero.
pub fn format_kg_rounded(grams: u64) -> String {
    let tenths = grams / 100 + u64::from(grams % 100 >= 50);
    let mut s = if grams > 0 && tenths == 0 {
        "<\u{202F}0,1".to_owned()
    } else if tenths < 1000 {
        // Tenths of a kg are hundreds of grams: format_kg_number trims the ",0".
        format_kg_number(tenths * 100)
    } else {
        group_thousands(grams / 1000 + u64::from(grams % 1000 >= 500))
    };
    s.push(NNBSP);
    s.push_str("kg");
    s
}

/// An estimated mass (CO2e, an extrapolation) with two significant figures, in kg under a
/// tonne and in t from a tonne: 253 788 g → "250 kg", 18 066 264 g → "18 t",
/// 1 234 567 g → "1,2 t", 999 500 g → "1 t", 4 g → "0,004 kg".
pub fn format_mass_two_figures(grams: u64) -> String {
    let r = round_significant(grams, 2);
    // kg and t are 1000 apart, as g and kg: the same decimal writing, one unit up.
    let (mut s, unit) = if r >= 1_000_000 {
        (format_kg_number(r / 1000), "t")
    } else {
        (format_kg_number(r), "kg")
    };
    s.push(NNBSP);
    s.push_str(unit);
    s
}

/// An estimated amount (cost from a factor) with two significant figures: whole euros when
/// it has no cents left, else two decimals as prices are written. 1 083 856 cents →
/// "11 000 €", 2 400 → "24 €", 347 → "3,50 €", 47 → "0,47 €".
pub fn format_euros_two_figures(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let r = round_significant(cents.unsigned_abs(), 2);
    if r.is_multiple_of(100) {
        format!("{sign}{}{NNBSP}€", group_thousands(r / 100))
    } else {
        format!("{sign}{},{:02}{NNBSP}€", group_thousands(r / 100), r % 100)
    }
}

/// Replaces the typographic spaces of formatted values with ordinary spaces (files, logs).
pub fn plain_spaces(s: &str) -> String {
    s.replace([NNBSP, '\u{00A0}'], " ")
}

/// A date as dd/mm/yyyy (02/03/2026).
pub fn format_fr_date(date: NaiveDate) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

/// Parses a date typed as dd/mm/yyyy; one-digit day or month and the separators '-' and '.'
/// are accepted ("2/3/2026", "02-03-2026"). The year must have four digits. An impossible
/// date (31/02/2026) is refused with a message naming it.
pub fn parse_fr_date(input: &str) -> Result<NaiveDate, String> {
    let s = input.trim_matches(is_space);
    if s.is_empty() {
        return Err("Saisissez une date au format jj/mm/aaaa, par exemple 02/03/2026.".to_owned());
    }
    let bad_format = || {
        format!(
            "« {s} » n'est pas une date : utilisez le format jj/mm/aaaa, par exemple 02/03/2026."
        )
    };
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    if parts.len() != 3 {
        return Err(bad_format());
    }
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !parts.iter().all(|p| all_digits(p))
        || parts[0].len() > 2
        || parts[1].len() > 2
        || parts[2].len() != 4
    {
        return Err(bad_format());
    }
    let day: u32 = parts[0].parse().map_err(|_| bad_format())?;
    let month: u32 = parts[1].parse().map_err(|_| bad_format())?;
    let year: i32 = parts[2].parse().map_err(|_| bad_format())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        if !(1..=12).contains(&month) {
            format!("Date impossible : le mois {month} n'existe pas (01 à 12).")
        } else {
            format!("Date impossible : le {day:02}/{month:02}/{year:04} n'existe pas.")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parses_kg_with_comma_point_spaces_and_unit() {
        assert_eq!(parse_kg_to_grams("12,5"), Ok(12_500));
        assert_eq!(parse_kg_to_grams("12.5"), Ok(12_500));
        assert_eq!(parse_kg_to_grams(" 0,75 "), Ok(750));
        assert_eq!(parse_kg_to_grams("3"), Ok(3_000));
        assert_eq!(parse_kg_to_grams(",5"), Ok(500));
        assert_eq!(parse_kg_to_grams("5,"), Ok(5_000));
        assert_eq!(parse_kg_to_grams("12,5 kg"), Ok(12_500));
        assert_eq!(parse_kg_to_grams("12,5KG"), Ok(12_500));
        assert_eq!(parse_kg_to_grams("1 234,5"), Ok(1_234_500));
        assert_eq!(parse_kg_to_grams("1\u{202F}234,5\u{202F}kg"), Ok(1_234_500));
        assert_eq!(parse_kg_to_grams("0"), Ok(0));
        assert_eq!(parse_kg_to_grams("007,250"), Ok(7_250));
    }

    #[test]
    fn kg_rounds_half_up_to_the_gram() {
        assert_eq!(parse_kg_to_grams("12,3455"), Ok(12_346));
        assert_eq!(parse_kg_to_grams("12,3454"), Ok(12_345));
        assert_eq!(parse_kg_to_grams("0,0005"), Ok(1));
        assert_eq!(parse_kg_to_grams("0,0004999"), Ok(0));
        assert_eq!(parse_kg_to_grams("0,9999"), Ok(1_000));
    }

    #[test]
    fn kg_refusals_have_french_messages() {
        assert_eq!(
            parse_kg_to_grams("").unwrap_err(),
            "Saisissez la masse en kg, par exemple 12,5."
        );
        assert_eq!(
            parse_kg_to_grams("  ").unwrap_err(),
            "Saisissez la masse en kg, par exemple 12,5."
        );
        assert_eq!(
            parse_kg_to_grams("-2").unwrap_err(),
            "La masse ne peut pas être négative."
        );
        assert_eq!(
            parse_kg_to_grams("−2,5").unwrap_err(),
            "La masse ne peut pas être négative."
        );
        assert!(parse_kg_to_grams("1.234,5")
            .unwrap_err()
            .contains("une seule virgule"));
        assert!(parse_kg_to_grams("1,2,3")
            .unwrap_err()
            .contains("une seule virgule"));
        let e = parse_kg_to_grams("douze").unwrap_err();
        assert!(e.contains("« douze »") && e.contains("12,5"), "{e}");
        for bad in [
            "12 5", "1 23,5", "12a", "+3", "1e3", ",", "kg", "12 ,5", "1  234",
        ] {
            assert!(parse_kg_to_grams(bad).is_err(), "{bad} accepted");
        }
        assert!(parse_kg_to_grams("99999999999999999999")
            .unwrap_err()
            .contains("trop grande"));
    }

    #[test]
    fn percent_hundredths_with_two_decimals() {
        assert_eq!(format_percent_hundredths(1999), "19,99\u{202F}%");
        assert_eq!(format_percent_hundredths(5000), "50,00\u{202F}%");
        assert_eq!(format_percent_hundredths(7), "0,07\u{202F}%");
        assert_eq!(format_percent_hundredths(-150), "-1,50\u{202F}%");
    }

    #[test]
    fn euros_round_half_down_to_the_cent() {
        assert_eq!(parse_euros_to_cents("90,115"), Ok(9_011));
        assert_eq!(parse_euros_to_cents("90.1151"), Ok(9_012));
        assert_eq!(parse_euros_to_cents("90,116"), Ok(9_012));
        assert_eq!(parse_euros_to_cents("0,125"), Ok(12));
        assert_eq!(parse_euros_to_cents("0,12500"), Ok(12));
        assert_eq!(parse_euros_to_cents("1 234,56 €"), Ok(123_456));
        assert_eq!(parse_euros_to_cents("12"), Ok(1_200));
        assert_eq!(
            parse_euros_to_cents("-1").unwrap_err(),
            "Le montant ne peut pas être négatif."
        );
    }

    #[test]
    fn generic_decimal_scale_zero_rounds() {
        assert_eq!(parse_fr_decimal("2,5", 0, Rounding::HalfUp), Ok(3));
        assert_eq!(parse_fr_decimal("2,5", 0, Rounding::HalfDown), Ok(2));
        assert_eq!(parse_fr_decimal("2,51", 0, Rounding::HalfDown), Ok(3));
        assert_eq!(
            parse_fr_decimal("18446744073709551615", 0, Rounding::HalfUp),
            Ok(u64::MAX)
        );
        assert_eq!(
            parse_fr_decimal("18446744073709551615,5", 0, Rounding::HalfUp),
            Err(NumberError::TooLarge)
        );
    }

    #[test]
    fn formats_kg_trimming_zeros_with_narrow_spaces() {
        assert_eq!(format_kg(12_500), "12,5\u{202F}kg");
        assert_eq!(format_kg(3_000), "3\u{202F}kg");
        assert_eq!(format_kg(5), "0,005\u{202F}kg");
        assert_eq!(format_kg(0), "0\u{202F}kg");
        assert_eq!(format_kg(12_340), "12,34\u{202F}kg");
        assert_eq!(format_kg(1_234_500), "1\u{202F}234,5\u{202F}kg");
        assert_eq!(plain_spaces(&format_kg(1_234_500)), "1 234,5 kg");
        assert_eq!(format_kg_number(750), "0,75");
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(plain_spaces(&group_thousands(1_000)), "1 000");
        assert_eq!(plain_spaces(&group_thousands(1_234_567)), "1 234 567");
        assert_eq!(plain_spaces(&group_thousands(123_456)), "123 456");
    }

    #[test]
    fn formats_grams_per_meal_percent_and_euros() {
        assert_eq!(plain_spaces(&format_grams_per_meal(104.4)), "104 g/repas");
        assert_eq!(plain_spaces(&format_grams_per_meal(104.5)), "105 g/repas");
        assert_eq!(
            plain_spaces(&format_grams_per_meal(1_250.0)),
            "1 250 g/repas"
        );
        assert_eq!(format_grams_per_meal(f64::NAN), "—");
        assert_eq!(plain_spaces(&format_percent(52.34)), "52,3 %");
        assert_eq!(plain_spaces(&format_percent(52.35)), "52,4 %");
        assert_eq!(plain_spaces(&format_percent(20.0)), "20 %");
        assert_eq!(plain_spaces(&format_percent(-12.5)), "-12,5 %");
        assert_eq!(plain_spaces(&format_percent(0.04)), "0 %");
        assert_eq!(plain_spaces(&format_per_mille(523)), "52,3 %");
        assert_eq!(plain_spaces(&format_per_mille(1000)), "100 %");
        assert_eq!(format_euros(123_456), "1\u{202F}234,56\u{202F}€");
        assert_eq!(plain_spaces(&format_euros(5)), "0,05 €");
        assert_eq!(plain_spaces(&format_euros(-123_456)), "-1 234,56 €");
        assert_eq!(plain_spaces(&format_euros(100_000_000)), "1 000 000,00 €");
    }

    #[test]
    fn dates_format_and_parse() {
        assert_eq!(format_fr_date(d(2026, 3, 2)), "02/03/2026");
        assert_eq!(parse_fr_date("02/03/2026"), Ok(d(2026, 3, 2)));
        assert_eq!(parse_fr_date(" 2/3/2026 "), Ok(d(2026, 3, 2)));
        assert_eq!(parse_fr_date("02-03-2026"), Ok(d(2026, 3, 2)));
        assert_eq!(parse_fr_date("29/02/2024"), Ok(d(2024, 2, 29)));
        assert_eq!(
            parse_fr_date("31/02/2026").unwrap_err(),
            "Date impossible : le 31/02/2026 n'existe pas."
        );
        assert_eq!(
            parse_fr_date("29/02/2025").unwrap_err(),
            "Date impossible : le 29/02/2025 n'existe pas."
        );
        assert!(parse_fr_date("02/13/2026").unwrap_err().contains("mois 13"));
        assert!(parse_fr_date("").unwrap_err().contains("jj/mm/aaaa"));
        for bad in [
            "2026-03-02",
            "02/03/26",
            "02/03",
            "aa/bb/cccc",
            "02/03/2026/1",
            "1/ 3/2026",
            "002/03/2026",
        ] {
            assert!(parse_fr_date(bad).is_err(), "{bad} accepted");
        }
    }

    proptest! {
        #[test]
        fn parse_of_format_is_identity(g in 0u64..10_000_000_000_000) {
            prop_assert_eq!(parse_kg_to_grams(&format_kg(g)), Ok(g));
            prop_assert_eq!(parse_kg_to_grams(&plain_spaces(&format_kg(g))), Ok(g));
            prop_assert_eq!(parse_kg_to_grams(&format_kg_number(g).replace(',', ".").replace(NNBSP, "")), Ok(g));
        }

        #[test]
        fn euros_round_trip(c in 0i64..1_000_000_000_000) {
            prop_assert_eq!(parse_euros_to_cents(&format_euros(c)), Ok(c as u64));
        }

        #[test]
        fn dates_round_trip(days in 0i64..80_000) {
            let date = d(1900, 1, 1) + chrono::Duration::days(days);
            prop_assert_eq!(parse_fr_date(&format_fr_date(date)), Ok(date));
        }

        #[test]
        fn half_up_never_below_half_down(int in 0u64..1_000_000, frac in "[0-9]{0,8}") {
            let s = format!("{int},{frac}");
            let up = parse_fr_decimal(&s, 3, Rounding::HalfUp).unwrap();
            let down = parse_fr_decimal(&s, 3, Rounding::HalfDown).unwrap();
            prop_assert!(up == down || up == down + 1);
            prop_assert!(down >= int * 1000);
        }
    }

    #[test]
    fn rounds_to_significant_figures() {
        assert_eq!(round_significant(253_788, 2), 250_000);
        assert_eq!(round_significant(255_000, 2), 260_000);
        assert_eq!(round_significant(254_999, 2), 250_000);
        assert_eq!(round_significant(995, 2), 1_000);
        assert_eq!(round_significant(99, 2), 99);
        assert_eq!(round_significant(7, 2), 7);
        assert_eq!(round_significant(0, 2), 0);
        assert_eq!(round_significant(123, 0), 123);
        assert_eq!(round_significant(u64::MAX, 2), 18_000_000_000_000_000_000);
        assert_eq!(round_significant(u64::MAX, 1), u64::MAX);
    }

    #[test]
    fn weighed_masses_keep_one_decimal_under_100_kg() {
        let kg = |g| plain_spaces(&format_kg_rounded(g));
        assert_eq!(kg(4_516_566), "4 517 kg");
        assert_eq!(kg(253_788), "254 kg");
        assert_eq!(kg(12_345), "12,3 kg");
        assert_eq!(kg(12_350), "12,4 kg");
        assert_eq!(kg(10_000), "10 kg");
        assert_eq!(kg(10_040), "10 kg");
        assert_eq!(kg(99_949), "99,9 kg");
        assert_eq!(kg(99_950), "100 kg");
        assert_eq!(kg(100_499), "100 kg");
        assert_eq!(kg(100_500), "101 kg");
        assert_eq!(kg(50), "0,1 kg");
        assert_eq!(kg(49), "< 0,1 kg");
        assert_eq!(kg(1), "< 0,1 kg");
        assert_eq!(kg(0), "0 kg");
        assert_eq!(format_kg_rounded(1_234_500), "1\u{202F}235\u{202F}kg");
    }

    #[test]
    fn estimates_keep_two_significant_figures() {
        let m = |g| plain_spaces(&format_mass_two_figures(g));
        assert_eq!(m(253_788), "250 kg");
        assert_eq!(m(18_066_264), "18 t");
        assert_eq!(m(1_234_567), "1,2 t");
        assert_eq!(m(999_499), "1 t");
        assert_eq!(m(994_999), "990 kg");
        assert_eq!(m(40_000), "40 kg");
        assert_eq!(m(4_560), "4,6 kg");
        assert_eq!(m(364), "0,36 kg");
        assert_eq!(m(4), "0,004 kg");
        assert_eq!(m(0), "0 kg");
        assert_eq!(m(1_234_567_890_123), "1 200 000 t");
        assert_eq!(format_mass_two_figures(25_000_000), "25\u{202F}t");

        let e = |c| plain_spaces(&format_euros_two_figures(c));
        assert_eq!(e(1_083_856), "11 000 €");
        assert_eq!(e(2_400), "24 €");
        assert_eq!(e(2_449), "24 €");
        assert_eq!(e(347), "3,50 €");
        assert_eq!(e(47), "0,47 €");
        assert_eq!(e(5), "0,05 €");
        assert_eq!(e(0), "0 €");
        assert_eq!(e(-347), "-3,50 €");
        assert_eq!(
            format!("{APPROX}{}", format_euros_two_figures(2_400)),
            "≈\u{202F}24\u{202F}€"
        );
    }

    proptest! {
        #[test]
        fn weighed_masses_round_to_the_tenth_then_the_kg(g in 0u64..100_000_000_000) {
            let s = plain_spaces(&format_kg_rounded(g));
            if g > 0 && g < 50 {
                prop_assert_eq!(s.as_str(), "< 0,1 kg");
            } else {
                let shown = parse_kg_to_grams(&s).unwrap();
                // Half a tenth under 100 kg, half a kg from there.
                let half = if shown < 100_000 { 50 } else { 500 };
                prop_assert!(shown.abs_diff(g) <= half, "{} → {}", g, s);
                prop_assert!(shown < 100_000 || shown.is_multiple_of(1000), "{} → {}", g, s);
                prop_assert!(shown.is_multiple_of(100), "{} → {}", g, s);
            }
            // Never shorter for a larger mass: the rounding is monotonic.
            let next = parse_kg_to_grams(&plain_spaces(&format_kg_rounded(g + 1))).unwrap_or(0);
            let this = parse_kg_to_grams(&s).unwrap_or(0);
            prop_assert!(next >= this);
        }

        #[test]
        fn two_figure_estimates_are_within_half_a_unit(g in 0u64..10_000_000_000_000) {
            let s = plain_spaces(&format_mass_two_figures(g));
            let (number, unit) = s.rsplit_once(' ').unwrap();
            let grams = parse_kg_to_grams(number).unwrap() * if unit == "t" { 1000 } else { 1 };
            prop_assert!(unit == "kg" || unit == "t");
            prop_assert_eq!(unit == "t", grams >= 1_000_000, "{} → {}", g, &s);
            prop_assert_eq!(grams, round_significant(g, 2));
            let significant = grams.to_string().trim_end_matches('0').len();
            prop_assert!(significant <= 2, "{} → {}", g, &s);
            // Rounded by at most half of the second figure's unit.
            let unit_of_second = 10u64.pow(g.checked_ilog10().unwrap_or(0).saturating_sub(1));
            prop_assert!(grams.abs_diff(g) * 2 <= unit_of_second, "{} → {}", g, &s);
        }

        #[test]
        fn two_figure_costs_round_trip_to_their_rounding(c in 0i64..1_000_000_000_000) {
            let s = format_euros_two_figures(c);
            prop_assert_eq!(parse_euros_to_cents(&s), Ok(round_significant(c as u64, 2)));
        }
    }

    #[test]
    fn decimals_for_forms_use_a_comma_and_no_trailing_zero() {
        assert_eq!(format_decimal_fr(2.4), "2,4");
        assert_eq!(format_decimal_fr(100.0), "100");
        assert_eq!(format_decimal_fr(0.125), "0,125");
        assert_eq!(format_decimal_fr(-1.5), "-1,5");
    }
}
