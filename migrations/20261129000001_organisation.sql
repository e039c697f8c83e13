-- Organisation: sections (科室), users and their roles, party groups (党组) with settings and
-- memberships. Memberships are history: a change ends one row and starts another.

create table section (
    section_id uuid primary key,
    name text not null,
    kind text not null,
    created_at timestamptz not null default now(),
    constraint section_name_key unique (name),
    constraint section_kind_check check (kind in ('office', 'finance', 'legal', 'personnel', 'other')),
    constraint section_name_length check (char_length(name) between 1 and 100)
);

create table app_user (
    user_id uuid primary key,
    login text not null,
    name text not null,
    password_hash text not null,
    section_id uuid references section (section_id),
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint app_user_login_key unique (login),
    constraint app_user_login_format check (login ~ '^[a-z0-9][a-z0-9._-]{1,31}$'),
    constraint app_user_name_length check (char_length(name) between 1 and 50)
);

create table user_role (
    user_id uuid not null references app_user (user_id) on delete cascade,
    role text not null,
    primary key (user_id, role),
    constraint user_role_role_check check (
        role in ('admin', 'office', 'discipline', 'counsel', 'leader', 'director', 'section_head', 'staff')
    )
);

create table party_group (
    party_group_id uuid primary key,
    name text not null,
    created_at timestamptz not null default now(),
    constraint party_group_name_key unique (name),
    constraint party_group_name_length check (char_length(name) between 1 and 100)
);

-- Per-group thresholds whose defaults are the seed's values (rules.md marks them "setting").
create table party_group_setting (
    party_group_id uuid primary key references party_group (party_group_id) on delete cascade,
    quorum_num integer not null default 2,
    quorum_den integer not null default 3,
    large_spend_fen bigint not null default 500000,
    topic_lead_days integer not null default 7,
    materials_lead_days integer not null default 1,
    updated_at timestamptz not null default now(),
    constraint party_group_setting_quorum check (quorum_num > 0 and quorum_den > 0 and quorum_num <= quorum_den),
    constraint party_group_setting_large_spend check (large_spend_fen >= 0),
    constraint party_group_setting_lead_days check (topic_lead_days between 0 and 365 and materials_lead_days between 0 and 365)
);

create table membership (
    membership_id uuid primary key,
    party_group_id uuid not null references party_group (party_group_id),
    user_id uuid not null references app_user (user_id),
    position text not null,
    areas text[] not null default '{}',
    started_on date not null,
    ended_on date,
    created_at timestamptz not null default now(),
    constraint membership_position_check check (position in ('secretary', 'deputy', 'member')),
    constraint membership_dates_check check (ended_on is null or ended_on >= started_on)
);

-- One current membership per person and group, and one current 书记 per group.
create unique index membership_one_current on membership (party_group_id, user_id) where ended_on is null;
create unique index membership_one_secretary on membership (party_group_id) where ended_on is null and position = 'secretary';
create index membership_user on membership (user_id);
