-- Server-side sessions. The browser cookie and the API bearer token are the same secret; only
-- its sha256 is stored, so a database reader cannot sign in as anyone.
create table user_session (
    session_hash bytea primary key,
    user_id uuid not null references app_user (user_id) on delete cascade,
    csrf_token text not null,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    client_addr text
);
create index user_session_user on user_session (user_id);

-- Failed sign-ins, kept for the throttle window only (see auth::throttle).
create table login_failure (
    login text not null,
    client_addr text,
    failed_at timestamptz not null default now()
);
create index login_failure_login on login_failure (login, failed_at);
create index login_failure_addr on login_failure (client_addr, failed_at);
