//! `tousu audit`: the audit trail searched across cases (by actor, action, case and time), one
//! event per line as JSON, newest first. The operator of the data directory is its
//! administrator.

use clap::Args;
use jiff::Timestamp;
use tousu::config::Role;
use tousu::handling::Actor;
use tousu::service::{AuditFilter, MAX_AUDIT_PAGE};

use super::open::ServiceArgs;
use super::output::emit;

#[derive(Args)]
pub struct AuditArgs {
    /// Who acted: an API key's name, `import` or `system`.
    #[arg(long)]
    actor: Option<String>,
    /// The action: create, update, correct, link, note, contact, a step (assign, reply, …),
    /// reveal_contact.
    #[arg(long)]
    action: Option<String>,
    /// The case number.
    #[arg(long)]
    case_id: Option<String>,
    /// At or after (RFC 3339, or `yyyy-mm-dd hh:mm:ss` Beijing time).
    #[arg(long)]
    from: Option<String>,
    /// Before (RFC 3339, or `yyyy-mm-dd hh:mm:ss` Beijing time).
    #[arg(long)]
    to: Option<String>,
    /// Only events numbered below this (`seq`): where an earlier listing stopped.
    #[arg(long)]
    before: Option<u64>,
    /// Most events printed.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    limit: u64,
    /// Each event's `before` and `after` too (else the names of the fields it set).
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    service: ServiceArgs,
}

fn time(flag: &str, s: &Option<String>) -> anyhow::Result<Option<Timestamp>> {
    s.as_deref()
        .map(|s| tousu::domain::parse_time(s).map_err(|e| anyhow::anyhow!("--{flag} {s:?}: {e}")))
        .transpose()
}

pub fn run(a: AuditArgs) -> anyhow::Result<()> {
    let mut filter = AuditFilter {
        actor: a.actor,
        action: a.action,
        case_id: a.case_id,
        from: time("from", &a.from)?,
        to: time("to", &a.to)?,
        before: a.before,
        limit: MAX_AUDIT_PAGE,
        full: a.full,
    };
    // Checked before the store is opened: a typo costs no start-up.
    filter.check()?;
    let service = a.service.open_for_bulk()?;
    let admin = Actor::new("cli", Role::Admin);
    let mut left = a.limit;
    while left > 0 {
        filter.limit = usize::try_from(left).map_or(MAX_AUDIT_PAGE, |n| n.min(MAX_AUDIT_PAGE));
        let page = service.handling().audit_search(&filter, &admin)?;
        for event in &page.events {
            emit(&serde_json::to_string(event)?)?;
        }
        left -= page.events.len() as u64;
        match page.next_before {
            Some(next) => filter.before = Some(next),
            None => break,
        }
    }
    Ok(())
}
