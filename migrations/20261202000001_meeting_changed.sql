-- Each server instance keeps a read model of the meetings it shows (app::meeting::live). Every
-- change to a row such a model is built from says so on one channel, in the transaction that
-- makes it: the payload is the meeting's id, or '*' when the change may touch any meeting (a
-- person's name, a membership, a group's settings, a section's reach). PostgreSQL delivers a
-- payload once per transaction however many rows repeat it, and only after the commit.

create function meeting_changed(p_meeting uuid) returns void
language sql as $$
    select pg_notify('yishi_meeting_changed', p_meeting::text) where p_meeting is not null
$$;

-- Rows that carry their meeting.
create function meeting_row_changed() returns trigger
language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        perform meeting_changed(old.meeting_id);
    end if;
    if tg_op <> 'DELETE' then
        perform meeting_changed(new.meeting_id);
    end if;
    return null;
end
$$;

-- Rows of an agenda item.
create function item_row_changed() returns trigger
language plpgsql as $$
begin
    perform meeting_changed(i.meeting_id) from agenda_item i
    where i.item_id = case tg_op when 'DELETE' then old.item_id else new.item_id end;
    return null;
end
$$;

create function decision_change_changed() returns trigger
language plpgsql as $$
begin
    perform meeting_changed(i.meeting_id) from agenda_item i
    where i.item_id in (new.old_item_id, new.new_item_id);
    return null;
end
$$;

create function topic_changed() returns trigger
language plpgsql as $$
begin
    perform meeting_changed(i.meeting_id) from agenda_item i where i.topic_id = new.topic_id;
    return null;
end
$$;

create function audit_entry_meeting_changed() returns trigger
language plpgsql as $$
begin
    if new.entity_type = 'meeting' and new.entity_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        perform meeting_changed(new.entity_id::uuid);
    end if;
    return null;
end
$$;

create function any_meeting_changed() returns trigger
language plpgsql as $$
begin
    perform pg_notify('yishi_meeting_changed', '*');
    return null;
end
$$;

create trigger meeting_changed after insert or update or delete on meeting
    for each row execute function meeting_row_changed();
create trigger attendance_changed after insert or update or delete on attendance
    for each row execute function meeting_row_changed();
create trigger agenda_item_changed after insert or update or delete on agenda_item
    for each row execute function meeting_row_changed();
create trigger leave_request_changed after insert or update or delete on leave_request
    for each row execute function meeting_row_changed();
create trigger emergency_changed after insert or update or delete on emergency
    for each row execute function meeting_row_changed();

create trigger item_attendee_changed after insert or update or delete on item_attendee
    for each row execute function item_row_changed();
create trigger recusal_changed after insert or update or delete on recusal
    for each row execute function item_row_changed();
create trigger opinion_changed after insert or update or delete on opinion
    for each row execute function item_row_changed();
create trigger written_opinion_changed after insert or update or delete on written_opinion
    for each row execute function item_row_changed();
create trigger remark_changed after insert or update or delete on remark
    for each row execute function item_row_changed();
create trigger vote_cast_changed after insert or update or delete on vote_cast
    for each row execute function item_row_changed();
create trigger reserved_opinion_changed after insert or update or delete on reserved_opinion
    for each row execute function item_row_changed();

create trigger decision_change_changed after insert or update on decision_change
    for each row execute function decision_change_changed();
create trigger topic_changed after update on topic
    for each row execute function topic_changed();
create trigger audit_entry_meeting_changed after insert on audit_entry
    for each row execute function audit_entry_meeting_changed();

create trigger app_user_changed after insert or update or delete on app_user
    for each statement execute function any_meeting_changed();
create trigger membership_changed after insert or update or delete on membership
    for each statement execute function any_meeting_changed();
create trigger party_group_setting_changed after insert or update or delete on party_group_setting
    for each statement execute function any_meeting_changed();
create trigger section_party_group_changed after insert or update or delete on section_party_group
    for each statement execute function any_meeting_changed();
