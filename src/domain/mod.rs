//! The rules of `rules.md`: vocabulary types and pure rule functions. Nothing here performs I/O
//! or knows about HTTP, SQL or templates; every page, API route and job asks this module.

/// Declares a closed vocabulary with its API spelling and Chinese label.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident ($what:literal) { $($variant:ident => ($api:literal, $zh:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($api => Some($name::$variant),)+ _ => None }
            }

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $api),+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// Parses what a person writes in a spreadsheet: the Chinese label or the API name.
            pub fn parse_written(s: &str) -> Option<Self> {
                match s { $($api | $zh => Some($name::$variant),)+ _ => None }
            }

            /// Parses a list of API names, refusing unknown ones; sorted, without repeats.
            pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Self>, String> {
                let mut list = Vec::with_capacity(names.len());
                for name in names {
                    let name = name.as_ref();
                    list.push(Self::parse(name).ok_or_else(|| format!("未知的{}:{name}", $what))?);
                }
                list.sort();
                list.dedup();
                Ok(list)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&name).ok_or_else(|| {
                    serde::de::Error::custom(format!("未知的{}:{name}", $what))
                })
            }
        }
    };
}

pub mod account;
pub mod authz;
pub mod category;
pub mod counting;
pub mod deliberation;
pub mod duties;
pub mod ids;
pub mod mail;
pub mod material;
pub mod meeting;
pub mod money;
pub mod org;
pub mod paper_vote;
pub mod records;
pub mod role;
pub mod roster;
pub mod rule;
pub mod secret_ballot;
pub mod settings;
pub mod supervision;
pub mod topic;
pub mod topic_status;
pub mod waiting;
