-- The roster (人员名单) imported from a spreadsheet. The uploaded file is kept from its preview
-- until it is applied (then only its outcome stays), so the admin confirms exactly what was
-- checked; each apply checks it again against what exists then.
create table roster_import (
    import_id uuid primary key,
    uploaded_by uuid not null references app_user (user_id),
    uploaded_at timestamptz not null default now(),
    file_name text not null,
    content bytea,
    -- The accepted rows of the preview, as [sheet, line] pairs: the apply must find the same.
    previewed jsonb not null,
    applied_at timestamptz,
    people_created integer,
    members_created integer,
    constraint roster_import_applied check ((applied_at is null) = (content is not null))
);

-- Imported accounts have no password until the admin issues a first one (a sign-in with no
-- password is refused as a wrong one); an e-mail address for the notifications sent by mail.
alter table app_user alter column password_hash drop not null;
alter table app_user add column email text;
