//! Enums exchanged as fixed codes (`"leftovers"`, `"VIANDES_VOLAILLES"`).
//!
//! [`code_enum!`] writes, from one table, a unit enum's `code`, `from_code` and `CODES`, and
//! its serde impls as a plain JSON string. serde's derive would give the same JSON, but its
//! enum machinery (variant visitors, map form, byte form) is compiled again for every enum and
//! every deserializer: the tablet app carries each of those copies. Here the reader is one
//! small string visitor per enum, and errors read as serde's: ``unknown variant `x`, expected
//! one of `a`, `b` ``.

use std::fmt;
use std::marker::PhantomData;

/// An enum whose values are written as one of a fixed set of codes.
pub trait Code: Copy + 'static {
    /// Every code, in declaration order.
    const CODES: &'static [&'static str];
    fn code(self) -> &'static str;
    fn from_code(code: &str) -> Option<Self>;
}

/// Reads a [`Code`] enum from a JSON string; anything else is an error naming the expected codes.
pub fn deserialize<'de, T: Code, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    struct CodeVisitor<T>(PhantomData<T>);
    impl<T: Code> serde::de::Visitor<'_> for CodeVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "one of {:?}", T::CODES)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            T::from_code(v).ok_or_else(|| E::unknown_variant(v, T::CODES))
        }
    }
    deserializer.deserialize_str(CodeVisitor(PhantomData))
}

/// Implements [`Code`], serde and inherent `CODES` / `code` / `from_code` for a unit enum, from
/// its table of codes: `code_enum!(Stage { Preparation => "preparation", ... });`.
#[macro_export]
macro_rules! code_enum {
    ($name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        impl $name {
            /// Every code, in declaration order.
            pub const CODES: &'static [&'static str] = &[$($code),+];

            /// The code written in JSON and in the national files.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::code::Code for $name {
            const CODES: &'static [&'static str] = $name::CODES;
            fn code(self) -> &'static str {
                $name::code(self)
            }
            fn from_code(code: &str) -> Option<Self> {
                $name::from_code(code)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::code::deserialize(deserializer)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Colour {
        Red,
        DarkBlue,
    }
    code_enum!(Colour { Red => "red", DarkBlue => "DARK_BLUE" });

    /// What serde's derive writes and reads for the same enum: the reference behaviour.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    enum Derived {
        #[serde(rename = "red")]
        Red,
        #[serde(rename = "DARK_BLUE")]
        DarkBlue,
    }

    #[test]
    fn writes_and_reads_the_codes_as_serde_derive_does() {
        for (ours, derived) in [
            (Colour::Red, Derived::Red),
            (Colour::DarkBlue, Derived::DarkBlue),
        ] {
            let json = serde_json::to_string(&ours).unwrap();
            assert_eq!(json, serde_json::to_string(&derived).unwrap());
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), ours);
        }
        assert_eq!(Colour::CODES, &["red", "DARK_BLUE"]);
        assert_eq!(Colour::from_code("DARK_BLUE"), Some(Colour::DarkBlue));
        assert_eq!(Colour::from_code("dark_blue"), None);
    }

    #[test]
    fn an_unknown_code_is_refused_with_serde_s_message() {
        let ours = serde_json::from_str::<Colour>("\"green\"")
            .unwrap_err()
            .to_string();
        let derived = serde_json::from_str::<Derived>("\"green\"")
            .unwrap_err()
            .to_string();
        assert_eq!(ours, derived);
        assert!(
            ours.contains("unknown variant `green`, expected `red` or `DARK_BLUE`"),
            "{ours}"
        );
    }

    #[test]
    fn a_non_string_is_refused() {
        assert!(serde_json::from_str::<Colour>("3").is_err());
        assert!(serde_json::from_str::<Colour>("null").is_err());
        assert!(serde_json::from_str::<Colour>("{\"red\":null}").is_err());
    }

    #[test]
    fn works_as_a_map_key_and_inside_options() {
        let map = std::collections::BTreeMap::from([
            (Colour::DarkBlue, Some(Colour::Red)),
            (Colour::Red, None),
        ]);
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, r#"{"red":null,"DARK_BLUE":"red"}"#);
        let back: std::collections::BTreeMap<Colour, Option<Colour>> =
            serde_json::from_str(&json).unwrap();
        assert_eq!(back, map);
    }
}
