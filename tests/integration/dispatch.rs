//! Dispatch (派单): a profile's dispatch model decides the department when it knows the kind,
//! the category table when it reads 其他单位 or ships none; and weights stored in f16 judge as
//! the f32 ones did.

use std::path::Path;

use tousu::classify::{Classifier, Example, TrainOptions, halve_weights, load_jsonl, train};
use tousu::domain::DispatchSource;
use tousu::text::{SegmentConfig, Segmenter, TextPipeline};
use tousu::triage::office_kind::OTHER_OFFICE;
use tousu::triage::{Complaint, Engine};

use crate::support::{fixture, fixture_model};

fn copy_model(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        if f.file_type().unwrap().is_file() {
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
}

/// The fixture's rows relabelled as the kind of office that answers each: network faults to
/// 网络运维中心 (a department of the telecom profile's table), fees to 计费中心 (an office the
/// table does not have), and service complaints to no kind the model may learn.
fn dispatch_rows(file: &str) -> Vec<Example> {
    load_jsonl(&fixture(file), false)
        .unwrap()
        .examples
        .into_iter()
        .map(|e| {
            let kind = match e.category.as_deref() {
                Some("网络问题") => "网络运维中心",
                Some("费用问题") => "计费中心",
                _ => OTHER_OFFICE,
            };
            Example {
                category: Some(kind.into()),
                grade: None,
                ..e
            }
        })
        .collect()
}

fn train_dispatch(into: &Path) {
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let options = TrainOptions {
        profile: "telecom-dispatch".into(),
        dim: 8,
        min_df: 1,
        max_epochs: 12,
        patience: 12,
        learning_rate: 0.05,
        ..TrainOptions::default()
    };
    train(
        &pipeline,
        &dispatch_rows("tiny-train.jsonl"),
        &dispatch_rows("tiny-dev.jsonl"),
        &options,
        into,
    )
    .unwrap();
}

fn triage(engine: &Engine, text: &str) -> tousu::triage::Triage {
    engine
        .triage(&Complaint {
            text,
            ..Default::default()
        })
        .unwrap()
}

#[test]
fn the_dispatch_model_decides_and_the_table_takes_what_it_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    copy_model(&fixture_model(), dir.path());
    let without = Engine::load(dir.path(), None).unwrap();
    let t = triage(&without, "家里宽带断网了，一直连不上");
    let d = t.dispatch.expect("the table dispatches without a model");
    assert_eq!(d.source, DispatchSource::Table);
    assert_eq!(d.policy_department.as_ref(), Some(&d.department));
    assert_eq!(
        Some(&d.department),
        t.routing.as_ref().map(|r| &r.department)
    );

    train_dispatch(&dir.path().join("dispatch"));
    let with = Engine::load(dir.path(), None).unwrap();
    assert!(with.dispatcher().is_some());
    let d = triage(&with, "家里宽带断网了，一直连不上")
        .dispatch
        .unwrap();
    assert_eq!(
        (d.department.as_str(), d.source),
        ("网络运维中心", DispatchSource::Model)
    );
    // The profile's table has that office: the one to assign to.
    assert_eq!(d.policy_department.as_deref(), Some("网络运维中心"));
    assert!(d.confidence > 0.0 && d.confidence <= 1.0);
    assert!(d.alternatives.iter().all(|a| a.department != OTHER_OFFICE));
    let fee = triage(&with, "话费多扣了五十元，要求退还")
        .dispatch
        .unwrap();
    assert_eq!(fee.department, "计费中心");

    // A kind too rare to learn is never offered: the category table answers.
    let t = triage(&with, "客服态度很差，投诉后没有人回电话");
    let d = t.dispatch.unwrap();
    assert_eq!(d.source, DispatchSource::Table, "{d:?}");
    assert_eq!(
        Some(&d.department),
        t.routing.as_ref().map(|r| &r.department)
    );
}

#[test]
fn a_dispatch_model_that_segments_differently_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    copy_model(&fixture_model(), dir.path());
    train_dispatch(&dir.path().join("dispatch"));
    let cfg = dir.path().join("dispatch/config.json");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("\"hmm\": true", "\"hmm\": false")).unwrap();
    let err = Engine::load(dir.path(), None).unwrap_err().to_string();
    assert!(err.contains("segmentation"), "{err}");
}

#[test]
fn weights_halved_to_f16_judge_as_before() {
    let dir = tempfile::tempdir().unwrap();
    copy_model(&fixture_model(), dir.path());
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let texts: Vec<_> = [
        "家里宽带断网了，一直连不上",
        "话费多扣了五十元，要求退还",
        "客服态度很差，投诉后没有人回电话",
        "信号差，视频卡顿",
    ]
    .iter()
    .map(|t| pipeline.prepare(None, t).unwrap())
    .collect();
    let before = Classifier::load(dir.path())
        .unwrap()
        .predict(&texts)
        .unwrap();
    let (old, new) = halve_weights(dir.path()).unwrap();
    assert!(new < old * 6 / 10, "{old} → {new} bytes");
    // Halving twice changes nothing more.
    assert_eq!(halve_weights(dir.path()).unwrap(), (new, new));
    let after = Classifier::load(dir.path())
        .unwrap()
        .predict(&texts)
        .unwrap();
    for (b, a) in before.iter().zip(&after) {
        let (bc, ac) = (b.category.as_ref().unwrap(), a.category.as_ref().unwrap());
        assert_eq!(bc.label, ac.label);
        assert!(
            (bc.confidence - ac.confidence).abs() < 0.01,
            "{bc:?} {ac:?}"
        );
        let (bg, ag) = (b.grade.as_ref().unwrap(), a.grade.as_ref().unwrap());
        assert_eq!(bg.label, ag.label);
    }
}
