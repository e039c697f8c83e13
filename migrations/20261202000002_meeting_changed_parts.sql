-- Two changes for the pace of a meeting.
--
-- 1. A change notification names the table it comes from: '<meeting id>:<table>' (or '*'), so
--    that a server instance holding the meeting's read model reads again only what an opinion
--    or a ballot changed, not the whole meeting. The notifying function is PL/pgSQL now: its
--    statement is planned once per connection, where an SQL function called from a trigger is
--    parsed and planned on every call.
--
-- 2. The live snapshot a meeting's screens receive is sent by the audit entry of the change,
--    in the statement that appends it, instead of by a statement of its own after it. The entry
--    is appended under the lock of its chain's head, held until commit: so snapshots still go
--    out in the order the changes commit, and each sees every change committed before it.

create function meeting_changed(p_meeting uuid, p_table text) returns void
language plpgsql as $$
begin
    if p_meeting is not null then
        perform pg_notify('yishi_meeting_changed', p_meeting::text || ':' || p_table);
    end if;
end
$$;

create or replace function meeting_row_changed() returns trigger
language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        perform meeting_changed(old.meeting_id, tg_table_name);
    end if;
    if tg_op <> 'DELETE' then
        perform meeting_changed(new.meeting_id, tg_table_name);
    end if;
    return null;
end
$$;

create or replace function item_row_changed() returns trigger
language plpgsql as $$
declare
    v_meeting uuid;
begin
    select i.meeting_id into v_meeting from agenda_item i
    where i.item_id = case tg_op when 'DELETE' then old.item_id else new.item_id end;
    perform meeting_changed(v_meeting, tg_table_name);
    return null;
end
$$;

create or replace function decision_change_changed() returns trigger
language plpgsql as $$
declare
    v_meeting uuid;
begin
    for v_meeting in
        select i.meeting_id from agenda_item i where i.item_id in (new.old_item_id, new.new_item_id)
    loop
        perform meeting_changed(v_meeting, tg_table_name);
    end loop;
    return null;
end
$$;

create or replace function topic_changed() returns trigger
language plpgsql as $$
declare
    v_meeting uuid;
begin
    for v_meeting in select i.meeting_id from agenda_item i where i.topic_id = new.topic_id loop
        perform meeting_changed(v_meeting, tg_table_name);
    end loop;
    return null;
end
$$;

create or replace function audit_entry_meeting_changed() returns trigger
language plpgsql as $$
begin
    if new.entity_type = 'meeting' and new.entity_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        perform meeting_changed(new.entity_id::uuid, tg_table_name);
        -- The change's live snapshot, its kind the entry's action, for the meeting's screens.
        perform pg_notify('yishi_meeting', meeting_snapshot(new.entity_id::uuid, new.action));
    end if;
    return null;
end
$$;

drop function meeting_changed(uuid);
