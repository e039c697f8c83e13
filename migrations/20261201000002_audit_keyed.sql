-- R-AUDIT: the audit chains are extended with a keyed hash computed by the server, whose key is
-- outside the database, and anchored by signed checkpoints. Entries written before this
-- migration keep their unkeyed hashes; each chain records where its keyed entries start.
-- The chains' head row is gone: the head is the last entry, found under a transaction-scoped
-- advisory lock, so the server's role needs no right to change any audit row.

create function audit_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'the audit log is append-only';
end;
$$;

alter table audit_chain add column keyed_from bigint;
update audit_chain set keyed_from = seq + 1;
alter table audit_chain alter column keyed_from set not null;
alter table audit_chain add constraint audit_chain_keyed_from check (keyed_from >= 1);
alter table audit_chain drop column seq, drop column head_hash;

create trigger audit_chain_append_only before update or delete on audit_chain
    for each row execute function audit_refuse_change();
create trigger audit_chain_no_truncate before truncate on audit_chain
    for each statement execute function audit_refuse_change();

-- Locks a chain for appending (until the transaction ends) and reads its head. PL/pgSQL and
-- volatile, so the read takes a snapshot after the lock is granted and sees the entry of the
-- writer that held it before.
create function audit_lock_head(p_chain text, out seq bigint, out hash bytea, out keyed_from bigint)
language plpgsql volatile as $$
begin
    perform pg_advisory_xact_lock(1096107092, hashtext(p_chain));
    select e.seq, e.hash into seq, hash
    from audit_entry e where e.chain = p_chain order by e.seq desc limit 1;
    select c.keyed_from into keyed_from from audit_chain c where c.chain = p_chain;
end;
$$;

-- Signed checkpoints: every chain's head (or, for a seal, the sealing entry's chain), signed
-- with a key outside the database. A copy of the newest is kept outside the database too.
create table audit_checkpoint (
    checkpoint_id uuid primary key,
    created_at timestamptz not null default now(),
    kind text not null,
    body jsonb not null,
    signature text not null,
    constraint audit_checkpoint_kind_check check (kind in ('start', 'periodic', 'requested', 'seal'))
);
create index audit_checkpoint_created on audit_checkpoint (created_at desc);

create trigger audit_checkpoint_append_only before update or delete on audit_checkpoint
    for each row execute function audit_refuse_change();
create trigger audit_checkpoint_no_truncate before truncate on audit_checkpoint
    for each statement execute function audit_refuse_change();
