//! Validation results shared by every record: errors refuse, warnings ask for confirmation.

use serde::{Deserialize, Serialize};

/// A refusal: the value cannot be saved as typed. `message` is French and says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's serde name (the national code where there is one).
    pub field: String,
    pub message: String,
}

/// A plausibility warning: the value may be right, the user must confirm it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub field: String,
    /// Stable machine code, e.g. `weighing_over_100_kg`, so a confirmation can name what it accepts.
    pub code: String,
    pub message: String,
}

/// Outcome of validating one record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub errors: Vec<FieldError>,
    pub warnings: Vec<Warning>,
}

impl Validation {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    pub fn warn(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    /// Adds another validation's errors and warnings (e.g. a record checked by two rules).
    pub fn merge(&mut self, other: Validation) {
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
    }

    /// Warnings for one field.
    pub fn warnings_for<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Warning> + 'a {
        self.warnings.iter().filter(move |w| w.field == field)
    }

    /// Codes of the warnings, to remember which ones a person was shown.
    pub fn warning_codes(&self) -> Vec<String> {
        self.warnings.iter().map(|w| w.code.clone()).collect()
    }

    /// Whether the record may be saved when the person has confirmed the warnings `confirmed`:
    /// no error, and every warning among those confirmed. A value changed after the warnings
    /// were shown gets checked again: a new warning must be confirmed in turn.
    pub fn accepted_with(&self, confirmed: &[String]) -> bool {
        self.is_ok() && self.warnings.iter().all(|w| confirmed.contains(&w.code))
    }

    /// Errors for one field, for showing beside its input.
    pub fn errors_for<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.errors.iter().filter(move |e| e.field == field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_and_filters() {
        let mut a = Validation::default();
        a.error("mass_grams", "A");
        let mut b = Validation::default();
        b.error("service_date", "B");
        b.warn("mass_grams", "weighing_over_100_kg", "C");
        assert!(!b.is_ok());
        a.merge(b);
        assert!(!a.is_ok());
        assert_eq!(a.errors.len(), 2);
        assert_eq!(
            a.errors_for("service_date")
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>(),
            vec!["B"]
        );
        assert_eq!(
            a.warnings_for("mass_grams")
                .map(|w| w.code.as_str())
                .collect::<Vec<_>>(),
            vec!["weighing_over_100_kg"]
        );
        assert_eq!(a.warnings_for("service_date").count(), 0);
        assert!(Validation::default().is_ok());
    }

    #[test]
    fn confirmation_covers_only_the_warnings_shown() {
        let mut v = Validation::default();
        assert!(v.accepted_with(&[]), "nothing to confirm");
        v.warn("mass_grams", "weighing_over_100_kg", "C");
        assert!(!v.accepted_with(&[]));
        assert!(v.accepted_with(&v.warning_codes()));
        v.warn("service_date", "service_on_sunday", "D");
        assert!(!v.accepted_with(&["weighing_over_100_kg".to_owned()]), "a new warning asks again");
        v.error("mass_grams", "E");
        assert!(!v.accepted_with(&v.warning_codes()), "an error is never confirmed away");
    }
}
