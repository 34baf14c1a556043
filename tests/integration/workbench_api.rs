//! What the workbench needs of the API beyond the process: search by handler, by links, by
//! overdue deadline and by topic, with facet counts that keep a filtered facet's other values
//! (so several can be picked); hits with their handler and next deadline; a case's links read
//! both ways; suggested resolutions for a stored case. Each held to the caller's departments.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::{
    ANALYST_KEY, BILL, BROADBAND, HANDLER_KEY, NETWORK, SUPERVISOR_KEY, TestApp, app, id_of, ids,
};
use crate::support::http::enc;

fn counts(v: &Value, facet: &str) -> Vec<(String, u64)> {
    v["facets"][facet]
        .as_array()
        .unwrap_or_else(|| panic!("no {facet} facet: {v}"))
        .iter()
        .map(|c| {
            (
                c["value"].as_str().unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn search(t: &TestApp, query: &str, key: &str) -> Value {
    t.get(&format!("/v1/search?{query}"), Some(key))
        .await
        .expect(StatusCode::OK)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_facet_keeps_its_other_values_and_handlers_are_facets() {
    let t = app();
    let broadband = t.create_text(BROADBAND).await;
    t.create_text(BILL).await;
    t.step(
        &broadband,
        SUPERVISOR_KEY,
        json!({ "action": "assign", "department": NETWORK, "handler": "wang" }),
    )
    .await;
    t.sync();
    let all = search(&t, "", ANALYST_KEY).await;
    let channels = counts(&all, "channel");
    let status = counts(&all, "status");
    assert_eq!(counts(&all, "assignee"), [("wang".to_string(), 1)], "{all}");
    assert!(counts(&all, "linked").is_empty(), "{all}");

    // Filtering on status keeps every status's count (picking another adds its cases), while
    // the other facets count what the filter leaves.
    let v = search(&t, "status=assigned", ANALYST_KEY).await;
    assert_eq!(ids(&v["hits"]), [broadband.as_str()]);
    assert_eq!(counts(&v, "status"), status, "{v}");
    let v_channels: u64 = counts(&v, "channel").iter().map(|(_, n)| n).sum();
    assert_eq!(v_channels, 1, "{v}");
    assert_eq!(channels.iter().map(|(_, n)| n).sum::<u64>(), 2);

    // By handler; the hit names its handler and its next deadline.
    let v = search(&t, "assignee=wang", ANALYST_KEY).await;
    assert_eq!(ids(&v["hits"]), [broadband.as_str()]);
    assert_eq!(v["hits"][0]["assignee"], "wang");
    let next = &v["hits"][0]["next_deadline"];
    assert!(next["due"].is_string() && next["step"].is_string(), "{v}");
    let v = search(&t, "assignee=nobody", ANALYST_KEY).await;
    assert_eq!(v["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_topic_and_link_filters_find_their_cases() {
    let t = app();
    // Received weeks ago: its first deadline (签收) is long past.
    let late = id_of(
        &t.create(&json!({ "text": BROADBAND, "received_at": "2026-03-02T02:00:00Z" }))
            .await,
    );
    let fresh = t.create_text(BILL).await;
    // The same text twice, recently: the second is a near duplicate of the first.
    t.create_text(BROADBAND).await;
    let again = id_of(&t.create(&json!({ "text": BROADBAND })).await);
    t.sync();

    let v = search(&t, "overdue=true", ANALYST_KEY).await;
    let found = ids(&v["hits"]);
    assert!(found.contains(&late), "{v}");
    assert!(!found.contains(&fresh), "{v}");
    for hit in v["hits"].as_array().unwrap() {
        assert_eq!(hit["next_deadline"]["state"], "breached", "{hit}");
    }
    let v = search(&t, "overdue=false", ANALYST_KEY).await;
    assert_eq!(v["total"], 4);

    // The same text again is a near duplicate of the first: found by `linked`.
    let v = search(&t, "linked=duplicate", ANALYST_KEY).await;
    assert_eq!(ids(&v["hits"]), [again.as_str()], "{v}");
    assert_eq!(counts(&v, "linked"), [("duplicate".to_string(), 1)]);
    t.get("/v1/search?linked=twin", Some(ANALYST_KEY))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");

    // A topic's cases: every case is put in a topic as it arrives, the first in T0 (the ids
    // /v1/topics gives for the hot ones); an id that is no topic says so.
    let v = search(&t, "topic=T0", ANALYST_KEY).await;
    assert!(v["total"].as_u64().unwrap() >= 1, "{v}");
    assert!(
        v["total"].as_u64().unwrap() < 4,
        "a topic is not every case: {v}"
    );
    let m = t
        .get("/v1/search?topic=T999999", Some(ANALYST_KEY))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("/v1/topics"), "{m}");
    t.get("/v1/search?topic=", Some(ANALYST_KEY))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_counts_and_finds_only_their_departments() {
    let t = app();
    let ours = t.create_text(BROADBAND).await;
    let theirs = t.create_text(BILL).await;
    t.sync();
    let all = search(&t, "", ANALYST_KEY).await;
    let departments = counts(&all, "department");
    assert_eq!(
        departments.len(),
        2,
        "the two cases go to two departments: {all}"
    );
    let other = departments
        .iter()
        .map(|(d, _)| d.clone())
        .find(|d| d != NETWORK)
        .unwrap();

    // Filtered on their own department, the department facet still shows only theirs.
    let v = search(&t, &format!("department={}", enc(NETWORK)), HANDLER_KEY).await;
    assert_eq!(ids(&v["hits"]), [ours.as_str()]);
    assert_eq!(counts(&v, "department"), [(NETWORK.to_string(), 1)], "{v}");
    let v = search(&t, &format!("department={}", enc(&other)), HANDLER_KEY).await;
    assert_eq!(v["total"], 0, "{v}");
    assert_eq!(counts(&v, "department"), [(NETWORK.to_string(), 1)], "{v}");
    let v = search(&t, "overdue=false", HANDLER_KEY).await;
    assert!(!ids(&v["hits"]).contains(&theirs));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_links_read_both_ways_within_the_callers_departments() {
    let t = app();
    let first = id_of(
        &t.create(&json!({ "text": BROADBAND, "contact": "13812345678" }))
            .await,
    );
    let repeat = id_of(
        &t.create(&json!({ "text": "家里宽带又断网了，三天了报修多次还是没人处理", "contact": "13812345678" }))
            .await,
    );
    let other_matter = id_of(
        &t.create(&json!({ "text": BILL, "contact": "13812345678" }))
            .await,
    );
    let duplicate = id_of(&t.create(&json!({ "text": BROADBAND })).await);
    t.sync();

    let v = t
        .get(&format!("/v1/cases/{first}/links"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&v["repeated_by"]), [repeat.as_str()], "{v}");
    assert!(ids(&v["duplicates"]).contains(&duplicate), "{v}");
    let mine = ids(&v["same_complainant"]);
    assert!(
        mine.contains(&repeat) && mine.contains(&other_matter),
        "{v}"
    );
    assert!(!mine.contains(&first), "{v}");
    assert!(v["repeat_of"].as_array().unwrap().is_empty());

    let v = t
        .get(&format!("/v1/cases/{repeat}/links"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&v["repeat_of"]), [first.as_str()], "{v}");

    // wang (网络运维中心) does not see the bill case of another department among the links.
    let v = t
        .get(&format!("/v1/cases/{first}/links"), Some(HANDLER_KEY))
        .await
        .expect(StatusCode::OK);
    assert!(!ids(&v["same_complainant"]).contains(&other_matter), "{v}");
    t.get(
        &format!("/v1/cases/{other_matter}/links"),
        Some(HANDLER_KEY),
    )
    .await
    .error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_case_gets_resolutions_of_similar_resolved_cases() {
    let t = app();
    let earlier = t.create_text(BROADBAND).await;
    t.patch(
        &earlier,
        Some(crate::api::ADMIN_KEY),
        &json!({ "resolution": "已安排装维人员上门更换光猫，宽带恢复正常，向用户致歉", "remedy": "维修" }),
    )
    .await
    .expect(StatusCode::OK);
    let now = t.create_text("家里宽带又断网了，报修没人处理").await;
    t.sync();
    let v = t
        .get(&format!("/v1/cases/{now}/suggestions"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    let s = v["suggestions"].as_array().unwrap();
    assert_eq!(s.len(), 1, "{v}");
    assert_eq!(s[0]["case_id"], earlier.as_str());
    assert!(s[0]["resolution"].as_str().unwrap().contains("光猫"));
    // The resolved case itself is not suggested to itself.
    let v = t
        .get(
            &format!("/v1/cases/{earlier}/suggestions"),
            Some(ANALYST_KEY),
        )
        .await
        .expect(StatusCode::OK);
    assert!(!ids_of(&v["suggestions"]).contains(&earlier), "{v}");
    t.get(
        &format!("/v1/cases/{now}/suggestions?limit=0"),
        Some(ANALYST_KEY),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
}

fn ids_of(suggestions: &Value) -> Vec<String> {
    suggestions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["case_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_is_explained_on_request_within_the_callers_departments() {
    let t = app();
    let ours = t.create_text(BROADBAND).await;
    let theirs = t.create_text(BILL).await;
    t.sync();
    let v = t
        .get(&format!("/v1/cases/{ours}/explanation"), Some(HANDLER_KEY))
        .await
        .expect(StatusCode::OK);
    let drivers = v["category"]["drivers"].as_array().unwrap();
    assert!(!drivers.is_empty(), "{v}");
    // Every driver is a phrase of the case's text (as the model read it: normalised).
    let case = t
        .get(&format!("/v1/cases/{ours}"), Some(HANDLER_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["category"]["label"], case["category"], "{v}");
    for d in drivers {
        let phrase = d["phrase"].as_str().unwrap().replace(',', "，");
        let text = case["text"].as_str().unwrap().replace(',', "，");
        assert!(
            text.contains(phrase.trim_end_matches('，')),
            "{phrase} in {text}"
        );
    }
    t.get(
        &format!("/v1/cases/{theirs}/explanation"),
        Some(HANDLER_KEY),
    )
    .await
    .error(StatusCode::NOT_FOUND, "not_found");
}
