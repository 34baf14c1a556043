#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Speed of the text pipeline and the model on realistic ~200-character complaints.
//!
//!     cargo bench --bench pipeline
//!
//! Needs the shipped `models/telecom`. The complaints below were written for this bench in the
//! style of operator work orders and citizen messages (no data set text is embedded).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tousu::text::{SegmentConfig, Segmenter, TextPipeline, mask_pii, normalize};
use tousu::triage::{Complaint, Engine};

const COMPLAINTS: [&str; 6] = [
    "客户来电反映，其家庭宽带自本月三号起频繁断网，每天晚上七点到十一点基本无法上网，光猫指示灯闪红，已报修两次，装维人员一直未上门处理。客户表示家里孩子要上网课，影响很大，对处理速度非常不满，要求今天之内安排师傅上门检修，并减免本月宽带费用，联系电话13812345678，请尽快处理，谢谢。",
    "用户反映本月话费账单中出现一笔二十元的视频彩铃费用，用户称从未订购过该业务，也没有收到任何订购确认短信，怀疑被营业厅工作人员私自开通。用户要求查明开通渠道，退还所有不知情扣费，并取消该业务，同时要求对相关人员进行处理。已向用户解释查询流程，用户不接受，强烈要求尽快回复。",
    "尊敬的领导：我们是阳光花园小区的业主，小区东门外的空地最近被改成了临时停车场，每天夜里都有大货车进出，噪音非常大，严重影响居民休息，而且大货车经常占用消防通道，存在很大的安全隐患。我们多次向物业和街道反映，至今没有任何答复，恳请有关部门尽快调查处理，还居民一个安静安全的居住环境。",
    "客户于营业厅办理携号转网时被告知名下有未结清的合约，无法办理，客户称合约已于去年到期，营业员却说需要再等三个月，客户对此说法不认可，认为是故意刁难，要求核实合约到期时间并立即办理转网，如不处理将向工信部投诉。客户情绪激动，请相关部门核实处理并回复客户。",
    "本人在某培训机构为孩子报名了一年的英语课程，缴纳学费一万二千元，上了不到两个月机构就关门了，老板联系不上，很多家长都遇到同样的问题，目前已有三十多名家长联名，希望教育局和市场监管部门介入调查，帮助我们追回学费，保障消费者的合法权益，谢谢！",
    "用户反映手机在家中信号很弱，通话经常中断，上网速度很慢，周围邻居用的同一运营商也是一样的情况，已经持续了两个多星期，用户要求尽快派人测试信号并优化基站，否则将考虑换运营商。用户的第二联系方式：0731-84512345，用户同意工作人员上门测试。",
];

fn model_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models/telecom"))
}

fn bench(c: &mut Criterion) {
    let bytes: usize = COMPLAINTS.iter().map(|s| s.len()).sum();
    let segmenter = Segmenter::new(SegmentConfig::default());
    let pipeline = TextPipeline::new(segmenter.clone());

    let mut g = c.benchmark_group("text");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("segment", |b| {
        b.iter(|| {
            COMPLAINTS
                .iter()
                .map(|t| segmenter.cut(black_box(t)).len())
                .sum::<usize>()
        })
    });
    g.bench_function("normalize", |b| {
        b.iter(|| {
            COMPLAINTS
                .iter()
                .map(|t| normalize(black_box(t)).len())
                .sum::<usize>()
        })
    });
    g.bench_function("mask_pii", |b| {
        b.iter(|| {
            COMPLAINTS
                .iter()
                .map(|t| mask_pii(black_box(t)).spans.len())
                .sum::<usize>()
        })
    });
    g.bench_function("prepare", |b| {
        b.iter(|| {
            COMPLAINTS
                .iter()
                .map(|t| pipeline.prepare(None, black_box(t)).unwrap().masked.len())
                .sum::<usize>()
        })
    });
    g.finish();

    let started = std::time::Instant::now();
    let engine = Engine::load(model_dir(), None).expect("models/telecom is shipped");
    eprintln!("model + profile + jieba load: {:?}", started.elapsed());

    // The batched path (import, eval): prepare + predict, 64 complaints per call.
    let batch: Vec<&str> = COMPLAINTS.iter().cycle().take(64).copied().collect();
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("prepare_and_predict_batch64", |b| {
        b.iter(|| {
            let texts: Vec<_> = batch
                .iter()
                .map(|t| engine.pipeline().prepare(None, t).unwrap())
                .collect();
            let p = engine.classifier().predict(&texts).unwrap();
            assert_eq!(p.len(), 64);
            p
        })
    });
    g.finish();

    // One complaint, everything the CLI and API return: category, grade with rules,
    // explanations and keywords.
    let mut g = c.benchmark_group("triage");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("one_complaint", |b| {
        b.iter_batched(
            || {
                i = (i + 1) % COMPLAINTS.len();
                COMPLAINTS[i]
            },
            |t| {
                let r = engine
                    .triage(&Complaint {
                        title: None,
                        text: t,
                    })
                    .unwrap();
                assert!(r.category.is_some());
                r
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    c.bench_function("model_load", |b| {
        b.iter(|| tousu::classify::Classifier::load(model_dir()).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
