-- A prerequisite record's attachment (the signed opinion, the assessment report) is a material
-- of the topic tied to that record; the record must be on file first.
alter table material add column prerequisite_kind text;
alter table material add constraint material_prerequisite_fkey
    foreign key (topic_id, prerequisite_kind) references topic_prerequisite (topic_id, kind);
