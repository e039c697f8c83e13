-- The topic's way to the 书记's desk: prerequisites on file, the 分管 leader's sign-off, and
-- submission to 综合科 (or its return with a reason).
create table topic_prerequisite (
    topic_id uuid not null references topic (topic_id),
    kind text not null,
    conclusion text not null,
    note text not null default '',
    recorded_by uuid not null references app_user (user_id),
    recorded_at timestamptz not null default now(),
    primary key (topic_id, kind),
    constraint topic_prerequisite_kind_check check (kind in (
        'stability_risk', 'integrity', 'legality', 'expert_review', 'public_consultation',
        'finance_opinion', 'legal_opinion', 'discipline_opinion', 'counsel_review',
        'archive_review', 'personal_matters', 'petition_check', 'deliberation',
        'democratic_recommendation', 'organisational_inspection', 'issues_verified',
        'superior_approval')),
    constraint topic_prerequisite_conclusion_length check (char_length(conclusion) between 1 and 200)
);

alter table topic
    add column signed_off_by uuid references app_user (user_id),
    add column signed_off_at timestamptz,
    add column submitted_at timestamptz,
    add column returned_reason text,
    add constraint topic_sign_off_pair check ((signed_off_by is null) = (signed_off_at is null));
