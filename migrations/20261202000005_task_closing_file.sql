-- 督办: closing a task (销号) may carry a file, kept as a material of the decision's topic.
alter table task_progress add column material_id uuid references material (material_id);
