-- The roster of a meeting is read on every action in it (R-QUORUM, R-PASS): the group's
-- memberships, current and past, are found by group.
create index membership_group on membership (party_group_id, started_on);
