-- A secret vote held on paper (表决票): the totals entered by two counters of 综合科, each
-- count a round; a round whose two entries agree gives the vote's totals. Entries on one item
-- are taken one at a time under the item's lock, so a round never holds more than two.
alter table agenda_item drop constraint agenda_item_method_check;
alter table agenda_item add constraint agenda_item_method_check
    check (vote_method in ('voice', 'hands', 'secret', 'named', 'paper'));

create table paper_count (
    item_id uuid not null references agenda_item (item_id),
    round integer not null,
    counter_id uuid not null references app_user (user_id),
    yes integer not null,
    no integer not null,
    abstain integer not null,
    entered_at timestamptz not null default now(),
    primary key (item_id, round, counter_id),
    constraint paper_count_round check (round >= 1),
    constraint paper_count_totals check (yes >= 0 and no >= 0 and abstain >= 0)
);
create trigger paper_count_changed after insert or update or delete on paper_count
    for each row execute function item_row_changed();
