//! Typed ids, so that a meeting's id can never be passed where a user's is expected. Ids are
//! UUIDs (v7, time-ordered) as in `api.md`.

use std::fmt;

use uuid::Uuid;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            /// Parses an id as written in a path or a field.
            pub fn parse(raw: &str) -> Result<Self, String> {
                Uuid::parse_str(raw.trim())
                    .map($name)
                    .map_err(|_| format!("不是有效的编号:{raw}"))
            }

            pub fn from_uuid(id: Uuid) -> Self {
                $name(id)
            }

            pub fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }

        /// On the wire an id is its UUID.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

id!(
    /// A person's account.
    UserId
);
id!(
    /// A 科室.
    SectionId
);
id!(
    /// A 党组.
    PartyGroupId
);
id!(
    /// A 议题.
    TopicId
);
id!(
    /// A 党组会议.
    MeetingId
);
id!(
    /// An agenda item of a meeting.
    ItemId
);
id!(
    /// A 督办事项.
    TaskId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_print_the_same_text() {
        let id = MeetingId::new();
        assert_eq!(MeetingId::parse(&id.to_string()), Ok(id));
        assert!(
            UserId::parse("not-an-id")
                .unwrap_err()
                .contains("not-an-id")
        );
        assert!(TopicId::new() < TopicId::new(), "time-ordered");
    }
}
