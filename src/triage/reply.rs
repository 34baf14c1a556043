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
const LEADING_NOISE: [&str; 11] = [
    "我们", "我", "您好", "现将", "已", "该", "经", "由", "并", "联系", "了",
];

/// An office signing the reply: its name on the last line, before the date
/// (“……感谢您的支持。A7县教育局 2019年3月5日”).
static SIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"({ORG})\s*\d{{4}}年\d{{1,2}}月\d{{1,2}}日\s*$")).expect("valid regex")
});

/// The department a reply says handled the case, if it names one: the office it was
/// transferred to or that acted on it, else the office that signed it. A match that is no name
/// (“我局责令该公司”) gives way to the next.
pub fn department(reply: &str) -> Option<String> {
    let signed = reply.trim();
    TRANSFERRED
        .captures_iter(reply)
        .chain(ACTED.captures_iter(reply))
        .chain(SIGNED.captures_iter(signed))
        .find_map(|c| office_name(c.get(1)?.as_str()))
}

/// The office a match names, without the words before it, or `None` when it names none.
fn office_name(found: &str) -> Option<String> {
    let mut name = found;
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
    // match that runs through a clause (“结合学校布局”, “在附近建设垃圾中转站”) is no name;
    // nor is an office word alone, left of “我局…” or “该局…” (“局执法大队”, “支队检测所”).
    let not_a_name = name.contains(['我', '您', '你'])
        || NOT_IN_NAMES.iter().any(|w| name.contains(w))
        || BARE_OFFICE.iter().any(|w| name.starts_with(w));
    (name.chars().count() >= 3 && !not_a_name).then(|| name.to_string())
}

/// Office words that begin no name: a match starting with one had “我” or “该” before it.
const BARE_OFFICE: [&str; 11] = [
    "局", "委", "所", "站", "厅", "中心", "支队", "大队", "中队", "分局", "公司",
];

/// Words that end up in a match only when it runs through a clause rather than a name
/// (“城管局已通知相关物业公司”, “配合城管执法中队”, “携带相关证明资料到两家医院”).
const NOT_IN_NAMES: [&str; 63] = [
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
    // Clauses around a place, not an office: “转弯车辆有所减少”, “要求建立一个老年活动场所”,
    // “必须先行确定该项目开发公司”, “安排了两支队伍”, “全县各房地产开发公司”.
    "有所",
    "场所",
    "必须",
    "确定",
    "相关",
    "相应",
    "才能",
    "两家",
    "两支",
    "各",
    "的",
    "了",
    "该",
    "再由",
    "同志",
    "外省",
    "为中心",
    "学校所",
    "提供",
    "马上",
    "完毕",
    "引进",
    "完善",
    "垃圾",
    "上级",
    "指定",
];

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
    use crate::triage::office_kind::{LOCAL_GOVERNMENT, canonical_department};

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
    fn clauses_of_real_replies_name_no_office_and_give_way_to_the_next_match() {
        // Phrasings of the reply history that read as names before (issue 17).
        for reply in [
            "据统计，朝阳路口掉头或左转弯车辆有所减少，我们相应变更为一条左转车道。",
            "区内部分居民反映要求建立一个老年活动场所，丰富老年生活。",
            "无论你在哪个楼盘购房，必须先行确定该项目开发公司已达到预售条件",
            "整治之后，又安排了两支队伍进行日常管理",
            "正式印发并要求全县各房地产开发公司签订新商品房买卖合同文本",
            "领导高度重视，立即安排相关大队进行了调查处理",
            "经核查，符合环评要求属实，我局责令该公司对冷却池溢流口进行封闭",
            "非常重视，迅速安排我局劳动保障监察大队工作人员前往调查核实",
            "目前，局执法大队已对金湖水岸项目进行了立案调查",
        ] {
            assert_eq!(department(reply), None, "{reply}");
        }
        assert_eq!(
            department("已纳入硬化计划中，并由公路局已投标落实，因年底天气原因暂未动工").as_deref(),
            Some("公路局")
        );
        assert_eq!(
            department("我局责令该公司整改。我局已转交A3区住建局核实处理。").as_deref(),
            Some("A3区住建局")
        );
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
