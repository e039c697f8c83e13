-- Notifications also by e-mail when SMTP is configured: a notification to someone with an
-- address who has not opted out waits for the mailer, which sends it after the commit and
-- marks it sent (or gives up after some attempts, keeping the last error).
alter table app_user add column mail_opt_out boolean not null default false;
alter table notification add column mail_pending boolean not null default false;
alter table notification add column mail_attempts integer not null default 0;
alter table notification add column mail_error text;
alter table notification add column mailed_at timestamptz;
create index notification_mail_pending on notification (created_at) where mail_pending;
