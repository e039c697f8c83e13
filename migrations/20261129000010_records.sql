-- What outlives the meeting, sections E, F and G of rules.md: the minutes and their seal,
-- borrow requests, the signed summary and its distribution, follow-up tasks, reserved
-- opinions, superseded decisions, emergencies, reports up, circulation review.

-- R-MINUTES: the secretary's narrative beside the structured record, which is generated from
-- the meeting's tables and cannot be edited here. R-MINUTES-SEALED: once signed, the rendered
-- minutes are kept as they were signed (with their sha256, also in the audit chain) and the
-- row can no longer change.
create table minutes (
    meeting_id uuid primary key references meeting (meeting_id),
    narrative text not null default '',
    sealed_at timestamptz,
    sealed_by uuid references app_user (user_id),
    sealed_body text,
    sealed_sha256 text,
    updated_at timestamptz not null default now(),
    constraint minutes_narrative_length check (char_length(narrative) <= 20000),
    constraint minutes_sealed check (
        (sealed_at is null) = (sealed_by is null)
        and (sealed_at is null) = (sealed_body is null)
        and (sealed_at is null) = (sealed_sha256 is null)
    )
);

-- The report and discussion of one item, as the secretary writes it.
create table minutes_note (
    item_id uuid primary key references agenda_item (item_id),
    meeting_id uuid not null references minutes (meeting_id),
    note text not null,
    constraint minutes_note_length check (char_length(note) <= 20000)
);

create function minutes_refuse_sealed() returns trigger language plpgsql as $$
begin
    if old.sealed_at is null then
        return case when tg_op = 'DELETE' then old else new end;
    end if;
    raise exception 'R-MINUTES-SEALED: the minutes of meeting % are sealed', old.meeting_id
        using errcode = 'check_violation';
end
$$;
create trigger minutes_sealed before update or delete on minutes
    for each row execute function minutes_refuse_sealed();

create function minutes_note_refuse_sealed() returns trigger language plpgsql as $$
declare
    m uuid;
begin
    if tg_op = 'DELETE' then
        m := old.meeting_id;
    else
        m := new.meeting_id;
    end if;
    if exists (select 1 from minutes where meeting_id = m and sealed_at is not null) then
        raise exception 'R-MINUTES-SEALED: the minutes of meeting % are sealed', m
            using errcode = 'check_violation';
    end if;
    if tg_op = 'DELETE' then
        return old;
    end if;
    return new;
end
$$;
create trigger minutes_note_sealed before insert or update or delete on minutes_note
    for each row execute function minutes_note_refuse_sealed();

-- Dated corrections beside the sealed original (R-MINUTES-SEALED).
create table minutes_amendment (
    amendment_id uuid primary key,
    meeting_id uuid not null references minutes (meeting_id),
    text text not null,
    made_by uuid not null references app_user (user_id),
    made_at timestamptz not null default now(),
    constraint minutes_amendment_text check (char_length(btrim(text)) between 1 and 5000)
);
create index minutes_amendment_meeting on minutes_amendment (meeting_id, made_at);

-- R-MINUTES-ACCESS: a time-limited permission to read one meeting's minutes.
create table borrow_request (
    request_id uuid primary key,
    meeting_id uuid not null references meeting (meeting_id),
    user_id uuid not null references app_user (user_id),
    reason text not null,
    days integer not null,
    requested_at timestamptz not null default now(),
    approved boolean,
    decided_by uuid references app_user (user_id),
    decided_at timestamptz,
    expires_at timestamptz,
    constraint borrow_request_reason check (char_length(btrim(reason)) between 1 and 2000),
    constraint borrow_request_days check (days between 1 and 90),
    constraint borrow_request_decided check (
        (approved is null) = (decided_by is null) and (approved is null) = (decided_at is null)
        and (approved is true) = (expires_at is not null)
    )
);
create index borrow_request_meeting on borrow_request (meeting_id, user_id);
create index borrow_request_pending on borrow_request (meeting_id) where approved is null;

-- R-SUMMARY: the summary (会议纪要) as signed, and when 综合科 distributed it.
create table summary (
    meeting_id uuid primary key references meeting (meeting_id),
    signed_by uuid not null references app_user (user_id),
    signed_at timestamptz not null default now(),
    body text not null,
    sha256 text not null,
    distributed_by uuid references app_user (user_id),
    distributed_at timestamptz,
    constraint summary_distributed check ((distributed_by is null) = (distributed_at is null))
);

create function summary_refuse_change() returns trigger language plpgsql as $$
begin
    -- Only the distribution may be recorded, once; the signed text stays.
    if tg_op = 'UPDATE' then
        if old.distributed_at is null
           and (new.meeting_id, new.signed_by, new.signed_at, new.body, new.sha256)
               is not distinct from (old.meeting_id, old.signed_by, old.signed_at, old.body, old.sha256) then
            return new;
        end if;
    end if;
    raise exception 'R-MINUTES-SEALED: the summary of meeting % is signed', old.meeting_id
        using errcode = 'check_violation';
end
$$;
create trigger summary_sealed before update or delete on summary
    for each row execute function summary_refuse_change();

-- Each recipient's copy: when it was delivered, how many classified items were withheld from
-- it, and when the recipient opened it (签收).
create table summary_receipt (
    meeting_id uuid not null references summary (meeting_id),
    user_id uuid not null references app_user (user_id),
    withheld integer not null default 0,
    delivered_at timestamptz not null default now(),
    read_at timestamptz,
    primary key (meeting_id, user_id)
);
create index summary_receipt_user on summary_receipt (user_id);

-- R-FOLLOWUP-OWNER, R-SUPERVISION: follow-up (督办) of a passed item; one lead by construction.
create table task (
    task_id uuid primary key,
    item_id uuid not null references agenda_item (item_id),
    lead_user_id uuid not null references app_user (user_id),
    description text not null,
    due_on date not null,
    done_at timestamptz,
    created_by uuid not null references app_user (user_id),
    created_at timestamptz not null default now(),
    constraint task_description check (char_length(btrim(description)) between 1 and 2000)
);
create index task_item on task (item_id);
create index task_lead on task (lead_user_id);
create index task_open_due on task (due_on) where done_at is null;

create table task_section (
    task_id uuid not null references task (task_id),
    section_id uuid not null references section (section_id),
    primary key (task_id, section_id)
);

create table task_progress (
    progress_id uuid primary key,
    task_id uuid not null references task (task_id),
    note text not null,
    done boolean not null,
    reported_by uuid not null references app_user (user_id),
    reported_at timestamptz not null default now(),
    constraint task_progress_note check (char_length(btrim(note)) between 1 and 5000)
);
create index task_progress_task on task_progress (task_id, reported_at);

-- 督办通知 (to a lead) and 通报 (to the group and every lead): what was sent, by whom.
create table task_reminder (
    reminder_id uuid primary key,
    task_id uuid not null references task (task_id),
    text text not null,
    sent_by uuid not null references app_user (user_id),
    sent_at timestamptz not null default now(),
    constraint task_reminder_text check (char_length(btrim(text)) between 1 and 2000)
);

create table circular (
    circular_id uuid primary key,
    party_group_id uuid not null references party_group (party_group_id),
    text text not null,
    sent_by uuid not null references app_user (user_id),
    sent_at timestamptz not null default now(),
    constraint circular_text check (char_length(btrim(text)) between 1 and 5000)
);
create index circular_group on circular (party_group_id, sent_at desc);

-- R-RESERVE: a dissenting member's reserved opinion on a decision.
create table reserved_opinion (
    item_id uuid not null references agenda_item (item_id),
    user_id uuid not null references app_user (user_id),
    text text not null,
    recorded_at timestamptz not null default now(),
    primary key (item_id, user_id),
    constraint reserved_opinion_text check (char_length(btrim(text)) between 1 and 5000)
);

-- R-DECISION-CHANGE: a later passed item that changes an earlier decision; each decision is
-- superseded at most once.
create table decision_change (
    old_item_id uuid primary key references agenda_item (item_id),
    new_item_id uuid not null references agenda_item (item_id),
    reason text not null,
    linked_by uuid not null references app_user (user_id),
    linked_at timestamptz not null default now(),
    constraint decision_change_distinct check (old_item_id <> new_item_id),
    constraint decision_change_reason check (char_length(btrim(reason)) between 1 and 2000)
);
create index decision_change_new on decision_change (new_item_id);

-- R-EMERGENCY: an on-the-spot disposal, reported at the next meeting of the group.
create table emergency (
    emergency_id uuid primary key,
    party_group_id uuid not null references party_group (party_group_id),
    title text not null,
    action_taken text not null,
    occurred_at timestamptz not null,
    recorded_by uuid not null references app_user (user_id),
    recorded_at timestamptz not null default now(),
    -- The meeting it is reported to; set when it is recorded or when that meeting is scheduled.
    meeting_id uuid references meeting (meeting_id),
    constraint emergency_title check (char_length(btrim(title)) between 1 and 200),
    constraint emergency_action check (char_length(btrim(action_taken)) between 1 and 5000)
);
create index emergency_meeting on emergency (meeting_id);
create index emergency_unreported on emergency (party_group_id) where meeting_id is null;

-- R-REPORT-UP: the yearly written report to the prefecture party committee, as sent.
create table report_up (
    report_id uuid primary key,
    party_group_id uuid not null references party_group (party_group_id),
    title text not null,
    reported_on date not null,
    recorded_by uuid not null references app_user (user_id),
    recorded_at timestamptz not null default now(),
    constraint report_up_title check (char_length(btrim(title)) between 1 and 200)
);
create index report_up_group on report_up (party_group_id, reported_on);

-- R-PUBLICATION: a document in the group's name circulated to the members (传阅审定).
create table circulation (
    circulation_id uuid primary key,
    party_group_id uuid not null references party_group (party_group_id),
    title text not null,
    body text not null,
    created_by uuid not null references app_user (user_id),
    created_at timestamptz not null default now(),
    published_at timestamptz,
    published_by uuid references app_user (user_id),
    constraint circulation_title check (char_length(btrim(title)) between 1 and 200),
    constraint circulation_body check (char_length(btrim(body)) between 1 and 50000),
    constraint circulation_published check ((published_at is null) = (published_by is null))
);
create index circulation_group on circulation (party_group_id, created_at desc);

create table circulation_signoff (
    circulation_id uuid not null references circulation (circulation_id),
    user_id uuid not null references app_user (user_id),
    approved boolean not null,
    comment text not null default '',
    signed_at timestamptz not null default now(),
    primary key (circulation_id, user_id),
    constraint circulation_signoff_comment check (approved or char_length(btrim(comment)) > 0)
);

-- R-DECISION-CHANGE: a decided item keeps its decision; only a later item can change it.
create function agenda_item_keep_decision() returns trigger language plpgsql as $$
begin
    if old.state = 'decided' and (new.state, new.outcome, new.outcome_reason, new.passed, new.yes, new.no, new.abstain)
        is distinct from (old.state, old.outcome, old.outcome_reason, old.passed, old.yes, old.no, old.abstain) then
        raise exception 'R-DECISION-CHANGE: item % is decided', old.item_id
            using errcode = 'check_violation';
    end if;
    return new;
end
$$;
create trigger agenda_item_decided_final before update on agenda_item
    for each row execute function agenda_item_keep_decision();
