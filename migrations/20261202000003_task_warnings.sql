-- 督办 that warns (R-SUPERVISION): the reminders a task's lead gets without anyone sending
-- them, three days before and on the due date. The key makes each go once per due date, also
-- when several server instances look at the same time.
create table task_auto_reminder (
    task_id uuid not null references task (task_id),
    kind text not null,
    due_on date not null,
    sent_at timestamptz not null default now(),
    primary key (task_id, kind, due_on),
    constraint task_auto_reminder_kind check (kind in ('three_days_before', 'due_day'))
);

-- The automatic report item of a meeting, 上次会议决定事项落实情况: the tasks of the group's
-- previous meeting that decided any, chosen when the meeting is scheduled.
create table followup_report (
    meeting_id uuid primary key references meeting (meeting_id),
    reports_on uuid not null references meeting (meeting_id),
    constraint followup_report_other check (meeting_id <> reports_on)
);
create trigger followup_report_changed after insert or update or delete on followup_report
    for each row execute function meeting_row_changed();

-- A task's progress changes the report of the meeting that reports on it: that meeting's read
-- models are read again.
create function task_reported_changed() returns trigger
language plpgsql as $$
declare
    v_meeting uuid;
begin
    for v_meeting in
        select r.meeting_id from followup_report r
        join agenda_item i on i.meeting_id = r.reports_on
        join task k on k.item_id = i.item_id
        where k.task_id = new.task_id
    loop
        perform meeting_changed(v_meeting, 'followup_report');
    end loop;
    return null;
end
$$;
create trigger task_reported_changed after insert or update on task
    for each row execute function task_reported_changed();
create trigger task_progress_reported_changed after insert on task_progress
    for each row execute function task_reported_changed();
