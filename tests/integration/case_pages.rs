//! Per-case pages a team keeps on: the model must find the case 重大 with enough probability,
//! only the first case of a matter pages, at most `max_case_alerts_per_day` in any 24 hours
//! (across midnight too), and the rest wait for their day's digest.

use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::Value;
use tousu::alerts::{AlertCenter, AlertSettings};
use tousu::domain::{Grade, Reason};
use tousu::service::{Service, ServiceSettings};

use crate::support::fixture_service_with;
use crate::watch::{SAFETY, assert_reason, create};

/// Another hazard, another matter (a different compound, different words): 安全隐患 gives the
/// common `safety` rule.
const FIRE_EXIT: &str = "幸福里小区地下车库的消防通道被堆满杂物，存在严重安全隐患，物业一直不清理";

fn service(dir: &std::path::Path, settings: ServiceSettings) -> Service {
    fixture_service_with(dir, settings, Some(AlertSettings::default()))
}

/// Settings where the rules alone decide 重大 (the tiny fixture model's own grade is noise).
fn without_model_gate() -> ServiceSettings {
    let mut settings = ServiceSettings::default();
    settings.alert_rules.case_alerts_need_model = false;
    settings
}

/// The keys of the per-case pages raised, newest first.
fn paged(center: &AlertCenter) -> Vec<String> {
    center
        .history(None, 100)
        .unwrap()
        .into_iter()
        .filter(|r| r.alert.rule == "safety_case")
        .map(|r| r.alert.key)
        .collect()
}

fn rules(center: &AlertCenter) -> Vec<String> {
    let mut rules: Vec<String> = center
        .history(None, 100)
        .unwrap()
        .into_iter()
        .map(|r| r.alert.rule)
        .collect();
    rules.reverse();
    rules
}

fn center(service: &Service) -> &AlertCenter {
    service.views().watch().alerts().expect("alerting is on")
}

/// The digest's case numbers.
fn digested(center: &AlertCenter) -> Vec<String> {
    let history = center.history(None, 100).unwrap();
    let digest = history
        .iter()
        .find(|r| r.alert.rule == "case_digest")
        .unwrap_or_else(|| panic!("no digest: {:?}", rules(center)));
    digest.alert.data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

#[test]
fn case_alerts_page_once_a_day_and_digest_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), without_model_gate());
    let yesterday = Timestamp::now() - SignedDuration::from_hours(24);
    let cases: Vec<_> = (0..3)
        .map(|i| {
            create(
                &service,
                SAFETY,
                Some(yesterday + SignedDuration::from_mins(i)),
            )
        })
        .collect();
    for c in &cases {
        assert_reason(c, Reason::Safety);
    }
    service.views().sync().unwrap();
    // One page for the day; the other two wait.
    assert_eq!(rules(center(&service)), ["safety_case"]);
    // The first case of the next day brings yesterday's digest, naming the two held back.
    create(&service, "话费账单有疑问，想查询一下", None);
    service.views().sync().unwrap();
    assert_eq!(
        digested(center(&service)),
        [cases[1].id.to_string(), cases[2].id.to_string()]
    );
    assert_eq!(rules(center(&service)), ["safety_case", "case_digest"]);
}

#[test]
fn the_daily_limit_is_any_24_hours_not_a_calendar_day() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), without_model_gate());
    // 23:50 and 00:10 across the last midnight but one, Beijing time (both past, however
    // early today it is; within the 72 hours that still alert): two matters 20 minutes apart.
    let beijing = TimeZone::fixed(Offset::constant(8));
    let today = Timestamp::now().to_zoned(beijing.clone()).date() - 1.day();
    let at = |date: jiff::civil::Date, h: i8, m: i8| {
        date.at(h, m, 0, 0)
            .to_zoned(beijing.clone())
            .unwrap()
            .timestamp()
    };
    let late = create(&service, SAFETY, Some(at(today - 1.day(), 23, 50)));
    let early = create(&service, FIRE_EXIT, Some(at(today, 0, 10)));
    assert_reason(&late, Reason::Safety);
    assert_reason(&early, Reason::Safety);
    assert!(
        early.links.is_empty(),
        "not the same matter: {:?}",
        early.links
    );
    service.views().sync().unwrap();
    let center = center(&service);
    assert_eq!(
        paged(center),
        [format!("case:{}", late.id)],
        "{:?}",
        rules(center)
    );
}

#[test]
fn a_repeat_of_a_matter_that_paged_waits_for_the_digest() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = without_model_gate();
    settings.alert_rules.max_case_alerts_per_day = 0;
    let service = service(dir.path(), settings);
    let yesterday = Timestamp::now() - SignedDuration::from_hours(30);
    let first = create(&service, SAFETY, Some(yesterday));
    let again = create(
        &service,
        SAFETY,
        Some(yesterday + SignedDuration::from_mins(5)),
    );
    assert!(!again.links.is_empty(), "the same words are linked");
    // A different matter still pages: the limit is off, so only the matter held `again`.
    let other = create(
        &service,
        FIRE_EXIT,
        Some(yesterday + SignedDuration::from_mins(10)),
    );
    service.views().sync().unwrap();
    let keys = paged(center(&service));
    assert_eq!(
        keys.len(),
        2,
        "{keys:?} for {} {} {}",
        first.id,
        again.id,
        other.id
    );
    assert!(keys.contains(&format!("case:{}", first.id)), "{keys:?}");
    assert!(keys.contains(&format!("case:{}", other.id)), "{keys:?}");
    create(&service, "话费账单有疑问，想查询一下", None);
    service.views().sync().unwrap();
    assert_eq!(digested(center(&service)), [again.id.to_string()]);
}

#[test]
fn a_page_needs_the_models_own_probability_of_major() {
    let probe_dir = tempfile::tempdir().unwrap();
    let probe = service(probe_dir.path(), ServiceSettings::default());
    let case = create(&probe, SAFETY, None);
    assert_eq!(case.grade, Grade::Major, "the rule raised it");
    let p = case
        .model_major_probability
        .expect("the probability is kept");
    assert!((0.0..=1.0).contains(&p), "{p}");
    // Whatever the tiny fixture model makes of it, a gate just below its probability pages and
    // one just above holds the case for the digest.
    for (gate, pages) in [(p - 1e-3, true), (p + 1e-3, false)] {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = ServiceSettings::default();
        settings.alert_rules.case_alert_min_probability = gate;
        let service = service(dir.path(), settings);
        let c = create(&service, SAFETY, None);
        assert_eq!(c.model_major_probability, Some(p));
        service.views().sync().unwrap();
        let raised = rules(center(&service));
        assert_eq!(
            raised == ["safety_case"],
            pages,
            "gate {gate}, p {p}: {raised:?}"
        );
        assert!(pages || raised.is_empty(), "{raised:?}");
    }
}
