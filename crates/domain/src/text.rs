//! Free text people type (descriptions, suppliers, names, labels): bounded, and without the
//! characters that hide, reorder or forge what is shown: C0 and C1 controls (NUL, ESC, tab,
//! newline...), DEL, the bidirectional embeddings, overrides, isolates and marks (U+202A–U+202E,
//! U+2066–U+2069, U+200E, U+200F, U+061C) and the line and paragraph separators U+2028/U+2029.
//! Such text is refused with a French message rather than silently changed: the tablet keeps
//! what it sent, and a server that rewrote it would hold another version of the record.

use crate::validation::Validation;

/// A purchase's description (the national files' longest are well under 200 characters).
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// A purchase's supplier (`fournisseur`).
pub const MAX_SUPPLIER_CHARS: usize = 200;
/// A commune's name (the longest French one has 45 characters).
pub const MAX_COMMUNE_NAME_CHARS: usize = 100;
/// A canteen's name (as `Site::validate` always allowed).
pub const MAX_SITE_NAME_CHARS: usize = 255;
/// A tablet's label (« Tablette cuisine »).
pub const MAX_DEVICE_LABEL_CHARS: usize = 100;

/// Whether `c` may never be stored in a text (see the module).
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2028}' | '\u{2029}')
}

/// The first character of `s` that may never be stored, if any.
pub fn forbidden_char(s: &str) -> Option<char> {
    // Printable ASCII (most text) holds none: checked a byte at a time.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    s.chars().find(|&c| is_forbidden(c))
}

/// What a forbidden character is, in French, with its code point: « tabulation, U+0009 ».
pub fn describe_char(c: char) -> String {
    let name = match c {
        '\0' => "caractère nul",
        '\t' => "tabulation",
        '\n' | '\r' => "retour à la ligne",
        '\u{1b}' => "caractère d'échappement",
        '\u{2028}' | '\u{2029}' => "séparateur de ligne",
        c if c.is_control() => "caractère de contrôle",
        _ => "commande de sens d'écriture",
    };
    format!("{name}, U+{:04X}", c as u32)
}

/// `s` as it may be quoted in a message: forbidden characters written as `U+XXXX`, at most
/// `max` characters, then « … ».
pub fn excerpt(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if is_forbidden(c) {
            out.push_str(&format!("U+{:04X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Line breaks and tabs (spreadsheets break long cells into lines) as single spaces, so an
/// imported cell keeps its words; every other forbidden character is left for [`check_text`].
pub fn breaks_to_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    breaks_to_spaces_into(s, &mut out);
    out
}

/// [`breaks_to_spaces`] appended to `out` (a buffer reused from line to line on import).
pub fn breaks_to_spaces_into(s: &str, out: &mut String) {
    // Most cells have no break: copied as they are (ASCII without controls, checked a byte at
    // a time, or no break character found).
    if s.bytes().all(|b| b >= 0x20 && b < 0x80) || !s.contains(['\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}']) {
        out.push_str(s);
        return;
    }
    let start = out.len();
    let mut after_break = false;
    for c in s.chars() {
        if matches!(c, '\t' | '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}') {
            if !after_break && !out[start..].ends_with(' ') {
                out.push(' ');
            }
            after_break = true;
        } else {
            if !(after_break && c == ' ') {
                out.push(c);
            }
            after_break = after_break && c == ' ';
        }
    }
}

/// Checks a free-text field: no forbidden character, at most `max` characters. `what` names
/// the field for the message, capitalised, with its article (« La description »).
pub fn check_text(v: &mut Validation, field: &str, value: &str, what: &str, max: usize) {
    if let Some(c) = forbidden_char(value) {
        v.error(
            field,
            format!("{what} contient un caractère invisible ou de contrôle ({}) : retirez-le, ou retapez le texte au lieu de le coller.", describe_char(c)),
        );
    }
    let n = if value.is_ascii() { value.len() } else { value.chars().count() };
    if n > max {
        v.error(field, format!("{what} compte {n} caractères : {max} au plus, raccourcissez-le."));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_separators_are_forbidden() {
        for c in ['\0', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}', '\u{2028}', '\u{2029}'] {
            assert!(is_forbidden(c), "{:?}", c);
            assert_eq!(forbidden_char(&format!("Pommes {c}bio")), Some(c));
        }
        for s in ["Pommes de terre bio", "Crème fraîche 35 % – 5 L", "Œufs « plein air »", "L'Épi d'Or", "Ferme\u{a0}du\u{202f}Bec", "寿司", "🍎"] {
            assert_eq!(forbidden_char(s), None, "{s}");
        }
        assert_eq!(describe_char('\u{1b}'), "caractère d'échappement, U+001B");
        assert_eq!(describe_char('\u{202e}'), "commande de sens d'écriture, U+202E");
        assert_eq!(excerpt("a\u{1b}[31mb", 3), "aU+001B[…");
        assert_eq!(excerpt("court", 10), "court");
        assert_eq!(breaks_to_spaces("Ferme\r\n du\tBec\u{2028}Hellouin \u{1b}"), "Ferme du Bec Hellouin \u{1b}");
    }

    #[test]
    fn check_text_says_what_to_fix() {
        let mut v = Validation::default();
        check_text(&mut v, "description", "Pommes\u{202e}", "La description", 10);
        check_text(&mut v, "fournisseur", &"x".repeat(11), "Le fournisseur", 10);
        check_text(&mut v, "fournisseur", &"é".repeat(10), "Le fournisseur", 10);
        assert_eq!(v.errors.len(), 2);
        assert!(v.errors[0].message.contains("U+202E") && v.errors[0].message.contains("retirez-le"), "{}", v.errors[0].message);
        assert_eq!(v.errors[1].message, "Le fournisseur compte 11 caractères : 10 au plus, raccourcissez-le.");
    }
}
