//! Who may do what (R-CONFIDENTIAL, 第二十一条(四), and the "who" column of `api.md`). The
//! application asks [`can`] with the actor's roles, their position in the resource's party
//! group and their relation to the resource, and turns [`Denied`] into 403 or 404. Each
//! aggregate has its policy — who sees it at all, and who may take each of its actions — in a
//! module of its own. Rule checks about *when* (quorum, order, state) live in the other
//! modules; these say *who*.

use super::org::Position;
use super::role::Role;

mod duties;
mod meeting;
mod organisation;
mod records;
mod topic;

/// One aggregate's policy: whether the actor may know the resource exists (else 404), and
/// whether they may take the action on it (else 403).
trait Policy {
    fn sees(&self, actor: &Actor<'_>, action: Action, rel: &Relation) -> bool;
    fn allows(&self, actor: &Actor<'_>, action: Action, rel: &Relation) -> bool;
}

/// The actor: login roles and, when they are a current member of the party group the
/// resource belongs to, their position in it; and whether they act as 综合科 of that group
/// (the office role, from a section that serves the group).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub roles: &'a [Role],
    pub position: Option<Position>,
    pub office: bool,
}

impl Actor<'_> {
    pub(super) fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub(super) fn is_member(&self) -> bool {
        self.position.is_some()
    }

    /// The 党组书记 of the resource's group.
    pub(super) fn is_group_secretary(&self) -> bool {
        self.position == Some(Position::Secretary)
    }

    pub(super) fn is_office(&self) -> bool {
        self.office
    }

    pub(super) fn in_section(&self) -> bool {
        self.has(Role::Staff) || self.has(Role::SectionHead)
    }
}

/// The actor's relation to the resource acted on; everything false for organisation-level
/// actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relation {
    /// Chairs the meeting (the 书记, or the member the 书记 delegated).
    pub chair: bool,
    /// Is the meeting's secretary (会议秘书).
    pub meeting_secretary: bool,
    /// Is invited as an attendee (列席) to the meeting or item.
    pub attendee: bool,
    /// Proposed the topic.
    pub proposer: bool,
    /// Is the 分管 leader named on the topic.
    pub responsible_leader: bool,
    /// May record a prerequisite of the topic (see `topic::may_record`).
    pub reviewer: bool,
    /// Leads the follow-up task.
    pub task_lead: bool,
    /// Holds an approved, unexpired borrow request for the minutes.
    pub borrow_grant: bool,
    /// The summary has been distributed to its recipients.
    pub summary_distributed: bool,
}

/// Every action of `api.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    // Organisation and accounts
    ManageOrganisation,
    ReadGroupSettings,
    ManageOwnAccount,
    ReadAudit,
    // Topics
    CreateTopic,
    ReadTopic,
    RecordPrerequisite,
    SignOffTopic,
    EditTopic,
    /// Read a material of a topic; secret (秘密) ones are for fewer people (R-CONFIDENTIAL).
    ReadMaterial {
        secret: bool,
    },
    SubmitTopic,
    WithdrawTopic,
    ReturnTopic,
    /// Assign the sections that carry out a policy topic's assessments.
    AssignReviewSection,
    // Meetings
    CreateMeeting,
    ReadMeeting,
    DelegateChair,
    AddAgendaItem,
    InviteAttendee,
    IssueNotice,
    AskLeave,
    DecideLeave,
    RecordAttendance,
    OpenMeeting,
    StartItem,
    DeclareRecusal {
        for_self: bool,
    },
    WriteOpinion,
    StateOpinion,
    Remark,
    OpenVote,
    CastBallot {
        on_behalf: bool,
    },
    CloseVote,
    /// Enter the counted totals of a paper vote (综合科, two people independently).
    RecordPaperCount,
    /// Print what the room needs on paper: the sign-in sheet and paper ballots.
    PrintForRoom,
    EndItem,
    CloseMeeting,
    // Records
    ReadMinutes,
    /// Write the narrative and item notes of unsealed minutes.
    DraftMinutes,
    SignMinutes,
    AmendMinutes,
    RequestBorrow,
    DecideBorrow,
    ReadSummary,
    SignSummary,
    DistributeSummary,
    CreateTask,
    ReportProgress,
    /// Read one follow-up task and its progress.
    ReadTask,
    /// Send a follow-up reminder (督办通知) to a task's lead.
    RemindTask,
    /// Record a dissenting member's reserved opinion on a decision (R-RESERVE).
    ReserveOpinion,
    /// Link a later decision to the one it changes (R-DECISION-CHANGE).
    LinkDecision,
    RecordEmergency,
    // The group's calendar and documents
    /// See the duty dashboard, record reports up, issue circulars (通报).
    TrackDuties,
    ReadCirculation,
    /// Start circulation review of a document and publish it (R-PUBLICATION).
    ManageCirculation,
    SignCirculation,
}

/// Why an action is refused: `Forbidden` (403) when the actor may know the resource exists,
/// `Hidden` (404) when even its existence is not theirs to know (R-CONFIDENTIAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Forbidden,
    Hidden,
}

impl Action {
    /// The policy of the aggregate the action belongs to.
    fn policy(self) -> &'static dyn Policy {
        use Action::*;
        match self {
            ManageOrganisation | ReadGroupSettings | ManageOwnAccount | ReadAudit => {
                &organisation::Organisation
            }
            CreateTopic
            | ReadTopic
            | RecordPrerequisite
            | SignOffTopic
            | EditTopic
            | ReadMaterial { .. }
            | SubmitTopic
            | WithdrawTopic
            | ReturnTopic
            | AssignReviewSection => &topic::Topic,
            CreateMeeting
            | ReadMeeting
            | DelegateChair
            | AddAgendaItem
            | InviteAttendee
            | IssueNotice
            | AskLeave
            | DecideLeave
            | RecordAttendance
            | OpenMeeting
            | StartItem
            | DeclareRecusal { .. }
            | WriteOpinion
            | StateOpinion
            | Remark
            | OpenVote
            | CastBallot { .. }
            | CloseVote
            | RecordPaperCount
            | PrintForRoom
            | EndItem
            | CloseMeeting => &meeting::Meeting,
            ReadMinutes | DraftMinutes | SignMinutes | AmendMinutes | RequestBorrow
            | DecideBorrow | ReadSummary | SignSummary | DistributeSummary | CreateTask
            | ReportProgress | ReadTask | RemindTask | ReserveOpinion | LinkDecision
            | RecordEmergency => &records::Records,
            TrackDuties | ReadCirculation | ManageCirculation | SignCirculation => &duties::Duties,
        }
    }
}

/// Whether `actor` may take `action` on a resource they stand in `rel` to.
pub fn can(actor: Actor<'_>, action: Action, rel: &Relation) -> Result<(), Denied> {
    use Action::*;
    // 三员分立: the system administrator manages accounts and the organisation, nothing else —
    // whatever role or membership an account kept from before the rule.
    if actor.has(Role::Admin) {
        return match action {
            ManageOrganisation | ManageOwnAccount | ReadGroupSettings => Ok(()),
            ReadAudit | CreateTopic | CreateMeeting | RequestBorrow | RecordEmergency => {
                Err(Denied::Forbidden)
            }
            _ => Err(Denied::Hidden),
        };
    }
    let policy = action.policy();
    if !policy.sees(&actor, action, rel) {
        Err(Denied::Hidden)
    } else if !policy.allows(&actor, action, rel) {
        Err(Denied::Forbidden)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The actors of the matrix, in the order of the expectation strings below.
    fn actors() -> [(&'static str, Vec<Role>, Option<Position>); 11] {
        use Position::*;
        [
            ("admin", vec![Role::Admin], None),
            ("综合科", vec![Role::Office], None),
            ("书记", vec![Role::Leader], Some(Secretary)),
            ("副书记", vec![Role::Leader], Some(Deputy)),
            ("成员", vec![Role::Leader], Some(Member)),
            ("纪检组", vec![Role::Discipline], None),
            ("法律顾问", vec![Role::Counsel], None),
            ("局领导(非成员)", vec![Role::Leader], None),
            ("局长(非成员)", vec![Role::Director], None),
            ("科室负责人", vec![Role::SectionHead], None),
            ("科室工作人员", vec![Role::Staff], None),
        ]
    }

    fn rel(name: &str) -> Relation {
        let mut r = Relation::default();
        match name {
            "-" => {}
            "chair" => r.chair = true,
            "meeting_secretary" => r.meeting_secretary = true,
            "attendee" => r.attendee = true,
            "proposer" => r.proposer = true,
            "responsible_leader" => r.responsible_leader = true,
            "reviewer" => r.reviewer = true,
            "task_lead" => r.task_lead = true,
            "borrow_grant" => r.borrow_grant = true,
            "summary_distributed" => r.summary_distributed = true,
            other => panic!("unknown relation {other}"),
        }
        r
    }

    const ALL_YES: &str = "Y Y Y Y Y Y Y Y Y Y Y";

    /// The matrix: every action × every role/position × the relations that matter (own vs
    /// other resource). Y allowed, F forbidden (403), H hidden (404). Columns: admin, 综合科,
    /// 书记, 副书记, 成员, 纪检组, 法律顾问, 局领导(非成员), 局长(非成员), 科室负责人, 科室工作人员.
    /// 三员分立: an admin account that also holds the discipline role and a membership (from
    /// before the rule) still reaches nothing but the organisation.
    #[test]
    fn the_admin_with_other_roles_reaches_no_content() {
        let roles = [Role::Admin, Role::Discipline, Role::Office];
        let actor = Actor {
            roles: &roles,
            position: Some(Position::Secretary),
            office: true,
        };
        let chair = Relation {
            chair: true,
            ..Relation::default()
        };
        assert_eq!(
            can(actor, Action::ReadAudit, &chair),
            Err(Denied::Forbidden)
        );
        assert_eq!(can(actor, Action::ReadMeeting, &chair), Err(Denied::Hidden));
        assert_eq!(can(actor, Action::ReadMinutes, &chair), Err(Denied::Hidden));
        assert_eq!(can(actor, Action::ReadTopic, &chair), Err(Denied::Hidden));
        assert_eq!(can(actor, Action::ManageOrganisation, &chair), Ok(()));
    }

    #[test]
    fn authorization_matrix() {
        use Action::*;
        let table: &[(Action, &str, &str)] = &[
            (ManageOrganisation, "-", "Y F F F F F F F F F F"),
            (ReadGroupSettings, "-", "Y H Y Y Y H H H H H H"),
            (ManageOwnAccount, "-", ALL_YES),
            (ReadAudit, "-", "F F F F F Y F F F F F"),
            (CreateTopic, "-", "F F Y Y Y F F Y Y Y Y"),
            (ReadTopic, "-", "H Y Y Y Y H H H H H H"),
            (ReadTopic, "proposer", ALL_YES),
            (ReadTopic, "reviewer", ALL_YES),
            (ReadTopic, "attendee", ALL_YES),
            (ReadMaterial { secret: false }, "attendee", ALL_YES),
            (
                ReadMaterial { secret: true },
                "attendee",
                "F Y Y Y Y F F F F F F",
            ),
            (SignOffTopic, "attendee", "F F F F F F F F F F F"),
            (RecordPrerequisite, "-", "H F F F F H H H H H H"),
            (RecordPrerequisite, "reviewer", ALL_YES),
            (SignOffTopic, "-", "H F F F F H H H H H H"),
            (SignOffTopic, "responsible_leader", ALL_YES),
            (SignOffTopic, "proposer", "F F F F F F F F F F F"),
            (ReadMaterial { secret: false }, "reviewer", ALL_YES),
            (ReadMaterial { secret: true }, "-", "H Y Y Y Y H H H H H H"),
            (
                ReadMaterial { secret: true },
                "reviewer",
                "F Y Y Y Y F F F F F F",
            ),
            (ReadMaterial { secret: true }, "proposer", ALL_YES),
            (EditTopic, "-", "H F F F F H H H H H H"),
            (EditTopic, "proposer", ALL_YES),
            (EditTopic, "responsible_leader", "F F F F F F F F F F F"),
            (SubmitTopic, "-", "H F F F F H H H H H H"),
            (SubmitTopic, "proposer", ALL_YES),
            (WithdrawTopic, "proposer", ALL_YES),
            (WithdrawTopic, "reviewer", "F F F F F F F F F F F"),
            (ReturnTopic, "-", "H Y F F F H H H H H H"),
            (AssignReviewSection, "-", "H F Y F F H H H H H H"),
            (CreateMeeting, "-", "F Y Y F F F F F F F F"),
            (ReadMeeting, "-", "H Y Y Y Y H H H H H H"),
            (ReadMeeting, "attendee", ALL_YES),
            (DelegateChair, "-", "H F Y F F H H H H H H"),
            (AddAgendaItem, "-", "H F Y F F H H H H H H"),
            (InviteAttendee, "-", "H F F F F H H H H H H"),
            (InviteAttendee, "chair", ALL_YES),
            (IssueNotice, "-", "H Y Y F F H H H H H H"),
            (AskLeave, "-", "H F Y Y Y H H H H H H"),
            (AskLeave, "attendee", ALL_YES),
            (DecideLeave, "-", "H F F F F H H H H H H"),
            (DecideLeave, "chair", ALL_YES),
            (RecordAttendance, "-", "H F F F F H H H H H H"),
            (RecordAttendance, "meeting_secretary", ALL_YES),
            (OpenMeeting, "-", "H F F F F H H H H H H"),
            (OpenMeeting, "chair", ALL_YES),
            (StartItem, "chair", ALL_YES),
            (
                DeclareRecusal { for_self: true },
                "-",
                "H F Y Y Y H H H H H H",
            ),
            (DeclareRecusal { for_self: true }, "attendee", ALL_YES),
            (
                DeclareRecusal { for_self: false },
                "-",
                "H F F F F H H H H H H",
            ),
            (DeclareRecusal { for_self: false }, "chair", ALL_YES),
            (WriteOpinion, "-", "H F Y Y Y H H H H H H"),
            (StateOpinion, "-", "H F Y Y Y H H H H H H"),
            (StateOpinion, "attendee", "F F Y Y Y F F F F F F"),
            (Remark, "-", "H F F F F H H H H H H"),
            (Remark, "attendee", ALL_YES),
            (OpenVote, "-", "H F F F F H H H H H H"),
            (OpenVote, "chair", ALL_YES),
            (
                CastBallot { on_behalf: false },
                "-",
                "H F Y Y Y H H H H H H",
            ),
            (
                CastBallot { on_behalf: false },
                "attendee",
                "F F Y Y Y F F F F F F",
            ),
            (CastBallot { on_behalf: true }, "-", "H F F F F H H H H H H"),
            (CastBallot { on_behalf: true }, "meeting_secretary", ALL_YES),
            (CloseVote, "chair", ALL_YES),
            (RecordPaperCount, "-", "H Y F F F H H H H H H"),
            (RecordPaperCount, "chair", "H Y F F F F F F F F F"),
            (PrintForRoom, "-", "H Y F F F H H H H H H"),
            (PrintForRoom, "chair", ALL_YES),
            (PrintForRoom, "meeting_secretary", ALL_YES),
            (EndItem, "-", "H F F F F H H H H H H"),
            (CloseMeeting, "chair", ALL_YES),
            (ReadMinutes, "-", "H F Y Y Y H H H H H H"),
            (ReadMinutes, "borrow_grant", ALL_YES),
            (ReadMinutes, "meeting_secretary", ALL_YES),
            (SignMinutes, "-", "H F Y F F H H H H H H"),
            (SignMinutes, "chair", ALL_YES),
            (AmendMinutes, "-", "H F F F F H H H H H H"),
            (AmendMinutes, "meeting_secretary", ALL_YES),
            (RequestBorrow, "-", ALL_YES),
            (DecideBorrow, "-", "H F Y Y F H H H H H H"),
            (ReadSummary, "-", "H Y Y Y Y H H H H H H"),
            (ReadSummary, "summary_distributed", ALL_YES),
            (SignSummary, "-", "H F Y F F H H H H H H"),
            (SignSummary, "chair", ALL_YES),
            (DistributeSummary, "-", "H Y F F F H H H H H H"),
            (CreateTask, "-", "H Y F F F H H H H H H"),
            (CreateTask, "chair", ALL_YES),
            (ReportProgress, "-", "H Y F F F H H H H H H"),
            (ReportProgress, "task_lead", ALL_YES),
            (ReadTask, "-", "H Y Y F F H H H H H H"),
            (ReadTask, "task_lead", ALL_YES),
            (RecordEmergency, "-", "F F Y Y Y F F F F F F"),
            (DraftMinutes, "-", "H F F F F H H H H H H"),
            (DraftMinutes, "meeting_secretary", ALL_YES),
            (RemindTask, "-", "H Y Y F F H H H H H H"),
            (RemindTask, "task_lead", "F Y Y F F F F F F F F"),
            (ReserveOpinion, "-", "H F Y Y Y H H H H H H"),
            (ReserveOpinion, "attendee", "F F Y Y Y F F F F F F"),
            (LinkDecision, "-", "H Y F F F H H H H H H"),
            (LinkDecision, "chair", ALL_YES),
            (TrackDuties, "-", "H Y Y F F H H H H H H"),
            (ReadCirculation, "-", "H Y Y Y Y H H H H H H"),
            (ManageCirculation, "-", "H Y Y F F H H H H H H"),
            (SignCirculation, "-", "H F Y Y Y H H H H H H"),
        ];
        let mut mismatches = Vec::new();
        for (action, relation, expected) in table {
            let mut expected: Vec<&str> = expected.split(' ').collect();
            // 三员分立: whatever relation the row gives, the admin (first column) holds none:
            // it manages the organisation and is refused or shown nothing else.
            expected[0] = match action {
                ManageOrganisation | ManageOwnAccount | ReadGroupSettings => "Y",
                ReadAudit | CreateTopic | CreateMeeting | RequestBorrow | RecordEmergency => "F",
                _ => "H",
            };
            for ((name, roles, position), want) in actors().iter().zip(&expected) {
                let got = match can(
                    Actor {
                        roles,
                        position: *position,
                        office: roles.contains(&Role::Office),
                    },
                    *action,
                    &rel(relation),
                ) {
                    Ok(()) => "Y",
                    Err(Denied::Forbidden) => "F",
                    Err(Denied::Hidden) => "H",
                };
                if got != *want {
                    mismatches.push(format!(
                        "{action:?} [{relation}] as {name}: got {got}, want {want}"
                    ));
                }
            }
        }
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }

    /// R-CONFIDENTIAL across bureaus: the 综合科 role of a section that does not serve the
    /// group reaches nothing of it.
    #[test]
    fn r_confidential_office_staff_of_another_group_see_nothing_of_it() {
        let roles = [Role::Office];
        let elsewhere = Actor {
            roles: &roles,
            position: None,
            office: false,
        };
        let here = Actor {
            office: true,
            ..elsewhere
        };
        for action in [
            Action::ReadMeeting,
            Action::ReadTopic,
            Action::ReadMaterial { secret: true },
            Action::CreateTask,
            Action::DistributeSummary,
        ] {
            assert_eq!(
                can(elsewhere, action, &Relation::default()),
                Err(Denied::Hidden),
                "{action:?}"
            );
            assert_eq!(
                can(here, action, &Relation::default()),
                Ok(()),
                "{action:?}"
            );
        }
    }

    #[test]
    fn r_confidential_the_admin_sees_no_meeting_content() {
        let admin = Actor {
            roles: &[Role::Admin],
            position: None,
            office: false,
        };
        for action in [
            Action::ReadMeeting,
            Action::ReadMinutes,
            Action::ReadSummary,
            Action::ReadTopic,
        ] {
            assert_eq!(
                can(admin, action, &Relation::default()),
                Err(Denied::Hidden),
                "{action:?}"
            );
        }
    }

    #[test]
    fn r_audit_admin_does_not_read_the_audit_log() {
        let roles = [Role::Admin, Role::Office];
        let actor = Actor {
            roles: &roles,
            position: None,
            office: true,
        };
        assert_eq!(
            can(actor, Action::ReadAudit, &Relation::default()),
            Err(Denied::Forbidden)
        );
    }
}
