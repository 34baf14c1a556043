//! Reading a resolution text: which department handled the case, what remedy it gave, and
//! whether it is only an acknowledgement.
//!
//! Official replies name their department in a few set ways: “已转市公安局交通警察支队”,
//! “A3区住建局高度重视”, “经A市城管执法局调查”. The patterns below find the first such name;
//! they are heuristics, measured by `tousu eval-suggestions` (department accuracy).

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::Remedy;

/// Replies shorter than this (in characters) that only acknowledge receipt say nothing about
/// how a case was resolved (about one reply in nine in the government board's history).
const BOILERPLATE_CHARS: usize = 60;

/// An organisation name: an optional place (`A市`, `A2区`, `长沙县`), then a body ending in
/// an organisation suffix.
/// Units repeat: “市公安局” + “交通警察支队”.
const ORG: &str = r"(?:[A-Z][0-9]*(?:市|县|区)|[\p{Han}]{2,3}(?:市|县|区))?(?:[A-Z][0-9]*(?:市|县|区))?(?:[\p{Han}]{1,12}?(?:管理委员会|委员会|管委会|办事处|办公室|指挥部|局|委|中心|支队|大队|中队|政府|街道|公司|医院|厅|所|站))+";

static TRANSFERRED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:转交?给?|转至|交由|责成|移交给?|要求|安排|督促|协调)({ORG})"
    ))
    .expect("valid regex")
});
static ACTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:^|[，。！：；\s])(?:经|由)?({ORG})(?:高度重视|迅速|立即|及时|组织|进行了?|经|对|已|现|派|调查|核实|回复|专题|依法|联合|牵头|会同)"
    ))
    .expect("valid regex")
});

/// Words that start many matches but are not part of a name.
const LEADING_NOISE: [&str; 8] = ["我们", "我", "您好", "现将", "已", "该", "经", "由"];

/// An office signing the reply: its name on the last line, before the date
/// (“……感谢您的支持。A7县教育局 2019年3月5日”).
static SIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"({ORG})\s*\d{{4}}年\d{{1,2}}月\d{{1,2}}日\s*$")).expect("valid regex")
});

/// The department a reply says handled the case, if it names one: the office it was
/// transferred to or that acted on it, else the office that signed it.
pub fn department(reply: &str) -> Option<String> {
    let found = TRANSFERRED
        .captures(reply)
        .or_else(|| ACTED.captures(reply))
        .or_else(|| SIGNED.captures(reply.trim()))
        .map(|c| c[1].to_string())?;
    let mut name = found.as_str();
    loop {
        let before = name;
        for noise in LEADING_NOISE {
            name = name.strip_prefix(noise).unwrap_or(name);
        }
        if name == before {
            break;
        }
    }
    // “我局”, “我办”, “您的来帖我支队”: the reply's own office or the reader, not a name; a
    // match that runs through a clause (“结合学校布局”, “在附近建设垃圾中转站”) is no name.
    let not_a_name =
        name.contains(['我', '您', '你']) || NOT_IN_NAMES.iter().any(|w| name.contains(w));
    (name.chars().count() >= 3 && !not_a_name).then(|| name.to_string())
}

/// Words that end up in a match only when it runs through a clause rather than a name
/// (“城管局已通知相关物业公司”, “配合城管执法中队”, “携带相关证明资料到两家医院”).
const NOT_IN_NAMES: [&str; 37] = [
    "布局",
    "按",
    "在",
    "也",
    "针对",
    "结合",
    "设置",
    "移交",
    "时",
    "经呈报",
    "登陆",
    "并已",
    "已",
    "对",
    "通知",
    "配合",
    "携带",
    "安排",
    "立即",
    "然后",
    "目前",
    "解决",
    "负责",
    "根据",
    "可以",
    "返回",
    "移至",
    "移到",
    "选聘",
    "邀请",
    "委托",
    "会议",
    "做好",
    "积极",
    "会上",
    "今年",
    "上报",
];

/// The territorial government (属地) of a place: a 12345 hotline dispatches what no functional
/// department owns to the district, town or street office where it happens, so every level of
/// it is one kind.
pub const LOCAL_GOVERNMENT: &str = "属地政府";

/// The dispatch label of the offices too rare in resolved history to learn: a dispatch model
/// that reads it leaves the case to the profile's category table.
pub const OTHER_OFFICE: &str = "其他单位";

/// Names of one kind of office that replies write differently (an office renamed or merged in
/// the 2018 reform, a short form, a level or a field unit of the same service), each with the
/// name used for the kind. A name is matched by the office it ends with, the longest first.
const SAME_KIND: [(&[&str], &str); 27] = [
    (
        &[
            "住房和城乡建设局",
            "住房城乡建设局",
            "建设局",
            "城建局",
            "规划建设局",
            "规建局",
            "住建委",
            "质监站",
        ],
        "住建局",
    ),
    (
        &[
            "交通局",
            "交通运输管理局",
            "运管站",
            "运管处",
            "交通行政执法局",
            "交通行政执法大队",
        ],
        "交通运输局",
    ),
    (
        &["交警支队", "交通警察支队", "交通警察大队", "交警队"],
        "交警大队",
    ),
    (&["派出所", "公安分局", "森林公安局", "户籍所"], "公安局"),
    (
        &[
            "人力资源和社会保障局",
            "劳动和社会保障局",
            "社会劳动保险局",
            "人社厅",
            "社保局",
            "劳动保障监察服务中心",
            "劳动监察大队",
        ],
        "人社局",
    ),
    (&["环境保护局", "环保局", "环境监察大队"], "生态环境局"),
    (
        &[
            "卫生局",
            "卫计委",
            "卫计局",
            "卫生和计划生育局",
            "卫生健康委员会",
            "卫健局",
            "卫生计生综合监督执法局",
        ],
        "卫健委",
    ),
    (
        &[
            "政府",
            "镇政府",
            "人民政府",
            "镇党委政府",
            "党委政府",
            "各级政府",
            "乡政府",
            "党委",
            "管委会",
            "管理委员会",
            "村委",
            "村委会",
            "两委",
            "居委会",
            "社区",
            "街道",
            "街道办事处",
            "办事处",
            "委办公室",
        ],
        LOCAL_GOVERNMENT,
    ),
    (&["教育体育局", "教体局"], "教育局"),
    (
        &[
            "城管大队",
            "城市管理局",
            "城管执法局",
            "城市管理和综合执法局",
            "城管执法大队",
            "城管执法中队",
            "执法中队",
            "执法大队",
            "行政执法局",
            "环卫局",
        ],
        "城管局",
    ),
    (&["自来水有限公司", "供水公司"], "自来水公司"),
    (
        &["公汽公司", "公交总公司", "公交集团公司", "公交集团"],
        "公交公司",
    ),
    (
        &["房产局", "房产局物管中心", "房产管理局", "房屋交易管理中心"],
        "房管局",
    ),
    (
        &[
            "国土局",
            "国土资源局",
            "规划局",
            "规划分局",
            "自然资源和规划局",
            "不动产登记中心",
        ],
        "自然资源局",
    ),
    (
        &[
            "工商分局",
            "工商局",
            "场监督管理局",
            "市场监管局",
            "质监局",
            "食安局",
            "物价局",
            "食品药品监督管理局",
        ],
        "市场监督管理局",
    ),
    (&["民政民族宗教局"], "民政局"),
    (&["商务粮食局", "商粮局"], "商务局"),
    (&["电力公司", "供电局"], "供电公司"),
    (
        &[
            "电信局",
            "电信公司",
            "移动公司",
            "移动通信公司",
            "联通公司",
            "铁塔公司",
        ],
        "通信运营商",
    ),
    (&["公积金管理中心"], "住房公积金管理中心"),
    (&["医疗保险管理服务中心", "医保中心"], "医保局"),
    (&["农委", "农业农村局"], "农业局"),
    (&["水务局", "水务站"], "水利局"),
    (&["发改局"], "发改委"),
    (&["安监局"], "应急管理局"),
    (&["园林处"], "园林局"),
    (&["消防支队"], "消防大队"),
];

/// The kind of department a name denotes, without its place (`A市`, `A2区`, `龙潭镇`, `市`)
/// and leading function words, so that “市人社局” and “县人社局”, or “A5区教育局” and
/// “市教育局”, compare equal: which office of that kind is set by the complainant's address.
pub fn canonical_department(name: &str) -> String {
    static PLACE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(?:至|了|原|其|对|入|将|由|向|到|给|和|与|及|根据|以上为)?(?:[A-Z][0-9]*[市县区]|[\p{Han}]{1,4}?[市县区镇乡](?:人民)?|市|县|区|省)*",
        )
        .expect("valid regex")
    });
    let rest = PLACE.replace(name, "");
    let kind = if rest.is_empty() { name } else { &rest };
    // Any property company is one kind (物业公司), as any street office is a 属地政府.
    if kind.ends_with("物业公司") || kind.ends_with("物业") {
        return "物业公司".into();
    }
    // The office a name ends with decides (“公安局交警大队” is a 交警大队), the longest first.
    SAME_KIND
        .iter()
        .flat_map(|(names, canonical)| {
            names
                .iter()
                .chain(std::iter::once(canonical))
                .map(move |n| (*n, *canonical))
        })
        .filter(|(n, _)| kind.ends_with(n))
        .max_by_key(|(n, _)| n.chars().count())
        .map_or_else(|| kind.to_string(), |(_, canonical)| canonical.to_string())
}

/// The remedy a reply describes, by its strongest wording; 解释说明 when it only explains.
pub fn remedy(reply: &str) -> Remedy {
    const CUES: [(Remedy, &[&str]); 6] = [
        (Remedy::Refund, &["退款", "退还", "退费", "返还"]),
        (Remedy::Compensation, &["赔偿", "补偿", "赔付", "减免"]),
        (Remedy::Replacement, &["换货", "更换"]),
        (Remedy::Repair, &["维修", "修复", "抢修", "整改", "修缮"]),
        (Remedy::Apology, &["道歉", "致歉", "歉意"]),
        (Remedy::Transfer, &["已转", "转交", "转办", "移交", "转至"]),
    ];
    CUES.iter()
        .find(|(_, cues)| cues.iter().any(|c| reply.contains(c)))
        .map_or(Remedy::Explanation, |(r, _)| *r)
}

/// Whether a reply only acknowledges receipt (“网友：您好！留言已收悉”).
pub fn is_boilerplate(reply: &str) -> bool {
    reply.chars().count() < BOILERPLATE_CHARS && reply.contains("收悉")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_kind_of_office_compares_equal_whatever_its_name() {
        for (a, b) in [
            ("A市住房和城乡建设局", "县住建局"),
            ("A2区建设局", "住建局"),
            ("市交通局", "A市交通运输局"),
            ("县公安局交警大队", "交警支队"),
            ("A3区环保局", "市生态环境局"),
            ("龙潭镇人民政府", "镇政府"),
            ("奇家岭街道", "榔梨街道办事处"),
        ] {
            assert_eq!(
                canonical_department(a),
                canonical_department(b),
                "{a} / {b}"
            );
        }
        assert_ne!(
            canonical_department("市教育局"),
            canonical_department("市住建局")
        );
    }

    #[test]
    fn kinds_follow_the_2018_reform_and_the_territorial_offices() {
        // Field units and renamed offices, as replies in the reply history write them.
        for (name, kind) in [
            ("望月湖派出所", "公安局"),
            ("A3区城管执法大队", "城管局"),
            ("县卫计局", "卫健委"),
            ("市社保局", "人社局"),
            ("A市规划局", "自然资源局"),
            ("区食安局", "市场监督管理局"),
            ("商务粮食局", "商务局"),
            ("玉潭街道", LOCAL_GOVERNMENT),
            ("赛头村村委", LOCAL_GOVERNMENT),
            ("A7县人民政府", LOCAL_GOVERNMENT),
            ("达博物业公司", "物业公司"),
        ] {
            assert_eq!(canonical_department(name), kind, "{name}");
        }
    }

    #[test]
    fn an_office_signing_the_reply_is_its_department() {
        assert_eq!(
            department("经调查，该路段已安排修复。感谢您的监督！\nA7县交通运输局\n2019年3月5日")
                .as_deref(),
            Some("A7县交通运输局")
        );
        assert_eq!(
            canonical_department(
                &department("现将有关情况回复如下。 中共A9市委办公室 2018年12月7日").unwrap()
            ),
            LOCAL_GOVERNMENT
        );
        // A date that ends a sentence, not a signature, names none.
        assert_eq!(department("该工程将于2019年3月5日"), None);
    }

    #[test]
    fn a_match_running_through_a_clause_names_no_office() {
        assert_eq!(department("。城管局已通知相关物业公司进行了整改"), None);
        assert_eq!(department("已转配合城管执法中队处理"), None);
        assert_eq!(
            department("您的留言已收悉，我们立即要求玉潭街道进行调查了解").as_deref(),
            Some("玉潭街道")
        );
    }

    #[test]
    fn the_replys_own_office_and_clauses_are_no_names() {
        assert_eq!(department("您的来帖我支队高度重视，立即组织调查"), None);
        assert_eq!(department("您反映的问题我局已调查核实"), None);
        assert_eq!(department("，结合学校布局调整，现回复如下"), None);
    }

    #[test]
    fn finds_the_department_a_reply_names() {
        assert_eq!(
            department("您好！您反映的问题已转市公安局交通警察支队办理。").as_deref(),
            Some("市公安局交通警察支队")
        );
        assert_eq!(
            department(
                "尊敬的网友：您好！您所反映的问题已收悉，我办已转L1区人力资源和社会保障局核处。"
            )
            .as_deref(),
            Some("L1区人力资源和社会保障局")
        );
        assert_eq!(
            department("您好！A3区住建局高度重视，立即派人核实。").as_deref(),
            Some("A3区住建局")
        );
        assert_eq!(department("感谢您对我们工作的支持。"), None);
        assert_eq!(
            department("您的留言已收悉，我们要求市教育局进行了调查核实").as_deref(),
            Some("市教育局")
        );
        assert_eq!(
            canonical_department("A市教育局"),
            canonical_department("市教育局")
        );
        assert_eq!(canonical_department("A2区住建局"), "住建局");
        assert_eq!(
            canonical_department("县人社局"),
            canonical_department("市人社局")
        );
        assert_eq!(canonical_department("龙潭镇人民政府"), LOCAL_GOVERNMENT);
    }

    #[test]
    fn reads_the_remedy_and_boilerplate() {
        assert_eq!(remedy("已为您办理退款。"), Remedy::Refund);
        assert_eq!(remedy("已安排人员上门维修。"), Remedy::Repair);
        assert_eq!(remedy("经核实，收费符合规定。"), Remedy::Explanation);
        assert!(is_boilerplate("网友：您好！留言已收悉"));
        assert!(!is_boilerplate("经核实，收费符合规定，感谢您的监督。"));
    }
}
