//! The domain's closed vocabularies as the database stores them: their API spelling in a text
//! column (whose check constraint admits nothing else), and the typed ids as the `uuid` columns
//! they are, so rows carry the domain types.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef, Postgres};

use uuid::Uuid;

use crate::domain::deliberation::{Outcome, Stance, VoteMethod};
use crate::domain::ids::{ItemId, MeetingId, PartyGroupId, SectionId, TaskId, TopicId, UserId};
use crate::domain::meeting::{ItemStage, MeetingState};
use crate::domain::org::{Position, SectionKind};
use crate::domain::role::Role;
use crate::domain::topic::{Classification, PrerequisiteKind};
use crate::domain::topic_status::TopicStatus;

macro_rules! stored_as_text {
    ($($t:ty),+) => {$(
        impl sqlx::Type<Postgres> for $t {
            fn type_info() -> PgTypeInfo {
                <&str as sqlx::Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $t {
            fn array_type_info() -> PgTypeInfo {
                <&str as PgHasArrayType>::array_type_info()
            }

            fn array_compatible(ty: &PgTypeInfo) -> bool {
                <&str as PgHasArrayType>::array_compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, Postgres> for $t {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as sqlx::Decode<Postgres>>::decode(value)?;
                <$t>::parse(text)
                    .ok_or_else(|| format!("unknown {} {text:?}", stringify!($t)).into())
            }
        }

        impl sqlx::Encode<'_, Postgres> for $t {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as sqlx::Encode<Postgres>>::encode(self.as_str(), buf)
            }
        }
    )+};
}

stored_as_text!(
    Classification,
    ItemStage,
    MeetingState,
    Outcome,
    Position,
    PrerequisiteKind,
    Role,
    SectionKind,
    Stance,
    TopicStatus,
    VoteMethod
);

macro_rules! stored_as_uuid {
    ($($t:ty),+) => {$(
        impl sqlx::Type<Postgres> for $t {
            fn type_info() -> PgTypeInfo {
                <Uuid as sqlx::Type<Postgres>>::type_info()
            }
        }

        impl PgHasArrayType for $t {
            fn array_type_info() -> PgTypeInfo {
                <Uuid as PgHasArrayType>::array_type_info()
            }
        }

        impl<'r> sqlx::Decode<'r, Postgres> for $t {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                <Uuid as sqlx::Decode<Postgres>>::decode(value).map(<$t>::from_uuid)
            }
        }

        impl sqlx::Encode<'_, Postgres> for $t {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <Uuid as sqlx::Encode<Postgres>>::encode(self.as_uuid(), buf)
            }
        }
    )+};
}

stored_as_uuid!(
    ItemId,
    MeetingId,
    PartyGroupId,
    SectionId,
    TaskId,
    TopicId,
    UserId
);
