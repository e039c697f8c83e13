-- Topic materials (议题材料): uploaded files kept in the database with their sha256, so that a
-- backup of the database is a backup of everything and files are never served from a
-- guessable path.
create table material (
    material_id uuid primary key,
    topic_id uuid not null references topic (topic_id),
    file_name text not null,
    content_type text not null,
    size_bytes bigint not null,
    sha256 bytea not null,
    classification text not null default 'none',
    data bytea not null,
    uploaded_by uuid not null references app_user (user_id),
    uploaded_at timestamptz not null default now(),
    constraint material_size_check check (size_bytes > 0 and size_bytes = octet_length(data)),
    constraint material_classification_check check (classification in ('none', 'internal', 'secret')),
    constraint material_file_name_length check (char_length(file_name) between 1 and 200)
);
create index material_topic on material (topic_id, uploaded_at);
