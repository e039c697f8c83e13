//! rules.md: a blocked action writes nothing "except the refusal in the audit log". The refused
//! action's own transaction was rolled back, so the refusal is recorded in a transaction of its
//! own — against the meeting or topic it concerns, in that group's chain, so that the thing's
//! history shows it (issue 17); a refusal about nothing of a group goes to the organisation's.

use super::{AppError, CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::meetings::Lock;
use crate::db::{self};
use crate::domain::ids::{ItemId, MeetingId, PartyGroupId, TopicId};

/// A governance refusal of a signed-in user's request.
pub struct Refused<'a> {
    pub rule: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub detail: &'a str,
}

/// What a request's path is about, as far as its history goes.
#[derive(Debug, PartialEq)]
enum Concerns {
    Meeting(MeetingId),
    Item(ItemId),
    Topic(TopicId),
    Nothing,
}

fn concerns(path: &str) -> Concerns {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    match (segments.next(), segments.next()) {
        (Some("meetings"), Some(id)) => {
            MeetingId::parse(id).map_or(Concerns::Nothing, Concerns::Meeting)
        }
        (Some("items"), Some(id)) => ItemId::parse(id).map_or(Concerns::Nothing, Concerns::Item),
        (Some("topics"), Some(id)) => TopicId::parse(id).map_or(Concerns::Nothing, Concerns::Topic),
        _ => Concerns::Nothing,
    }
}

pub async fn record(state: &Services, user: &CurrentUser, r: Refused<'_>) -> Result<(), AppError> {
    let after = serde_json::json!({
        "rule": r.rule, "method": r.method, "path": r.path, "detail": r.detail
    });
    let mut tx = state.pool.begin().await?;
    let change = match entity_of(&mut tx, concerns(r.path)).await? {
        Some((group, entity_type, id)) => {
            Change::new(Chain::PartyGroup(group), "rule.refused", entity_type).entity(id)
        }
        None => Change::new(Chain::Org, "rule.refused", "rule").entity(r.rule),
    };
    state.commit(tx, user, change.after(after)).await
}

/// The group, entity type and id of what a path concerns, if it is a meeting (an item is its
/// meeting's) or a topic that exists.
async fn entity_of(
    conn: &mut sqlx::PgConnection,
    about: Concerns,
) -> Result<Option<(PartyGroupId, &'static str, String)>, AppError> {
    let meeting = match about {
        Concerns::Meeting(id) => Some(id),
        Concerns::Item(item) => db::deliberation::meeting_of_item(conn, item).await?,
        Concerns::Topic(id) => {
            let topic = db::topics::get(conn, id, false).await?;
            return Ok(topic.map(|t| (t.party_group_id, "topic", id.to_string())));
        }
        Concerns::Nothing => None,
    };
    let Some(id) = meeting else {
        return Ok(None);
    };
    let found = db::meetings::get(conn, id, Lock::None).await?;
    Ok(found.map(|m| (m.party_group_id, "meeting", id.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_concerns_the_meeting_item_or_topic_its_path_names() {
        let (m, i, t) = (MeetingId::new(), ItemId::new(), TopicId::new());
        assert_eq!(
            concerns(&format!("/api/v1/meetings/{m}/items/{i}/opinions")),
            Concerns::Meeting(m)
        );
        assert_eq!(
            concerns(&format!("/meetings/{m}/open")),
            Concerns::Meeting(m)
        );
        assert_eq!(
            concerns(&format!("/api/v1/items/{i}/tasks")),
            Concerns::Item(i)
        );
        assert_eq!(concerns(&format!("/topics/{t}/submit")), Concerns::Topic(t));
        assert_eq!(
            concerns("/api/v1/party-groups/x/members"),
            Concerns::Nothing
        );
        assert_eq!(concerns("/api/v1/meetings/not-an-id"), Concerns::Nothing);
    }
}
