-- Meetings (党组会议), sections C and D of rules.md: the agenda, notice, leave, attendance,
-- recusals, opinions and votes. The rules live in `src/domain`; the constraints below guard
-- what the database can (one open item, one vote per member and item, reasons where required).

alter table topic drop constraint topic_status_check;
alter table topic add constraint topic_status_check
    check (status in ('draft', 'submitted', 'returned', 'withdrawn', 'scheduled', 'decided'));

create table meeting (
    meeting_id uuid primary key,
    party_group_id uuid not null references party_group (party_group_id),
    -- Numbered per group and year of the meeting: 2026年第5次党组会议.
    year integer not null,
    number integer not null,
    title text not null,
    starts_at timestamptz not null,
    place text not null,
    secretary_id uuid not null references app_user (user_id),
    chair_id uuid not null references app_user (user_id),
    -- Why the 书记 delegated the chair (R-CHAIR).
    chair_reason text,
    status text not null default 'draft',
    -- The chair's reason for materials that reached 综合科 late (R-MATERIALS-DEADLINE).
    materials_late_reason text,
    created_by uuid not null references app_user (user_id),
    created_at timestamptz not null default now(),
    noticed_at timestamptz,
    opened_at timestamptz,
    closed_at timestamptz,
    constraint meeting_number_key unique (party_group_id, year, number),
    constraint meeting_status_check check (status in ('draft', 'noticed', 'open', 'closed')),
    constraint meeting_title_length check (char_length(title) between 1 and 200),
    constraint meeting_place_length check (char_length(place) between 1 and 200),
    constraint meeting_noticed check (status = 'draft' or noticed_at is not null)
);
create index meeting_group on meeting (party_group_id, starts_at);

create table agenda_item (
    item_id uuid primary key,
    meeting_id uuid not null references meeting (meeting_id),
    topic_id uuid not null references topic (topic_id),
    position integer not null,
    -- Added after the notice (R-AD-HOC), urgent, with the 书记's reason.
    ad_hoc boolean not null default false,
    urgent boolean not null default false,
    -- The 书记's reason for a lead-time shortfall or an ad-hoc addition.
    override_reason text,
    state text not null default 'pending',
    -- The chair's reason to decide although the responsible member is absent.
    absent_override_reason text,
    vote_method text,
    yes integer,
    no integer,
    abstain integer,
    should_attend integer,
    passed boolean,
    outcome text,
    outcome_reason text,
    started_at timestamptz,
    vote_opened_at timestamptz,
    vote_closed_at timestamptz,
    decided_at timestamptz,
    constraint agenda_item_topic_key unique (meeting_id, topic_id),
    -- Checked at the end of each statement, so that two items can swap places in one.
    constraint agenda_item_position_key unique (meeting_id, position) deferrable initially immediate,
    constraint agenda_item_state_check check (state in ('pending', 'discussion', 'voting', 'tallied', 'decided')),
    constraint agenda_item_method_check check (vote_method in ('voice', 'hands', 'secret', 'named')),
    constraint agenda_item_outcome_check check (outcome in ('passed', 'rejected', 'deferred', 'referred')),
    constraint agenda_item_decided check ((state = 'decided') = (outcome is not null)),
    constraint agenda_item_voting check (state not in ('voting', 'tallied') or vote_method is not null),
    constraint agenda_item_tallied check (state <> 'tallied' or passed is not null),
    -- R-ANNOUNCE: passed/rejected only as tallied.
    constraint agenda_item_outcome_tallied check (
        outcome is null or outcome in ('deferred', 'referred') or outcome = case when passed then 'passed' else 'rejected' end
    ),
    constraint agenda_item_outcome_reason check (
        outcome is null or outcome in ('passed', 'rejected') or char_length(btrim(outcome_reason)) > 0
    )
);
-- R-ONE-AT-A-TIME: at most one item of a meeting is being dealt with.
create unique index agenda_item_one_open on agenda_item (meeting_id)
    where state in ('discussion', 'voting', 'tallied');
create index agenda_item_topic on agenda_item (topic_id);

-- Non-member attendees (列席) invited by the chair to one item (R-ATTENDEE-SCOPE).
create table item_attendee (
    item_id uuid not null references agenda_item (item_id),
    user_id uuid not null references app_user (user_id),
    invited_by uuid not null references app_user (user_id),
    invited_at timestamptz not null default now(),
    primary key (item_id, user_id)
);
create index item_attendee_user on item_attendee (user_id);

-- R-LEAVE: asked with a reason, decided by the chair.
create table leave_request (
    meeting_id uuid not null references meeting (meeting_id),
    user_id uuid not null references app_user (user_id),
    reason text not null,
    requested_at timestamptz not null default now(),
    approved boolean,
    decided_by uuid references app_user (user_id),
    decided_at timestamptz,
    primary key (meeting_id, user_id),
    constraint leave_request_reason check (char_length(btrim(reason)) between 1 and 2000),
    constraint leave_request_decided check ((approved is null) = (decided_by is null))
);

-- Who is in the room now; arrivals and departures are in the audit log.
create table attendance (
    meeting_id uuid not null references meeting (meeting_id),
    user_id uuid not null references app_user (user_id),
    present boolean not null,
    recorded_by uuid not null references app_user (user_id),
    changed_at timestamptz not null default now(),
    primary key (meeting_id, user_id)
);

-- R-RECUSAL: who recused from an item, why and who declared it.
create table recusal (
    item_id uuid not null references agenda_item (item_id),
    user_id uuid not null references app_user (user_id),
    relation text not null,
    note text not null default '',
    declared_by uuid not null references app_user (user_id),
    declared_at timestamptz not null default now(),
    primary key (item_id, user_id),
    constraint recusal_relation_check check (relation in ('self', 'spouse', 'lineal', 'collateral_3', 'in_law'))
);

-- R-OPINION: one stated opinion per present member and item; a reason unless agreeing.
create table opinion (
    item_id uuid not null references agenda_item (item_id),
    user_id uuid not null references app_user (user_id),
    stance text not null,
    reason text not null default '',
    stated_at timestamptz not null default now(),
    primary key (item_id, user_id),
    constraint opinion_stance_check check (stance in ('agree', 'disagree', 'defer')),
    constraint opinion_reason_check check (stance = 'agree' or char_length(btrim(reason)) > 0)
);

-- R-WRITTEN-OPINION: an absent member's written opinion, never counted.
create table written_opinion (
    item_id uuid not null references agenda_item (item_id),
    user_id uuid not null references app_user (user_id),
    stance text not null,
    reason text not null default '',
    written_at timestamptz not null default now(),
    primary key (item_id, user_id),
    constraint written_opinion_stance_check check (stance in ('agree', 'disagree', 'defer')),
    constraint written_opinion_reason_check check (stance = 'agree' or char_length(btrim(reason)) > 0)
);

-- R-ATTENDEE-VOICE: attendees' remarks, apart from members' opinions.
create table remark (
    remark_id uuid primary key,
    item_id uuid not null references agenda_item (item_id),
    user_id uuid not null references app_user (user_id),
    text text not null,
    made_at timestamptz not null default now(),
    constraint remark_text_length check (char_length(btrim(text)) between 1 and 5000)
);
create index remark_item on remark (item_id, made_at);

-- R-ONE-VOTE: one row per member and item. For open methods the row holds the choice; for a
-- secret ballot (R-SECRET-BALLOT) it holds only that the member voted — no choice, no time, no
-- recorder — and the choice goes into `secret_tally`, a counter with no link to any voter.
create table vote_cast (
    item_id uuid not null references agenda_item (item_id),
    user_id uuid not null references app_user (user_id),
    secret boolean not null,
    choice text,
    recorded_by uuid references app_user (user_id),
    cast_at timestamptz,
    primary key (item_id, user_id),
    constraint vote_cast_choice_check check (choice in ('yes', 'no', 'abstain')),
    constraint vote_cast_secret check (
        (secret and choice is null and recorded_by is null and cast_at is null)
        or (not secret and choice is not null and recorded_by is not null and cast_at is not null)
    )
);

create table secret_tally (
    item_id uuid primary key references agenda_item (item_id),
    yes integer not null default 0,
    no integer not null default 0,
    abstain integer not null default 0,
    constraint secret_tally_counts check (yes >= 0 and no >= 0 and abstain >= 0)
);

-- Materials handed to each recipient with the notice (R-MATERIALS-DEADLINE: logged per
-- recipient).
create table material_distribution (
    meeting_id uuid not null references meeting (meeting_id),
    material_id uuid not null references material (material_id),
    user_id uuid not null references app_user (user_id),
    distributed_at timestamptz not null default now(),
    primary key (meeting_id, material_id, user_id)
);
create index material_distribution_user on material_distribution (user_id, material_id);

-- In-app notifications (notice issued, leave decided, …).
create table notification (
    notification_id uuid primary key,
    user_id uuid not null references app_user (user_id),
    text text not null,
    link text not null,
    created_at timestamptz not null default now(),
    read_at timestamptz
);
create index notification_user on notification (user_id, created_at desc);
create index notification_unread on notification (user_id) where read_at is null;

-- What every live screen of a meeting shows, as one JSON document: sent with NOTIFY after each
-- change (fanned out by every server instance to its screens) and read on (re)connect. It holds
-- ids and counts only — never a secret choice, never an item's content — and the totals only
-- once the vote is closed. PL/pgSQL so that each connection plans the query once.
create function meeting_snapshot(p_meeting uuid, p_kind text) returns text
language plpgsql stable as $$
begin
    return (select json_build_object(
        'meeting_id', m.meeting_id,
        'kind', p_kind,
        'status', m.status,
        'present', (select coalesce(json_agg(a.user_id order by a.user_id), '[]')
                    from attendance a where a.meeting_id = m.meeting_id and a.present),
        'item', (select json_build_object(
                    'item_id', i.item_id,
                    'state', i.state,
                    'vote_method', i.vote_method,
                    'recused', (select coalesce(json_agg(r.user_id order by r.user_id), '[]')
                                from recusal r where r.item_id = i.item_id),
                    'spoken', (select coalesce(json_agg(o.user_id order by o.user_id), '[]')
                               from opinion o where o.item_id = i.item_id),
                    'voted', (select coalesce(json_agg(v.user_id order by v.user_id), '[]')
                              from vote_cast v where v.item_id = i.item_id),
                    'yes', i.yes, 'no', i.no, 'abstain', i.abstain, 'passed', i.passed)
                 from agenda_item i
                 where i.meeting_id = m.meeting_id and i.state in ('discussion', 'voting', 'tallied')),
        'decided', (select count(*) from agenda_item i
                    where i.meeting_id = m.meeting_id and i.state = 'decided'),
        'at', now()
    )::text
    from meeting m where m.meeting_id = p_meeting);
end
$$;
