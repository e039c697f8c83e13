-- A section serves one or more party groups (a deployment may host many bureaus): 综合科's role
-- reaches the meetings, topics and tasks of the groups its section serves, and no others.
create table section_party_group (
    section_id uuid not null references section (section_id),
    party_group_id uuid not null references party_group (party_group_id),
    primary key (section_id, party_group_id)
);
create index section_party_group_group on section_party_group (party_group_id);

-- Until now every section served every group: so it stays for what exists, and 综合科's staff
-- without a section get one.
insert into section_party_group (section_id, party_group_id)
select s.section_id, g.party_group_id from section s, party_group g;

do $$
declare
    office uuid;
begin
    if exists (select 1 from user_role r join app_user u using (user_id)
               where r.role = 'office' and u.section_id is null) then
        select section_id into office from section where kind = 'office' order by name limit 1;
        if office is null then
            office := gen_random_uuid();
            insert into section (section_id, name, kind) values (office, '综合科', 'office');
            insert into section_party_group (section_id, party_group_id)
            select office, party_group_id from party_group;
        end if;
        update app_user u set section_id = office
        where u.section_id is null
          and exists (select 1 from user_role r where r.user_id = u.user_id and r.role = 'office');
    end if;
end
$$;
