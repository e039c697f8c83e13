//! The domain's closed vocabularies as the database stores them: their API spelling in a text
//! column (whose check constraint admits nothing else), so rows carry the domain types.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef, Postgres};

use crate::domain::deliberation::{Outcome, Stance, VoteMethod};
use crate::domain::meeting::{ItemStage, MeetingState};
use crate::domain::org::Position;
use crate::domain::role::Role;
use crate::domain::topic::Classification;
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
    Role,
    Stance,
    TopicStatus,
    VoteMethod
);
