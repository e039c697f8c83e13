-- The sections the 书记 assigns to carry out a policy topic's assessments (R-PREREQ-POLICY).
create table topic_assignment (
    topic_id uuid not null references topic (topic_id),
    section_id uuid not null references section (section_id),
    assigned_by uuid not null references app_user (user_id),
    assigned_at timestamptz not null default now(),
    primary key (topic_id, section_id)
);
