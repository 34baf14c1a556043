//! Training on the tiny fixture data: the model directory it writes, determinism, and bad input.

use std::path::Path;

use tousu::classify::{Classifier, TrainOptions, load_jsonl, train};
use tousu::text::{SegmentConfig, Segmenter, TextPipeline};

use crate::support::fixture;

fn options() -> TrainOptions {
    TrainOptions {
        profile: "telecom".into(),
        dim: 16,
        min_df: 1,
        max_epochs: 8,
        patience: 8,
        learning_rate: 0.05,
        ..TrainOptions::default()
    }
}

fn train_into(dir: &Path) -> tousu::classify::TrainReport {
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let tr = load_jsonl(&fixture("tiny-train.jsonl"), false)
        .unwrap()
        .examples;
    let dev = load_jsonl(&fixture("tiny-dev.jsonl"), false)
        .unwrap()
        .examples;
    train(&pipeline, &tr, &dev, &options(), dir).unwrap()
}

#[test]
fn training_writes_a_loadable_model_and_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ra = train_into(a.path());
    let rb = train_into(b.path());
    for f in [
        "tokenizer.json",
        "model.safetensors",
        "config.json",
        "labels.json",
    ] {
        assert!(a.path().join(f).exists(), "{f} missing");
    }
    assert_eq!(ra.best_epoch, rb.best_epoch);
    let (ca, cb) = (ra.dev_category.unwrap(), rb.dev_category.unwrap());
    assert_eq!(ca.macro_f1, cb.macro_f1);
    assert!(
        ca.macro_f1 > 0.5,
        "the fixture is easy; got {}",
        ca.macro_f1
    );

    let ma = Classifier::load(a.path()).unwrap();
    let mb = Classifier::load(b.path()).unwrap();
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let t = pipeline.prepare(None, "宽带断网了").unwrap();
    let pa = ma.predict(std::slice::from_ref(&t)).unwrap();
    let pb = mb.predict(std::slice::from_ref(&t)).unwrap();
    assert_eq!(pa, pb, "same seed, same data: same model");
    let size = std::fs::metadata(a.path().join("model.safetensors"))
        .unwrap()
        .len();
    assert!(size < 20_000_000);
}

#[test]
fn training_without_labels_says_so() {
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let mut rows = load_jsonl(&fixture("tiny-train.jsonl"), false)
        .unwrap()
        .examples;
    for r in &mut rows {
        r.category = None;
        r.grade = None;
    }
    let dir = tempfile::tempdir().unwrap();
    let err = train(&pipeline, &rows, &[], &options(), dir.path()).unwrap_err();
    assert!(err.to_string().contains("neither"), "{err}");
}

#[test]
fn dev_label_unknown_to_training_is_named() {
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let tr = load_jsonl(&fixture("tiny-train.jsonl"), false)
        .unwrap()
        .examples;
    let mut dev = load_jsonl(&fixture("tiny-dev.jsonl"), false)
        .unwrap()
        .examples;
    dev[0].category = Some("外星问题".into());
    let dir = tempfile::tempdir().unwrap();
    let err = train(&pipeline, &tr, &dev, &options(), dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("外星问题") && err.contains("网络问题"),
        "{err}"
    );
}

#[test]
fn shipped_models_fit_the_weight_budget() {
    // A profile's budget covers all its models: the triage model and its dispatch model.
    for profile in ["telecom", "gov"] {
        let dir = crate::support::root().join("models").join(profile);
        let bytes: u64 = [
            dir.join("model.safetensors"),
            dir.join("dispatch/model.safetensors"),
        ]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
        assert!(
            bytes > 0 && bytes <= tousu::classify::MAX_WEIGHT_BYTES as u64,
            "{}: {bytes} bytes",
            dir.display()
        );
    }
}

#[test]
fn cross_validation_judges_every_row_once_and_pools_the_folds() {
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let mut rows = load_jsonl(&fixture("tiny-train.jsonl"), false)
        .unwrap()
        .examples;
    rows.extend(
        load_jsonl(&fixture("tiny-dev.jsonl"), false)
            .unwrap()
            .examples,
    );
    let scratch = tempfile::tempdir().unwrap();
    let cv =
        tousu::triage::cross_validate(&pipeline, &rows, 3, &options(), None, None, scratch.path())
            .unwrap();
    assert_eq!(cv.folds.len(), 3);
    let judged: usize = cv.folds.iter().map(|f| f.model.rows).sum();
    assert_eq!(judged, rows.len());
    assert_eq!(cv.model.rows, rows.len());
    let category = cv.model.category.as_ref().unwrap();
    let cells: usize = category.confusion.iter().flatten().sum();
    assert_eq!(cells, rows.iter().filter(|e| e.category.is_some()).count());
    // Pooled accuracy is the folds' hits over all rows.
    let hits: f64 = cv
        .folds
        .iter()
        .map(|f| {
            let m = f.model.category.as_ref().unwrap();
            m.accuracy * m.count as f64
        })
        .sum();
    assert!((category.accuracy - hits / cells as f64).abs() < 1e-9);
    assert!(cv.epochs() >= 1);
    // Every graded row's out-of-fold prediction, once: the model's distribution, raised by
    // the rules that fired and by nothing else (this profile lets every rule raise).
    let graded: Vec<_> = rows.iter().filter(|e| e.grade.is_some()).collect();
    assert_eq!(cv.model.graded.len(), graded.len());
    let mut ids: Vec<&str> = cv.model.graded.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), graded.len());
    for r in &cv.model.graded {
        assert_eq!(r.probabilities.len(), 3);
        assert!((r.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        let floor = r.rules.iter().map(|(_, g)| *g).max();
        let raised = floor.map_or(r.model_grade, |f| f.max(r.model_grade));
        assert_eq!(r.predicted_grade, raised, "{r:?}");
    }
    assert!(cv.model.graded.iter().any(|r| !r.rules.is_empty()));
    // The scratch models are removed.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    let err =
        tousu::triage::cross_validate(&pipeline, &rows, 1, &options(), None, None, scratch.path())
            .unwrap_err()
            .to_string();
    assert!(err.contains("at least 2"), "{err}");
}

/// The fixture's rows with a guideline reason their grade was written for: 严重 rows say they
/// complained before, 重大 rows that their neighbours have the same problem. (`group` is not
/// the 重大 grade's own column index, so explaining by the wrong column would show.)
fn with_reasons(rows: &mut [tousu::classify::Example]) {
    for r in rows {
        r.reason = r.grade.map(|g| {
            match g.label() {
                "严重" => "repeat",
                "重大" => "group",
                _ => "none",
            }
            .to_string()
        });
    }
}

#[test]
fn a_grade_head_of_reasons_names_the_reason_behind_its_grade() {
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let load = |f: &str| load_jsonl(&fixture(f), false).unwrap().examples;
    let (mut tr, mut dev) = (load("tiny-train.jsonl"), load("tiny-dev.jsonl"));
    with_reasons(&mut tr);
    with_reasons(&mut dev);
    let dir = tempfile::tempdir().unwrap();
    let opts = TrainOptions {
        grade_reasons: true,
        max_epochs: 20,
        patience: 20,
        ..options()
    };
    train(&pipeline, &tr, &dev, &opts, dir.path()).unwrap();
    let model = Classifier::load(dir.path()).unwrap();
    assert!(model.config().grade_reasons);
    let texts: Vec<_> = [
        "家里宽带断网三天了，一直连不上",
        "本月话费多扣了50元，要求退费，周围用户都一样，准备向工信部投诉",
    ]
    .iter()
    .map(|t| pipeline.prepare(None, t).unwrap())
    .collect();
    let predicted = model.predict(&texts).unwrap();
    for p in &predicted {
        let (grade, reason) = (p.grade.as_ref().unwrap(), p.reason.unwrap());
        assert_eq!(reason.guideline_grade().label(), grade.label, "{p:?}");
    }
    let threat = &predicted[1];
    assert_eq!(threat.grade.as_ref().unwrap().label, "重大", "{threat:?}");
    assert_eq!(threat.reason.unwrap().code(), "group");

    // The triage answer shows it beside the model's grade; the rules' reasons stay their own.
    let engine = tousu::triage::Engine::load(dir.path(), None).unwrap();
    let complaint = |text| tousu::triage::Complaint {
        title: None,
        text,
        received_at: None,
    };
    let g = engine
        .triage(&complaint(
            "本月话费多扣了50元，要求退费，周围用户都一样，准备向工信部投诉",
        ))
        .unwrap()
        .grade
        .unwrap();
    assert_eq!(g.model_reason.map(|r| r.code()), Some("group"));
    // Explained by the `group` column: the strongest phrase is of the 重大 clause.
    assert!(
        g.model.label == "重大"
            && "周围用户都一样，准备向工信部投诉".contains(&g.drivers[0].phrase),
        "{g:?}"
    );

    // Asked to learn reasons from rows that carry none, training says what to add.
    let mut bare = tr.clone();
    bare.iter_mut().for_each(|r| r.reason = None);
    let err = train(&pipeline, &bare, &dev, &opts, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--grade-reasons") && err.contains("reason"),
        "{err}"
    );

    // A reason that implies another grade than the row's is refused, naming the row.
    tr[0].reason = Some("safety".into());
    tr[0].grade = Some(tousu::domain::Grade::General);
    let err = train(&pipeline, &tr, &dev, &opts, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&tr[0].key()) && err.contains("safety"),
        "{err}"
    );
}

#[test]
fn a_sparse_head_is_trained_beside_the_encoder_and_folded_into_the_model() {
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let load = |f: &str| load_jsonl(&fixture(f), false).unwrap().examples;
    let (tr, dev) = (load("tiny-train.jsonl"), load("tiny-dev.jsonl"));
    let (plain, sparse) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    train(&pipeline, &tr, &dev, &options(), plain.path()).unwrap();
    let opts = TrainOptions {
        sparse_head: true,
        sparse_lr: Some(0.05),
        ..options()
    };
    train(&pipeline, &tr, &dev, &opts, sparse.path()).unwrap();

    let model = Classifier::load(sparse.path()).unwrap();
    let cfg = model.config();
    assert!(cfg.sparse_head);
    // Its own optimiser moved it: one weight per unit and column, not all still zero.
    let tensors = candle_core::safetensors::load(
        sparse.path().join("model.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let weights = &tensors["sparse_head.weight"];
    assert_eq!(
        weights.dims(),
        &[cfg.vocab_size, cfg.num_categories + cfg.grade_width()]
    );
    let moved = weights
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .iter()
        .filter(|w| w.abs() > 1e-4)
        .count();
    assert!(moved > cfg.vocab_size, "{moved} weights moved");

    // Same seed, same data: only the sparse head differs, and the logits show it.
    let text = [pipeline
        .prepare(None, "家里宽带断网三天了，一直连不上")
        .unwrap()];
    let (with, without) = (
        model.predict(&text).unwrap(),
        Classifier::load(plain.path())
            .unwrap()
            .predict(&text)
            .unwrap(),
    );
    let probabilities =
        |p: &tousu::classify::Prediction| p.category.as_ref().unwrap().probabilities.clone();
    assert_ne!(probabilities(&with[0]), probabilities(&without[0]));
}

#[test]
fn a_category_svm_decides_the_category_from_the_units_alone() {
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let load = |f: &str| load_jsonl(&fixture(f), false).unwrap().examples;
    let (tr, dev) = (load("tiny-train.jsonl"), load("tiny-dev.jsonl"));
    let dir = tempfile::tempdir().unwrap();
    let opts = TrainOptions {
        category_svm: Some(1.0),
        balance_classes: true,
        ..options()
    };
    train(&pipeline, &tr, &dev, &opts, dir.path()).unwrap();

    let model = Classifier::load(dir.path()).unwrap();
    let cfg = model.config().clone();
    assert!(cfg.category_svm && cfg.sparse_head);
    let tensors = candle_core::safetensors::load(
        dir.path().join("model.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    // The table holds the category columns only; the encoder's category head weighs nothing.
    assert_eq!(
        tensors["sparse_head.weight"].dims(),
        &[cfg.vocab_size, cfg.num_categories]
    );
    let head = tensors["category_head.weight"]
        .abs()
        .unwrap()
        .sum_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert_eq!(head, 0.0);
    // The training rows are separable by their words: the SVM gets its own rows right.
    let rows: Vec<_> = tr.iter().filter(|e| e.category.is_some()).collect();
    let texts: Vec<_> = rows
        .iter()
        .map(|e| pipeline.prepare(e.title.as_deref(), &e.text).unwrap())
        .collect();
    let predicted = model.predict(&texts).unwrap();
    let right = rows
        .iter()
        .zip(&predicted)
        .filter(|(e, p)| {
            let label = &p.category.as_ref().unwrap().label;
            Some(label) == e.category.as_ref()
        })
        .count();
    assert!(
        right * 10 >= rows.len() * 9,
        "{right} of {} right",
        rows.len()
    );
    // The grade is the same recipe's, bit for bit: same vocabulary, same encoder.
    let plain = tempfile::tempdir().unwrap();
    let without = TrainOptions {
        category_svm: None,
        ..opts
    };
    train(&pipeline, &tr, &dev, &without, plain.path()).unwrap();
    let plain = Classifier::load(plain.path())
        .unwrap()
        .predict(&texts)
        .unwrap();
    let grades = |p: &[tousu::classify::Prediction]| -> Vec<Vec<f32>> {
        p.iter()
            .map(|p| p.grade.as_ref().unwrap().probabilities.clone())
            .collect()
    };
    assert_eq!(grades(&predicted), grades(&plain));
    let categories = |p: &[tousu::classify::Prediction]| -> Vec<Vec<f32>> {
        p.iter()
            .map(|p| p.category.as_ref().unwrap().probabilities.clone())
            .collect()
    };
    assert_ne!(categories(&predicted), categories(&plain));
}

#[test]
fn a_category_svm_cost_must_be_positive() {
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
    let tr = load_jsonl(&fixture("tiny-train.jsonl"), false)
        .unwrap()
        .examples;
    let dir = tempfile::tempdir().unwrap();
    let opts = TrainOptions {
        category_svm: Some(0.0),
        ..options()
    };
    let err = train(&pipeline, &tr, &[], &opts, dir.path()).unwrap_err();
    assert!(err.to_string().contains("--category-svm"), "{err}");
}

#[test]
fn a_profile_holds_back_a_rule_whose_grade_the_model_gives_too_little() {
    let dir = tempfile::tempdir().unwrap();
    train_into(dir.path());
    let text = "营业厅门口燃气泄漏，一直没人处理";
    let complaint = tousu::triage::Complaint {
        title: None,
        text,
        received_at: None,
    };
    let safety = |hits: &[tousu::triage::RuleHit]| hits.iter().any(|h| h.reason.code() == "safety");
    // As built in, the safety rule raises the grade to 重大 whatever the model says.
    let plain = tousu::triage::Engine::load(dir.path(), None).unwrap();
    let g = plain.triage(&complaint).unwrap().grade.unwrap();
    assert!(safety(&g.rules) && g.held_rules.is_empty(), "{g:?}");
    assert_eq!(g.label.label(), "重大");
    // The same profile, needing the model to give 重大 a little more than this (fixture) model
    // gives the text, holds the rule back: the answer shows it as evidence, the model decides
    // (no other rule asks for more here) with its own confidence.
    let given = g.model.probabilities[2];
    assert!(given < 0.9 && g.model.label != "重大", "{g:?}");
    let builtin = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/profiles/telecom.toml"),
    )
    .unwrap();
    let profile = dir.path().join("strict.toml");
    let with_need = |need: f32| {
        let text = format!("{builtin}\n[grade]\nrules_min_model_probability = {need}\n");
        std::fs::write(&profile, text).unwrap();
        tousu::triage::Engine::load(dir.path(), Some(&profile)).unwrap()
    };
    let g = with_need(given + 0.05)
        .triage(&complaint)
        .unwrap()
        .grade
        .unwrap();
    assert!(safety(&g.held_rules) && !safety(&g.rules), "{g:?}");
    assert_eq!(g.label.label(), g.model.label, "{g:?}");
    assert_eq!(g.decided_by, tousu::triage::DecidedBy::Model, "{g:?}");
    assert_eq!(g.confidence, g.model.confidence, "{g:?}");
    // Needing a little less than the model gives, the rule raises again.
    let g = with_need((given - 0.01).max(0.0))
        .triage(&complaint)
        .unwrap()
        .grade
        .unwrap();
    assert!(safety(&g.rules) && g.held_rules.is_empty(), "{g:?}");
    assert_eq!(g.label.label(), "重大");
}
