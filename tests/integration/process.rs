//! The handling process of each shipped profile, taken step by step on cases in every status:
//! the transition table (allowed and refused, by role), abnormal closing after failed
//! call-backs, extensions, remedies above the approval amount, and what a refused step leaves
//! (nothing).

use jiff::{SignedDuration, Timestamp};
use tousu::domain::{
    Action, ActionRequest, Case, ContactAttempt, Extension, FollowUp, Pause, Remedy, Role,
    Satisfaction, Status, Step,
};
use tousu::error::Error;
use tousu::handling::{Actor, Directory, Rules, WorkCalendar, take};
use tousu::store::conformance::sample_case;
use tousu::triage::Profile;

/// The statuses each step is taken from: the same in both shipped profiles (a closed,
/// withdrawn or abnormally closed case takes none).
const FROM: [(Action, &[Status]); 14] = {
    use Status::*;
    [
        (Action::Assign, &[Triaged, Returned]),
        (Action::Accept, &[Assigned]),
        (Action::Return, &[Assigned, Handling]),
        (Action::Reply, &[Handling]),
        (Action::FollowUp, &[Replied]),
        (Action::Close, &[FollowedUp]),
        (Action::Reopen, &[FollowedUp]),
        (Action::Suspend, &[Assigned, Handling]),
        (Action::Resume, &[Suspended]),
        (
            Action::Withdraw,
            &[Triaged, Assigned, Handling, Returned, Suspended],
        ),
        (Action::CloseAbnormally, &[Replied]),
        (Action::RequestExtension, &[Assigned, Handling]),
        (Action::GrantExtension, &[Assigned, Handling, Suspended]),
        (Action::RefuseExtension, &[Assigned, Handling, Suspended]),
    ]
};

/// The roles (besides admin, who may take any step) that take each step, per profile.
fn roles(profile: &str, action: Action) -> &'static [Role] {
    use Role::*;
    match (profile, action) {
        (_, Action::Assign | Action::Reopen | Action::CloseAbnormally) => &[Supervisor],
        (_, Action::GrantExtension | Action::RefuseExtension) => &[Supervisor],
        // 回访 and 办结 belong to the hotline in 12345 work, to the desk in a telecom one.
        ("gov", Action::FollowUp | Action::Close) => &[Supervisor],
        ("gov", Action::Withdraw) => &[Intake, Supervisor],
        ("telecom", Action::Withdraw) => &[Intake, Handler, Supervisor],
        _ => &[Handler, Supervisor],
    }
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Now, for every step in this file: Wed 4 Mar 2026 10:00 Beijing.
fn now() -> Timestamp {
    at("2026-03-04T02:00:00Z")
}

/// A case in `status`, with what each step from there needs: a department, a running close
/// deadline, a reply, an unsatisfied follow-up, three failed call-backs this month, an
/// extension waiting for a decision, an open pause.
fn case_in(status: Status, action: Action, profile: &Profile) -> Case {
    let mut c = sample_case("小区路灯坏了一个月没人修", "2026-03-02T01:00:00Z");
    c.id = tousu::domain::CaseId("TS20260302-000001".into());
    c.seq = 1;
    c.status = status;
    let policy = profile.policy.as_ref().unwrap();
    let department = policy.departments().into_iter().next().unwrap().to_string();
    c.department = Some(department);
    c.category = policy.routed_categories().next().map(str::to_string);
    c.deadlines = policy
        .deadlines(
            &WorkCalendar::builtin().unwrap(),
            c.grade,
            None,
            c.received_at,
        )
        .unwrap();
    if matches!(status, Status::Replied | Status::FollowedUp) {
        c.resolution = Some("已安排维修".into());
        c.resolved_at = Some(at("2026-03-03T02:00:00Z"));
    }
    if status == Status::FollowedUp {
        c.handling.follow_up = Some(FollowUp {
            at: at("2026-03-03T06:00:00Z"),
            by: "lead".into(),
            result: Satisfaction::Unsatisfied,
            solved: Some(false),
            comment: None,
        });
    }
    for day in 1..=3 {
        c.handling.contacts.push(ContactAttempt {
            at: now() - SignedDuration::from_hours(day),
            by: "lead".into(),
            reached: false,
            outcome: Some("无人接听".into()),
        });
    }
    if matches!(action, Action::GrantExtension | Action::RefuseExtension) {
        c.handling.extensions.push(Extension {
            at: at("2026-03-03T02:00:00Z"),
            by: "wang".into(),
            step: Step::Close,
            days: 3,
            reason: "需协调供电部门".into(),
            granted: None,
            decided_by: None,
            decided_at: None,
            decision_note: None,
        });
    }
    if status == Status::Suspended {
        c.handling.pauses.push(Pause {
            from: at("2026-03-03T02:00:00Z"),
            to: None,
            was: Status::Handling,
            reason: "等待诉求人补充材料".into(),
        });
    }
    c
}

/// A request for `action` with everything any step may need.
fn full_request(action: Action, profile: &Profile) -> ActionRequest {
    let policy = profile.policy.as_ref().unwrap();
    let mut r = ActionRequest::new(action);
    r.department = policy.departments().into_iter().next().map(str::to_string);
    r.reason = Some("理由".into());
    r.reply = Some("已答复诉求人".into());
    r.result = Some(Satisfaction::Satisfied);
    r.root_cause = profile.process.root_causes().first().cloned();
    r.days = Some(2);
    r
}

/// The rules a step is checked against, over what `rules_of` made.
fn rules<'a>(
    profile: &'a Profile,
    directory: &'a Directory,
    calendar: &'a WorkCalendar,
) -> Rules<'a> {
    Rules {
        process: &profile.process,
        policy: profile.policy.as_ref(),
        calendar,
        directory,
    }
}

fn rules_of(profile: &Profile) -> (Directory, WorkCalendar) {
    (
        Directory::new(profile.policy.as_ref(), std::iter::empty()),
        WorkCalendar::builtin().unwrap(),
    )
}

#[test]
fn the_transition_table_of_each_profile_allows_and_refuses_as_written() {
    for name in ["telecom", "gov"] {
        let profile = Profile::builtin(name).unwrap();
        let (directory, calendar) = rules_of(&profile);
        let rules = rules(&profile, &directory, &calendar);
        let mut allowed_steps = 0;
        for status in Status::ALL {
            // What may be done from `status`, by an admin, in process order.
            let expected_next: Vec<&str> = Action::ALL
                .into_iter()
                .filter(|a| {
                    FROM.iter()
                        .any(|(x, from)| x == a && from.contains(&status))
                })
                .map(Action::code)
                .collect();
            for (action, from) in FROM {
                let allowed = from.contains(&status);
                for role in [
                    Role::Admin,
                    Role::Supervisor,
                    Role::Handler,
                    Role::Intake,
                    Role::Analyst,
                ] {
                    let mut case = case_in(status, action, &profile);
                    let before = case.clone();
                    let actor = Actor::new("someone", role);
                    let may =
                        allowed && (role == Role::Admin || roles(name, action).contains(&role));
                    let got = take(
                        &mut case,
                        full_request(action, &profile),
                        &actor,
                        &rules,
                        now(),
                    );
                    match got {
                        Ok(code) => {
                            assert!(may, "{name}: {role:?} took {action} from {status}");
                            assert_eq!(code, action.code());
                            allowed_steps += 1;
                        }
                        Err(Error::InvalidTransition {
                            action: a,
                            status: s,
                            allowed: next,
                        }) => {
                            assert!(!may, "{name}: {role:?} was refused {action} from {status}");
                            assert_eq!((a, s), (action.code(), status.code()));
                            if role == Role::Admin {
                                assert_eq!(next, expected_next, "{name}: after {status}");
                            }
                            assert_eq!(case, before, "a refused step changes nothing");
                        }
                        Err(e) => panic!("{name}: {role:?} {action} from {status}: {e}"),
                    }
                }
            }
        }
        assert!(allowed_steps > 40, "{name}: {allowed_steps} steps taken");
    }
}

#[test]
fn each_step_leaves_the_status_the_process_says() {
    let profile = Profile::builtin("telecom").unwrap();
    let (directory, calendar) = rules_of(&profile);
    let rules = rules(&profile, &directory, &calendar);
    let admin = Actor::new("root", Role::Admin);
    for (action, from, to) in [
        (Action::Assign, Status::Triaged, Status::Assigned),
        (Action::Accept, Status::Assigned, Status::Handling),
        (Action::Return, Status::Handling, Status::Returned),
        (Action::Reply, Status::Handling, Status::Replied),
        (Action::FollowUp, Status::Replied, Status::FollowedUp),
        (Action::Close, Status::FollowedUp, Status::Closed),
        (Action::Reopen, Status::FollowedUp, Status::Handling),
        (Action::Suspend, Status::Assigned, Status::Suspended),
        (Action::Resume, Status::Suspended, Status::Handling),
        (Action::Withdraw, Status::Handling, Status::Withdrawn),
        (
            Action::CloseAbnormally,
            Status::Replied,
            Status::ClosedAbnormally,
        ),
        (Action::RequestExtension, Status::Handling, Status::Handling),
        (Action::GrantExtension, Status::Handling, Status::Handling),
        (
            Action::RefuseExtension,
            Status::Suspended,
            Status::Suspended,
        ),
    ] {
        let mut case = case_in(from, action, &profile);
        take(
            &mut case,
            full_request(action, &profile),
            &admin,
            &rules,
            now(),
        )
        .unwrap();
        assert_eq!(case.status, to, "{action} from {from}");
    }
}

#[test]
fn a_case_imported_as_suspended_without_a_pause_resumes_to_handling() {
    let profile = Profile::builtin("telecom").unwrap();
    let (directory, calendar) = rules_of(&profile);
    let rules = rules(&profile, &directory, &calendar);
    let mut case = case_in(Status::Suspended, Action::Resume, &profile);
    case.handling.pauses.clear();
    let request = full_request(Action::Resume, &profile);
    take(
        &mut case,
        request,
        &Actor::new("root", Role::Admin),
        &rules,
        now(),
    )
    .unwrap();
    assert_eq!(case.status, Status::Handling);
    assert!(case.handling.pauses.is_empty(), "no pause is made up");
}

/// Three failed call-backs within 30 days allow an abnormal close; two, or three of which one
/// is older than 30 days, do not.
#[test]
fn three_failed_call_backs_allow_an_abnormal_close_two_do_not() {
    let profile = Profile::builtin("gov").unwrap();
    let (directory, calendar) = rules_of(&profile);
    let rules = rules(&profile, &directory, &calendar);
    let lead = Actor::new("lead", Role::Supervisor);
    let req = || {
        let mut r = ActionRequest::new(Action::CloseAbnormally);
        r.reason = Some("三次回访均未接通".into());
        r
    };
    let mut three = case_in(Status::Replied, Action::CloseAbnormally, &profile);
    take(&mut three, req(), &lead, &rules, now()).unwrap();
    assert_eq!(three.status, Status::ClosedAbnormally);
    assert_eq!(three.handling.closed_at, Some(now()));
    assert!(
        three.deadlines.iter().all(|d| d.met_at.is_some()),
        "nothing is due of it"
    );

    let mut two = case_in(Status::Replied, Action::CloseAbnormally, &profile);
    two.handling.contacts.pop();
    let before = two.clone();
    match take(&mut two, req(), &lead, &rules, now()) {
        Err(Error::Invalid(m)) => assert!(
            m.contains("3 failed call-backs") && m.contains("has 2"),
            "{m}"
        ),
        other => panic!("two failed call-backs: {other:?}"),
    }
    assert_eq!(two, before);

    // A reached call-back does not count, nor one from last month.
    let mut stale = case_in(Status::Replied, Action::CloseAbnormally, &profile);
    stale.handling.contacts[0].at = now() - SignedDuration::from_hours(24 * 31);
    stale.handling.contacts.push(ContactAttempt {
        at: now(),
        by: "lead".into(),
        reached: true,
        outcome: None,
    });
    assert!(matches!(
        take(&mut stale, req(), &lead, &rules, now()),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn a_step_without_what_it_needs_is_refused_naming_the_field() {
    let profile = Profile::builtin("telecom").unwrap();
    let (directory, calendar) = rules_of(&profile);
    let rules = rules(&profile, &directory, &calendar);
    let handler = Actor::new("wang", Role::Handler);
    let lead = Actor::new("lead", Role::Supervisor);
    let refused = |status: Status, req: ActionRequest, who: &Actor, field: &str| {
        let mut case = case_in(status, req.action, &profile);
        let before = case.clone();
        match take(&mut case, req, who, &rules, now()) {
            Err(Error::Invalid(m)) => assert!(m.contains(field), "{field}: {m}"),
            other => panic!("{field}: {other:?}"),
        }
        assert_eq!(case, before, "nothing half-applied");
    };
    // An extension without a reason.
    let mut r = ActionRequest::new(Action::RequestExtension);
    r.days = Some(3);
    refused(Status::Handling, r, &handler, "`reason`");
    // A remedy above the approval amount (500 yuan) without a supervisor.
    let mut r = ActionRequest::new(Action::Reply);
    r.reply = Some("退还多扣费用".into());
    r.remedy = Some(Remedy::Refund);
    r.amount = Some(800.0);
    refused(Status::Handling, r.clone(), &handler, "`amount`");
    let mut case = case_in(Status::Handling, Action::Reply, &profile);
    take(&mut case, r, &lead, &rules, now()).unwrap();
    let remedy = case.handling.remedy.as_ref().unwrap();
    assert_eq!(
        remedy.approved_by.as_deref(),
        Some("lead"),
        "the supervisor approved it"
    );
    assert_eq!(remedy.amount, Some(800.0));
    // A follow-up of a case never answered.
    let mut r = ActionRequest::new(Action::FollowUp);
    r.result = Some(Satisfaction::Satisfied);
    let mut never = case_in(Status::Replied, Action::FollowUp, &profile);
    never.resolution = None;
    match take(&mut never, r, &handler, &rules, now()) {
        Err(Error::Invalid(m)) => assert!(
            m.contains("`result`") && m.contains("never answered"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    // An unknown department, an unknown handler, a root cause off the list.
    let mut r = ActionRequest::new(Action::Assign);
    r.department = Some("不存在的部门".into());
    refused(Status::Triaged, r, &lead, "GET /v1/directory");
    let mut r = full_request(Action::Assign, &profile);
    r.handler = Some("nobody".into());
    refused(Status::Triaged, r, &lead, "`handler`");
    let mut r = ActionRequest::new(Action::Close);
    r.root_cause = Some("天灾".into());
    refused(Status::FollowedUp, r, &lead, "`root_cause`");
}

#[test]
fn an_extension_granted_moves_the_deadline_and_a_pause_stops_the_clock() {
    let profile = Profile::builtin("telecom").unwrap();
    let (directory, calendar) = rules_of(&profile);
    let rules = rules(&profile, &directory, &calendar);
    let (wang, lead) = (
        Actor::new("wang", Role::Handler),
        Actor::new("lead", Role::Supervisor),
    );
    let mut case = case_in(Status::Handling, Action::RequestExtension, &profile);
    let close = |c: &Case| {
        c.deadlines
            .iter()
            .find(|d| d.step == Step::Close)
            .unwrap()
            .due
    };
    let before = close(&case);
    let mut r = ActionRequest::new(Action::RequestExtension);
    r.reason = Some("需协调供电部门".into());
    r.days = Some(3);
    take(&mut case, r, &wang, &rules, now()).unwrap();
    assert_eq!(close(&case), before, "asked, not yet granted");
    // A second request while one waits is a conflict.
    let mut again = ActionRequest::new(Action::RequestExtension);
    again.reason = Some("再延".into());
    again.days = Some(1);
    assert!(matches!(
        take(&mut case.clone(), again, &wang, &rules, now()),
        Err(Error::Conflict(_))
    ));
    take(
        &mut case,
        ActionRequest::new(Action::GrantExtension),
        &lead,
        &rules,
        now(),
    )
    .unwrap();
    // Received Mon 2 Mar 2026 09:00; 一般 closes in 15 working days: Mon 23 Mar; +3: Thu 26.
    assert_eq!(before, at("2026-03-23T15:59:59Z"));
    assert_eq!(close(&case), at("2026-03-26T15:59:59Z"));
    assert_eq!(case.handling.extensions[0].granted, Some(true));
    assert_eq!(
        case.handling.extensions[0].decided_by.as_deref(),
        Some("lead")
    );

    // Suspended Wed 4 Mar 10:00, resumed Mon 9 Mar 10:00: three working days (4, 5, 6 Mar
    // counted from 10:00 to 10:00) move every running deadline.
    let mut r = ActionRequest::new(Action::Suspend);
    r.reason = Some("等待用户提供发票".into());
    take(&mut case, r, &wang, &rules, now()).unwrap();
    assert_eq!(case.status, Status::Suspended);
    let resumed = at("2026-03-09T02:00:00Z");
    take(
        &mut case,
        ActionRequest::new(Action::Resume),
        &wang,
        &rules,
        resumed,
    )
    .unwrap();
    assert_eq!(case.status, Status::Handling);
    assert_eq!(
        close(&case),
        at("2026-03-31T15:59:59Z"),
        "26 Mar + 3 working days"
    );
}
