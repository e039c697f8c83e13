-- R-SECRET-BALLOT: secret ballots are ciphertexts counted without decrypting any one of them.
-- The plaintext counter `secret_tally` is gone: it held each voter's choice in its dead row
-- versions and the WAL. A vote still open under it cannot be carried over, so such a vote must
-- be closed (or the item deferred) before upgrading.
do $$
begin
    if exists (select 1 from agenda_item where state = 'voting' and vote_method = 'secret') then
        raise exception 'a secret vote is open: close it before applying this migration';
    end if;
end
$$;

drop table secret_tally;

-- One row per item voted by secret ballot: the vote's public key (its secret key is derived
-- from the server's ballot key outside the database and never stored) and, written once at
-- closing, the count: per option the sum of the ciphertexts, its decryption and the proof of
-- that decryption. The totals themselves stay in agenda_item.
create table secret_vote (
    item_id uuid primary key references agenda_item (item_id),
    public_key bytea not null,
    count_proof bytea,
    constraint secret_vote_public_key_length check (length(public_key) = 32)
);

-- The ballot box. Nothing in a row names a voter or a time; the row is the same size whatever
-- the choice. `tracker` is sha256 of the ciphertexts: the voter's tracking code, and the key
-- that refuses a replayed ciphertext.
create table secret_ballot (
    item_id uuid not null references secret_vote (item_id),
    tracker bytea not null,
    ballot bytea not null,
    constraint secret_ballot_pkey primary key (item_id, tracker),
    constraint secret_ballot_tracker_length check (length(tracker) = 32)
);

create function secret_ballot_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'the ballot box is append-only';
end;
$$;
create trigger secret_ballot_append_only before update or delete on secret_ballot
    for each row execute function secret_ballot_refuse_change();
create trigger secret_ballot_no_truncate before truncate on secret_ballot
    for each statement execute function secret_ballot_refuse_change();

-- The count is written once.
create function secret_vote_keep_count() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' or old.count_proof is not null or new.public_key <> old.public_key then
        raise exception 'a secret vote''s key and count do not change';
    end if;
    return new;
end;
$$;
create trigger secret_vote_count_once before update or delete on secret_vote
    for each row execute function secret_vote_keep_count();

-- The voter's own tracking code, so their screen can say their ballot is in the box. It ties
-- the voter to a ciphertext, never to a choice.
alter table vote_cast add column tracker bytea;
alter table vote_cast add constraint vote_cast_tracker check (tracker is null or secret);
