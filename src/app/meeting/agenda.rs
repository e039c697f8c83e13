//! The agenda as one participant sees it: each item with its attendees, recusals, opinions,
//! remarks and votes, withheld from a member who recused from it (R-RECUSAL) and never a
//! secret ballot's choice (R-SECRET-BALLOT).

use serde::Serialize;

use super::LiveMeeting;
use crate::app::CurrentUser;
use crate::db::deliberation::{Recusal, Remark, Statement, Vote};
use crate::db::meetings::{Attendee, Item};
use crate::domain::deliberation::{VoteMethod, opinions_split};
use crate::domain::ids::ItemId;
use crate::domain::secret_ballot::Tracker;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemView {
    #[serde(flatten)]
    pub item: Item,
    /// R-RECUSAL: the viewer recused from this item, so its content is withheld from them.
    pub withheld: bool,
    pub attendees: Vec<Attendee>,
    pub recusals: Vec<Recusal>,
    pub opinions: Vec<Statement>,
    /// R-WRITTEN-OPINION: presented, never counted.
    pub written_opinions: Vec<Statement>,
    /// R-ATTENDEE-VOICE: attendees' remarks, apart from the members' opinions.
    pub remarks: Vec<Remark>,
    /// Who has voted; the choice only for open methods (R-SECRET-BALLOT).
    pub votes: Vec<Vote>,
    /// R-DISAGREEMENT: opinions are split.
    pub split: bool,
    /// R-SECRET-BALLOT: the tracking code of the viewer's own secret ballot on this item.
    pub my_tracker: Option<String>,
    /// A paper vote's count so far (R-ONE-VOTE: two counters agree).
    pub paper: Option<crate::app::paper_vote::PaperState>,
}

/// Each agenda item as `user` sees it.
pub fn item_views(live: &LiveMeeting, user: &CurrentUser) -> Vec<ItemView> {
    fn of<T: Clone>(all: &[T], item: ItemId, key: impl Fn(&T) -> ItemId) -> Vec<T> {
        all.iter().filter(|x| key(x) == item).cloned().collect()
    }
    let recusals = &live.recusals;
    live.items
        .iter()
        .cloned()
        .map(|mut item| {
            let i = item.item_id;
            let withheld = recusals
                .iter()
                .any(|r| r.item_id == i && r.user_id == user.user_id);
            if withheld {
                item.title = "(您已回避此议题)".into();
                item.cadre_name = None;
                return ItemView {
                    item,
                    withheld,
                    attendees: Vec::new(),
                    recusals: Vec::new(),
                    opinions: Vec::new(),
                    written_opinions: Vec::new(),
                    remarks: Vec::new(),
                    votes: Vec::new(),
                    split: false,
                    my_tracker: None,
                    paper: None,
                };
            }
            let item_opinions = of(&live.opinions, i, |o| o.item_id);
            let split = opinions_split(item_opinions.iter().map(|o| o.stance));
            let paper = (item.vote_method == Some(VoteMethod::Paper)).then(|| {
                let entries: Vec<_> = live
                    .paper_counts
                    .iter()
                    .filter(|e| e.item_id == i)
                    .collect();
                crate::app::paper_vote::state_of(&entries)
            });
            ItemView {
                item,
                withheld,
                attendees: of(&live.attendees, i, |a| a.item_id),
                recusals: of(recusals, i, |r| r.item_id),
                opinions: item_opinions,
                written_opinions: of(&live.written_opinions, i, |w| w.item_id),
                remarks: of(&live.remarks, i, |r| r.item_id),
                votes: of(&live.votes, i, |v| v.item_id),
                split,
                my_tracker: live
                    .trackers
                    .iter()
                    .find(|(item_id, voter, _)| *item_id == i && *voter == user.user_id)
                    .and_then(|(_, _, t)| Tracker::from_bytes(t))
                    .map(|t| t.short()),
                paper,
            }
        })
        .collect()
}
