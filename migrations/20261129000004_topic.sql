-- Topics (议题) proposed to a party group, with the facts their prerequisites depend on.
create table topic (
    topic_id uuid primary key,
    party_group_id uuid not null references party_group (party_group_id),
    proposer_id uuid not null references app_user (user_id),
    responsible_user_id uuid not null references app_user (user_id),
    sponsor_section_id uuid references section (section_id),
    title text not null,
    category smallint not null,
    content text not null default '',
    matters_to_decide text not null default '',
    consultation_opinions text not null default '',
    amount_fen bigint,
    is_major_policy boolean not null default false,
    is_technical boolean not null default false,
    is_public_interest boolean not null default false,
    is_procurement boolean not null default false,
    procurement_ref text,
    cadre_name text,
    classification text not null default 'none',
    status text not null default 'draft',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint topic_category_check check (category between 1 and 33),
    constraint topic_amount_check check (amount_fen is null or amount_fen between 0 and 10000000000000),
    constraint topic_classification_check check (classification in ('none', 'internal', 'secret')),
    constraint topic_status_check check (status in ('draft', 'submitted', 'returned', 'withdrawn', 'scheduled')),
    constraint topic_title_length check (char_length(title) between 1 and 200),
    constraint topic_procurement_ref check (not is_procurement or procurement_ref is not null)
);
create index topic_group_status on topic (party_group_id, status);
create index topic_proposer on topic (proposer_id);
create index topic_responsible on topic (responsible_user_id);
