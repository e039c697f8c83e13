-- The audit log (R-AUDIT): append-only and hash-chained. There is one chain per party group plus
-- one ('org') for organisation-level actions, so writers of different groups never wait on one
-- another; audit_chain holds each chain's head and is locked by every append to that chain.
create table audit_chain (
    chain text primary key,
    seq bigint not null,
    head_hash bytea not null,
    constraint audit_chain_seq check (seq >= 0)
);

create table audit_entry (
    audit_entry_id uuid primary key,
    chain text not null references audit_chain (chain),
    seq bigint not null,
    occurred_at timestamptz not null,
    actor_id uuid,
    action text not null,
    entity_type text not null,
    entity_id text,
    before jsonb,
    after jsonb,
    client_addr text,
    prev_hash bytea not null,
    hash bytea not null,
    constraint audit_entry_chain_seq_key unique (chain, seq)
);
create index audit_entry_occurred on audit_entry (occurred_at);
create index audit_entry_actor on audit_entry (actor_id, occurred_at);
create index audit_entry_entity on audit_entry (entity_type, entity_id);

create function audit_entry_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'audit_entry is append-only';
end;
$$;

create trigger audit_entry_append_only
    before update or delete on audit_entry
    for each row execute function audit_entry_refuse_change();
create trigger audit_entry_no_truncate
    before truncate on audit_entry
    for each statement execute function audit_entry_refuse_change();
