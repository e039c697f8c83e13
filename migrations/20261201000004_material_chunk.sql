-- Materials are stored in chunks of 256 KiB, so the server streams uploads into the database
-- and downloads out of it without holding a whole file in memory.
create table material_chunk (
    material_id uuid not null,
    n integer not null,
    data bytea not null,
    primary key (material_id, n),
    constraint material_chunk_n check (n >= 0),
    constraint material_chunk_size check (octet_length(data) between 1 and 262144)
);

insert into material_chunk (material_id, n, data)
select m.material_id, g.n, substring(m.data from g.n * 262144 + 1 for 262144)
from material m, generate_series(0, (octet_length(m.data) - 1) / 262144) as g (n);

alter table material drop constraint material_size_check;
alter table material drop column data;
alter table material add constraint material_size_check check (size_bytes > 0);

-- The chunks of an upload are written as it arrives, the material row last: the check waits
-- for the end of the transaction.
alter table material_chunk add constraint material_chunk_material_fkey
    foreign key (material_id) references material (material_id) deferrable initially deferred;
