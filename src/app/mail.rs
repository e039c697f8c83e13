//! Notifications by e-mail, when SMTP is configured: in-app notifications stay the record; a
//! notification to someone with an address who has not opted out also waits for the mailer,
//! which sends what `domain::mail` allows (never the notification's text) after the commit.
//! Each is taken under a row lock, so instances never mail one twice at once; a crash between
//! sending and recording may send one again (at least once, never lost).

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use crate::app::{AppError, Services};
use crate::config::MailConfig;
use crate::db;
use crate::display::datetime_zh;
use crate::domain::mail::{MeetingFacts, compose, meeting_of};

/// The most mails one round sends; the rest wait for the next.
const PER_ROUND: usize = 200;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: Option<String>,
}

impl Mailer {
    pub fn new(config: &MailConfig) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.smtp_url.expose())
            .map_err(|e| anyhow::anyhow!("YISHI_SMTP_URL: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        Ok(Mailer {
            transport,
            from: config.from.parse()?,
            public_url: config.public_url.clone(),
        })
    }
}

/// Sends the mails waiting, each in its own transaction; how many went out. A failure to reach
/// the server ends the round (the next one tries again).
pub async fn send_pending(state: &Services, mailer: &Mailer) -> Result<usize, AppError> {
    db::notifications::expire_mail(&mut *state.pool.acquire().await?).await?;
    let mut sent = 0;
    for _ in 0..PER_ROUND {
        let mut tx = state.pool.begin().await?;
        let Some(pending) = db::notifications::next_pending_mail(&mut tx).await? else {
            tx.commit().await?;
            break;
        };
        let id = pending.notification_id;
        let to = match (&pending.email, pending.mail_opt_out) {
            (Some(email), false) => email.parse::<Mailbox>().ok(),
            _ => None,
        };
        let Some(to) = to else {
            // The address went away, or its owner opted out, since the notification was sent.
            db::notifications::mail_done(&mut tx, id, Some("no address")).await?;
            tx.commit().await?;
            continue;
        };
        let meeting = match meeting_of(&pending.link).and_then(|m| Uuid::parse_str(m).ok()) {
            Some(m) => db::notifications::meeting_facts(&mut tx, m).await?.map(
                |(title, starts_at, place, secret_topic)| MeetingFacts {
                    title,
                    when_zh: datetime_zh(&starts_at),
                    place,
                    secret_topic,
                },
            ),
            None => None,
        };
        let mail = compose(
            &pending.name,
            &pending.link,
            meeting.as_ref(),
            mailer.public_url.as_deref(),
        );
        let message = Message::builder()
            .from(mailer.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(anyhow::Error::from)?;
        match mailer.transport.send(message).await {
            Ok(_) => {
                db::notifications::mail_done(&mut tx, id, None).await?;
                tx.commit().await?;
                sent += 1;
            }
            Err(e) => {
                // Only the kind of failure is kept and logged: never the address or the text.
                let kind = if e.is_permanent() {
                    "refused by the mail server"
                } else {
                    "mail server unreachable"
                };
                tracing::warn!(notification = %id, kind, "mail not sent");
                // A refusal is final; an unreachable server is tried again each round until the
                // notification is a day old (`expire_mail`).
                if e.is_permanent() {
                    db::notifications::mail_done(&mut tx, id, Some(kind)).await?;
                } else {
                    db::notifications::mail_failed(&mut tx, id, kind).await?;
                }
                tx.commit().await?;
                if !e.is_permanent() {
                    break;
                }
            }
        }
    }
    Ok(sent)
}
