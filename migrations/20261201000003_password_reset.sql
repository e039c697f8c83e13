-- 三员分立 (separation of duties): the system administrator holds no other role and is no
-- party-group member; a password the administrator set must be replaced by its owner.

alter table app_user add column must_change_password boolean not null default false;

-- Accounts that combined the two before this rule keep only the administrator's role, and
-- their memberships end today.
delete from user_role r
where r.role <> 'admin'
  and exists (select 1 from user_role a where a.user_id = r.user_id and a.role = 'admin');
update membership m set ended_on = greatest(current_date, m.started_on)
where m.ended_on is null
  and exists (select 1 from user_role a where a.user_id = m.user_id and a.role = 'admin');

-- The database keeps the rule too (the application refuses with a clear message first).
create function user_role_separate() returns trigger language plpgsql as $$
begin
    if exists (select 1 from user_role r where r.user_id = new.user_id
               and (r.role = 'admin') <> (new.role = 'admin')) then
        raise exception 'the administrator holds no other role'
            using errcode = 'check_violation', constraint = 'user_role_admin_alone';
    end if;
    return new;
end;
$$;
create trigger user_role_admin_alone before insert or update on user_role
    for each row execute function user_role_separate();

create function membership_no_admin() returns trigger language plpgsql as $$
begin
    if new.ended_on is null and exists (select 1 from user_role r
               where r.user_id = new.user_id and r.role = 'admin') then
        raise exception 'the administrator is no party-group member'
            using errcode = 'check_violation', constraint = 'membership_no_admin';
    end if;
    return new;
end;
$$;
create trigger membership_no_admin before insert or update on membership
    for each row execute function membership_no_admin();
