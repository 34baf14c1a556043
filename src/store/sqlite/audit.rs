//! The audit search across cases: events by actor, action, case and time, newest first, a page
//! at a time.
//!
//! A page is read from one index in `seq` order and stops after `limit` rows: `audit_actor`
//! (actor, seq), `audit_action` (action, seq), `audit_case` (case_id, seq), or the table itself
//! when no filter is given. A time window is first turned into a range of `seq` by two lookups
//! in `audit_at`: event times never go back along `seq` (the writer stamps an event no earlier
//! than the one before), so the events of a window are one run of numbers.

use jiff::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::rows::{AUDIT_COLUMNS, audit_row, store_err};
use crate::error::Result;
use crate::store::{AuditQuery, AuditRow};

/// The events of `q`, newest first.
pub(super) fn search(conn: &Connection, q: &AuditQuery) -> Result<Vec<AuditRow>> {
    if q.limit == 0 {
        return Ok(Vec::new());
    }
    // One snapshot for the bounds and the page.
    let _snapshot = conn.unchecked_transaction().map_err(store_err)?;
    let Some((lo, hi)) = seq_range(conn, q)? else {
        return Ok(Vec::new());
    };
    let mut sql = format!("SELECT {AUDIT_COLUMNS}, seq FROM audit WHERE seq BETWEEN ?1 AND ?2");
    let mut args = vec![Sql::Integer(lo), Sql::Integer(hi)];
    let mut and = |clause: &str, value: Sql| {
        args.push(value);
        sql.push_str(&format!(" AND {clause} ?{}", args.len()));
    };
    if let Some(actor) = &q.actor {
        and("actor =", Sql::Text(actor.clone()));
    }
    if let Some(action) = &q.action {
        and("action =", Sql::Text(action.clone()));
    }
    if let Some(id) = &q.case_id {
        and("case_id =", Sql::Text(id.as_str().to_string()));
    }
    // Exact at the edges, also for events written before times were kept in order.
    if let Some(from) = q.from {
        and("at >=", Sql::Integer(ceil_millis(from)));
    }
    if let Some(to) = q.to {
        and("at <", Sql::Integer(ceil_millis(to)));
    }
    args.push(Sql::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX)));
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT ?{}", args.len()));
    let mut st = conn.prepare_cached(&sql).map_err(store_err)?;
    st.query_map(params_from_iter(args), |r| {
        Ok(AuditRow {
            event: audit_row(r)?,
            seq: r.get::<_, i64>(7)? as u64,
        })
    })
    .and_then(|rows| rows.collect())
    .map_err(store_err)
}

/// The numbers the events of `q` can have, from `before` and the time window; `None` when none
/// can match.
fn seq_range(conn: &Connection, q: &AuditQuery) -> Result<Option<(i64, i64)>> {
    let mut lo = 1;
    let mut hi = match q.before {
        Some(before) => i64::try_from(before).unwrap_or(i64::MAX).saturating_sub(1),
        None => i64::MAX,
    };
    if let Some(from) = q.from {
        let first = one_seq(
            conn,
            "SELECT seq FROM audit WHERE at >= ?1 ORDER BY at, seq LIMIT 1",
            ceil_millis(from),
        )?;
        match first {
            Some(s) => lo = s,
            None => return Ok(None),
        }
    }
    if let Some(to) = q.to {
        let last = one_seq(
            conn,
            "SELECT seq FROM audit WHERE at < ?1 ORDER BY at DESC, seq DESC LIMIT 1",
            ceil_millis(to),
        )?;
        match last {
            Some(s) => hi = hi.min(s),
            None => return Ok(None),
        }
    }
    Ok((lo <= hi).then_some((lo, hi)))
}

fn one_seq(conn: &Connection, sql: &str, at: i64) -> Result<Option<i64>> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.query_row([at], |r| r.get(0)).optional())
        .map_err(store_err)
}

/// `t` in whole milliseconds, rounded up: event times are whole milliseconds, so `at >= t` and
/// `at < t` hold exactly when they hold of this.
fn ceil_millis(t: Timestamp) -> i64 {
    let ns = t.as_nanosecond();
    let ms = ns.div_euclid(1_000_000) + i128::from(ns.rem_euclid(1_000_000) > 0);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_up_to_whole_milliseconds() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(ceil_millis(t("1970-01-01T00:00:00.002Z")), 2);
        assert_eq!(ceil_millis(t("1970-01-01T00:00:00.0020001Z")), 3);
        assert_eq!(ceil_millis(t("1969-12-31T23:59:59.9995Z")), 0);
    }

    /// Each shape of search reads one index in `seq` order and never sorts: a page costs its
    /// `limit` rows, not the size of the trail.
    #[test]
    fn every_search_reads_one_index_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        for (filters, index) in [
            ("", None),
            (" AND actor = 'a'", Some("audit_actor")),
            (" AND action = 'reveal_contact'", Some("audit_action")),
            (" AND case_id = 'TS20260101-000001'", Some("audit_case")),
        ] {
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT {AUDIT_COLUMNS}, seq FROM audit
                 WHERE seq BETWEEN 1 AND 100{filters} AND at >= 0 AND at < 10
                 ORDER BY seq DESC LIMIT 50"
            );
            let plan: Vec<String> = conn
                .prepare(&sql)
                .unwrap()
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let plan = plan.join("; ");
            assert!(!plan.contains("TEMP B-TREE"), "{filters}: {plan}");
            match index {
                Some(i) => assert!(plan.contains(i), "{filters}: {plan}"),
                None => assert!(plan.contains("INTEGER PRIMARY KEY"), "{plan}"),
            }
        }
        for sql in [
            "EXPLAIN QUERY PLAN SELECT seq FROM audit WHERE at >= 5 ORDER BY at, seq LIMIT 1",
            "EXPLAIN QUERY PLAN SELECT seq FROM audit WHERE at < 5 ORDER BY at DESC, seq DESC LIMIT 1",
        ] {
            let plan: String = conn.query_row(sql, [], |r| r.get(3)).unwrap();
            assert!(plan.contains("audit_at"), "{plan}");
        }
    }
}
